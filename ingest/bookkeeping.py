"""Bookkeeping every ingester shares: run figures, watermarks, loaded objects, SQL scripts.

A watermark is the newest point a source/zone has fully covered; it only moves forward, and
only inside the transaction that commits the data it covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from genai_lens.warehouse import sql
from ingest.landing import utcnow

Progress = Callable[[str], None]


@dataclass
class RunStats:
    objects: int = 0
    skipped: int = 0
    records: int = 0
    quarantined: int = 0
    batches: int = 0
    missing: int = 0
    zones: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unit: str = "records"

    def summary(self) -> str:
        return (
            f"{self.records:,} {self.unit} loaded from {self.objects:,} objects "
            f"({self.skipped:,} already loaded, {self.missing:,} vanished), "
            f"{self.quarantined:,} quarantined"
        )


def run_script(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object] | None = None
) -> None:
    """Run a multi-statement SQL file; each statement gets the parameters it names."""
    for stmt in sql(name).split(";\n"):
        if stmt.strip().strip(";").strip() and not _only_comments(stmt):
            used = {k: v for k, v in (params or {}).items() if f"${k}" in stmt}
            con.execute(stmt, used) if used else con.execute(stmt)


def _only_comments(stmt: str) -> bool:
    return all(not ln.strip() or ln.strip().startswith("--") for ln in stmt.splitlines())


def watermark(con: duckdb.DuckDBPyConnection, source: str, zone: str) -> datetime | None:
    row = con.execute(
        "SELECT covered_until FROM watermarks WHERE source = ? AND zone = ?", [source, zone]
    ).fetchone()
    return row[0] if row else None


def advance_watermark(
    con: duckdb.DuckDBPyConnection, source: str, zone: str, until: datetime
) -> None:
    """Move forward only; called inside the transaction that committed the data it covers."""
    con.execute(
        """INSERT INTO watermarks VALUES (?, ?, ?, ?)
        ON CONFLICT (source, zone) DO UPDATE SET
            covered_until = greatest(watermarks.covered_until, excluded.covered_until),
            updated_at = excluded.updated_at""",
        [source, zone, until, utcnow()],
    )


def loaded_objects(con: duckdb.DuckDBPyConnection, zone: str, prefix: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT object_key, etag FROM ingest_objects WHERE zone = ? AND starts_with(object_key, ?)",
        [zone, prefix],
    ).fetchall()
    return dict(rows)


def report(progress: Progress | None, stats: RunStats) -> None:
    if progress:
        progress(stats.summary())


def merge(total: RunStats, part: RunStats) -> None:
    for f in ("objects", "skipped", "records", "quarantined", "batches", "missing"):
        setattr(total, f, getattr(total, f) + getattr(part, f))
    total.zones += part.zones
    total.notes += part.notes
