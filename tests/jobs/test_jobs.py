"""Jobs: journalled in ingest_runs, logged as one line, scheduled, retried with backoff."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import factories as F
import pytest

from base import logs
from base.clock import utcnow
from base.settings import Settings
from jobs import runner as jobs
from jobs import scheduler, status
from warehouse import runs

CLI = str(Path(sys.executable).parent / "genai-lens")


def estate(root: Path, hours: int = 4, start: datetime | None = None) -> int:
    """One object per hour of three Converse records; returns the record count."""
    start = start or utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)
    for h in range(hours):
        ts = start + timedelta(hours=h)
        recs = [F.converse(timestamp=f"{ts:%Y-%m-%dT%H}:{m:02d}:00Z") for m in range(3)]
        F.land(root, recs, ts)
    return hours * 3


def settings_for(landing: Path, **schedule: float) -> Settings:
    return Settings(
        resolve_profiles_with_api=False,
        invocation_logs={"landing_zones": [{"uri": str(landing)}]},
        schedule={"jitter_seconds": 0, **schedule},
    )


def runs_of(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple]:
    return con.execute(
        "SELECT status, trigger, rows_inserted, objects, error, watermark_before, "
        "watermark_after FROM ingest_runs WHERE source = ? ORDER BY started_at",
        [source],
    ).fetchall()


def test_a_run_is_journalled_with_its_figures_and_watermarks(warehouse, tmp_path):
    n = estate(tmp_path / "landing")
    cfg = settings_for(tmp_path / "landing")
    jobs.run_job(warehouse, cfg, "invocation-logs", trigger="cli")
    jobs.run_job(warehouse, cfg, "invocation-logs", trigger="schedule")
    (first, second) = runs_of(warehouse, "invocation-logs")
    assert first[:4] == ("ok", "cli", n, 4) and first[5] is None and first[6] is not None
    assert second[:4] == ("ok", "schedule", 0, 0) and second[5] == first[6]


def test_a_failed_run_is_journalled_with_a_one_line_error(warehouse, tmp_path):
    cfg = settings_for(tmp_path / "missing")
    with pytest.raises(Exception, match="is not a folder"):
        jobs.run_job(warehouse, cfg, "invocation-logs", trigger="schedule")
    ((state, _, _, _, error, _, _),) = runs_of(warehouse, "invocation-logs")
    assert state == "error" and "is not a folder" in error and "\n" not in error
    # the connection is usable afterwards: no transaction left open
    assert warehouse.execute("SELECT count(*) FROM invocations").fetchone() == (0,)


def test_runs_left_running_by_a_dead_process_become_interrupted(warehouse):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    for rid, pid in (("gone", int(dead.stdout)), ("alive", os.getppid())):
        warehouse.execute(
            "INSERT INTO ingest_runs (run_id, source, trigger, started_at, status, pid) "
            "VALUES (?, 'metrics', 'schedule', now(), 'running', ?)",
            [rid, pid],
        )
    assert runs.mark_interrupted(warehouse) == 1
    got = dict(warehouse.execute("SELECT run_id, status FROM ingest_runs").fetchall())
    assert got == {"gone": "interrupted", "alive": "running"}


def test_json_log_is_one_line_per_job_run_without_record_text(warehouse, tmp_path, capsys):
    estate(tmp_path / "landing", hours=2)
    logs.setup("json")
    try:
        jobs.run_job(warehouse, settings_for(tmp_path / "landing"), "invocation-logs",
                     trigger="cli")  # fmt: skip
    finally:
        logging.getLogger(logs.LOGGER).handlers = []
    lines = [json.loads(ln) for ln in capsys.readouterr().err.splitlines() if ln.startswith("{")]
    (line,) = [ln for ln in lines if ln["logger"] == "genai_lens.jobs"]
    assert line["source"] == "invocation-logs" and line["status"] == "ok"
    assert line["rows_inserted"] == 6 and line["objects"] == 2
    assert "Hello" not in json.dumps(lines)  # the factory's prompt text


def wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_scheduler_runs_jobs_keeps_going_after_failures_and_backs_off(tmp_path):
    landing = tmp_path / "landing"
    estate(landing, hours=3)
    path = tmp_path / "w.duckdb"
    from warehouse.db import connect

    con = connect(path)
    cfg = Settings(
        resolve_profiles_with_api=False,
        invocation_logs={"landing_zones": [{"uri": str(landing)}]},
        cloudtrail={"landing_zones": [{"uri": str(tmp_path / "no-such-trail")}]},
        schedule={"jitter_seconds": 0, "invocation_logs_minutes": 0.02,
                  "cloudtrail_minutes": 0.02, "max_backoff_minutes": 0.1},
    )  # fmt: skip
    sched = scheduler.LensScheduler(cfg, con, path)
    sched.start()
    hourly = sched.scheduler.get_job("models").next_run_time  # an interval after the start
    try:
        # the broken source fails again and again; the good one keeps loading
        wait_for(lambda: len(runs_of(con.cursor(), "cloudtrail")) >= 2)
        wait_for(
            lambda: con.cursor().execute("SELECT count(*) FROM invocations").fetchone()[0] == 9
        )
        # The journal row is written as the run ends; the scheduler counts the failure and
        # then sets the backoff a moment later, on its own thread: wait for the backoff of the
        # second failure, the last step (the count is set before it).
        wait_for(lambda: sched.delays.get("cloudtrail", timedelta(0)) >= timedelta(seconds=2.4))
        assert sched.failures["cloudtrail"] >= 2
        assert sched.delays["cloudtrail"] >= timedelta(seconds=2.4)  # doubled from 1.2 s
        estate(landing, hours=1)  # new data arrives; the next tick picks it up
        wait_for(
            lambda: con.cursor().execute("SELECT count(*) FROM invocations").fetchone()[0] == 12
        )
        assert "queued" in scheduler.run_now("invocation-logs")
        wait_for(lambda: any(r[1] == "run-now" for r in runs_of(con.cursor(), "invocation-logs")))
        assert "not configured" in scheduler.run_now("metrics")
        # models and vacuum are scheduled, not paused, and new data woke the models early:
        # they ran within seconds of the first load, not an hour after the start
        assert sched.scheduler.get_job("vacuum").next_run_time is not None
        assert hourly is not None and hourly - datetime.now(UTC) > timedelta(minutes=55)
        wait_for(lambda: [r for r in runs_of(con.cursor(), "models") if r[0] != "running"])
        (models_run,) = runs_of(con.cursor(), "models")  # once: new data within 15 min waits
        assert models_run[:2] == ("ok", "schedule")
        assert sched.last_models is not None
        assert sched.scheduler.get_job("models").next_run_time >= hourly  # back on its hour
    finally:
        sched.shutdown()
    assert scheduler.run_now("invocation-logs").startswith("the scheduler is not running")
    statuses = {s.source: s for s in status.read_snapshot(path)[1]}
    assert statuses["invocation-logs"].rows == 12 and statuses["cloudtrail"].last_status == "error"
    assert not statuses["metrics"].configured


def test_shutdown_waits_for_the_running_job_and_starts_no_other(tmp_path, monkeypatch):
    # APScheduler's own shutdown(wait=True) deadlocked here: it waits for the job holding the
    # job-store lock, and the job's last step (the status snapshot) needs that lock.
    landing = tmp_path / "landing"
    estate(landing, hours=1)
    path = tmp_path / "w.duckdb"
    from warehouse.db import connect

    started, finished = threading.Event(), []
    real = jobs.run_job

    def slow_run(cur, settings, source, **kw):  # type: ignore[no-untyped-def]
        started.set()
        time.sleep(1.5)  # the server is stopped while this runs
        run = real(cur, settings, source, **kw)
        finished.append((source, time.monotonic()))
        return run

    monkeypatch.setattr(jobs, "run_job", slow_run)
    sched = scheduler.LensScheduler(
        settings_for(landing, invocation_logs_minutes=0.01), connect(path), path
    )
    sched.start()
    assert started.wait(30)
    stopper = threading.Thread(target=sched.shutdown)
    stopper.start()
    stopper.join(timeout=30)
    returned = time.monotonic()
    assert not stopper.is_alive(), "shutdown hung"
    assert [src for src, _ in finished] == ["invocation-logs"]  # finished, and nothing after
    assert finished[0][1] <= returned
    time.sleep(1.0)  # a tick queued before the stop would have started by now
    assert len(finished) == 1
    assert status.read_snapshot(path)[1]  # the job's last step, the snapshot, was written


def test_status_reads_the_servers_snapshot_while_the_warehouse_is_held(tmp_path):
    landing = tmp_path / "landing"
    estate(landing, hours=2)
    env = {**os.environ, "GENAI_LENS_RESOLVE_PROFILES_WITH_API": "false"}
    base = [CLI, "--warehouse", str(tmp_path / "w.duckdb")]
    ok = subprocess.run([*base, "ingest", "invocation-logs", "--landing", str(landing)],
                        env=env, capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    mine = subprocess.run([*base, "status"], env=env, capture_output=True, text=True)
    assert mine.returncode == 0, mine.stderr
    assert "invocation-logs" in mine.stdout and " ok " in mine.stdout
    # A "server" holds the warehouse: the CLI names it and exits 2; status reads the snapshot.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); time.sleep(60)", str(tmp_path / "w.duckdb")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        busy = subprocess.run([*base, "ingest"], env=env, capture_output=True, text=True)
        assert busy.returncode == 2 and "Traceback" not in busy.stderr
        assert f"in use by process {holder.pid}" in busy.stderr
        assert busy.stderr.strip().count("\n") == 0
        no_snapshot = subprocess.run([*base, "status"], env=env, capture_output=True, text=True)
        assert no_snapshot.returncode == 2 and "in use by" in no_snapshot.stderr
        found = [status.SourceStatus("invocation-logs", True, last_status="ok", rows=6)]
        status.write_snapshot(tmp_path / "w.duckdb", found)
        snap = subprocess.run([*base, "status"], env=env, capture_output=True, text=True)
        assert snap.returncode == 0 and "held by a running server" in snap.stdout
    finally:
        holder.kill()
