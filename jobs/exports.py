"""Chargeback and FOCUS files without a browser: `genai-lens export` writes the very bytes the
Spend page's downloads offer for the same filters (both call models.focus.render on the frame of
sql/queries/spend_chargeback.sql), to a local path or an S3 URI.

Writes are atomic: a local file is written beside its destination and renamed over it; an S3
object appears whole with its PUT. Re-running with the same filters rewrites the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from base.errors import LensError
from base.settings import Export, Settings
from models import focus
from warehouse.db import sql

SUFFIXES = {"parquet", "csv"}


class ExportError(LensError):
    """An export that cannot be written as asked (bad kind/format pair, unwritable target)."""


@dataclass(frozen=True)
class Written:
    target: str
    rows: int
    billed: float  # sum of the allocated cost written (USD)
    size: int


def chargeback_frame(
    con: duckdb.DuckDBPyConnection, first: date, last: date, lobs: list[str] | None = None
) -> pl.DataFrame:
    """The frame the Spend page's Chargeback panel downloads, for these days and LOBs."""
    params = {
        "first_day": first, "last_day": last, "lobs": list(lobs or []), "models": [],
        "all_lobs": True, "allowed_lobs": [],
    }  # fmt: skip
    return con.sql(sql("queries/spend_chargeback"), params=params).pl()


def target_of(out: str, kind: str, days: tuple[date, date], suffix: str) -> str:
    """`out` itself, or the page's file name inside it when it names a folder or S3 prefix."""
    name = focus.file_name(kind, days, suffix)
    if out.startswith("s3://"):
        return out + name if out.endswith("/") else out
    path = Path(out)
    return str(path / name) if out.endswith("/") or path.is_dir() else str(path)


def write_bytes(target: str, payload: bytes, s3: Any | None = None) -> None:
    """Put `payload` at a local path or an s3://bucket/key, whole or not at all."""
    if target.startswith("s3://"):
        bucket, _, key = target[len("s3://") :].partition("/")
        if not bucket or not key:
            raise ExportError(f"{target}: an S3 target is s3://BUCKET/KEY (or a prefix ending /)")
        if s3 is None:
            from ingest import aws

            s3 = aws.client("s3")
        s3.put_object(Bucket=bucket, Key=key, Body=payload)
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    kind: str,
    first: date,
    last: date,
    out: str,
    *,
    suffix: str = "parquet",
    lobs: list[str] | None = None,
    s3: Any | None = None,
) -> Written:
    """Write one chargeback or FOCUS file for days first..last (inclusive)."""
    if kind == "chargeback" and suffix != "csv":
        raise ExportError("the chargeback file is CSV only: pass --format csv (or export focus)")
    if (kind, suffix) not in focus.FORMATS:
        raise ExportError(f"cannot export {kind} as {suffix}: kinds are chargeback (csv) and "
                          "focus (parquet or csv)")  # fmt: skip
    if last < first:
        raise ExportError(f"--until {last} is before --since {first}")
    frame = chargeback_frame(con, first, last, lobs)
    payload = focus.render(kind, suffix, frame, focus.accounts_of(settings.cost))
    target = target_of(out, kind, (first, last), suffix)
    write_bytes(target, payload, s3)
    billed = float(frame["allocated_cost"].cast(pl.Float64).sum()) if frame.height else 0.0
    return Written(target, frame.height, billed, len(payload))


# --- scheduled exports (settings.exports), run by every `models run` -------------------------


def month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _final(con: duckdb.DuckDBPyConnection, first: date) -> bool:
    """Whether the period's allocated bill is final: it has rows and none is estimated."""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE estimated IS NOT FALSE) FROM cost_allocated "
        "WHERE usage_date BETWEEN ? AND ?",
        [first, month_end(first)],
    ).fetchall()[0]
    return bool(row[0] and not row[1])


def period_target(job: Export, first: date) -> str:
    """<destination>/billing_period=YYYY-MM/genai-lens-<kind>-YYYYMM.<format>."""
    base = job.destination if job.destination.endswith("/") else job.destination + "/"
    return f"{base}billing_period={first:%Y-%m}/genai-lens-{job.kind}-{first:%Y%m}.{job.format}"


def scheduled(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime, s3: Any | None = None
) -> list[Written]:
    """Every configured export's billing periods, each file replaced whole (same bill, same
    bytes: a re-run is harmless). daily: last month and this month to date; month_close:
    last month, once its bill is final."""
    done: list[Written] = []
    this = now.date().replace(day=1)
    last = (this - timedelta(days=1)).replace(day=1)
    accounts = focus.accounts_of(settings.cost)
    for job in settings.exports:
        periods = [last, this] if job.every == "daily" else [last] if _final(con, last) else []
        client = s3
        if client is None and job.destination.startswith("s3://"):
            from ingest import aws

            client = aws.client("s3", region=job.region, role_arn=job.role_arn,
                                endpoint_url=job.endpoint_url)  # fmt: skip
        for first in periods:
            frame = chargeback_frame(con, first, month_end(first), job.lobs)
            if frame.is_empty():
                continue
            payload = focus.render(job.kind, job.format, frame, accounts)
            target = period_target(job, first)
            write_bytes(target, payload, client)
            billed = float(frame["allocated_cost"].cast(pl.Float64).sum())
            done.append(Written(target, frame.height, billed, len(payload)))
    return done
