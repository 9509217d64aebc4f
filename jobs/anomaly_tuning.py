"""The triage-feedback side of the anomaly step: people's verdicts in, sensitivity decisions
and per-hour widening out, and the alerts a widened band kept quiet stored and counted.

The rule itself is models/sensitivity.py (a pure function); this module reads its inputs
from the warehouse and writes its outputs back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl

from models import sensitivity
from warehouse.db import insert_frame, sql

# The identity of a series, carried from its verdicts or its history into a decision row.
IDENTITY = ("series_key", "metric", "lob", "model")
QUIET_COLUMNS = ("anomaly_id", "series_key", "metric", "lob", "model", "start_ts", "end_ts",
                 "peak_ts", "expected", "actual", "upper", "lower", "severity", "factor",
                 "detected_at")  # fmt: skip


def history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(sql("models/anomaly_tuning_history")).pl()


def decide(con: duckdb.DuckDBPyConnection, past: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """The decisions to append now (rows of anomaly_series_tuning): series whose verdicts
    give a factor or a reason other than their latest decision's."""
    verdicts = con.sql(sql("models/anomaly_verdicts")).pl()
    learned = sensitivity.learn(verdicts, past, now=now)
    new = sensitivity.decisions(learned, past, now=now)
    if new.is_empty():
        return new
    who = pl.concat([verdicts.select(IDENTITY), past.select(IDENTITY)], how="vertical_relaxed")
    return new.join(who.unique("series_key", keep="last"), on="series_key", how="left")


def widenings(decided: pl.DataFrame, series: list[Any]) -> dict[str, np.ndarray]:
    """Per series ever widened: its factor at each of its hours (only where one differs
    from base; the rest are judged exactly as without feedback)."""
    if decided.is_empty():
        return {}
    ever = set(decided.filter(pl.col("factor") != sensitivity.BASE)["series_key"].to_list())
    out = {}
    for s in series:
        if s.key in ever:
            factors = sensitivity.widening(decided.filter(pl.col("series_key") == s.key), s.ts)
            if (factors != sensitivity.BASE).any():
                out[s.key] = factors
    return out


def quiet_rows(s: Any, quiet: pl.DataFrame, ids: list[str], now: datetime) -> pl.DataFrame:
    """anomaly_suppressed rows for one series' suppressed episodes."""
    return quiet.select(
        anomaly_id=pl.Series(ids, dtype=pl.String), series_key=pl.lit(s.key),
        metric=pl.lit(s.metric), lob=pl.lit(s.lob, pl.String), model=pl.lit(s.model, pl.String),
        start_ts="start", end_ts="end", peak_ts="peak",
        expected=pl.col("expected").fill_nan(None), actual=pl.col("actual").fill_nan(None),
        upper=pl.col("upper").fill_nan(None), lower=pl.col("lower").fill_nan(None),
        severity="label", factor="factor", detected_at=pl.lit(now, pl.Datetime("us")),
    )  # fmt: skip


def write(
    con: duckdb.DuckDBPyConnection, decided: pl.DataFrame, quiet: pl.DataFrame, since: datetime
) -> None:
    """Append the decisions and store the suppressed alerts (inside the step's transaction)."""
    insert_frame(con, "anomaly_series_tuning", decided)
    frame = quiet if not quiet.is_empty() else pl.DataFrame(schema={"anomaly_id": pl.String})
    con.register("_quiet", frame.to_arrow())  # what both SQL files read
    try:
        con.execute(sql("models/anomaly_suppressed_prune"), {"since": since})
        if not quiet.is_empty():
            con.execute(sql("models/anomaly_suppressed_upsert"))
    finally:
        con.unregister("_quiet")
