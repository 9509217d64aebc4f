"""`genai-lens status`: per source, its last run, lag behind now, rows, quarantine, next run.

A running server holds the warehouse, so it also writes what `collect` returns to a snapshot
file beside the warehouse after every job; `status` reads that when it cannot open the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from base.clock import utcnow
from base.settings import Settings
from ingest.sources import BY_NAME
from jobs.runner import JOBS


@dataclass
class SourceStatus:
    source: str
    configured: bool
    last_started: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None
    covered_until: datetime | None = None
    rows: int | None = None
    quarantined: int | None = None
    next_run: datetime | None = None

    def lag(self, now: datetime) -> timedelta | None:
        return now - self.covered_until if self.covered_until else None


def interval(settings: Settings, source: str) -> timedelta:
    s = settings.schedule
    return {
        "invocation-logs": timedelta(minutes=s.invocation_logs_minutes),
        "metrics": timedelta(minutes=s.metrics_minutes),
        "cloudtrail": timedelta(minutes=s.cloudtrail_minutes),
        "cost": timedelta(hours=s.cost_hours),
        "models": timedelta(minutes=s.models_minutes),
        "vacuum": timedelta(hours=s.vacuum_hours),
        "model-catalog": timedelta(hours=s.catalog_hours),
    }[source]


def collect(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    configured: list[str],
    next_runs: dict[str, datetime] | None = None,
) -> list[SourceStatus]:
    out = []
    for source in JOBS:
        st = SourceStatus(source, source in configured or source not in BY_NAME)
        last = con.execute(
            "SELECT started_at, status, error FROM ingest_runs WHERE source = ? "
            "ORDER BY started_at DESC LIMIT 1",
            [source],
        ).fetchone()
        if last:  # a source run by hand (--landing) counts, configured or not
            st.configured = True
            st.last_started, st.last_status, st.last_error = last
        if src := BY_NAME.get(source):
            table, wm_source = src.table, src.key
            st.rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            st.covered_until = con.execute(
                "SELECT max(covered_until) FROM watermarks WHERE source = ?", [wm_source]
            ).fetchall()[0][0]
            st.quarantined = con.execute(
                "SELECT count(*) FROM quarantine WHERE source = ?", [wm_source]
            ).fetchall()[0][0]
            st.configured = st.configured or bool(st.rows)
        if next_runs and source in next_runs:
            st.next_run = next_runs[source]
        elif st.configured and st.last_started:
            st.next_run = st.last_started + interval(settings, source)
        out.append(st)
    return out


def _ago(delta: timedelta | None) -> str:
    """A short human span: 45s, 12m, 5h, 3d."""
    if delta is None:
        return "never"
    secs = int(delta.total_seconds())
    if secs < 0:
        return "-" + _ago(-delta)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def render(statuses: list[SourceStatus], now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    head = f"{'source':<16} {'last run':<20} {'status':<12} {'lag':>6} {'rows':>12} "
    head += f"{'quarant.':>8}  next run"
    lines = [head]
    for st in statuses:
        if not st.configured:
            lines.append(f"{st.source:<16} not configured")
            continue
        last = st.last_started.strftime("%Y-%m-%d %H:%M") if st.last_started else "never"
        lag = _ago(st.lag(now)) if st.source in BY_NAME else ""
        rows = f"{st.rows:,}" if st.rows is not None else ""
        quar = f"{st.quarantined:,}" if st.quarantined is not None else ""
        nxt = st.next_run.strftime("%Y-%m-%d %H:%M") if st.next_run else "on demand"
        lines.append(
            f"{st.source:<16} {last:<20} {st.last_status or '-':<12} {lag:>6} {rows:>12} "
            f"{quar:>8}  {nxt}"
        )
        if st.last_status in ("error", "interrupted") and st.last_error:
            lines.append(f"{'':<16} last error: {st.last_error}")
    return lines


def snapshot_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".status.json")


def write_snapshot(warehouse: Path, statuses: list[SourceStatus]) -> None:
    """Atomically: a reader never sees half a file."""
    path = snapshot_path(warehouse)
    tmp = path.with_suffix(".tmp")
    body = {"written_at": utcnow().isoformat(), "pid": os.getpid()}
    body["sources"] = [asdict(s) for s in statuses]
    tmp.write_text(json.dumps(body, default=str, indent=1))
    os.replace(tmp, path)


def read_snapshot(warehouse: Path) -> tuple[datetime, list[SourceStatus]] | None:
    path = snapshot_path(warehouse)
    if not path.exists():
        return None
    body = json.loads(path.read_text())
    stamp = ("last_started", "covered_until", "next_run")
    out = []
    for raw in body["sources"]:
        for key in stamp:
            raw[key] = datetime.fromisoformat(raw[key]) if raw[key] else None
        out.append(SourceStatus(**raw))
    return datetime.fromisoformat(body["written_at"]), out
