"""The jobs genai-lens runs: one per AWS source, the models, and retention clean-up.

`run_job` is the one way a job runs, from the CLI, the scheduler or a page's "run now"
button: it journals the run in `ingest_runs`, logs one line of figures, and refreshes the
status snapshot that `genai-lens status` reads while a server holds the warehouse.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import duckdb

from base import logs
from base.settings import Settings
from base.stats import Progress, RunStats
from ingest import aws, sources
from warehouse import runs

INGESTS = sources.NAMES
JOBS = (*INGESTS, "models", "model-catalog", "vacuum")
log = logs.get("jobs")


def _models(con: duckdb.DuckDBPyConnection, settings: Settings, **kwargs: Any) -> RunStats:
    from jobs import model_runner  # imported on first use: the models pull in Prophet

    return model_runner.run(con, settings, **kwargs)


def _catalog(con: duckdb.DuckDBPyConnection, settings: Settings, **kwargs: Any) -> RunStats:
    from ingest import model_catalog

    return model_catalog.run(con, settings, **kwargs)


def _vacuum(con: duckdb.DuckDBPyConnection, settings: Settings, **kwargs: Any) -> RunStats:
    from jobs import retention

    return retention.vacuum(con, settings, **kwargs)


def _prices(con: duckdb.DuckDBPyConnection, settings: Settings, **kwargs: Any) -> RunStats:
    # Weekly when pricing.refresh is on; not in JOBS: it reads no source of the estate.
    from ingest.invocation_logs import price_list

    return price_list.run(con, settings, **kwargs)


def runner(source: str) -> sources.Runner:
    """The function behind a job."""
    if source in sources.BY_NAME:
        return sources.BY_NAME[source].run
    return {"models": _models, "model-catalog": _catalog, "vacuum": _vacuum, "prices": _prices}[
        source
    ]


def configured(settings: Settings) -> list[str]:
    """The ingest sources with something configured, in the order their data depends on."""
    return sources.configured(settings)


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
    src = sources.BY_NAME.get(source)
    loads = (src.table, src.key) if src else None
    try:
        with (
            runs.recorded(con, source, trigger, loads=loads) as run,
            aws.counting_requests() as calls,  # every AWS request the job sends
        ):
            try:
                run.stats = fn(con, settings, **kwargs)
            finally:
                run.api_calls = calls.n
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
