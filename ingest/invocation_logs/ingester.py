"""Bedrock model invocation logs: S3/local landing zones and CloudWatch Logs groups.

Objects are loaded in batches; each batch lands in one transaction together with its
quarantine rows, the objects it loaded and the watermark, so a crash loses and duplicates
nothing. Parsing is DuckDB's (read_json over the files); Python only orchestrates, and
reads line by line only objects the fast path rejected.

One DuckDB query reads its gzip files on one core, so a batch's files are parsed by a few
reader threads, each on its own cursor of a private in-memory DuckDB (DuckDB releases the
GIL), and the next batch is parsed while the previous one is written. Readers only read
files: every write happens on the caller's connection, inside the batch's transaction.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa

from base.clock import utcnow
from base.errors import ConfigError
from base.settings import LandingZone, LogGroup, Settings
from base.stats import Progress, RunStats, report
from ingest import aws
from ingest.batches import pipelined, prefix_batches, run_sources
from ingest.invocation_logs import attribution, capture, pricing, profiles
from ingest.invocation_logs.salvage import salvage
from ingest.landing import Landing, LandingObject, copy_batch, open_landing
from ingest.reader_pool import ReaderPool, balanced, object_cap, read_sized
from ingest.window import client_for, start_of
from warehouse.bookkeeping import (
    DATA_ERRORS,
    advance_watermark,
    record_objects,
    replace_quarantine,
    run_script,
)
from warehouse.db import insert_rows, sql, transaction

SOURCE = "invocation_logs"
SERVICE = "BedrockModelInvocationLogs"
Problem = tuple[str, int, str, str | None]  # (source object, line, reason, request id)
READERS = max(2, min(4, os.cpu_count() or 2))  # parse queries at once, a core each
MAX_RECORD = 128 << 20  # the longest record line read (a group's read sizes it to its files)


@dataclass(frozen=True)
class BatchFile:
    local: Path
    source_object: str
    line_names: list[str] | None = None  # per-line object names (CloudWatch events)


def prepare(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Per-connection setup: SQL macros, the price catalog and configured profiles."""
    con.execute(sql("ingest/macros"))
    with transaction(con):
        pricing.load_prices(con, settings.prices, settings.price_rules)
        profiles.load_configured(con, settings)


def _parse(
    con: duckdb.DuckDBPyConnection, files: list[Path], md_keys: list[str], first: bool
) -> None:
    """Parse into inv_parsed on this connection (for salvaged and empty files)."""
    verb = "CREATE OR REPLACE TEMP TABLE inv_parsed AS " if first else "INSERT INTO inv_parsed "
    params = {"files": [str(f) for f in files], "md_keys": md_keys,
              "max_object": object_cap(files, MAX_RECORD)}  # fmt: skip
    con.execute(verb + sql("ingest/invocations_parse"), params)


def _select(
    cur: duckdb.DuckDBPyConnection, files: list[BatchFile], md_keys: list[str], cap: int
) -> pa.Table:
    """Parse files whose lines are at most `cap` bytes long."""
    params = {"files": [str(f.local) for f in files], "md_keys": md_keys, "max_object": cap}
    return cur.sql(sql("ingest/invocations_parse"), params=params).to_arrow_table()


Part = tuple[pa.Table | None, list[BatchFile]]  # parsed rows, files no reading could parse


def read_files(cur: duckdb.DuckDBPyConnection, files: list[BatchFile], md_keys: list[str]) -> Part:
    """Parse files in one query, allowing lines as long as the largest file (object_cap); a
    group that fails is split down to the file that broke it, which is read again alone with
    MAX_RECORD (a gzip footer can understate a file's size). A file no read could parse is
    read line by line later (salvage), to name its bad lines."""
    tables, failed = read_sized(
        files, lambda group, cap: _select(cur, group, md_keys, cap), MAX_RECORD, lambda f: f.local
    )
    return (pa.concat_tables(tables) if tables else None), [f for f, _ in failed]


@dataclass
class Reading:
    """A batch being parsed: its files and one future per group of them."""

    files: list[BatchFile]
    parts: list[Future[Part]]


class Readers(ReaderPool):
    """Threads that parse groups of files, each on its own cursor (ingest/reader_pool.py)."""

    def __init__(self, md_keys: list[str], n: int, memory_limit: str) -> None:
        super().__init__(n, memory_limit, "read", setup=sql("ingest/macros"))
        self.md_keys = md_keys

    def start(self, files: list[BatchFile]) -> Reading:
        groups = balanced(files, len(self.cursors), lambda f: f.local)
        return Reading(files, [self.submit(self._read, g) for g in groups if g])

    def _read(self, cur: duckdb.DuckDBPyConnection, files: list[BatchFile]) -> Part:
        return read_files(cur, files, self.md_keys)


class BatchLoader:
    """Loads batches of local NDJSON files into the warehouse, one transaction each."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        settings: Settings,
        scratch: Path,
        bedrock_client: profiles.ClientFactory | None = None,
        readers: int | None = None,
    ) -> None:
        self.con, self.settings, self.scratch = con, settings, scratch
        prepare(con, settings)
        self.md_keys = attribution.metadata_keys(settings.attribution)
        self.bedrock_client = bedrock_client
        self.parsed_files: dict[str, BatchFile] = {}
        self.unread: set[str] = set()  # broken originals, salvaged into files of their own
        self._n = 0
        self.readers = Readers(self.md_keys, readers or READERS, settings.memory_limit)

    def __enter__(self) -> BatchLoader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.readers.close(abandon=kind is not None)

    def read(self, files: list[BatchFile]) -> Reading:
        """Start parsing a batch in the background; `load` it when its turn comes."""
        return self.readers.start(files)

    def parse(self, reading: Reading) -> list[Problem]:
        """Fill inv_parsed; return quarantine entries for what never reached SQL."""
        self.parsed_files = {str(f.local): f for f in reading.files}
        tables: list[pa.Table] = []
        bad: list[BatchFile] = []
        parts, reading.parts = reading.parts, []  # let go of the rows once they are copied
        for part in parts:
            table, failed = part.result()
            bad += failed
            if table is not None:
                tables.append(table)
        self._fill(tables)
        # Files with records to quarantine go line by line too, to name the line.
        flagged = self.con.execute(
            "SELECT DISTINCT local_file FROM inv_parsed WHERE reason IS NOT NULL"
        ).fetchall()
        bad += [self.parsed_files[f] for (f,) in flagged if f in self.parsed_files]
        if bad:
            self.con.execute(
                "DELETE FROM inv_parsed WHERE local_file IN (SELECT unnest(?))",
                [[str(f.local) for f in bad]],
            )
        seen = {
            r[0] for r in self.con.execute("SELECT DISTINCT local_file FROM inv_parsed").fetchall()
        }
        problems: list[Problem] = [
            (f.source_object, 0, "empty object: no records", None)
            for f in reading.files
            if f not in bad and str(f.local) not in seen
        ]
        for f in bad:
            problems += self._salvage(f)
        # Their good lines were salvaged into files of their own: capture reads those, never
        # the broken original (a truncated gzip raises EOFError, which is no ValueError).
        self.unread = {str(f.local) for f in bad}
        return problems

    def _fill(self, tables: list[pa.Table]) -> None:
        if not tables:  # nothing parsed: salvage still needs an inv_parsed to insert into
            empty = self.scratch / "empty.json"
            empty.write_text("")
            _parse(self.con, [empty], self.md_keys, first=True)
            return
        self.con.register("inv_read", pa.concat_tables(tables))
        try:
            self.con.execute("CREATE OR REPLACE TEMP TABLE inv_parsed AS SELECT * FROM inv_read")
        finally:
            self.con.unregister("inv_read")

    def _salvage(self, f: BatchFile) -> list[Problem]:
        self._n += 1
        dest = self.scratch / f"salvage-{self._n:06d}.json"
        result = salvage(f.local, dest)
        names = f.line_names or []
        problems: list[Problem] = [
            (names[n - 1], 1, reason, None)
            if n <= len(names)
            else (f.source_object, n, reason, None)
            for n, reason in result.problems
        ]
        if result.good:
            try:
                _parse(self.con, [dest], self.md_keys, first=False)
                self.parsed_files[str(dest)] = f
            except DATA_ERRORS as exc:
                problems.append((f.source_object, 0, f"unreadable object: {exc}", None))
        elif not result.problems:
            problems.append((f.source_object, 0, "empty object: no records", None))
        return problems

    def load(
        self, reading: Reading, bookkeeping: Callable[[], None] | None = None
    ) -> tuple[int, int]:
        """Parse, resolve and upsert one batch; returns (records loaded, quarantined)."""
        problems = self.parse(reading)
        files = reading.files
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE inv_objects "
            "(local_file VARCHAR, source_object VARCHAR, line_names VARCHAR[])"
        )
        files_ = self.parsed_files
        insert_rows(
            self.con,
            "inv_objects",
            {
                "local_file": list(files_),
                "source_object": [f.source_object for f in files_.values()],
                "line_names": [f.line_names for f in files_.values()],
            },
        )
        problems += self._sql_problems()
        self._resolve()
        loaded, hours = self.con.execute(
            "SELECT count(*), list(DISTINCT date_trunc('hour', ts)) FROM inv_parsed "
            "WHERE reason IS NULL"
        ).fetchone()  # type: ignore[misc]
        with transaction(self.con):
            replace_quarantine(self.con, SOURCE, [f.source_object for f in files], problems)
            run_script(self.con, "ingest/invocations_upsert")
            if hours:  # rebuilt by flush_rollups at the end of the run
                self.con.execute(
                    "INSERT INTO rollup_pending SELECT DISTINCT unnest(?::TIMESTAMP[]) "
                    "ON CONFLICT DO NOTHING",
                    [hours],
                )
            if self.settings.capture_text:  # opt-in: redacted text, in the same transaction
                read = [(Path(p), f.source_object) for p, f in files_.items()
                        if p not in self.unread]  # fmt: skip
                capture.capture(self.con, read)
            if bookkeeping:
                bookkeeping()
        return loaded, len(problems)

    def _sql_problems(self) -> list[Problem]:
        rows = self.con.execute("""
            SELECT coalesce(o.line_names[p.line], o.source_object),
                   CASE WHEN o.line_names IS NULL THEN p.line ELSE 1 END,
                   p.reason, p.request_id
            FROM inv_parsed p JOIN inv_objects o USING (local_file)
            WHERE p.reason IS NOT NULL""").fetchall()
        return [(r[0], int(r[1] or 0), r[2], r[3]) for r in rows]

    def _resolve(self) -> None:
        con = self.con
        arns = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT model_id FROM inv_parsed WHERE reason IS NULL AND model_id LIKE "
                "'arn:%' AND model_id NOT LIKE 'arn:%:foundation-model/%' AND model_id NOT LIKE "
                "'arn:%:inference-profile/%'"
            ).fetchall()
        ]
        if arns:
            profiles.resolve_new(con, arns, self.settings, self.bedrock_client)
            run_script(con, "ingest/usage_metrics_hourly_models", {"arns": arns})
            # Quota peaks add a profile's points to its model: hours rolled up before the
            # profile was named are rebuilt (else they depend on which source ran first).
            found = con.execute(sql("ingest/quota_peaks_profile_hours"), {"arns": arns})
            hours = [r[0] for r in found.fetchall()]
            if hours:
                run_script(con, "ingest/quota_peaks_metrics_refresh", {"hours": hours})
        keys = con.execute(
            "SELECT DISTINCT attr_key, account_id, identity_arn, model_id, "
            "attr_metadata FROM inv_parsed WHERE reason IS NULL"
        ).fetchall()
        frame = attribution.attribution_frame(
            self.settings.attribution, keys, attribution.profile_tags(con)
        )
        con.register("inv_attr_frame", frame)
        con.execute("CREATE OR REPLACE TEMP TABLE inv_attr AS SELECT * FROM inv_attr_frame")
        con.unregister("inv_attr_frame")
        dupes = con.execute(
            "SELECT count(*) - count(DISTINCT request_id) FROM inv_parsed WHERE reason IS NULL"
        ).fetchone()
        if dupes and dupes[0]:
            con.execute(sql("ingest/invocations_dedupe"))
        con.execute(sql("ingest/invocations_policies"))
        run_script(con, "ingest/invocations_resolve")


# The hourly rollups pages read, all rebuilt from invocations for the hours a batch touched.
HOURLY_ROLLUPS = ("usage_hourly", "usage_errors_hourly", "usage_guardrails_hourly",
                  "usage_principals_hourly", "usage_savings_hourly",
                  "quota_peaks_logs")  # fmt: skip


def refresh_hours(con: duckdb.DuckDBPyConnection, hours: list[datetime]) -> None:
    """Rebuild the hourly rollups for these hours from invocations (inside the caller's txn)."""
    for rollup in HOURLY_ROLLUPS:
        run_script(con, f"ingest/{rollup}_refresh", {"hours": hours})


FLUSH_ROWS = 1_000_000  # invocations rebuilt per transaction: a busy day's, not a backfill's


def flush_rollups(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the rollups of every hour batches marked pending, and unmark them.

    Batches only mark the hours they touched (in their own transaction), so an hour a run
    touches from many batches (one per account/region prefix) is rebuilt once. Hours go in
    chunks of about FLUSH_ROWS invocations (each statement has a fixed cost, so a quiet
    estate's 90 days go in one chunk, a busy one's a day or so at a time); each chunk commits
    with its unmarking, so a crash leaves the rest pending for the next run.
    """
    rows = con.execute(sql("ingest/rollup_pending_sizes")).fetchall()
    chunk: list[datetime] = []
    size = 0
    for hour, n in rows:
        if chunk and size + n > FLUSH_ROWS:
            _flush(con, chunk)
            chunk, size = [], 0
        chunk.append(hour)
        size += n
    if chunk:
        _flush(con, chunk)


def _flush(con: duckdb.DuckDBPyConnection, hours: list[datetime]) -> None:
    with transaction(con):
        refresh_hours(con, hours)
        con.execute(
            "DELETE FROM rollup_pending WHERE hour IN (SELECT unnest(?::TIMESTAMP[]))", [hours]
        )


def ingest_zone(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    zone: LandingZone,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> RunStats:
    """Load new objects of one landing zone, per account/region prefix in key order.

    Batch N+1 is fetched and parsed while batch N is written; batches commit in order.
    """
    landing = open_landing(zone)
    stats = RunStats(zones=[zone.label], unit="invocations")
    cfg = settings.invocation_logs
    flush_rollups(con)  # what a crashed run left pending
    with (
        tempfile.TemporaryDirectory(prefix="genai-lens-") as tmp,
        BatchLoader(con, settings, Path(tmp), profiles.client_factory(zone.role_arn)) as loader,
    ):
        batches = prefix_batches(con, landing, zone, source=SOURCE, service=SERVICE, limits=cfg,
                                 stats=stats, since=since, until=until)  # fmt: skip

        def write(fetched: Fetched) -> None:
            _write(loader, zone, fetched, stats)
            report(progress, stats)

        pipelined(batches, lambda b: _fetch(loader, landing, *b, Path(tmp)), write)
    flush_rollups(con)
    return stats


@dataclass
class Fetched:
    """A batch of landing objects: those still there, copied locally and being parsed."""

    wm_zone: str
    present: list[LandingObject]
    missing: int
    folder: Path
    reading: Reading


def _fetch(
    loader: BatchLoader, landing: Landing, wm_zone: str, batch: list[LandingObject], scratch: Path
) -> Fetched:
    got = copy_batch(landing, batch, scratch)
    files = [BatchFile(got.local[o.uri], o.uri) for o in got.present]
    return Fetched(wm_zone, got.present, got.missing, got.folder, loader.read(files))


def _write(loader: BatchLoader, zone: LandingZone, batch: Fetched, stats: RunStats) -> None:
    stats.missing += batch.missing

    def bookkeeping() -> None:
        record_objects(loader.con, SOURCE, zone.label, batch.present, "inv_loaded")
        if batch.present:
            advance_watermark(loader.con, SOURCE, batch.wm_zone, max(o.hour for o in batch.present))

    if batch.reading.files:
        records, quarantined = loader.load(batch.reading, bookkeeping)
        stats.add_batch(records, quarantined, len(batch.reading.files))
    shutil.rmtree(batch.folder, ignore_errors=True)


def ingest_log_group(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    group: LogGroup,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    logs_client: Any | None = None,
    events_per_batch: int = 20_000,
    page_size: int | None = None,
) -> RunStats:
    """Read FilterLogEvents pages for a time window and load them like landing objects."""
    stats = RunStats(zones=[group.label], unit="invocations")
    cfg = settings.invocation_logs
    start = start_of(con, SOURCE, group.label, since=since,
                     overlap=timedelta(hours=cfg.overlap_hours),
                     first_run=timedelta(days=cfg.first_run_days), back_from=utcnow())  # fmt: skip
    end = until or utcnow()
    client = logs_client or client_for("logs", group)
    pages = client.get_paginator("filter_log_events").paginate(
        logGroupName=group.name,
        startTime=_ms(start),
        endTime=_ms(end),
        PaginationConfig={"PageSize": page_size} if page_size else {},
    )
    flush_rollups(con)  # what a crashed run left pending
    with (
        tempfile.TemporaryDirectory(prefix="genai-lens-") as tmp,
        BatchLoader(con, settings, Path(tmp), profiles.client_factory(group.role_arn)) as loader,
    ):
        lines: list[str] = []
        names: list[str] = []
        for page in aws.pages(pages, f"log group {group.name}", "logs:FilterLogEvents"):
            for ev in page.get("events", []):
                lines.append(ev["message"].replace("\n", " "))
                names.append(f"{group.label}/{ev.get('logStreamName', '')}/{ev['eventId']}")
            if len(lines) >= events_per_batch:
                _load_events(loader, group, lines, names, Path(tmp), stats, None)
                report(progress, stats)
                lines, names = [], []
        _load_events(loader, group, lines, names, Path(tmp), stats, end)
        report(progress, stats)
    flush_rollups(con)
    return stats


def _load_events(
    loader: BatchLoader,
    group: LogGroup,
    lines: list[str],
    names: list[str],
    scratch: Path,
    stats: RunStats,
    end: datetime | None,
) -> None:
    def bookkeeping() -> None:
        if end is not None:
            advance_watermark(loader.con, SOURCE, group.label, end)

    if not lines:
        if end is not None:
            with transaction(loader.con):
                bookkeeping()
        return
    path = scratch / f"events-{stats.batches:06d}.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records, quarantined = loader.load(
        loader.read([BatchFile(path, group.label, names)]), bookkeeping
    )
    stats.add_batch(records, quarantined, len(lines))
    path.unlink()


def _ms(t: datetime) -> int:
    return int((t - datetime(1970, 1, 1)).total_seconds() * 1000)


def run(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    landing: str | None = None,
    log_group: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> RunStats:
    """Ingest the named source, or every configured one."""
    cfg = settings.invocation_logs
    zones, groups = cfg.landing_zones, cfg.log_groups
    if log_group is not None:
        if landing is not None:
            raise ConfigError("pass --landing or --log-group, not both: run them one at a time")
        groups = [g for g in groups if g.name == log_group] or [LogGroup(name=log_group)]
        zones = []
    window: dict[str, Any] = {"since": since, "until": until, "progress": progress}
    return run_sources(
        unit="invocations", zones=zones, others=groups, landing=landing,
        none_configured="no invocation log source: pass --landing PATH_OR_S3_URI or "
        "--log-group NAME, or add [[invocation_logs.landing_zones]] / "
        "[[invocation_logs.log_groups]] to the config",
        zone_run=lambda zone: ingest_zone(con, settings, zone, **window),
        other_run=lambda group: ingest_log_group(con, settings, group, **window),
    )  # fmt: skip
