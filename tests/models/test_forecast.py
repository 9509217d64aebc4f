"""Spend forecasts: fallbacks, Prophet bands, landing vs budget, backtest, parallel runs, eval."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import numpy as np
import polars as pl
import pytest
from daily_spend import START, spend

from models.forecast import (
    ForecastResult,
    daily_history,
    end_of_next_quarter,
    forecast_series,
    landing,
    period_bounds,
    reaches,
)
from models.forecast_backtest import backtest, seasonal_naive

# Prophet calls a pandas API that pandas 3 deprecates; nothing to act on here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:prophet")


def assert_ordered(frame: pl.DataFrame) -> None:
    cols = ["lo95", "lo80", "yhat", "hi80", "hi95"]
    values = frame.select(cols).to_numpy()
    assert (values >= 0).all()
    assert (np.diff(values, axis=1) >= 0).all()


@pytest.fixture(scope="module")
def prophet_120() -> tuple[pl.DataFrame, ForecastResult]:
    history = spend(120, weekend=0.05, seed=3)  # quiet weekends
    return history, forecast_series(history)


# --- calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "kind", "want"),
    [
        (date(2025, 2, 14), "month", (date(2025, 2, 1), date(2025, 2, 28))),
        (date(2025, 12, 31), "month", (date(2025, 12, 1), date(2025, 12, 31))),
        (date(2025, 5, 9), "quarter", (date(2025, 4, 1), date(2025, 6, 30))),
        (date(2025, 11, 1), "quarter", (date(2025, 10, 1), date(2025, 12, 31))),
    ],
)
def test_period_bounds(day: date, kind: str, want: tuple[date, date]) -> None:
    assert period_bounds(day, kind) == want  # type: ignore[arg-type]


def test_horizon_is_the_end_of_next_quarter() -> None:
    assert end_of_next_quarter(date(2025, 6, 20)) == date(2025, 9, 30)
    assert end_of_next_quarter(date(2025, 12, 31)) == date(2026, 3, 31)


# --- fallbacks -----------------------------------------------------------------------------


def test_five_days_use_the_mean_and_say_why() -> None:
    history = spend(5)
    result = forecast_series(history)
    assert result.method == "mean"
    assert "only 5 days" in result.note
    frame = result.frame
    assert frame["date"][0] == date(2025, 3, 8)
    assert frame["date"][-1] == date(2025, 6, 30)
    assert (frame["method"] == "mean").all()
    assert frame["yhat"][0] == pytest.approx(history["value"].mean())
    assert_ordered(frame)


def test_three_weeks_use_a_weekday_profile() -> None:
    result = forecast_series(spend(21, weekend=0.2, growth=1.0))
    assert result.method == "seasonal_naive"
    assert "only 21 days" in result.note and "Prophet needs 28" in result.note
    by_day = result.frame.group_by(pl.col("date").dt.weekday()).agg(pl.col("yhat").mean())
    weekday = by_day.filter(pl.col("date") <= 5)["yhat"].min()
    assert by_day.filter(pl.col("date") >= 6)["yhat"].max() < 0.5 * weekday
    assert_ordered(result.frame)
    assert result.samples.shape == (len(result.frame), 1000)


def test_no_spend_forecasts_zero() -> None:
    history = pl.DataFrame({"date": [START, START + timedelta(days=40)], "value": [0.0, 0.0]})
    result = forecast_series(history)
    assert result.method == "zero"
    assert result.frame["hi95"].max() == 0


def test_days_before_the_first_spend_are_left_out() -> None:
    late = spend(20, start=START + timedelta(days=30))
    history = pl.concat([pl.DataFrame({"date": [START], "value": [0.0]}), late])
    result = forecast_series(history)
    assert result.method == "seasonal_naive"  # 20 days of spend, not 50 days of history
    assert "the 30 days before the first spend are left out" in result.note


def test_a_series_quiet_for_two_weeks_has_stopped_and_is_forecast_as_zero() -> None:
    stopped = spend(60)
    history = daily_history(stopped, through=START + timedelta(days=59 + 20))
    assert history.height == 80 and history["value"].tail(20).sum() == 0
    result = forecast_series(history)
    assert result.method == "zero" and "no spend for the last 20 days" in result.note
    assert result.frame["hi95"].max() == 0 and result.samples.max() == 0
    paused = daily_history(stopped, through=START + timedelta(days=59 + 5))  # a short pause
    assert forecast_series(paused).method == "prophet"


def test_a_cost_runaway_is_left_out_of_the_fit() -> None:
    clean = spend(90, growth=1.2, noise=0.08, seed=9)
    runaway = clean.with_columns(
        value=pl.when(pl.int_range(pl.len()).is_between(84, 86))  # in the last week
        .then(pl.col("value") * 8)
        .otherwise(pl.col("value"))
    )
    calm, hit = forecast_series(clean), forecast_series(runaway)
    assert "3 one-off days left out" in hit.note
    # kept in, the three days would set last week's level: the next month forecast 7x over
    month = slice(0, 30)
    ratio = hit.frame["yhat"][month].sum() / calm.frame["yhat"][month].sum()
    assert 0.95 < ratio < 1.05


def test_after_a_launch_ramp_the_forecast_starts_from_the_plateau() -> None:
    days = 90
    level = np.clip((np.arange(days) - 40) / 10, 0, 1) * 300 + 100  # ramp on days 40-50
    history = spend(days, growth=1.0, noise=0.05, seed=10).with_columns(
        value=pl.col("value") / 400 * pl.Series(level)
    )
    result = forecast_series(history)
    week = history.tail(7)["value"].sum()
    assert 0.9 < result.frame["yhat"].head(7).sum() / week < 1.15  # no ramp carried on


def test_missing_days_are_zero_spend() -> None:
    history = pl.DataFrame({"date": [START, START + timedelta(days=3)], "value": [5.0, 7.0]})
    assert daily_history(history)["value"].to_list() == [5.0, 0.0, 0.0, 7.0]


@pytest.mark.parametrize(
    ("history", "message"),
    [
        (pl.DataFrame({"day": [START], "value": [1.0]}), "needs columns date and value"),
        (pl.DataFrame({"date": [START, START], "value": [1.0, 2.0]}), "repeated dates"),
        (pl.DataFrame({"date": [], "value": []}), "history is empty"),
    ],
)
def test_bad_history_is_refused(history: pl.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        forecast_series(history)


# --- Prophet -------------------------------------------------------------------------------


def test_prophet_bands_are_ordered_non_negative_and_reach_next_quarter(prophet_120) -> None:
    history, result = prophet_120
    assert result.method == "prophet"
    assert "Prophet on 120 days" in result.note
    frame = result.frame
    last = history["date"][-1]
    assert frame["date"][0] == last + timedelta(days=1)
    assert frame["date"][-1] == end_of_next_quarter(last) == date(2025, 9, 30)
    assert frame["date"].diff().drop_nulls().dt.total_days().eq(1).all()
    assert_ordered(frame)
    assert result.samples.min() >= 0
    assert result.samples.shape == (len(frame), 1000)
    # the forecast continues the history: growth carries on, weekends stay low
    weekdays = frame.filter(pl.col("date").dt.weekday() <= 5)["yhat"]
    last_week = history.tail(7).filter(pl.col("date").dt.weekday() <= 5)["value"]
    assert weekdays.head(5).mean() > last_week.mean()
    assert weekdays.tail(5).mean() > 1.1 * weekdays.head(5).mean()
    assert frame.filter(pl.col("date").dt.weekday() >= 6)["yhat"].max() < 0.2 * weekdays.min()


def test_a_falling_series_is_floored_at_zero() -> None:
    result = forecast_series(spend(120, growth=0.2, seed=4))  # the line crosses zero in August
    assert result.method == "prophet"
    assert_ordered(result.frame)
    # Prophet's half of the paths reaches zero and stays there, never below
    assert result.frame["lo95"][-1] == 0
    assert result.samples.min() == 0
    assert (result.samples[-1] == 0).mean() >= 0.4


def test_prophet_is_deterministic(prophet_120) -> None:
    history, result = prophet_120
    again = forecast_series(history)
    assert again.frame.equals(result.frame)
    assert np.array_equal(again.samples, result.samples)


def test_rows_hold_history_and_future_for_the_forecasts_table(prophet_120) -> None:
    history, result = prophet_120
    rows = result.rows("lob:retail")
    assert rows.columns == [
        "series", "day", "actual", "yhat", "lo80", "hi80", "lo95", "hi95", "method", "note",
    ]  # fmt: skip
    assert rows.height == history.height + result.frame.height
    assert rows["actual"].null_count() == result.frame.height
    assert rows["yhat"].null_count() == history.height


# --- landing -------------------------------------------------------------------------------


def test_landing_is_actual_to_date_plus_forecast_of_the_rest(prophet_120) -> None:
    history, result = prophet_120  # history ends 2025-06-30: as of July, nothing is actual yet
    as_of = date(2025, 6, 30)
    june = landing(history, result, as_of, 1.0)
    assert june.period_start == date(2025, 6, 1) and june.period_end == date(2025, 6, 30)
    assert june.actual_to_date == pytest.approx(
        history.filter(pl.col("date") >= date(2025, 6, 1))["value"].sum()
    )
    assert june.landing == june.actual_to_date == june.lo95 == june.hi95  # nothing left
    assert june.status == "over"

    q3 = landing(history, result, date(2025, 7, 1), period="quarter")
    rest = result.frame.filter(pl.col("date") <= date(2025, 9, 30))
    assert q3.actual_to_date == 0
    assert q3.landing == pytest.approx(rest["yhat"].sum())
    assert q3.lo95 <= q3.lo80 <= q3.landing <= q3.hi80 <= q3.hi95
    assert q3.status == "no_budget" and q3.p_exceed is None
    # Summing daily bounds assumes every day at its extreme at once: far too wide.
    assert q3.hi95 - q3.landing < 0.5 * (rest["hi95"].sum() - rest["yhat"].sum())


def test_landing_mid_month_splits_actual_and_forecast() -> None:
    full = spend(75, seed=5)  # 2025-03-03 .. 2025-05-16
    history = full.filter(pl.col("date") <= date(2025, 5, 10))
    result = forecast_series(history, horizon_end=date(2025, 6, 30))
    may = landing(history, result, date(2025, 5, 12), 9_000.0)
    actual = history.filter(pl.col("date") >= date(2025, 5, 1))["value"].sum()
    rest = result.frame.filter(pl.col("date") <= date(2025, 5, 31))["yhat"].sum()
    assert may.actual_to_date == pytest.approx(actual)
    assert may.landing == pytest.approx(actual + rest)
    assert may.lo95 <= may.lo80 <= may.landing <= may.hi80 <= may.hi95


def test_probability_of_exceeding_falls_as_the_budget_rises(prophet_120) -> None:
    history, result = prophet_120
    as_of = date(2025, 7, 1)
    expected = landing(history, result, as_of).landing
    budgets = [0.0, *np.linspace(0.5, 1.5, 21) * expected, 1e12]
    p = [landing(history, result, as_of, b).p_exceed for b in budgets]
    assert p[0] == 1.0 and p[-1] == 0.0
    assert all(a >= b for a, b in pairwise(p))
    assert 0.2 < landing(history, result, as_of, expected).p_exceed < 0.8
    assert landing(history, result, as_of, 2 * expected).status == "on_track"
    assert landing(history, result, as_of, 0.9 * expected).status == "at_risk"


def test_landing_refuses_a_period_the_forecast_cannot_answer(prophet_120) -> None:
    history, result = prophet_120
    assert reaches(result, date(2025, 7, 1), "quarter")
    assert not reaches(result, date(2025, 6, 1))  # before the last day of history
    assert not reaches(result, date(2025, 10, 2), "quarter")  # Q4 ends after the forecast
    with pytest.raises(ValueError, match="before the forecast's last day of history"):
        landing(history, result, date(2025, 6, 1))
    with pytest.raises(ValueError, match="forecast with horizon_end >= 2025-12-31"):
        landing(history, result, date(2025, 10, 2), period="quarter")


def test_history_runs_on_to_yesterday_as_zero_spend() -> None:
    history = pl.DataFrame({"date": [date(2025, 3, 3), date(2025, 3, 4)], "value": [5.0, 7.0]})
    padded = daily_history(history, through=date(2025, 3, 7))
    assert padded["date"][-1] == date(2025, 3, 7)
    assert padded["value"].to_list() == [5.0, 7.0, 0.0, 0.0, 0.0]


def test_a_series_that_stopped_a_quarter_ago_is_zero_and_lands_from_today() -> None:
    # Spend stopped in June; today is in November. Before: the forecast ran from June to the
    # end of September and landing November raised ValueError.
    today = date(2025, 11, 20)
    history = daily_history(spend(90), through=today - timedelta(days=1))
    result = forecast_series(history, horizon_end=end_of_next_quarter(today))
    assert result.method == "zero" and "stopped" in result.note
    assert result.frame["yhat"].sum() == 0.0 and result.frame["date"][-1] == date(2026, 3, 31)
    assert reaches(result, today, "month") and reaches(result, today, "quarter")
    land = landing(history, result, today, 100.0, period="quarter")
    assert (land.actual_to_date, land.landing, land.status) == (0.0, 0.0, "on_track")


def test_reaches_says_no_where_landing_would_refuse(prophet_120) -> None:
    _, result = prophet_120  # history ends 2025-06-30, forecast to 2025-09-30
    assert reaches(result, date(2025, 7, 15), "month")
    assert not reaches(result, date(2025, 10, 2), "quarter")  # past the horizon
    assert not reaches(result, date(2025, 6, 1))  # before the last day of history


# --- backtest ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_backtest_beats_seasonal_naive_on_demo_like_spend(seed: int) -> None:
    report = backtest(spend(180, growth=2.5, seed=seed))
    assert report["horizon_days"].to_list() == [7, 30]
    assert report["origins"].to_list() == [6, 3]  # the 7-day also scores the 30-day origins
    assert (report["method"] == "prophet").all()
    for row in report.iter_rows(named=True):
        assert row["mape"] < row["naive_mape"]
        assert 0.8 <= row["coverage95"] <= 1.0
        assert row["coverage80"] <= row["coverage95"]


def test_backtest_on_a_short_history_scores_what_it_can() -> None:
    report = backtest(spend(40))
    seven, thirty = report.iter_rows(named=True)
    assert seven["origins"] == 3 and seven["method"] == "prophet+seasonal_naive"
    assert seven["mape"] is not None
    assert thirty["origins"] == 0 and thirty["mape"] is None and thirty["method"] == "none"


def test_seasonal_naive_repeats_the_last_week() -> None:
    train = np.arange(10.0)
    assert seasonal_naive(train, 9).tolist() == [3, 4, 5, 6, 7, 8, 9, 3, 4]
