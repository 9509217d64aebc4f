"""Retention: raw invocation rows past their age go once the hourly rollup covers them.

Rollups, cost, CloudTrail (the audit trail) and model outputs are kept. `genai-lens vacuum`
runs this on demand; the scheduler runs it daily.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb

from base.clock import utcnow
from base.settings import Settings
from base.stats import RunStats
from warehouse.db import transaction

# Raw rows whose hour has a rollup row may go; an hour without one (a rollup never built,
# say after a crash between the two) keeps its raw rows until a re-ingest rebuilds it. The
# cutoff is a whole hour: an hour's raw rows go together, so any hour that still has raw rows
# has all of them, and rebuilding its rollups (an ingest, `reattribute`) loses nothing.
DELETE_COVERED = """
DELETE FROM invocations
WHERE ts < $cutoff
  AND date_trunc('hour', ts) IN (SELECT DISTINCT hour FROM usage_hourly WHERE hour < $cutoff)
"""
TEXT_TABLES = ("invocation_text",)  # captured prompt text, when capture_text is on


def _used_bytes(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT used_blocks, block_size FROM pragma_database_size()").fetchone()
    return int(row[0]) * int(row[1]) if row else 0


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def vacuum(con: duckdb.DuckDBPyConnection, settings: Settings, **_: Any) -> RunStats:
    """Delete what retention allows and checkpoint; the figures say what was freed."""
    stats = RunStats(unit="rows", deleted=0)
    before = _used_bytes(con)
    now = utcnow()
    cutoff = (now - timedelta(days=settings.retention.invocation_days)).replace(
        minute=0, second=0, microsecond=0
    )
    text_cutoff = now - timedelta(days=settings.retention.text_days)
    with transaction(con):
        (deleted,) = con.execute(DELETE_COVERED, {"cutoff": cutoff}).fetchall()[0]
        stats.deleted = deleted
        for table in TEXT_TABLES:
            if table in _tables(con):
                sql = f"DELETE FROM {table} WHERE ts < $cutoff"
                (n,) = con.execute(sql, {"cutoff": text_cutoff}).fetchall()[0]
                stats.deleted += n
        con.execute("DELETE FROM anomaly_mutes WHERE muted_until < $now", {"now": now})
    con.execute("CHECKPOINT")
    stats.bytes_freed = max(0, before - _used_bytes(con))
    stats.notes.append(
        f"deleted {deleted:,} raw invocations older than {cutoff:%Y-%m-%d %H:00} UTC "
        f"(rollups kept); {stats.bytes_freed / 1e6:,.1f} MB of blocks freed for reuse"
    )
    return stats
