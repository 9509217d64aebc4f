"""Daily spend forecasts per series, and where a month or quarter lands against its budget.

Prophet (weekly seasonality, trend changepoints) when there are at least four weeks of
history, fitted without one-off days (a cost runaway) and averaged with last week's level
times the recent weekday profile, and over the first weeks with last week's days
(models.forecast_local says why, bench/forecast_seeds.py measures it); below four weeks a
weekday-profile or mean fallback, and the result says which method ran and why. A series
without spend for `quiet_days` has stopped and is forecast as zero.

Intervals, and the landing probabilities, come from predictive sample paths: summing
paths over the days left in a period is correct, summing daily interval bounds is not.

Functions over polars frames, no I/O, fixed seeds. A history is a frame of (date, value), one
row per day; a day without a row is a day without spend (the daily rollup has no row for it).
Prophet is imported inside the function that fits it: the import takes seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import polars as pl

from base.scalars import as_day
from models.forecast_local import last_week, last_week_share, outlier_days, weekday_level

Period = Literal["month", "quarter"]
QUANTILES = (0.025, 0.10, 0.90, 0.975)  # lo95, lo80, hi80, hi95


@dataclass(frozen=True)
class ForecastParams:
    """The production settings; the evaluation and the benchmark run these defaults."""

    min_prophet_days: int = 28  # four weeks: fewer and Prophet fits noise, so fall back
    min_weekly_days: int = 14  # two full weeks: enough for a weekday profile
    samples: int = 1000  # predictive sample paths behind every interval and probability
    # weekends scale with the level of spend: they are not a fixed number of dollars
    seasonality_mode: Literal["additive", "multiplicative"] = "multiplicative"
    changepoint_prior_scale: float = 0.05
    # A series with no spend for two full weeks has stopped (a LOB moved off Bedrock, an app
    # retired): forecast zero rather than let a fit carry its old level forward.
    quiet_days: int = 14
    # weeks behind the weekday profile averaged with Prophet (three: two were noisier on
    # bench/forecast_seeds.py, models.forecast_local has the figures)
    profile_weeks: int = 3
    # Spend leaves a one-off day (a cost runaway) out of the fit; a series of daily peaks
    # (models.quota) keeps it: there the spike is what throttles.
    keep_one_off_days: bool = False
    # Spend is held to the level it is at now (Prophet averaged with the weekday-level model and
    # last week's days). A series of daily peaks (models.quota) is not: a ramp toward a quota
    # is the very thing to see, and models without a trend flatten it.
    hold_level: bool = True
    # The share of history Prophet may put trend changepoints in (its own default, 0.8): a
    # spend trend is not bent by the last weeks' noise; a peak series raises it to see a
    # rollout that began a week ago.
    changepoint_range: float = 0.8
    seed: int = 0


DEFAULT_PARAMS = ForecastParams()


@dataclass(frozen=True)
class ForecastResult:
    """One series' forecast: the future frame, its sample paths, and which method made it."""

    history: pl.DataFrame  # date, value: the calendar-complete history the forecast saw
    frame: pl.DataFrame  # date, yhat, lo80, hi80, lo95, hi95, method: one row per future day
    samples: np.ndarray  # (future days, paths) predictive sample paths, clipped at 0
    method: str  # prophet | seasonal_naive | mean | zero
    note: str  # one sentence for the page: what ran and why
    backtest: pl.DataFrame | None = None  # models.forecast_backtest.backtest, when asked for

    def rows(self, series: str) -> pl.DataFrame:
        """History and future in the `forecasts` table layout (without run_at)."""
        past = self.history.select(
            pl.lit(series).alias("series"),
            pl.col("date").alias("day"),
            pl.col("value").alias("actual"),
        )
        future = self.frame.select(
            pl.lit(series).alias("series"),
            pl.col("date").alias("day"),
            pl.lit(None, pl.Float64).alias("actual"),
            pl.exclude("date", "method"),
        )
        both = pl.concat([past, future], how="diagonal")
        return both.with_columns(method=pl.lit(self.method), note=pl.lit(self.note))


@dataclass(frozen=True)
class Landing:
    """Where one month or quarter lands: actual to date plus the forecast of the rest."""

    period_kind: Period
    period_start: date
    period_end: date  # inclusive
    actual_to_date: float
    landing: float  # actual to date + the point forecast of the remaining days
    lo80: float
    hi80: float
    lo95: float
    hi95: float
    budget: float | None
    p_exceed: float | None  # share of sample paths whose period total exceeds the budget
    status: str  # on_track | at_risk | over | no_budget


# --- calendar ------------------------------------------------------------------------------


def period_bounds(day: date, kind: Period) -> tuple[date, date]:
    """First and last day (inclusive) of the month or quarter holding `day`."""
    first_month = day.month if kind == "month" else 3 * ((day.month - 1) // 3) + 1
    after = first_month - 1 + (1 if kind == "month" else 3)  # months since January, 0-based
    following = date(day.year + after // 12, after % 12 + 1, 1)
    return date(day.year, first_month, 1), following - timedelta(days=1)


def end_of_next_quarter(day: date) -> date:
    """The last day of the quarter after the one holding `day`: the default horizon."""
    _, quarter_end = period_bounds(day, "quarter")
    return period_bounds(quarter_end + timedelta(days=1), "quarter")[1]


def daily_history(history: pl.DataFrame, through: date | None = None) -> pl.DataFrame:
    """(date: Date, value: Float64) sorted, one row per calendar day, missing days as 0.

    With `through`, the calendar runs on to that day: a series whose rows stop early (the
    daily rollup has no row for a day without spend) is zero up to it, not cut short.
    """
    if not {"date", "value"} <= set(history.columns):
        raise ValueError(f"history needs columns date and value; it has {history.columns}")
    frame = history.select(
        pl.col("date").cast(pl.Date), pl.col("value").cast(pl.Float64)
    ).drop_nulls("date")
    if frame.is_empty():
        raise ValueError("history is empty: pass at least one day of spend")
    duplicated = int(frame["date"].is_duplicated().sum())
    if duplicated:
        raise ValueError(f"history has {duplicated} rows on repeated dates; sum them per day")
    last = max(as_day(frame["date"].max()), through) if through else as_day(frame["date"].max())
    days = pl.date_range(as_day(frame["date"].min()), last, "1d", eager=True)
    calendar = days.alias("date").to_frame()
    filled = calendar.join(frame, on="date", how="left").sort("date")
    return filled.with_columns(pl.col("value").fill_null(0.0))


# --- methods -------------------------------------------------------------------------------


def _quiet_stan() -> None:
    """Keep cmdstanpy's per-fit chatter and Prophet's INFO lines out of the app's logs."""
    stan = logging.getLogger("cmdstanpy")
    if not stan.handlers:  # cmdstanpy adds a stderr handler at DEBUG unless one exists
        stan.addHandler(logging.NullHandler())
    stan.setLevel(logging.ERROR)
    logging.getLogger("prophet").setLevel(logging.ERROR)


@contextmanager
def _numpy_seed(seed: int) -> Iterator[None]:
    """Prophet samples from numpy's global generator: seed it, then put the caller's back.

    Not thread-safe: two threads fitting at once in one process share that generator, so
    their draws interleave (forecast_many runs its fits in processes).
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _prophet(
    dates: pl.Series, y: np.ndarray, future: pl.Series, params: ForecastParams, recent: pl.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point forecast and sample paths (days by paths) for the future dates, and the fit on the
    `recent` dates (the last days of history, for re-levelling).

    Prophet's own paths add Gaussian noise of one fixed size in dollars, but spend moves in
    proportion to its level (a weekday swings more dollars than a Sunday), and a MAP fit
    carries no error in the level it ends on. So a path here is one of Prophet's trend paths
    (future changepoints), times the weekly shape, times a relative residual of the fit drawn
    at random, times that path's error in the fitted line's end level and slope.
    """
    import pandas as pd
    from prophet import Prophet

    _quiet_stan()
    model = Prophet(
        growth="linear",
        weekly_seasonality=True,
        yearly_seasonality=len(y) >= 730,
        daily_seasonality=False,
        seasonality_mode=params.seasonality_mode,
        changepoint_prior_scale=params.changepoint_prior_scale,
        changepoint_range=params.changepoint_range,
        uncertainty_samples=params.samples,
    )
    model.fit(pd.DataFrame({"ds": dates.to_pandas(), "y": y}), seed=params.seed)
    ahead = pd.DataFrame({"ds": future.to_pandas()})
    with _numpy_seed(params.seed):
        trends = model.predictive_samples(ahead)["trend"]
    model.uncertainty_samples = 0  # point forecasts from here on: the paths carry the spread
    fit_days = model.history  # set by fit() above; typed optional for an unfitted model
    if fit_days is None:
        raise RuntimeError("prophet kept no history after fit()")
    both = model.predict(pd.concat([fit_days[["ds"]], ahead], ignore_index=True))
    fitted = model.params["beta"].shape[1] + model.params["delta"].shape[1] + 2  # + k, m
    ratios = _ratios(y, both["yhat"].to_numpy()[: len(y)], fitted)
    point = both.iloc[len(y) :]
    shape = point["multiplicative_terms"].to_numpy()[:, None]
    rng = np.random.default_rng(params.seed)
    paths = trends * (1 + shape) + point["additive_terms"].to_numpy()[:, None]
    line = _line_error(ratios, len(y), len(future), paths.shape[1], rng)
    paths *= rng.choice(ratios, size=paths.shape) * line
    fit = model.predict(pd.DataFrame({"ds": recent.to_pandas()}))["yhat"].to_numpy()
    return point["yhat"].to_numpy(), paths, fit


def _ratios(y: np.ndarray, fitted: np.ndarray, parameters: int) -> np.ndarray:
    """actual / fitted on the days the fit expects a tenth of an average day or more.

    Near-zero fitted days (a quiet Sunday) give ratios that mean nothing elsewhere. The
    ratios' spread around 1 is widened by sqrt(n / (n - p)), capped at 2: residuals of a fit
    with p parameters understate its noise (on demo-like series this brings the 80% and
    95% bands from about 76% and 92% coverage to 82% and 95%).
    """
    usable = fitted > 0.1 * max(float(y.mean()), 0.0)
    n = int(usable.sum())
    if n < 7:
        raise RuntimeError("the fit is not positive on a week of days")
    widen = np.sqrt(n / max(n - parameters, n / 4))
    return np.clip(1 + (y[usable] / fitted[usable] - 1) * widen, 0, None)


def _line_error(
    ratios: np.ndarray, n: int, days: int, samples: int, rng: np.random.Generator
) -> np.ndarray:
    """A multiplier per (day ahead, path): that path's error in the fit's end level and slope.

    Drawn from the covariance of the end value and slope of a least-squares line through n
    days whose relative scatter is that of the ratios. On demo-like series it brings the
    coverage of 30-day totals near nominal (without it 80% intervals held about 68%).
    """
    var = float(np.var(ratios))
    level = var * (1 / n + 3 * (n - 1) / (n * (n + 1)))
    slope = 12 * var / (n * (n * n - 1))
    both = 6 * var / (n * (n + 1))
    errors = rng.multivariate_normal([0.0, 0.0], [[level, both], [both, slope]], size=samples)
    ahead = np.arange(1, days + 1)[:, None]
    return np.clip(1 + errors[:, 0] + errors[:, 1] * ahead, 0, None)


def _fallback(
    y: np.ndarray, weekdays: np.ndarray, ahead: np.ndarray, params: ForecastParams, weekly: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Last week's level (times a weekday profile when `weekly`), with paths from residuals.

    Each path draws its own level error (the mean of 7 resampled residuals, as the level is
    the mean of 7 days) and an independent residual per day. No trend.
    """
    k = min(7, len(y))
    level = float(y[-k:].mean())
    profile = np.ones(7)
    residuals = y - y.mean()
    if weekly:
        weeks = len(y) // 7
        tail, tail_days = y[-7 * weeks :], weekdays[-7 * weeks :]
        if tail.mean() > 0:
            profile = np.array([tail[tail_days == d].mean() for d in range(7)]) / tail.mean()
        block_level = tail.reshape(weeks, 7).mean(axis=1).repeat(7)
        residuals = tail - block_level * profile[tail_days]
    rng = np.random.default_rng(params.seed)
    level_error = rng.choice(residuals, size=(k, params.samples)).mean(axis=0)
    noise = rng.choice(residuals, size=(len(ahead), params.samples))
    shape = profile[ahead][:, None]
    return level * profile[ahead], (level + level_error)[None, :] * shape + noise


def _choose(
    daily: pl.DataFrame, future: pl.Series, params: ForecastParams
) -> tuple[np.ndarray, np.ndarray, str, str]:
    """(yhat, paths, method, note) for a history that starts at its first day of spend."""
    y = daily["value"].to_numpy()
    weekdays = daily["date"].dt.weekday().to_numpy() - 1
    ahead = future.dt.weekday().to_numpy() - 1
    n, h = len(y), len(future)
    zeros = np.zeros(h)
    if not np.any(y):
        return zeros, np.zeros((h, params.samples)), "zero", "no spend in the history"
    quiet = n - 1 - int(np.flatnonzero(y)[-1])  # days since the last day with spend
    if quiet >= params.quiet_days:
        note = f"no spend for the last {quiet} days (since {daily['date'][n - quiet]}): stopped"
        return zeros, np.zeros((h, params.samples)), "zero", note
    reason = f"only {n} days of history (Prophet needs {params.min_prophet_days})"
    if n >= params.min_prophet_days:
        try:
            return _combined(daily["date"], y, weekdays, future, params)
        except RuntimeError as exc:  # Stan's optimizer gave up: say so and fall back
            reason = f"Prophet failed to fit ({exc})"
    if n >= params.min_weekly_days:
        yhat, paths = _fallback(y, weekdays, ahead, params, weekly=True)
        note = f"{reason}: last week's level times a weekday profile, no trend"
        return yhat, paths, "seasonal_naive", note
    yhat, paths = _fallback(y, weekdays, ahead, params, weekly=False)
    note = f"{reason}: mean of the last {min(7, n)} days, no weekly rhythm or trend"
    return yhat, paths, "mean", note


def _combined(
    dates: pl.Series,
    y: np.ndarray,
    weekdays: np.ndarray,
    future: pl.Series,
    params: ForecastParams,
) -> tuple[np.ndarray, np.ndarray, str, str]:
    """Prophet fit without the one-off days, re-levelled, averaged with the weekday-level model.

    Re-levelled: Prophet's forecast and paths are scaled so its fit over the last week has
    the week's actual mean. Its trend line is a compromise over months and can end well off
    the level spend is at (after a launch ramp it overshoots the plateau); what it adds is
    the slope and the weekly shape. The paths are then a pool of both models: every other one
    is moved to the weekday-level forecast (scaled where Prophet forecasts spend, shifted
    where it forecasts none). The pool's mean is the average, and its spread holds the chance
    that either model is right, not only Prophet's noise. Last week's days then take their
    share of the first weeks (`last_week_share`), the paths scaled to the new mean. Without
    `hold_level` (a peak series) the re-levelled Prophet forecast is the answer.
    """
    odd, expected = outlier_days(y, weekdays)
    if params.keep_one_off_days or (~odd).sum() < params.min_prophet_days:  # (too jumpy to tell)
        odd = np.zeros(len(y), dtype=bool)
    clean = np.where(odd, expected, y)
    kept = pl.Series(~odd)
    own, paths, fit = _prophet(dates.filter(kept), y[~odd], future, params, dates.tail(7))
    if fit.mean() > 1e-9:
        level = float(clean[-7:].mean()) / float(fit.mean())
        own, paths = own * level, paths * level
    left_out = f", {int(odd.sum())} one-off days left out" if odd.any() else ""
    fitted = (f"Prophet on {len(y)} days (weekly seasonality, trend changepoints{left_out}; "
              "re-levelled to the last week)")  # fmt: skip
    if not params.hold_level:
        return np.clip(own, 0, None), paths, "prophet", fitted
    ahead = future.dt.weekday().to_numpy() - 1
    local = weekday_level(clean, weekdays, ahead, weeks=params.profile_weeks)
    moved = paths[:, 1::2]
    scale = np.divide(local, own, out=np.ones_like(own), where=own > 1e-9)
    paths[:, 1::2] = np.where((own > 1e-9)[:, None], moved * scale[:, None],
                              moved + (local - own)[:, None])  # fmt: skip
    pair = (own + local) / 2
    share = last_week_share(len(ahead))
    mixed = (1 - share) * pair + share * last_week(clean, len(ahead))
    ratio = np.divide(mixed, pair, out=np.ones_like(pair), where=pair > 1e-9)
    paths = np.where((pair > 1e-9)[:, None], paths * ratio[:, None],
                     paths + (mixed - pair)[:, None])  # fmt: skip
    yhat = np.clip(mixed, 0, None)
    note = (
        f"{fitted}, averaged with last week's level times the weekday profile of the last "
        f"{params.profile_weeks} weeks and, over the first weeks, with last week's days"
    )
    return yhat, paths, "prophet", note


def _bands(yhat: np.ndarray, paths: np.ndarray) -> dict[str, np.ndarray]:
    """80% and 95% bands from the paths, ordered lo95 <= lo80 <= yhat <= hi80 <= hi95."""
    lo95, lo80, hi80, hi95 = np.quantile(paths, QUANTILES, axis=-1)
    lo80, hi80 = np.minimum(lo80, yhat), np.maximum(hi80, yhat)  # a skewed few paths
    return {"yhat": yhat, "lo80": lo80, "hi80": hi80, "lo95": np.minimum(lo95, lo80),
            "hi95": np.maximum(hi95, hi80)}  # fmt: skip


# --- public API ----------------------------------------------------------------------------


def forecast_series(
    history: pl.DataFrame,
    *,
    horizon_end: date | None = None,
    params: ForecastParams = DEFAULT_PARAMS,
) -> ForecastResult:
    """Forecast daily spend from the day after the history to `horizon_end` (inclusive).

    The default horizon is the end of the quarter after the last day of history. Forecasts,
    bands and paths are clipped at 0: spend is never negative. Days before the first day
    with spend are left out of the fit (the series did not exist yet).
    """
    daily = daily_history(history)
    last = as_day(daily["date"].max())
    end = horizon_end or end_of_next_quarter(last)
    if end <= last:
        raise ValueError(f"horizon_end {end} is not after the last day of history {last}")
    future = pl.date_range(last + timedelta(days=1), end, "1d", eager=True).alias("date")
    first = int(np.argmax(daily["value"].to_numpy() != 0))
    yhat, paths, method, note = _choose(daily[first:], future, params)
    if first:
        note += f" (the {first} days before the first spend are left out)"
    paths = np.clip(paths, 0, None).astype(np.float32)
    bands = _bands(np.clip(yhat, 0, None), paths)
    frame = pl.DataFrame({"date": future, **bands}).with_columns(method=pl.lit(method))
    return ForecastResult(daily, frame, paths, method, note)


def reaches(forecast: ForecastResult, as_of: date, period: Period = "month") -> bool:
    """Whether `landing` can answer for the period holding `as_of`: the forecast starts by
    `as_of` (the days between are not unknown) and runs to the period's end."""
    dates = forecast.frame["date"]
    if dates.is_empty():
        return False
    return as_of >= dates[0] - timedelta(days=1) and dates[-1] >= period_bounds(as_of, period)[1]


def landing(
    history: pl.DataFrame,
    forecast: ForecastResult,
    as_of: date,
    budget: float | None = None,
    *,
    period: Period = "month",
    at_risk: float = 0.2,
) -> Landing:
    """Where the month (or quarter) holding `as_of` lands: actual so far + forecast of the rest.

    Actual spend runs to the forecast's last day of history; the rest is the forecast. The
    interval and `p_exceed` come from the sample paths summed over the remaining days, so
    they respect that days move together. Status: `over` once actual spend passes the budget,
    `at_risk` when p_exceed >= `at_risk` (one chance in five by default), else `on_track`.
    """
    start, end = period_bounds(as_of, period)
    dates = forecast.frame["date"]
    cut = dates[0] - timedelta(days=1)
    if as_of < cut:
        raise ValueError(f"as_of {as_of} is before the forecast's last day of history {cut}; "
                         "forecast from the history up to as_of")  # fmt: skip
    if dates[-1] < end:
        raise ValueError(f"the forecast stops at {dates[-1]}, before the {period} ends on "
                         f"{end}; forecast with horizon_end >= {end}")  # fmt: skip
    in_period = pl.col("date").cast(pl.Date).is_between(start, cut)
    actual = float(history.filter(in_period)["value"].sum())
    rest = ((dates >= start) & (dates <= end)).to_numpy()
    point = actual + float(forecast.frame["yhat"].to_numpy()[rest].sum())
    totals = actual + forecast.samples[rest].sum(axis=0, dtype=np.float64)
    bands = {k: float(v) for k, v in _bands(np.asarray(point), totals).items()}
    p = None if budget is None else float(np.mean(totals > budget))
    status = _status(actual, budget, p, at_risk)
    return Landing(period, start, end, actual, point, bands["lo80"], bands["hi80"],
                   bands["lo95"], bands["hi95"], budget, p, status)  # fmt: skip


def _status(actual: float, budget: float | None, p: float | None, at_risk: float) -> str:
    if budget is None or p is None:
        return "no_budget"
    if actual > budget:
        return "over"
    return "at_risk" if p >= at_risk else "on_track"
