"""The warehouse's bookkeeping tables every ingester shares: watermarks, loaded objects,
quarantine, and multi-statement SQL scripts.

A watermark is the newest point a source/zone has fully covered; it only moves forward, and
only inside the transaction that commits the data it covers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import duckdb

from base.clock import utcnow
from warehouse.db import insert_rows, sql


class StoredObject(Protocol):
    """A landing object as `ingest_objects` records it (ingest.landing.LandingObject)."""

    @property
    def key(self) -> str: ...
    @property
    def uri(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def etag(self) -> str: ...


# What bad data raises; anything else (a binder error, say) is a bug and must surface.
DATA_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


def run_script(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object] | None = None
) -> None:
    """Run a multi-statement SQL file; each statement gets the parameters it names."""
    for stmt in sql(name).split(";\n"):
        if stmt.strip().strip(";").strip() and not _only_comments(stmt):
            code = "\n".join(ln.split("--", 1)[0] for ln in stmt.splitlines())
            used = {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", code)}
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


def loaded_objects(
    con: duckdb.DuckDBPyConnection, zone: str, prefix: str, first: str = ""
) -> dict[str, str]:
    """Keys already loaded under `prefix` from `first` on: the listing starts there, so the
    years of keys before it need not sit in memory on every run."""
    rows = con.execute(
        "SELECT object_key, etag FROM ingest_objects "
        "WHERE zone = ? AND starts_with(object_key, ?) AND object_key >= ?",
        [zone, prefix, first],
    ).fetchall()
    return dict(rows)


def record_objects(
    con: duckdb.DuckDBPyConnection,
    source: str,
    zone: str,
    present: Sequence[StoredObject],
    ready_table: str,
) -> None:
    """Mark objects loaded, with their record and quarantine counts (inside the batch txn).

    `ready_table` is the batch's staged rows, with a source_object column (our own name).
    """
    counts = dict(
        con.execute(f"SELECT source_object, count(*) FROM {ready_table} GROUP BY ALL").fetchall()
    )
    bad = dict(
        con.execute(
            "SELECT source_object, count(*) FROM quarantine WHERE source = ? AND "
            "source_object IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL",
            [source, [o.uri for o in present]],
        ).fetchall()
    )
    insert_rows(
        con,
        "ingest_objects",
        {
            "zone": [zone] * len(present),
            "object_key": [o.key for o in present],
            "size": [o.size for o in present],
            "etag": [o.etag for o in present],
            "records": [counts.get(o.uri, 0) for o in present],
            "quarantined": [bad.get(o.uri, 0) for o in present],
            "loaded_at": [utcnow()] * len(present),
        },
        replace=True,
    )


def replace_quarantine(
    con: duckdb.DuckDBPyConnection,
    source: str,
    objects: list[str],
    problems: list[tuple[Any, ...]],
) -> None:
    """Replace these objects' quarantine rows: (object, line, reason[, request id]) each."""
    con.execute(
        "DELETE FROM quarantine WHERE source = ? AND source_object IN "
        "(SELECT unnest(?::VARCHAR[]))",
        [source, sorted(set(objects))],
    )
    insert_rows(
        con,
        "quarantine",
        {
            "source": [source] * len(problems),
            "source_object": [p[0] for p in problems],
            "line": [p[1] for p in problems],
            "reason": [p[2] for p in problems],
            "request_id": [p[3] if len(p) > 3 else None for p in problems],
        },
        replace=True,
    )
