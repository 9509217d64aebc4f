"""`genai-lens eval forecast DIR`: the spend forecast scored on the days it did not see.

A dataset is a folder (searched recursively) of CSV files, one series each, with the header
`date,value` and one row per day. Each series loses its last `horizon` days, the production
forecast (models.forecast, default settings) predicts them from the rest, and the held-out
days score it beside the seasonal-naive baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from jobs.forecast_pool import forecast_many
from models.forecast import DEFAULT_PARAMS, ForecastResult, daily_history
from models.forecast_backtest import coverage, mape, seasonal_naive, smape

METRICS = ("mape", "smape", "coverage95", "naive_mape")


def evaluate(
    dataset_dir: Path,
    horizon: int = 30,
    echo: Callable[[str], None] = print,
    *,
    workers: int = 2,
) -> str:
    """Forecast the last `horizon` days of every series from the days before; score them.

    Echoes one line per series, then returns (and echoes) the final line, means over series:
    `series=N mape=… smape=… coverage95=… naive_mape=…`. Errors are fractions (0.083 is
    8.3%). MAPE ignores days whose actual value is zero (a percentage of zero is undefined);
    a series whose held-out days are all zero has no MAPE and is left out of that mean.
    sMAPE counts a day where actual and forecast are both zero as no error. coverage95 is
    the share of held-out days inside the 95% interval. naive_mape is the seasonal-naive
    baseline: each held-out day forecast as the same weekday of the last week before them.

    Raises ValueError, naming the file and the fix, when the folder holds no CSV, a header
    is not `date,value`, a value does not parse, or a series is shorter than
    `horizon` + 14 days.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 day, got {horizon}")
    histories = {name: _read(path, horizon) for name, path in _series_files(dataset_dir)}
    trains = {name: daily[:-horizon] for name, daily in histories.items()}
    ends = {name: train["date"][-1] + timedelta(days=horizon) for name, train in trains.items()}
    results = forecast_many(trains, horizon_end=ends, workers=workers)
    scores = []
    for name, result in results.items():
        score = _score(trains[name], histories[name][-horizon:], result)
        echo(f"{name}: method={result.method} " + _format(score))
        scores.append(score)
    means = {k: _mean([s[k] for s in scores]) for k in METRICS}
    line = f"series={len(scores)} " + _format(means)
    echo(line)
    return line


def _series_files(dataset_dir: Path) -> list[tuple[str, Path]]:
    """(name, path) per CSV under the folder; the name is the path without `.csv`."""
    if not dataset_dir.is_dir():
        raise ValueError(f"{dataset_dir}: not a folder; pass a folder of date,value CSV files")
    paths = sorted(dataset_dir.rglob("*.csv"))
    if not paths:
        raise ValueError(
            f"{dataset_dir}: no .csv files here or in sub-folders; "
            "add one CSV per series with the header date,value"
        )
    return [(path.relative_to(dataset_dir).with_suffix("").as_posix(), path) for path in paths]


def _read(path: Path, horizon: int) -> pl.DataFrame:
    """One series as a calendar-complete daily history, checked for what evaluation needs."""
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"{path}: not a readable CSV ({exc}); save it as date,value") from exc
    if not {"date", "value"} <= set(raw.columns):
        found = ",".join(raw.columns) or "nothing"
        raise ValueError(f"{path}: the header is {found}; it must be date,value")
    try:
        frame = raw.select(
            pl.col("date").str.to_datetime().dt.date(), pl.col("value").cast(pl.Float64)
        )
    except pl.exceptions.PolarsError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"{path}: {first}; write ISO dates (YYYY-MM-DD) and numbers") from exc
    try:
        daily = daily_history(frame)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    needed = horizon + DEFAULT_PARAMS.min_weekly_days
    if len(daily) < needed:
        raise ValueError(
            f"{path}: {len(daily)} days is too short to hold out {horizon}; "
            f"give it at least {needed} days or pass a smaller --horizon"
        )
    return daily


def _score(train: pl.DataFrame, test: pl.DataFrame, result: ForecastResult) -> dict[str, float]:
    actual = test["value"].to_numpy()
    frame = result.frame
    yhat = frame["yhat"].to_numpy()
    naive = seasonal_naive(train["value"].to_numpy(), len(actual))
    return {
        "mape": mape(actual, yhat),
        "smape": smape(actual, yhat),
        "coverage95": coverage(actual, frame["lo95"].to_numpy(), frame["hi95"].to_numpy()),
        "naive_mape": mape(actual, naive),
    }


def _mean(values: list[float]) -> float:
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _format(score: dict[str, float]) -> str:
    return " ".join(f"{k}={score[k]:.4f}" for k in METRICS)
