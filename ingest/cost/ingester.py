"""Amazon Bedrock spend from the bill: Cost Explorer (API) and CUR 2.0 / FOCUS exports (files).

Every path stages bill lines in `cost_rows`, classifies each distinct (service, usage type,
product code) with ingest.cost.usage_types, keeps the Bedrock ones at the cost_daily grain
(`cost_ready`) and replaces what it re-read in one transaction with the bookkeeping: a
restated Cost Explorer day, or a re-delivered export billing period, replaces its rows.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from base.clock import utcnow
from base.errors import SourceError
from base.settings import ApiSource, LandingZone, Settings
from base.stats import Progress, RunStats, report
from ingest.batches import run_sources
from ingest.cost import explorer as CE
from ingest.cost import exports as X
from ingest.cost.kinds import usage_kind
from ingest.cost.tiers import cache_ttl, service_tier
from ingest.cost.usage_types import classify
from ingest.landing import Landing, LandingObject, open_landing
from ingest.window import client_for, start_of
from warehouse.bookkeeping import (
    advance_watermark,
    loaded_objects,
    record_objects,
    replace_quarantine,
    run_script,
)
from warehouse.db import insert_rows, transaction

SOURCE = "cost"
UNIT = "cost rows"


# --- shared --------------------------------------------------------------------------------


def _classify_staged(con: duckdb.DuckDBPyConnection) -> int:
    """Fill cost_classes for the staged lines and build cost_ready; its row count."""
    keys = con.execute(
        "SELECT DISTINCT service, usage_type, product_code FROM cost_rows"
    ).fetchall()
    classes = [(k, classify(*k)) for k in keys]
    insert_rows(
        con,
        "cost_classes",
        {
            "service": [k[0] for k, _ in classes],
            "usage_type": [k[1] for k, _ in classes],
            "product_code": [k[2] for k, _ in classes],
            "bedrock": [c.bedrock for _, c in classes],
            "model": [c.model for _, c in classes],
            "token_kind": [c.token_kind for _, c in classes],
            "pricing_scope": [c.pricing_scope for _, c in classes],
            "region": [c.region for _, c in classes],
            "usage_kind": [usage_kind(k[0], k[1]) for k, _ in classes],
            "service_tier": [service_tier(k[1]) for k, _ in classes],
            "cache_ttl": [cache_ttl(k[1], c.token_kind) for k, c in classes],
        },
    )
    run_script(con, "ingest/cost_ready")
    return int(con.execute("SELECT count(*) FROM cost_ready").fetchone()[0])  # type: ignore[index]


# --- Cost Explorer -------------------------------------------------------------------------


def pull(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    api: ApiSource,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    client: Any | None = None,
    today: date | None = None,
) -> RunStats:
    """Re-pull watermark - restatement_days .. today (exclusive) and replace those days."""
    cfg = settings.cost
    today = today or utcnow().date()
    stats = RunStats(zones=[api.label], unit=UNIT)
    ce = client or client_for("ce", api, region=api.region or "us-east-1")
    # Whole days: the restatement window re-pulls days the bill may still change.
    start = start_of(con, SOURCE, api.label, since=since,
                     overlap=timedelta(days=cfg.restatement_days),
                     first_run=timedelta(days=cfg.first_run_days),
                     back_from=datetime.combine(today, datetime.min.time())).date()  # fmt: skip
    end = min(until.date(), today) if until else today
    requests = CE.Requests()
    run_script(con, "ingest/cost_stage")
    services: list[str] = []
    if start < end:
        services = _stage_ce(con, ce, api.label, start, end, cfg.tag_keys, requests)
    forecast: list[CE.Row] = []
    if cfg.forecast and _forecast_made(con, api.label, today):
        stats.notes.append(f"{api.label}: today's Cost Explorer forecast is already stored")
    elif cfg.forecast:
        forecast = _forecast(ce, services, today, requests, stats)
    stats.records = _classify_staged(con)
    with transaction(con):
        params = {"label": api.label, "start": start, "end": end}
        run_script(con, "ingest/cost_ce_replace", params)
        if forecast:
            _store_forecast(con, api.label, forecast, today)
        advance_watermark(con, SOURCE, api.label, datetime.combine(end, datetime.min.time()))
    stats.objects, stats.batches = requests.count, 1
    stats.notes.append(
        f"{api.label}: {requests.count} Cost Explorer requests (billed per request) for "
        f"{start}..{end}"
    )
    report(progress, stats)
    return stats


def _stage_ce(
    con: duckdb.DuckDBPyConnection,
    ce: Any,
    label: str,
    start: date,
    end: date,
    tag_keys: list[str],
    requests: CE.Requests,
) -> list[str]:
    """Stage the SERVICE x USAGE_TYPE totals and one split per tag key; the Bedrock services."""
    what = f"Cost Explorer {label}"
    dims = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]
    rows: list[CE.Row] = []
    service_of: dict[tuple[date, str], str] = {}
    for result, group in CE.cost_and_usage(ce, what, CE.request(start, end, dims), requests):
        service, usage_type = group["Keys"]
        if classify(service, usage_type).bedrock:
            row = CE.row(result, group, label)
            rows.append(row | {"service": service, "usage_type": usage_type, "tags": {},
                               "breakdown": "total"})  # fmt: skip
            service_of[(row["usage_date"], usage_type)] = service
    services = sorted(set(service_of.values()))
    for key in tag_keys if services else []:
        by = [{"Type": "TAG", "Key": key}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]
        req = CE.request(start, end, by, services)
        for result, group in CE.cost_and_usage(ce, what, req, requests):
            tag, usage_type = group["Keys"]
            row = CE.row(result, group, label)
            value = tag.split("$", 1)[1] if "$" in tag else tag
            service = service_of.get((row["usage_date"], usage_type))
            rows.append(row | {"service": service, "usage_type": usage_type,
                               "tags": {key: value} if value else {},
                               "breakdown": f"tag:{key}"})  # fmt: skip
    columns: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        for k, v in r.items():
            columns[k].append(v)
    if rows:
        columns["tags"] = [list(t.items()) for t in columns["tags"]]
        _insert_ce_rows(con, dict(columns))
    return services


def _insert_ce_rows(con: duckdb.DuckDBPyConnection, columns: dict[str, list[Any]]) -> None:
    """CE amounts are decimal strings: cast in SQL so no digit goes through a float."""
    tags = columns.pop("tags")
    columns["tags_k"] = [[k for k, _ in t] for t in tags]
    columns["tags_v"] = [[v for _, v in t] for t in tags]
    frame = pa.table(columns)
    con.register("cost_ce_frame", frame)
    try:
        con.execute(
            "INSERT INTO cost_rows BY NAME SELECT * EXCLUDE (tags_k, tags_v), "
            "map(tags_k, tags_v) AS tags FROM cost_ce_frame"
        )
    finally:
        con.unregister("cost_ce_frame")


def _forecast(
    ce: Any, services: list[str], today: date, requests: CE.Requests, stats: RunStats
) -> list[CE.Row]:
    if not services:
        stats.notes.append("no Bedrock spend in the window: forecast skipped")
        return []
    out: list[CE.Row] = []
    for start, end in CE.forecast_periods(today):
        out += CE.forecast(ce, start, end, services, requests, stats.notes)
    return out


def _forecast_made(con: duckdb.DuckDBPyConnection, zone: str, today: date) -> bool:
    """Whether this source's forecast for `today` is stored: each GetCostForecast is billed and
    Cost Explorer refreshes its forecast about once a day, so a later run that day would pay
    for the same figures."""
    row = con.execute(
        "SELECT count(*) FROM cost_forecast WHERE source_zone = ? AND CAST(created_at AS DATE) = ?",
        [zone, today],
    ).fetchone()
    return bool(row and row[0])


def _store_forecast(
    con: duckdb.DuckDBPyConnection, zone: str, rows: list[CE.Row], today: date
) -> None:
    # created_at carries the run's day (the clock's own day unless a caller pins `today`), the
    # day _forecast_made() looks for.
    created = datetime.combine(today, utcnow().time())
    con.execute("CREATE OR REPLACE TEMP TABLE cost_forecast_ready AS "
                "SELECT * FROM cost_forecast LIMIT 0")  # fmt: skip
    cols = {k: [r[k] for r in rows] for k in rows[0]}
    cols |= {"created_at": [created] * len(rows), "source_zone": [zone] * len(rows)}
    insert_rows(con, "cost_forecast_ready", cols)
    run_script(con, "ingest/cost_forecast_replace", {"zone": zone, "created_at": created})


# --- CUR 2.0 / FOCUS exports ---------------------------------------------------------------


def ingest_zone(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    zone: LandingZone,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> RunStats:
    """Load every billing-period folder with a new, changed or vanished object, whole."""
    landing = open_landing(zone)
    stats = RunStats(zones=[zone.label], unit=UNIT)
    folders: dict[str, list[LandingObject]] = defaultdict(list)
    for obj in X.export_objects(landing):
        if (since is None or _month_end(obj.hour) > since) and (until is None or obj.hour < until):
            folders[obj.prefix].append(obj)
    if not folders:
        stats.notes.append(
            f"landing zone {zone.label} has no .../BILLING_PERIOD=YYYY-MM/*.parquet (or "
            "*.csv.gz) objects: is the uri the CUR 2.0 / FOCUS export's S3 prefix?"
        )
    read, bad = 0, []
    with tempfile.TemporaryDirectory(prefix="genai-lens-") as tmp:
        for folder, objs in sorted(folders.items()):
            loaded = loaded_objects(con, zone.label, folder)
            if loaded == {o.key: o.etag for o in objs}:
                stats.skipped += len(objs)
                continue
            before = stats.objects
            bad += _load_period(con, settings, landing, zone, folder, objs, Path(tmp), stats)
            read += stats.objects - before
            report(progress, stats)
    if read and len(bad) >= read and stats.records == 0:
        # Quarantined and recorded above; a scheduled job must not look healthy loading nothing.
        uri, _, reason = bad[0]
        raise SourceError(
            f"cost: every export file read from landing zone {zone.label} was quarantined "
            f"({len(bad)} files), nothing loaded; first: {uri}: {reason}"
        )
    return stats


def _month_end(first: datetime) -> datetime:
    return datetime.combine(CE.next_month(first.date()), datetime.min.time())


def _load_period(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    landing: Landing,
    zone: LandingZone,
    folder: str,
    objs: list[LandingObject],
    scratch: Path,
    stats: RunStats,
) -> list[X.Problem]:
    """Load one billing-period folder whole; the files it quarantined."""
    local = Path(tempfile.mkdtemp(dir=scratch))
    fetched = landing.fetch(objs, local)
    present = [o for o in objs if o.uri in fetched]
    stats.missing += len(objs) - len(present)
    files = {str(fetched[o.uri]): o.uri for o in present}
    good, problems = X.sort_files(con, files)
    run_script(con, "ingest/cost_stage")
    for kind, kind_files in good.items():
        if kind_files:
            X.stage_raw(con, kind, kind_files)
            params = {"tag_keys": settings.cost.tag_keys, "now": utcnow()}
            run_script(con, f"ingest/cost_{kind}_rows", params)
    records = _classify_staged(con)
    uri_folder = present[0].uri.rsplit("/", 1)[0] + "/" if present else folder
    with transaction(con):
        replace_quarantine(con, SOURCE, [o.uri for o in objs], problems)
        params = {"uri_prefix": uri_folder, "zone": zone.label, "key_prefix": folder}
        run_script(con, "ingest/cost_export_replace", params)
        record_objects(con, SOURCE, zone.label, present, "cost_ready")
        if present:
            advance_watermark(con, SOURCE, zone.label, max(o.hour for o in present))
    stats.add_batch(records, len(problems), len(present))
    shutil.rmtree(local, ignore_errors=True)
    return problems


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
    """Ingest the given export landing zone, or every configured zone and Cost Explorer source."""
    window: dict[str, Any] = {"since": since, "until": until, "progress": progress}
    return run_sources(
        unit=UNIT, zones=settings.cost.landing_zones, others=settings.cost.apis, landing=landing,
        none_configured="no cost source: pass --landing PATH_OR_S3_URI (a CUR 2.0 or FOCUS data "
        "export destination) or add [[cost.apis]] / [[cost.landing_zones]] to the config",
        zone_run=lambda zone: ingest_zone(con, settings, zone, **window),
        other_run=lambda api: pull(con, settings, api, **window),
    )  # fmt: skip
