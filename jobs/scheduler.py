"""The background scheduler `genai-lens serve` runs beside Streamlit, in the same process.

Why one process: DuckDB allows one writing process, and a reader in another process cannot
open the file while it writes (DESIGN.md). So the jobs and the pages share one connection:
each job writes through its own cursor, pages read theirs, and DuckDB's MVCC shows pages the
last committed data while a job writes.

Jobs run one at a time on a single worker thread: two writers in one database would only
conflict on the bookkeeping tables, and a run that overlapped itself would double the AWS
calls. A failing job is journalled and logged; the next tick retries it, and repeated
failures push the next try back exponentially (capped), so a broken source neither stops the
scheduler nor hammers AWS.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from base import logs
from base.settings import Settings
from jobs import runner as jobs
from jobs import status
from warehouse import runs

log = logs.get("scheduler")
# New data wakes the models, but not more often than this: a Prophet refit takes a while.
MODELS_MIN_GAP = timedelta(minutes=15)
# How long a stopping server waits for the job in progress (systemd's default stop timeout is
# 90 s; a batch commits well within this).
SHUTDOWN_WAIT_SECONDS = 60.0
_current: LensScheduler | None = None


class LensScheduler:
    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
        self.settings, self.con, self.warehouse = settings, con, warehouse
        self.sources = jobs.configured(settings)
        self.failures: dict[str, int] = {}
        self.delays: dict[str, timedelta] = {}  # the last backoff given to each source
        # time.monotonic() of the last models run: a gap, so not base.clock (which a
        # demo may freeze); APScheduler's run times below are its own real-time timer.
        self.last_models: float | None = None
        self._lock = threading.Lock()
        self._jobs_idle = threading.Condition()  # guards _running and _stopping
        self._running, self._stopping = 0, False
        grace = settings.schedule.misfire_grace_seconds
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
            timezone=UTC,
        )

    def start(self) -> None:
        global _current
        jitter = self.settings.schedule.jitter_seconds or None
        for source in [*self.sources, "models", "model-catalog", "vacuum"]:
            every = status.interval(self.settings, source)
            # Ingests start at once (a fresh server should not wait 6 h for its first bill);
            # models and vacuum wait for their first interval. (next_run_time=None would
            # pause a job in APScheduler 3, so it is left out, not set to None.)
            first = {"next_run_time": _soon()} if source in jobs.INGESTS else {}
            self.scheduler.add_job(
                self.tick,
                IntervalTrigger(seconds=every.total_seconds(), jitter=jitter, timezone=UTC),
                args=[source, "schedule"],
                id=source,
                name=source,
                **first,
            )
        if self.settings.pricing.refresh:
            # List prices change a few times a year; a week is fresh enough and costs nothing.
            self.scheduler.add_job(
                self.tick, IntervalTrigger(weeks=1, jitter=jitter, timezone=UTC),
                args=["prices", "schedule"], id="prices", name="prices",
            )  # fmt: skip
        self.scheduler.start()
        _current = self
        log.info(f"scheduler started: {', '.join(self.sources) or 'no sources configured'}")
        self.snapshot()

    def shutdown(self, wait: float = SHUTDOWN_WAIT_SECONDS) -> None:
        """Stop scheduling, then give a running job up to `wait` seconds to finish its batch.

        A job still running when the interpreter exits fails its reader threads ("cannot
        schedule new futures after shutdown"), so we wait. Not with APScheduler's
        shutdown(wait=True): it waits holding the job-store lock, which the job's last step
        (the status snapshot reads the next run times) needs: a deadlock. A job cut off after
        `wait` loses only its uncommitted batch, which the next start loads again.
        """
        global _current
        with self._jobs_idle:
            self._stopping = True
        self.scheduler.shutdown(wait=False)
        with self._jobs_idle:
            if not self._jobs_idle.wait_for(lambda: self._running == 0, timeout=wait):
                log.warning(f"a job was still running after {wait:.0f}s; its batch is redone")
        _current = None

    def tick(self, source: str, trigger: str) -> None:
        """One run of a job; never raises (a raise would only be logged by APScheduler)."""
        with self._jobs_idle:
            if self._stopping:
                return  # queued before shutdown, started after it
            self._running += 1
        try:
            self._tick(source, trigger)
        finally:
            with self._jobs_idle:
                self._running -= 1
                self._jobs_idle.notify_all()

    def _tick(self, source: str, trigger: str) -> None:
        cur = self.con.cursor()
        # The models' start, not their end, is what new data is measured against: data loaded
        # while they run waits like data loaded just after (it woke a second run at once). A
        # failed run does not count.
        before = self.last_models
        if source == "models":
            self.last_models = time.monotonic()
        try:
            run = jobs.run_job(cur, self.settings, source, trigger=trigger)
        except Exception as exc:  # journalled and logged by run_job already
            if source == "models":
                self.last_models = before
            self._failed(source, exc)
        else:
            self.failures.pop(source, None)
            if (
                run.stats is not None
                and run.stats.records
                and source in ("invocation-logs", "cost")
            ):
                self._wake_models()
        finally:
            cur.close()
            self.snapshot()

    def _failed(self, source: str, exc: Exception) -> None:
        n = self.failures[source] = self.failures.get(source, 0) + 1
        if n < 2:
            return  # the first failure is retried at the next tick as it stands
        cap = timedelta(minutes=self.settings.schedule.max_backoff_minutes)
        every = status.interval(self.settings, source)
        delay = self.delays[source] = min(every * 2 ** (n - 1), max(cap, every))
        job = self.scheduler.get_job(source)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC) + delay)
        log.warning(
            f"job {source} failed {n} times in a row; next try in {delay}",
            extra={"figures": {"source": source, "failures": n, "error": runs.one_line(exc)}},
        )

    def _wake_models(self) -> None:
        gap = MODELS_MIN_GAP.total_seconds()
        if self.last_models is not None and time.monotonic() - self.last_models < gap:
            return
        job = self.scheduler.get_job("models")
        soon = datetime.now(UTC) + timedelta(seconds=30)
        if job is not None and job.next_run_time is not None and job.next_run_time > soon:
            job.modify(next_run_time=datetime.now(UTC) + timedelta(seconds=5))

    def run_now(self, source: str) -> str:
        if source not in jobs.JOBS:
            return f"unknown job {source!r}: one of {', '.join(jobs.JOBS)}"
        if source in jobs.INGESTS and source not in self.sources:
            return f"{source} is not configured: add it to the config first"
        self.scheduler.add_job(
            self.tick, args=[source, "run-now"], id=f"{source}:now", replace_existing=True,
            next_run_time=datetime.now(UTC),
        )  # fmt: skip
        return f"{source}: queued; it runs after the job in progress, if any"

    def next_runs(self) -> dict[str, datetime]:
        out = {}
        for job in self.scheduler.get_jobs():
            if job.next_run_time is not None and ":" not in job.id:
                out[job.id] = job.next_run_time.astimezone(UTC).replace(tzinfo=None)
        return out

    def snapshot(self) -> None:
        """Refresh the status file `genai-lens status` reads while we hold the warehouse."""
        with self._lock:
            cur = self.con.cursor()
            try:
                found = status.collect(cur, self.settings, self.sources, self.next_runs())
                status.write_snapshot(self.warehouse, found)
            except (duckdb.Error, OSError) as exc:
                log.warning(f"status snapshot not written: {runs.one_line(exc)}")
            finally:
                cur.close()


def _soon() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=random.uniform(1, 5))


def current() -> LensScheduler | None:
    return _current


def run_now(source: str) -> str:
    """What the data health page's buttons call: queue a job in this process's scheduler."""
    sched = _current
    if sched is None:
        return "the scheduler is not running (serve without --no-scheduler to use this)"
    return sched.run_now(source)
