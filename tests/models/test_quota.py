"""Quota runway on hand-built daily peak series: a flat series far below its quota never
crosses, a climbing one crosses at p95 before its mean does, and the backtest reads only the
data before its cutoff."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from models import quota
from models.forecast import ForecastParams

FAST = ForecastParams(samples=200)  # Prophet is not needed to test the arithmetic around it
START = date(2026, 9, 1)


def series(values: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"date": [START + timedelta(days=i) for i in range(len(values))],
                         "value": values.astype(float)})  # fmt: skip


def test_a_flat_series_far_below_its_quota_has_no_crossing():
    rng = np.random.default_rng(1)
    found = quota.runway(series(1000 + rng.normal(0, 20, 21)), 10_000, params=FAST)
    assert found["crossing_day"] is None and found["days_until_p95"] is None
    assert 900 < found["forecast_peak"] < 1100


def test_a_series_near_its_quota_crosses_at_p95_first():
    rng = np.random.default_rng(2)
    y = 1000 + rng.normal(0, 120, 21)
    found = quota.runway(series(y), 1250, params=FAST)
    assert found["days_until_p95"] is not None and found["days_until_p95"] >= 1
    assert found["forecast_hi95"] >= 1250 > found["forecast_peak"]  # the bound, not the mean
    assert found["crossing_day"] == found["as_of"] + timedelta(days=found["days_until_p95"])


def test_first_throttled_day_needs_five_percent_of_calls_and_twenty_throttles():
    days = [START + timedelta(days=i) for i in range(4)]
    daily = pl.DataFrame({"date": days, "throttles": [3, 2, 60, 90],
                          "invocations": [1000, 20, 1000, 1000]})  # fmt: skip
    assert quota.first_throttled_day(daily) == days[2]


def test_the_backtest_sees_only_the_data_before_its_cutoff():
    rng = np.random.default_rng(3)
    y = np.concatenate([1000 + rng.normal(0, 100, 20), [50_000, 50_000]])  # the storm's days
    throttled = START + timedelta(days=20)
    found = quota.backtest(series(y), 1200, throttled, params=FAST)
    assert found is not None and found["cutoff_day"] == START + timedelta(days=18)
    # the storm's days are after the cutoff: had they been seen, hi95 would reach 1200 at once
    assert found["predicted_day"] is None or found["predicted_day"] > found["cutoff_day"]
    assert quota.backtest(series(y[:8]), 1200, START + timedelta(days=5), params=FAST) is None


def test_a_peak_series_keeps_its_spikes_where_spend_would_leave_them_out():
    """Six weeks of busiest minutes with two one-minute spikes near the quota: the spend
    forecast fits around them (one-off days), the runway's keeps them, so its p95 bound sits
    higher and reaches a quota the spend method's does not."""
    rng = np.random.default_rng(3)
    y = 40_000 + rng.normal(0, 2_000, 42)
    y[[30, 35]] = 70_000  # the spikes a quota meets first
    history = series(y)
    kept = quota.runway(history, 66_000, params=quota.PEAK_PARAMS)
    left_out = quota.runway(history, 66_000, params=quota.DEFAULT_PARAMS)
    assert kept["forecast_hi95"] > left_out["forecast_hi95"]
    assert kept["crossing_day"] is not None and left_out["crossing_day"] is None
    assert "one-off days left out" in left_out["note"] and "one-off" not in kept["note"]


def test_a_rollout_that_began_a_week_ago_is_extrapolated_not_flattened():
    """Eight weeks flat, then a week of a rollout growing the busiest minute 6% a day: the
    runway's settings carry the ramp on and warn within two days of a quota 10% above the last
    day; the spend settings (a level held, no trend bends in the last fifth of history) flatten
    the ramp and warn only days later."""
    rng = np.random.default_rng(4)
    y = 30_000 * (1 + rng.normal(0, 0.04, 63))
    y[-7:] *= 1.06 ** np.arange(1, 8)
    history, limit = series(y), 1.1 * y[-1]
    ramp = quota.runway(history, limit, params=quota.PEAK_PARAMS)
    spend = quota.runway(history, limit, params=quota.SPEND_SETTINGS)
    assert ramp["days_until_p95"] is not None and ramp["days_until_p95"] <= 2
    assert spend["days_until_p95"] is None or spend["days_until_p95"] > 2
    assert ramp["forecast_peak"] > spend["forecast_peak"]
