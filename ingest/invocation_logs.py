"""Bedrock model invocation logs: S3/local landing zones and CloudWatch Logs groups.

Objects are loaded in batches; each batch lands in one transaction together with its
quarantine rows, the objects it loaded and the watermark, so a crash loses and duplicates
nothing. Parsing is DuckDB's (read_json over the files); Python only orchestrates, and
reads line by line only objects the fast path rejected.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from genai_lens.errors import ConfigError
from genai_lens.settings import LandingZone, LogGroup, Settings
from genai_lens.warehouse import insert_rows, sql, transaction
from ingest import attribution, aws, pricing, profiles
from ingest.bookkeeping import (
    DATA_ERRORS,
    Progress,
    RunStats,
    advance_watermark,
    prefix_batches,
    record_objects,
    replace_quarantine,
    report,
    run_script,
    run_sources,
    watermark,
)
from ingest.landing import LandingObject, open_landing, utcnow
from ingest.salvage import salvage

SOURCE = "invocation_logs"
SERVICE = "BedrockModelInvocationLogs"
Problem = tuple[str, int, str, str | None]  # (source object, line, reason, request id)


@dataclass(frozen=True)
class BatchFile:
    local: Path
    source_object: str
    line_names: list[str] | None = None  # per-line object names (CloudWatch events)


def prepare(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Per-connection setup: SQL macros, the price catalog and configured profiles."""
    con.execute(sql("ingest/macros"))
    with transaction(con):
        pricing.load_prices(con, settings.prices)
        profiles.load_configured(con, settings)


def _parse(
    con: duckdb.DuckDBPyConnection, files: list[Path], md_keys: list[str], first: bool
) -> None:
    select = sql("ingest/invocations_parse")
    verb = "CREATE OR REPLACE TEMP TABLE inv_parsed AS " if first else "INSERT INTO inv_parsed "
    con.execute(verb + select, {"files": [str(f) for f in files], "md_keys": md_keys})


class BatchLoader:
    """Loads batches of local NDJSON files into the warehouse, one transaction each."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        settings: Settings,
        scratch: Path,
        bedrock_client: profiles.ClientFactory | None = None,
    ) -> None:
        self.con, self.settings, self.scratch = con, settings, scratch
        prepare(con, settings)
        self.md_keys = attribution.metadata_keys(settings.attribution)
        self.bedrock_client = bedrock_client
        self.parsed_files: dict[str, BatchFile] = {}
        self._n = 0

    def parse(self, files: list[BatchFile]) -> list[Problem]:
        """Fill inv_parsed; return quarantine entries for what never reached SQL."""
        self.con.execute("DROP TABLE IF EXISTS inv_parsed")
        self.parsed_files = {str(f.local): f for f in files}
        try:
            _parse(self.con, [f.local for f in files], self.md_keys, first=True)
            bad: list[BatchFile] = []
        except DATA_ERRORS:
            bad = self._parse_one_by_one(files)
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
            for f in files
            if f not in bad and str(f.local) not in seen
        ]
        for f in bad:
            problems += self._salvage(f)
        return problems

    def _parse_one_by_one(self, files: list[BatchFile]) -> list[BatchFile]:
        bad, first = [], True
        for f in files:
            try:
                _parse(self.con, [f.local], self.md_keys, first=first)
                first = False
            except DATA_ERRORS:
                bad.append(f)
        if first:  # every file failed: salvage still needs an inv_parsed to insert into
            empty = self.scratch / "empty.json"
            empty.write_text("")
            _parse(self.con, [empty], self.md_keys, first=True)
        return bad

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
        self, files: list[BatchFile], bookkeeping: Callable[[], None] | None = None
    ) -> tuple[int, int]:
        """Parse, resolve and upsert one batch; returns (records loaded, quarantined)."""
        problems = self.parse(files)
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
        loaded = self.con.execute("SELECT count(*) FROM inv_ready").fetchone()[0]  # type: ignore[index]
        hours = [
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT date_trunc('hour', ts) FROM inv_ready"
            ).fetchall()
        ]
        with transaction(self.con):
            replace_quarantine(self.con, SOURCE, [f.source_object for f in files], problems)
            run_script(self.con, "ingest/invocations_upsert")
            if hours:
                refresh_hours(self.con, hours)
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
        con.execute(sql("ingest/invocations_resolve"))


def refresh_hours(con: duckdb.DuckDBPyConnection, hours: list[datetime]) -> None:
    """Rebuild usage_hourly for these hours from invocations (inside the caller's txn)."""
    run_script(con, "ingest/usage_hourly_refresh", {"hours": hours})


def ingest_zone(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    zone: LandingZone,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> RunStats:
    """Load new objects of one landing zone, per account/region prefix in key order."""
    landing = open_landing(zone)
    stats = RunStats(zones=[zone.label], unit="invocations")
    cfg = settings.invocation_logs
    with tempfile.TemporaryDirectory(prefix="genai-lens-") as tmp:
        loader = BatchLoader(con, settings, Path(tmp), profiles.client_factory(zone.role_arn))
        batches = prefix_batches(con, landing, zone, source=SOURCE, service=SERVICE, limits=cfg,
                                 stats=stats, since=since, until=until)  # fmt: skip
        for wm_zone, batch in batches:
            _load_objects(loader, landing, zone, wm_zone, batch, Path(tmp), stats)
            report(progress, stats)
    return stats


def _load_objects(
    loader: BatchLoader,
    landing: object,
    zone: LandingZone,
    wm_zone: str,
    batch: list[LandingObject],
    scratch: Path,
    stats: RunStats,
) -> None:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    fetched = landing.fetch(batch, folder)  # type: ignore[attr-defined]
    present = [o for o in batch if o.uri in fetched]
    stats.missing += len(batch) - len(present)
    files = [BatchFile(fetched[o.uri], o.uri) for o in present]

    def bookkeeping() -> None:
        record_objects(loader.con, SOURCE, zone.label, present, "inv_ready")
        if present:
            advance_watermark(loader.con, SOURCE, wm_zone, max(o.hour for o in present))

    if files:
        records, quarantined = loader.load(files, bookkeeping)
        stats.add_batch(records, quarantined, len(files))
    shutil.rmtree(folder, ignore_errors=True)


def ingest_log_group(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    group: LogGroup,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    logs_client: object | None = None,
    events_per_batch: int = 20_000,
    page_size: int | None = None,
) -> RunStats:
    """Read FilterLogEvents pages for a time window and load them like landing objects."""
    stats = RunStats(zones=[group.label], unit="invocations")
    wm = watermark(con, SOURCE, group.label)
    overlap = timedelta(hours=settings.invocation_logs.overlap_hours)
    start = since or (
        wm - overlap if wm else utcnow() - timedelta(days=settings.invocation_logs.first_run_days)
    )
    end = until or utcnow()
    client = logs_client or aws.client(
        "logs", region=group.region, role_arn=group.role_arn, endpoint_url=group.endpoint_url
    )
    pages = client.get_paginator("filter_log_events").paginate(  # type: ignore[attr-defined]
        logGroupName=group.name,
        startTime=_ms(start),
        endTime=_ms(end),
        PaginationConfig={"PageSize": page_size} if page_size else {},
    )
    with tempfile.TemporaryDirectory(prefix="genai-lens-") as tmp:
        loader = BatchLoader(con, settings, Path(tmp), profiles.client_factory(group.role_arn))
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
    records, quarantined = loader.load([BatchFile(path, group.label, names)], bookkeeping)
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
    window = {"since": since, "until": until, "progress": progress}
    return run_sources(
        unit="invocations", zones=zones, others=groups, landing=landing,
        none_configured="no invocation log source: pass --landing PATH_OR_S3_URI or "
        "--log-group NAME, or add [[invocation_logs.landing_zones]] / "
        "[[invocation_logs.log_groups]] to the config",
        zone_run=lambda zone: ingest_zone(con, settings, zone, **window),
        other_run=lambda group: ingest_log_group(con, settings, group, **window),
    )  # fmt: skip
