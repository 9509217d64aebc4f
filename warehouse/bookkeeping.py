"""Bookkeeping every ingester shares: run figures, watermarks, loaded objects, SQL scripts.

A watermark is the newest point a source/zone has fully covered; it only moves forward, and
only inside the transaction that commits the data it covers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import duckdb

from base.errors import ConfigError
from base.settings import LandingZone
from ingest.landing import (
    Landing,
    LandingObject,
    service_prefixes,
    start_key,
    utcnow,
    wanted,
)
from warehouse.db import insert_rows, sql

Progress = Callable[[str], None]
BRIEF_UNITS = ("model rows",)
# What bad data raises; anything else (a binder error, say) is a bug and must surface.
DATA_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


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
    # Only jobs that delete set these (retention); an ingest leaves them None, not 0.
    deleted: int | None = None
    bytes_freed: int | None = None

    def add_batch(self, records: int, quarantined: int, objects: int) -> None:
        self.records += records
        self.quarantined += quarantined
        self.objects += objects
        self.batches += 1

    def summary(self) -> str:
        if self.deleted is not None:
            freed = (self.bytes_freed or 0) / 1e6
            return f"{self.deleted:,} rows deleted, {freed:,.1f} MB freed" + "".join(
                f"; {n}" for n in self.notes
            )
        if self.unit in BRIEF_UNITS:  # jobs that read no objects
            return f"{self.records:,} {self.unit}" + "".join(f"; {n}" for n in self.notes)
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


def report(progress: Progress | None, stats: RunStats) -> None:
    if progress:
        progress(stats.summary())


def merge(total: RunStats, part: RunStats) -> None:
    for f in ("objects", "skipped", "records", "quarantined", "batches", "missing"):
        setattr(total, f, getattr(total, f) + getattr(part, f))
    total.zones += part.zones
    total.notes += part.notes


def new_objects(
    landing: Landing,
    prefix: str,
    start_after: str,
    *,
    loaded: dict[str, str],
    stats: RunStats,
    batch_files: int,
    batch_mb: int,
    until: datetime | None = None,
    keep: Callable[[str], bool] = wanted,
) -> Iterator[list[LandingObject]]:
    """Batches of the objects not loaded yet (key + ETag), in key order, listed lazily.

    A batch closes at `batch_files` objects or `batch_mb` megabytes, whichever comes first;
    objects at or after `until` end the listing.
    """
    batch: list[LandingObject] = []
    size = 0
    for obj in landing.objects(prefix, start_after, keep=keep):
        if until is not None and obj.hour >= until:
            break
        if loaded.get(obj.key) == obj.etag:
            stats.skipped += 1
            continue
        batch.append(obj)
        size += obj.size
        if len(batch) >= batch_files or size >= batch_mb * 1_000_000:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def record_objects(
    con: duckdb.DuckDBPyConnection,
    source: str,
    zone: str,
    present: list[LandingObject],
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


def run_sources(
    *,
    unit: str,
    zones: list[LandingZone],
    others: list[Any],
    landing: str | None,
    none_configured: str,
    zone_run: Callable[[LandingZone], RunStats],
    other_run: Callable[[Any], RunStats],
) -> RunStats:
    """Run the named landing zone, or every configured zone and API source, in that order."""
    if landing is not None:
        zones = [z for z in zones if z.uri == landing] or [LandingZone(uri=landing)]
        others = []
    if not zones and not others:
        raise ConfigError(none_configured)
    total = RunStats(unit=unit)
    for zone in zones:
        merge(total, zone_run(zone))
    for other in others:
        merge(total, other_run(other))
    return total


class ZoneLimits(Protocol):
    overlap_hours: int
    batch_files: int
    batch_mb: int


def prefix_batches(
    con: duckdb.DuckDBPyConnection,
    landing: Landing,
    zone: LandingZone,
    *,
    source: str,
    service: str,
    limits: ZoneLimits,
    stats: RunStats,
    since: datetime | None = None,
    until: datetime | None = None,
    hourly: bool = True,
) -> Iterator[tuple[str, list[LandingObject]]]:
    """(watermark zone, batch) for every AWSLogs/…/<service>/<region>/ prefix of a zone.

    Each account/region prefix has its own watermark, since their keys interleave in time;
    listing starts at the watermark less the overlap (or `since`), in key order.
    """
    prefixes = service_prefixes(landing, service)
    if not prefixes:
        stats.notes.append(
            f"landing zone {zone.label} has no AWSLogs/[o-org/]<account>/{service}/<region>/ "
            "folders: is the uri the bucket and prefix AWS delivers to?"
        )
    for prefix in prefixes:
        wm_zone = f"{zone.label}|{prefix}"
        wm = watermark(con, source, wm_zone)
        start = since or (wm - timedelta(hours=limits.overlap_hours) if wm else None)
        first = start_key(prefix, start, hourly=hourly) if start else prefix
        loaded = loaded_objects(con, zone.label, prefix, first)
        for batch in new_objects(landing, prefix, first, loaded=loaded, stats=stats,
                                 batch_files=limits.batch_files, batch_mb=limits.batch_mb,
                                 until=until):  # fmt: skip
            yield wm_zone, batch
