"""CloudTrail events of the configured event sources: trail files and the LookupEvents API.

Trail files (daily folders, `{"Records":[…]}` per gzip object) load like invocation logs: in
batches, each batch in one transaction with its quarantine rows, the objects it loaded and the
watermark. LookupEvents pages are written to a scratch trail file and parsed by the same SQL.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeGuard

import duckdb
import pyarrow as pa
from botocore.exceptions import ClientError, NoCredentialsError

from base.clock import utcnow
from base.errors import CredentialsError, SourceError
from base.settings import ApiSource, LandingZone, Settings
from base.stats import Progress, RunStats, report
from ingest import aws
from ingest.batches import pipelined, prefix_batches, run_sources
from ingest.cloudtrail.readers import Part, TrailReaders
from ingest.landing import Landing, LandingObject, copy_batch, open_landing
from ingest.reader_pool import SMALLEST_CAP
from ingest.window import client_for, start_of
from warehouse.bookkeeping import (
    advance_watermark,
    record_objects,
    replace_quarantine,
    run_script,
)
from warehouse.db import insert_rows, sql, transaction

SOURCE = "cloudtrail"
SERVICE = "CloudTrail"
LOOKUP_EVENTS_PER_BATCH = 5_000
Problem = tuple[str, int, str]  # (source object, record index or 0, reason)


@dataclass(frozen=True)
class TrailFile:
    local: Path
    source_object: str
    record_names: list[str] | None = None  # per-record object names (LookupEvents)


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class TokenBucket:
    """At most `rate` requests a second on average, bursts of `capacity`; acquire() waits."""

    def __init__(self, rate: float, capacity: float = 1.0, clock: Clock | None = None) -> None:
        self.rate, self.capacity = rate, capacity
        self.clock: Clock = clock or time  # the time module has monotonic() and sleep()
        self.tokens = capacity
        self.last = self.clock.monotonic()

    def acquire(self) -> None:
        now = self.clock.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            self.clock.sleep((1 - self.tokens) / self.rate)
            self.last = self.clock.monotonic()
            self.tokens = 1.0
        self.tokens -= 1

    def on_request(self, **_: Any) -> None:
        """botocore event handler: take a token before each request is built."""
        self.acquire()


class TrailLoader:
    """Loads batches of local trail files into cloudtrail_events, one transaction each.

    Files are parsed by TrailReaders (every core, off the warehouse); the rows are copied into
    ct_parsed on the warehouse connection, where the batch is written."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, scratch: Path) -> None:
        self.con, self.scratch = con, scratch
        self.sources = list(settings.cloudtrail.event_sources)
        self.keep_calls = settings.cloudtrail.invocation_events == "keep"
        self.readers = TrailReaders(self.sources, settings.memory_limit)

    def __enter__(self) -> TrailLoader:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.readers.close(abandon=kind is not None)

    def read(self, files: list[TrailFile]) -> list[Future[Part]]:
        """Start parsing a batch in the background; pass the result to `load`."""
        return self.readers.start([f.local for f in files])

    def parse(
        self, files: list[TrailFile], parts: list[Future[Part]] | None = None
    ) -> list[Problem]:
        """Fill ct_parsed; return quarantine entries for files DuckDB could not read."""
        empty = self.scratch / "empty.json"
        empty.write_text('{"Records":[]}')
        self.con.execute(  # the table's shape, whatever follows fails
            "CREATE OR REPLACE TEMP TABLE ct_parsed AS " + sql("ingest/cloudtrail_parse"),
            {"files": [str(empty)], "sources": self.sources, "max_object": SMALLEST_CAP},
        )
        by_path = {f.local: f for f in files}
        problems: list[Problem] = []
        for part in parts if parts is not None else self.read(files):
            got = part.result()
            if got.table is not None:
                self._fill(got.table)
            problems += [(by_path[p].source_object, 0, diagnose(p, exc)) for p, exc in got.failed]
        return problems

    def _fill(self, table: pa.Table) -> None:
        self.con.register("ct_read", table)
        try:
            self.con.execute("INSERT INTO ct_parsed BY NAME SELECT * FROM ct_read")
        finally:
            self.con.unregister("ct_read")

    def load(
        self,
        files: list[TrailFile],
        bookkeeping: Callable[[], None] | None = None,
        problems: list[Problem] | None = None,
        parts: list[Future[Part]] | None = None,
    ) -> tuple[int, int]:
        """Parse (or take what `read` parsed), dedupe and upsert one batch (plus problems
        found earlier); returns (events loaded, quarantined)."""
        problems = (problems or []) + self.parse(files, parts)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE ct_objects "
            "(local_file VARCHAR, source_object VARCHAR, record_names VARCHAR[])"
        )
        insert_rows(
            self.con,
            "ct_objects",
            {
                "local_file": [str(f.local) for f in files],
                "source_object": [f.source_object for f in files],
                "record_names": [f.record_names for f in files],
            },
        )
        problems += self._sql_problems()
        self.con.execute(sql("ingest/cloudtrail_ready"))
        loaded = self.con.execute("SELECT count(*) FROM ct_ready").fetchone()[0]  # type: ignore[index]
        names = {f.source_object for f in files} | {p[0] for p in problems}
        for f in files:
            names.update(f.record_names or [])
        with transaction(self.con):
            replace_quarantine(self.con, SOURCE, sorted(names), problems)
            run_script(self.con, "ingest/cloudtrail_upsert",
                       {"keep_calls": self.keep_calls, "objects": sorted(names)})  # fmt: skip
            # the audit-trail rollup of the batch's time range (changes, not model calls)
            since, until = self.con.execute(
                "SELECT min(event_time), max(event_time) + INTERVAL 1 MICROSECOND FROM ct_ready"
            ).fetchone()  # type: ignore[misc]
            if since is not None:
                run_script(self.con, "ingest/usage_changes_refresh",
                           {"since": since, "until": until})  # fmt: skip
            if bookkeeping:
                bookkeeping()
        return loaded, len(problems)

    def _sql_problems(self) -> list[Problem]:
        rows = self.con.execute("""
            SELECT coalesce(o.record_names[p.idx], o.source_object),
                   CASE WHEN o.record_names IS NULL THEN p.idx ELSE 0 END, p.reason
            FROM ct_parsed p JOIN ct_objects o USING (local_file)
            WHERE p.reason IS NOT NULL""").fetchall()
        return [(r[0], int(r[1]), r[2]) for r in rows]


def diagnose(path: Path, exc: Exception) -> str:
    """Why a trail file is unreadable, in words (DuckDB's message names scratch paths)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            data = raw.read()
    except (EOFError, OSError, zlib.error) as err:
        return f"gzip stream is truncated or corrupt ({err})"
    try:
        json.loads(data)
    except UnicodeDecodeError:
        return "file is not UTF-8"
    except json.JSONDecodeError as err:
        return f"not JSON: {err.msg} at line {err.lineno} column {err.colno}"
    return f"unreadable trail file: {str(exc).splitlines()[0]}"


def ingest_zone(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    zone: LandingZone,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> RunStats:
    """Load new trail files of one landing zone, per account/region prefix in key order."""
    landing = open_landing(zone)
    stats = RunStats(zones=[zone.label], unit="events")
    cfg = settings.cloudtrail
    with (
        tempfile.TemporaryDirectory(prefix="genai-lens-") as tmp,
        TrailLoader(con, settings, Path(tmp)) as loader,
    ):
        batches = prefix_batches(con, landing, zone, source=SOURCE, service=SERVICE, limits=cfg,
                                 stats=stats, since=since, until=until, hourly=False)  # fmt: skip

        def write(fetched: Fetched) -> None:
            _write(loader, zone, fetched, stats)
            report(progress, stats)

        pipelined(batches, lambda b: _fetch(loader, landing, *b), write)
    return stats


@dataclass
class Fetched:
    """A batch of trail objects: those still there, copied locally and being parsed."""

    wm_zone: str
    present: list[LandingObject]
    missing: int
    folder: Path
    files: list[TrailFile]
    parts: list[Future[Part]]


def _fetch(
    loader: TrailLoader, landing: Landing, wm_zone: str, batch: list[LandingObject]
) -> Fetched:
    got = copy_batch(landing, batch, loader.scratch)
    files = [TrailFile(got.local[o.uri], o.uri) for o in got.present]
    return Fetched(wm_zone, got.present, got.missing, got.folder, files, loader.read(files))


def _write(loader: TrailLoader, zone: LandingZone, batch: Fetched, stats: RunStats) -> None:
    stats.missing += batch.missing
    con, present = loader.con, batch.present

    def bookkeeping() -> None:
        record_objects(con, SOURCE, zone.label, present, "ct_ready")
        advance_watermark(con, SOURCE, batch.wm_zone, max(o.hour for o in present))

    if present:
        records, quarantined = loader.load(batch.files, bookkeeping, parts=batch.parts)
        stats.add_batch(records, quarantined, len(batch.files))
    shutil.rmtree(batch.folder, ignore_errors=True)


def lookup(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    api: ApiSource,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    client: Any | None = None,
    clock: Clock | None = None,
) -> RunStats:
    """Read LookupEvents for each configured event source over [watermark - overlap, now)."""
    cfg = settings.cloudtrail
    label = f"lookup://{api.label}"
    stats = RunStats(zones=[label], unit="events")
    end = until or utcnow()
    start = start_of(con, SOURCE, label, since=since, overlap=timedelta(hours=cfg.overlap_hours),
                     first_run=timedelta(days=cfg.first_run_days), back_from=end)  # fmt: skip
    client = client or client_for("cloudtrail", api)
    # One bucket per account/region: CloudTrail's LookupEvents quota is per account and region.
    # It takes a token as each request is built (a hook, so the paginator's last, empty
    # next() costs nothing); adaptive retry paces any retries on top of that.
    bucket = TokenBucket(cfg.requests_per_second, capacity=1, clock=clock)
    hook, uid = "provide-client-params.cloudtrail.LookupEvents", f"genai-lens-{id(bucket)}"
    client.meta.events.register(hook, bucket.on_request, unique_id=uid)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="genai-lens-") as tmp,
            TrailLoader(con, settings, Path(tmp)) as loader,
        ):
            events: list[tuple[str, str]] = []  # (record name, CloudTrailEvent JSON)
            bad: list[Problem] = []
            for src in cfg.event_sources:
                for ev in _events(client, api, src, start, end):
                    name = f"{label}/{ev.get('EventId', '?')}"
                    raw = ev.get("CloudTrailEvent")
                    if _is_json_object(raw):
                        events.append((name, raw))
                    else:
                        bad.append((name, 0, "CloudTrailEvent is not a JSON object"))
                    if len(events) >= LOOKUP_EVENTS_PER_BATCH:
                        _load_events(loader, label, events, bad, stats, None)
                        report(progress, stats)
                        events, bad = [], []
            _load_events(loader, label, events, bad, stats, end)
            report(progress, stats)
    finally:
        client.meta.events.unregister(hook, unique_id=uid)
    return stats


def _events(
    client: Any, api: ApiSource, src: str, start: datetime, end: datetime
) -> Iterator[dict[str, Any]]:
    pages = iter(
        client.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": src}],
            StartTime=start,
            EndTime=end,
        )
    )
    what = f"CloudTrail LookupEvents in {api.label}"
    while True:
        try:
            page = next(pages, None)
        except NoCredentialsError as exc:
            raise CredentialsError(aws.no_credentials(what)) from exc
        except ClientError as exc:
            if aws.error_code(exc) in {"ThrottlingException", "Throttling"}:
                raise SourceError(
                    f"{what} is still throttled after botocore's retries; lower "
                    "cloudtrail.requests_per_second or run fewer lookups at once"
                ) from exc
            raise aws.access_error(exc, what, "cloudtrail:LookupEvents") from exc
        if page is None:
            return
        yield from page.get("Events", [])


def _is_json_object(raw: object) -> TypeGuard[str]:
    if not isinstance(raw, str):
        return False
    try:
        return isinstance(json.loads(raw), dict)
    except json.JSONDecodeError:
        return False


def _load_events(
    loader: TrailLoader,
    label: str,
    events: list[tuple[str, str]],
    bad: list[Problem],
    stats: RunStats,
    end: datetime | None,
) -> None:
    """Write events as one scratch trail file and load it; the last batch moves the watermark."""
    path = loader.scratch / f"lookup-{stats.batches:06d}.json"
    path.write_text('{"Records":[' + ",".join(raw for _, raw in events) + "]}", encoding="utf-8")

    def bookkeeping() -> None:
        if end is not None:
            advance_watermark(loader.con, SOURCE, label, end)

    records, quarantined = loader.load(
        [TrailFile(path, label, [name for name, _ in events])], bookkeeping, bad
    )
    stats.add_batch(records, quarantined, len(events) + len(bad))
    path.unlink()


def run(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    landing: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> RunStats:
    """Ingest the named landing zone, or every configured landing zone and lookup."""
    window: dict[str, Any] = {"since": since, "until": until, "progress": progress}
    return run_sources(
        unit="events", zones=settings.cloudtrail.landing_zones,
        others=settings.cloudtrail.lookups, landing=landing,
        none_configured="no CloudTrail source: pass --landing PATH_OR_S3_URI, or add "
        "[[cloudtrail.landing_zones]] or [[cloudtrail.lookups]] to the config",
        zone_run=lambda zone: ingest_zone(con, settings, zone, **window),
        other_run=lambda api: lookup(con, settings, api, **window),
    )  # fmt: skip
