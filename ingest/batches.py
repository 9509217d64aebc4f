"""How every ingester walks a landing zone: the objects not loaded yet, in batches, per
account/region prefix from its watermark, and one run over the configured zones and APIs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import duckdb

from base.clock import utcnow
from base.errors import ConfigError
from base.settings import LandingZone
from base.stats import RunStats, merge
from ingest.landing import Landing, LandingObject, service_prefixes, start_key, wanted
from warehouse.bookkeeping import loaded_objects, watermark


@dataclass
class Walk:
    """How far a run has walked its time window, for the live line's bar and ETA: `parts`
    account/region prefixes (or one zone) walked one after another, this one (`part`, from 0)
    from `start` (None: its first object's hour) to `end` (--until, else now). Keys sort by
    the hour they name, so the hour of the last object listed says how far the walk is. It is
    set when a batch is listed, one batch ahead of the write (pipelined), close enough for an
    ETA over hundreds of batches."""

    stats: RunStats
    part: int
    parts: int
    start: datetime | None
    end: datetime

    def reach(self, batch: list[LandingObject]) -> None:
        if self.start is None:
            self.start = batch[0].hour
        hour = batch[-1].hour
        span = (self.end - self.start).total_seconds()
        within = (hour - self.start).total_seconds() / span if span > 0 else 0.0
        self.stats.done = (self.part + min(max(within, 0.0), 1.0)) / self.parts

    def finish(self) -> None:
        self.stats.done = (self.part + 1) / self.parts


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
    walk: Walk | None = None,
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
            if walk:
                walk.reach(batch)
            yield batch
            batch, size = [], 0
    if batch:
        if walk:
            walk.reach(batch)
        yield batch
    if walk:
        walk.finish()


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
    # Read-only members, so the frozen settings sections satisfy the protocol.
    @property
    def overlap_hours(self) -> int: ...
    @property
    def batch_files(self) -> int: ...
    @property
    def batch_mb(self) -> int: ...


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
    end = until or utcnow()
    for i, prefix in enumerate(prefixes):
        wm_zone = f"{zone.label}|{prefix}"
        wm = watermark(con, source, wm_zone)
        start = since or (wm - timedelta(hours=limits.overlap_hours) if wm else None)
        first = start_key(prefix, start, hourly=hourly) if start else prefix
        loaded = loaded_objects(con, zone.label, prefix, first)
        walk = Walk(stats, i, len(prefixes), start, end)
        for batch in new_objects(landing, prefix, first, loaded=loaded, stats=stats,
                                 batch_files=limits.batch_files, batch_mb=limits.batch_mb,
                                 until=until, walk=walk):  # fmt: skip
            yield wm_zone, batch


B = TypeVar("B")
F = TypeVar("F")


def pipelined(batches: Iterable[B], fetch: Callable[[B], F], write: Callable[[F], None]) -> None:
    """Batch N+1 is fetched (downloaded, parsed) on a thread while batch N is written; batches
    are written, and so committed, in their order. A failed write stops the loop after the
    fetch in flight ends (nothing of it is written)."""
    with ThreadPoolExecutor(1, thread_name_prefix="genai-lens-fetch") as fetcher:
        ahead: Future[F] | None = None
        for batch in batches:
            nxt = fetcher.submit(fetch, batch)
            if ahead is not None:
                write(ahead.result())
            ahead = nxt
        if ahead is not None:
            write(ahead.result())
