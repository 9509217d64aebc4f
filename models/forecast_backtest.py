"""Rolling-origin backtest of the spend forecast, beside a seasonal-naive baseline.

From a few origins near the end of the history, `step` days apart, the production forecast
sees only the days up to the origin and is scored on the next h days, for each horizon h:
MAPE, 80% and 95% interval coverage, and the MAPE of the seasonal-naive baseline (each day
is the same weekday of the last week before the origin) on the very same days. MAPE leaves
out days with zero spend: a percentage of zero is undefined. Errors are fractions (0.08).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import polars as pl

from models.forecast import DEFAULT_PARAMS, ForecastParams, daily_history, forecast_series

BACKTEST_SCHEMA = {
    "horizon_days": pl.Int32,
    "origins": pl.Int32,
    "mape": pl.Float64,
    "coverage80": pl.Float64,
    "coverage95": pl.Float64,
    "naive_mape": pl.Float64,
    "method": pl.String,
}


def seasonal_naive(train: np.ndarray, horizon: int) -> np.ndarray:
    """Each future day = the same weekday in the last 7 days of `train`."""
    if len(train) < 7:
        raise ValueError(f"seasonal-naive needs 7 days of history, got {len(train)}")
    return np.resize(train[-7:], horizon)


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error over the days with non-zero actuals (NaN if none)."""
    nonzero = actual != 0
    if not nonzero.any():
        return float("nan")
    a, p = actual[nonzero], predicted[nonzero]
    return float(np.mean(np.abs(a - p) / np.abs(a)))


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE, 2|a-p| / (|a|+|p|), counting a day where both are zero as no error."""
    scale = np.abs(actual) + np.abs(predicted)
    safe = np.where(scale == 0, 1.0, scale)
    return float(np.mean(np.where(scale == 0, 0.0, 2 * np.abs(actual - predicted) / safe)))


def coverage(actual: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of days whose actual falls inside [lo, hi]."""
    return float(np.mean((actual >= lo) & (actual <= hi)))


def _origin(
    daily: pl.DataFrame, train_days: int, length: int, params: ForecastParams
) -> pl.DataFrame:
    """Forecast `length` days from the first `train_days` days; actual and naive beside."""
    train = daily[:train_days]
    end = train["date"][-1] + timedelta(days=length)
    frame = forecast_series(train, horizon_end=end, params=params).frame
    y = daily["value"].to_numpy()
    return frame.with_columns(
        actual=pl.Series(y[train_days : train_days + length]),
        naive=pl.Series(seasonal_naive(y[:train_days], length)),
    )


def _score(horizon: int, scored: list[pl.DataFrame]) -> dict[str, object]:
    """One row: the first `horizon` days after every origin, pooled."""
    if not scored:
        return {"horizon_days": horizon, "origins": 0, "method": "none"}
    days = pl.concat([frame.head(horizon) for frame in scored])
    col = {name: days[name].to_numpy() for name in days.columns if name not in ("date", "method")}
    methods = dict.fromkeys(frame["method"][0] for frame in scored)  # unique, origin order
    return {
        "horizon_days": horizon,
        "origins": len(scored),
        "mape": mape(col["actual"], col["yhat"]),
        "coverage80": coverage(col["actual"], col["lo80"], col["hi80"]),
        "coverage95": coverage(col["actual"], col["lo95"], col["hi95"]),
        "naive_mape": mape(col["actual"], col["naive"]),
        "method": "+".join(methods),
    }


def backtest(
    history: pl.DataFrame,
    *,
    horizons: Sequence[int] = (7, 30),
    origins: int = 3,
    step: int = 7,
    params: ForecastParams = DEFAULT_PARAMS,
) -> pl.DataFrame:
    """Per horizon: horizon_days, origins, mape, coverage80, coverage95, naive_mape, method.

    Each horizon h brings `origins` origins: h days before the end of the history, then
    `step` days earlier each, keeping at least two weeks to learn from. Every horizon is
    scored on the first h days after every origin that has h days after it, so the 7-day
    figure also counts the first week after the 30-day origins (42 days, not 21: a pooled
    MAPE over three weeks moves by several points with one odd day). One fit per origin. A
    horizon longer than the history allows gets origins=0 and null metrics; `method` names
    the method(s) the origins used, or `none`.
    """
    daily = daily_history(history)
    n = len(daily)
    fits = [h for h in horizons if n - h >= params.min_weekly_days]
    ends = sorted({n - h - step * k for h in fits for k in range(origins)}, reverse=True)
    ends = [end for end in ends if end >= params.min_weekly_days]
    longest = max(fits, default=0)
    scored = {end: _origin(daily, end, min(longest, n - end), params) for end in ends}
    rows = [_score(h, [f for end, f in scored.items() if n - end >= h]) for h in horizons]
    return pl.DataFrame(rows, schema=BACKTEST_SCHEMA)
