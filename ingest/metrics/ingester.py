"""CloudWatch metrics for Bedrock: Metric Streams objects (Firehose) and GetMetricData.

Both paths stage rows in `metrics_ready` and upsert them in one transaction per batch together
with the quarantine, the loaded objects and the watermark (as invocation logs do), so a crash
loses and duplicates nothing and a re-read replaces what it read before.
"""

from __future__ import annotations

import gzip
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError

from base.clock import utcnow
from base.settings import ApiSource, LandingZone, Settings
from base.stats import Progress, RunStats, report
from ingest.batches import Walk, new_objects, pipelined, run_sources
from ingest.landing import (
    Copied,
    Landing,
    LandingObject,
    copy_batch,
    open_landing,
    start_key,
    time_of,
)
from ingest.metrics import queries as Q
from ingest.window import client_for, start_of
from warehouse.bookkeeping import (
    DATA_ERRORS,
    advance_watermark,
    loaded_objects,
    record_objects,
    replace_quarantine,
    run_script,
    watermark,
)
from warehouse.db import insert_rows, transaction

SOURCE = "metrics"
# Firehose names objects <prefix>YYYY/MM/DD/HH/<stream>-<n>-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]
STREAM_KEY = re.compile(r"(?:^|/)\d{4}/\d{2}/\d{2}/\d{2}/[^/]+$")
Problem = tuple[str, int, str]  # (source object, line, reason)


# --- Metric Streams ------------------------------------------------------------------------


def is_stream_key(key: str) -> bool:
    """Firehose objects sit in YYYY/MM/DD/HH/ folders, often with no file extension."""
    return STREAM_KEY.search(key) is not None


def ingest_zone(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    zone: LandingZone,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> RunStats:
    """Load new Metric Streams objects of one landing zone, in key (= hour) order."""
    landing = open_landing(zone)
    cfg = settings.metrics
    stats = RunStats(zones=[zone.label], unit="data points")
    wm = watermark(con, SOURCE, zone.label)
    start = since or (wm - timedelta(hours=cfg.overlap_hours) if wm else None)

    def keep(key: str) -> bool:  # the zone may hold other prefixes: filter by the hour too
        hour = time_of(key)
        return is_stream_key(key) and (start is None or (hour is not None and hour >= _hour(start)))

    with tempfile.TemporaryDirectory(prefix="genai-lens-") as tmp:
        first = start_key("", start) if start else ""
        loaded = loaded_objects(con, zone.label, "", first)
        walk = Walk(stats, 0, 1, start, until or utcnow())
        batches = new_objects(landing, "", first, loaded=loaded, stats=stats,
                              batch_files=cfg.batch_files, batch_mb=cfg.batch_mb,
                              until=until, keep=keep, walk=walk)  # fmt: skip

        def write(fetched: Fetched) -> None:
            _load_stream_batch(con, zone, fetched, stats)
            report(progress, stats)

        # Batch N+1 is downloaded and inflated on a thread while batch N is parsed and written.
        pipelined(batches, lambda b: _fetch_stream_batch(landing, b, Path(tmp)), write)
    return stats


def _hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


@dataclass
class Fetched:
    """A batch copied and inflated: what loads, and what is already known to be bad."""

    copied: Copied
    files: dict[str, str]  # local plain-text file -> source object
    problems: list[Problem]


def _fetch_stream_batch(landing: Landing, batch: list[LandingObject], scratch: Path) -> Fetched:
    got = copy_batch(landing, batch, scratch)
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for i, obj in enumerate(got.present):
        local = _plain_text(got.local[obj.uri], got.folder / f"plain-{i:06d}.ndjson")
        if local is None:
            problems.append((obj.uri, 0, "unreadable object: gzip stream is corrupt"))
        else:
            files[str(local)] = obj.uri
    return Fetched(got, files, problems)


def _load_stream_batch(
    con: duckdb.DuckDBPyConnection, zone: LandingZone, got: Fetched, stats: RunStats
) -> None:
    stats.missing += got.copied.missing
    problems = got.problems + _parse_stream(con, got.files, got.copied.folder)
    present = got.copied.present

    def bookkeeping() -> None:
        record_objects(con, SOURCE, zone.label, present, "metrics_ready")
        if present:
            advance_watermark(con, SOURCE, zone.label, max(o.hour for o in present))

    loaded = _upsert(con, problems, [o.uri for o in present], bookkeeping)
    stats.add_batch(loaded, len(problems), len(present))
    shutil.rmtree(got.copied.folder, ignore_errors=True)


def _plain_text(path: Path, dest: Path) -> Path | None:
    """The object as uncompressed text: Firehose GZIP objects may carry no .gz extension."""
    with path.open("rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return path
    try:
        with gzip.open(path, "rb") as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out)
    except (OSError, EOFError):
        return None
    return dest


def _parse_stream(
    con: duckdb.DuckDBPyConnection, files: dict[str, str], scratch: Path
) -> list[Problem]:
    """Fill ms_lines/metrics_ready; a file DuckDB cannot read at all is quarantined whole."""
    con.execute("CREATE OR REPLACE TEMP TABLE ms_files (local_file VARCHAR, source_object VARCHAR)")
    insert_rows(con, "ms_files", {"local_file": list(files), "source_object": list(files.values())})
    problems: list[Problem] = []
    repeats = _strict(con, list(files)) if files else None
    if repeats is None:
        good = list(files)
        try:
            run_script(con, "ingest/metrics_stream_parse", {"files": good or [_empty(scratch)]})
        except DATA_ERRORS:
            good = []
            for f in files:
                try:
                    con.execute("SELECT count(*) FROM read_text(?)", [f])
                    good.append(f)
                except DATA_ERRORS as exc:
                    problems.append((files[f], 0, f"unreadable object: {exc}"))
            run_script(con, "ingest/metrics_stream_parse", {"files": good or [_empty(scratch)]})
        repeats = _repeats(con)
    run_script(con, "ingest/metrics_stream_ready", {"repeats": repeats})
    rows = con.execute(
        "SELECT f.source_object, l.line, l.reason FROM ms_lines l JOIN ms_files f "
        "USING (local_file) WHERE l.reason IS NOT NULL ORDER BY ALL"
    ).fetchall()
    return problems + [(r[0], int(r[1]), r[2]) for r in rows]


def _strict(con: duckdb.DuckDBPyConnection, files: list[str]) -> bool | None:
    """Fill ms_lines the fast way, and say whether the batch holds a point twice (in two
    files); None when the batch needs the tolerant read: a line to quarantine, or a point one
    file repeats (the tolerant read numbers the lines, and the later line wins)."""
    try:
        run_script(con, "ingest/metrics_stream_strict", {"files": files})
    except DATA_ERRORS:
        return None
    if not _repeats(con):
        return False
    return None if _repeats(con, "local_file") else True


def _repeats(con: duckdb.DuckDBPyConnection, *within: str) -> bool:
    """Whether ms_lines' loadable lines hold a point twice (`within`: per file, say)."""
    keys = ", ".join((*within, "account_id, region, namespace, metric_name, dimensions, ts"))
    found = con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM ms_lines WHERE reason IS NULL "
        f"GROUP BY {keys} HAVING count(*) > 1)"  # keys: column names written above
    ).fetchone()
    return bool(found and found[0])


def _empty(scratch: Path) -> str:
    path = scratch / "empty.ndjson"
    path.write_text("")
    return str(path)


def _upsert(
    con: duckdb.DuckDBPyConnection,
    problems: list[Problem],
    objects: list[str],
    bookkeeping: Callable[[], None] | None,
) -> int:
    """Upsert metrics_ready and replace the objects' quarantine rows, in one transaction."""
    loaded = con.execute("SELECT count(*) FROM metrics_ready").fetchone()[0]  # type: ignore[index]
    with transaction(con):
        replace_quarantine(con, SOURCE, objects, problems)
        run_script(con, "ingest/metrics_upsert")
        touched = "SELECT DISTINCT date_trunc('hour', ts) FROM metrics_ready ORDER BY 1"
        hours = [r[0] for r in con.execute(touched).fetchall()]
        if hours:  # the hourly rollup pages read, for the hours these points fall in
            run_script(con, "ingest/usage_metrics_hourly_refresh", {"hours": hours})
            run_script(con, "ingest/quota_peaks_metrics_refresh", {"hours": hours})
        if bookkeeping:
            bookkeeping()
    return int(loaded)


# --- GetMetricData -------------------------------------------------------------------------


def pull(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    api: ApiSource,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    client: Any | None = None,
    now: datetime | None = None,
    account_id: str | None = None,
) -> RunStats:
    """Read every configured namespace's series for watermark - overlap .. now."""
    cfg = settings.metrics
    now = now or utcnow()
    stats = RunStats(zones=[api.label], unit="data points")
    cw = client or client_for("cloudwatch", api)
    if account_id is None:
        account_id = "" if client is not None else _account_of(api, stats)
    region = api.region or cw.meta.region_name or ""
    start = start_of(con, SOURCE, api.label, since=since,
                     overlap=timedelta(hours=cfg.overlap_hours),
                     first_run=timedelta(days=cfg.first_run_days), back_from=now)  # fmt: skip
    end = until or now
    series = Q.list_series(cw, cfg.namespaces, api.label)
    stats.objects = len(series)
    plan = [
        (w, chunk)
        for w in Q.windows(start, end, now)
        for chunk in Q.chunks(Q.queries(series, w.period))
    ]
    if not plan:
        with transaction(con):
            advance_watermark(con, SOURCE, api.label, end)
        return stats
    for i, (window, chunk) in enumerate(plan):
        points, incomplete = Q.read(cw, chunk, window, api.label)
        if incomplete:
            stats.notes.append(
                f"{api.label}: {len(incomplete)} queries still incomplete after "
                f"{Q.MAX_REREADS} re-reads for {window.start:%Y-%m-%d %H:%M}; loaded what came"
            )
        _stage_api(con, Q.frame(chunk, points, account_id, region, api.label))

        def bookkeeping(last: bool = i == len(plan) - 1) -> None:
            if last:
                advance_watermark(con, SOURCE, api.label, end)

        stats.records += _upsert(con, [], [], bookkeeping)
        stats.batches += 1
        report(progress, stats)
    return stats


def _account_of(api: ApiSource, stats: RunStats) -> str:
    """The account the API source reads (STS); '' with a note when STS cannot tell."""
    try:
        sts = client_for("sts", api)
        return str(sts.get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as exc:
        stats.notes.append(f"{api.label}: account unknown (sts:GetCallerIdentity: {exc})")
        return ""


def _stage_api(con: duckdb.DuckDBPyConnection, frame: pa.Table) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE metrics_ready AS SELECT * FROM metrics LIMIT 0")
    con.register("metrics_api_frame", frame)
    try:
        con.execute("INSERT INTO metrics_ready BY NAME SELECT * FROM metrics_api_frame")
    finally:
        con.unregister("metrics_api_frame")


# --- Both ----------------------------------------------------------------------------------


def run(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    landing: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> RunStats:
    """Ingest the given Metric Streams landing, or every configured zone and API source."""
    window: dict[str, Any] = {"since": since, "until": until, "progress": progress}
    return run_sources(
        unit="data points", zones=settings.metrics.landing_zones, others=settings.metrics.apis,
        landing=landing,
        none_configured="no metrics source: pass --landing PATH_OR_S3_URI (a Metric Streams "
        "Firehose destination) or add [[metrics.apis]] / [[metrics.landing_zones]] to the config",
        zone_run=lambda zone: ingest_zone(con, settings, zone, **window),
        other_run=lambda api: pull(con, settings, api, **window),
    )  # fmt: skip
