"""The models run's quota step: read daily peaks and applied quotas, forecast each quota's
runway and backtest it at the first throttled day (models/quota.py), replace both tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import polars as pl

from base.settings import Settings
from base.stats import RunStats
from models import quota as q
from warehouse.db import insert_frame, sql, transaction

HISTORY_DAYS = 120
KIND_COLUMN = {"tpm": "peak_tokens", "rpm": "peak_requests"}
RUNWAY: dict[str, Any] = {
    "account_id": pl.String, "region": pl.String, "model": pl.String, "kind": pl.String,
    "quota": pl.Float64, "quota_source": pl.String, "as_of": pl.Date,
    "peak_last_7d": pl.Float64, "forecast_peak": pl.Float64, "forecast_hi95": pl.Float64,
    "days_until_p95": pl.Int32, "crossing_day": pl.Date, "method": pl.String,
    "note": pl.String, "run_at": pl.Datetime("us"),
}  # fmt: skip
BACKTESTS: dict[str, Any] = {
    "account_id": pl.String, "region": pl.String, "model": pl.String, "throttle_day": pl.Date,
    "cutoff_day": pl.Date, "predicted_day": pl.Date, "days_ahead": pl.Int32,
    "quota": pl.Float64, "run_at": pl.Datetime("us"),
}  # fmt: skip


def _quotas(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cur = con.execute(
        "SELECT account_id, region, model, kind, value, source FROM model_quotas"
    )  # our own table, no parameters
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def run(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime, stats: RunStats) -> int:
    start = (now - timedelta(days=HISTORY_DAYS)).date()
    peaks = con.sql(sql("models/quota_daily_peaks"), params={"start": start}).pl()
    runway, tests = [], []
    for quota in _quotas(con):
        mine = peaks.filter(pl.col("region") == quota["region"], pl.col("model") == quota["model"])
        if quota["account_id"] is not None:
            mine = mine.filter(pl.col("account_id") == quota["account_id"])
        for account, series in mine.partition_by("account_id", as_dict=True).items():
            value = pl.col(KIND_COLUMN[quota["kind"]]).fill_null(0).alias("value")
            history = series.select(pl.col("day").alias("date"), value)
            if history["value"].sum() <= 0:
                continue
            keys = {"account_id": account[0], "region": quota["region"], "model": quota["model"]}
            found = q.runway(history, quota["value"])
            runway.append({**keys, "kind": quota["kind"], "quota": quota["value"],
                           "quota_source": quota["source"], **found, "run_at": now})  # fmt: skip
            daily = series.select(pl.col("day").alias("date"), "throttles", "invocations")
            throttled = q.first_throttled_day(daily)
            if quota["kind"] == "tpm" and throttled is not None:
                test = q.backtest(history, quota["value"], throttled)
                if test is not None:
                    tests.append({**keys, **test, "run_at": now})
    with transaction(con):
        con.execute("DELETE FROM quota_runway")
        con.execute("DELETE FROM quota_backtests")
        insert_frame(con, "quota_runway", pl.DataFrame(runway, schema=RUNWAY))
        insert_frame(con, "quota_backtests", pl.DataFrame(tests, schema=BACKTESTS))
    stats.notes.append(f"quota runway for {len(runway)} quotas, {len(tests)} backtests")
    return len(runway) + len(tests)
