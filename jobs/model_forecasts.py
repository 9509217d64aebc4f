"""The forecasting step of `models run`: daily spend per LOB and in total, forecast to the end
of next quarter with backtests, and where this month and quarter land against the budgets.

Budgets are monthly; a quarter's budget is its three months'.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from base import logs
from base.settings import Settings
from base.stats import RunStats
from jobs.forecast_pool import forecast_many
from models import forecast as fc
from warehouse.db import insert_frame, sql, transaction

log = logs.get("models")
TOTAL = "total"
WORKERS = 2


def series_key(lob: str | None) -> str:
    return TOTAL if lob is None else f"lob:{lob}"


def histories(daily: pl.DataFrame, through: date) -> dict[str, pl.DataFrame]:
    """One calendar-complete (date, value) frame per series, the total first, then each LOB.

    Every series runs to `through` (yesterday): the rollup has no row for a day without
    spend, so a LOB that stopped weeks ago would otherwise end weeks ago, be forecast from
    there as still spending, and have no forecast for this month at all.
    """
    out = {TOTAL: daily.group_by("day").agg(value=pl.col("cost").sum())}
    for (lob,), frame in daily.group_by("lob", maintain_order=True):
        out[series_key(str(lob))] = frame.select("day", value=pl.col("cost"))
    return {k: fc.daily_history(v.rename({"day": "date"}), through) for k, v in out.items()}


def budget_for(settings: Settings, series: str) -> float | None:
    b = settings.budgets
    return b.total if series == TOTAL else b.lobs.get(series.removeprefix("lob:"))


def run(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime, stats: RunStats) -> int:
    daily = con.sql(sql("models/forecast_daily_spend"), params={"today": now.date()}).pl()
    if daily.is_empty():
        stats.notes.append("no spend history yet: no forecast")
        return 0
    today = now.date()
    series = histories(daily, today - timedelta(days=1))
    # From today, not from each series' last day: every series covers the same quarters.
    horizon = fc.end_of_next_quarter(today)
    results = forecast_many(series, horizon_end=horizon, backtest=True, workers=WORKERS)
    rows, tests, lands = [], [], []
    for name, result in results.items():
        rows.append(result.rows(name))
        if result.backtest is not None:
            tests.append(result.backtest.with_columns(series=pl.lit(name)))
        monthly = budget_for(settings, name)
        for period, budget in (("month", monthly), ("quarter", monthly and monthly * 3)):
            # Today, not the last day of history: on the 1st the month to land is the new one.
            if not fc.reaches(result, today, period):  # type: ignore[arg-type]
                stats.notes.append(f"{name}: no {period} landing, the forecast does not reach it")
                continue
            land = fc.landing(series[name], result, today, budget, period=period)  # type: ignore[arg-type]
            lands.append({"series": name, **_finite(vars(land))})
    forecasts = pl.concat(rows, how="diagonal").with_columns(run_at=pl.lit(now))
    backtests = pl.concat(tests, how="diagonal").with_columns(run_at=pl.lit(now)) if tests else None
    landing = pl.DataFrame(lands).with_columns(run_at=pl.lit(now))
    with transaction(con):
        for table in ("forecasts", "forecast_backtests", "forecast_landing"):
            con.execute(f"DELETE FROM {table}")
        insert_frame(con, "forecasts", forecasts)
        if backtests is not None:
            insert_frame(con, "forecast_backtests", _backtest_columns(backtests))
        insert_frame(con, "forecast_landing", landing)
    methods = dict(zip(results, (r.method for r in results.values()), strict=True))
    stats.notes.append(
        f"forecast {len(results)} series "
        f"({sum(m == 'prophet' for m in methods.values())} with Prophet)"
    )
    return forecasts.height + landing.height


def _finite(values: dict[str, object]) -> dict[str, object]:
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in values.items()}  # fmt: skip


def _backtest_columns(frame: pl.DataFrame) -> pl.DataFrame:
    wanted = ["series", "horizon_days", "origins", "mape", "coverage80", "coverage95",
              "naive_mape", "method", "run_at"]  # fmt: skip
    return frame.select([c for c in wanted if c in frame.columns])
