"""The jobs genai-lens runs: one per AWS source, the models, and retention clean-up.

`run_job` is the one way a job runs, from the CLI, the scheduler or a page's "run now"
button: it journals the run in `ingest_runs`, logs one line of figures, and refreshes the
status snapshot that `genai-lens status` reads while a server holds the warehouse.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb

from genai_lens import logs, runs
from genai_lens.settings import Settings
from ingest.bookkeeping import Progress, RunStats

INGESTS = ("invocation-logs", "cloudtrail", "metrics", "cost")
JOBS = (*INGESTS, "models", "model-catalog", "vacuum")
# What each source's data lives in, for `status` and the data health page: its table, and
# the name its ingester gives it in `watermarks` and `quarantine`.
TABLES = {
    "invocation-logs": ("invocations", "invocation_logs"),
    "cloudtrail": ("cloudtrail_events", "cloudtrail"),
    "metrics": ("metrics", "metrics"),
    "cost": ("cost_daily", "cost"),
}
log = logs.get("jobs")

Runner = Callable[..., RunStats]


# Where each job's function lives; imported on first use (the models pull in Prophet).
RUNNERS = {
    "invocation-logs": "ingest.invocation_logs:run",
    "cloudtrail": "ingest.cloudtrail:run",
    "metrics": "ingest.metrics:run",
    "cost": "ingest.cost:run",
    "models": "genai_lens.model_runner:run",
    "model-catalog": "ingest.model_catalog:run",
    "vacuum": "genai_lens.retention:vacuum",
}


def runner(source: str) -> Runner:
    """The function behind a job."""
    module, name = RUNNERS[source].split(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def configured(settings: Settings) -> list[str]:
    """The ingest sources with something configured, in the order their data depends on."""
    inv = settings.invocation_logs
    found = {
        "invocation-logs": bool(inv.landing_zones or inv.log_groups),
        "cloudtrail": bool(settings.cloudtrail.landing_zones or settings.cloudtrail.lookups),
        "metrics": bool(settings.metrics.landing_zones or settings.metrics.apis),
        "cost": bool(settings.cost.landing_zones or settings.cost.apis),
    }
    return [s for s in INGESTS if found[s]]


def run_job(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    *,
    trigger: str,
    progress: Progress | None = None,
    **kwargs: Any,
) -> runs.Run:
    """Run one job, journalled and logged; its exception propagates after both."""
    fn = runner(source)
    if source in INGESTS:
        kwargs["progress"] = progress
    run: runs.Run | None = None
    try:
        with runs.recorded(con, source, trigger) as run:
            run.stats = fn(con, settings, **kwargs)
    finally:
        if run is not None:  # journalled and finished by now, even when it failed
            level = logging.INFO if run.status == "ok" else logging.ERROR
            log.log(level, f"job {source} {run.status}", extra={"figures": run.figures()})
    return run


def since_until(
    since: datetime | None, until: datetime | None, source: str
) -> dict[str, datetime | None]:
    """The backfill window, for the jobs that take one (models and vacuum do not)."""
    return {"since": since, "until": until} if source in INGESTS else {}


def run_now(source: str) -> str:
    """Queue a job in this process's scheduler (the data health page's buttons)."""
    from genai_lens import scheduler

    return scheduler.run_now(source)
