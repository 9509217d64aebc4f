"""Quota runway: when will a model's busiest minute of the day reach its tokens-per-minute
(or requests-per-minute) quota? Pure functions over daily series; the forecast is the one the
spend forecast uses (models.forecast.forecast_series: Prophet, or its fallbacks on short
histories), set for peaks (PEAK_PARAMS) and run on the daily peak-minute series.

"Days until throttling at p95" is the first future day whose 95% upper bound (hi95: 97.5%
quantile of the predictive paths) reaches the quota: the day a throttle becomes a real risk,
not the day the mean forecast says it certainly happens.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from base.scalars import as_day, as_day_or_none, as_float
from models.forecast import DEFAULT_PARAMS, ForecastParams, ForecastResult, forecast_series

# The spend forecast's settings with one-off days kept: what the runway used before (bench).
SPEND_SETTINGS = replace(DEFAULT_PARAMS, keep_one_off_days=True)
# The spend forecast's Prophet, set for peaks. One-off days kept: a day whose busiest minute
# spiked is the day a quota is hit, not noise to fit around. No level hold, changepoints up to
# the last days and a looser trend: a rollout that began a week ago is what a runway must
# extrapolate, and the spend settings (which average in a trendless model and fix the trend
# over the last fifth of history) forecast it flat. A falling trend is not carried on
# (forecast_peaks). Measured by bench/quota_backtest.py: the demo's planted storm predicted a
# day ahead in 36 of 36 estates (6 seeds x 6 end dates), against 16 of 36 with the spend
# settings; on the demo's 39 other pools (quota at 1.25x the history's busiest minute, 2 cut
# days) hi95 reached it within a week in 52 of 78 forecasts, against 59 of 78.
PEAK_PARAMS = replace(DEFAULT_PARAMS, keep_one_off_days=True, hold_level=False,
                      changepoint_range=0.95, changepoint_prior_scale=0.5)  # fmt: skip
HORIZON_DAYS = 30
THROTTLED_SHARE = 0.05  # a day with at least this share of calls throttled "throttled"...
MIN_THROTTLES = 20  # ... and at least this many (a quiet day's one throttle in 20 is not)
BACKTEST_LEAD_DAYS = 2  # the backtest forecasts from data ending this many days before
MIN_HISTORY_DAYS = 7


def forecast_peaks(
    daily: pl.DataFrame, *, horizon_end: date, params: ForecastParams = PEAK_PARAMS
) -> ForecastResult:
    """The trend-following forecast (`params`) where it forecasts more than the level-held one
    (the spend settings, `params` with the level held), else the level-held one.

    A runway carries a rising trend on, but does not trust a falling one to keep falling:
    after a drop (a rollout trimmed back, a partial last day) a loose trend runs to zero within
    days, while the risk is still the level the peaks are at. Settings that hold the level
    themselves are run alone."""
    ramp = forecast_series(daily, horizon_end=horizon_end, params=params)
    if params.hold_level:
        return ramp
    held = replace(params, hold_level=True, changepoint_range=DEFAULT_PARAMS.changepoint_range,
                   changepoint_prior_scale=DEFAULT_PARAMS.changepoint_prior_scale)  # fmt: skip
    level = forecast_series(daily, horizon_end=horizon_end, params=held)
    if as_float(ramp.frame["yhat"].mean()) >= as_float(level.frame["yhat"].mean()):
        return replace(ramp, note=f"rising, its trend carried on: {ramp.note}")
    return replace(level, note=f"not rising, held at its level: {level.note}")


def runway(
    history: pl.DataFrame,
    quota: float,
    *,
    horizon_days: int = HORIZON_DAYS,
    params: ForecastParams = PEAK_PARAMS,
) -> dict[str, Any]:
    """Forecast the daily peak (history: date, value) and find the first day hi95 >= quota."""
    daily = history.sort("date")
    last = as_day(daily["date"].max())
    result = forecast_peaks(daily, horizon_end=last + timedelta(days=horizon_days), params=params)
    frame = result.frame
    over = frame.filter(pl.col("hi95") >= quota)
    crossing = as_day_or_none(over["date"].min()) if len(over) else None
    return {
        "as_of": last,
        "peak_last_7d": as_float(daily["value"].tail(7).max()),
        "forecast_peak": as_float(frame["yhat"].max()),
        "forecast_hi95": as_float(frame["hi95"].max()),
        "crossing_day": crossing,
        "days_until_p95": (crossing - last).days if crossing else None,
        "method": result.method,
        "note": result.note,
    }


def first_throttled_day(daily: pl.DataFrame, share: float = THROTTLED_SHARE) -> date | None:
    """The first day (daily: date, throttles, invocations) with `share` of its calls and at
    least MIN_THROTTLES calls throttled."""
    hit = daily.filter(
        pl.col("throttles") >= share * pl.col("invocations"), pl.col("throttles") >= MIN_THROTTLES
    )
    return hit["date"].min() if len(hit) else None  # type: ignore[return-value]


def backtest(
    history: pl.DataFrame,
    quota: float,
    throttle_day: date,
    *,
    lead: int = BACKTEST_LEAD_DAYS,
    params: ForecastParams = PEAK_PARAMS,
) -> dict[str, Any] | None:
    """The runway as it would have read `lead` days before the first throttled day, from the
    data up to then only; None when there are fewer than MIN_HISTORY_DAYS days before."""
    cutoff = throttle_day - timedelta(days=lead)
    before = history.filter(pl.col("date") <= cutoff)
    if before.height < MIN_HISTORY_DAYS or not before["value"].sum():
        return None
    found = runway(before, quota, horizon_days=HORIZON_DAYS, params=params)
    predicted = found["crossing_day"]
    ahead = (throttle_day - cutoff).days - 1 if predicted and predicted <= throttle_day else None
    return {"throttle_day": throttle_day, "cutoff_day": cutoff, "predicted_day": predicted,
            "days_ahead": ahead, "quota": quota}  # fmt: skip
