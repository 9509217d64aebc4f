"""Faults an unattended ingest must survive: kill -9 anywhere, objects that vanish between
listing and reading, a landing zone that is briefly unreadable, a disk that fills mid-write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import factories as F
import pytest

from genai_lens.settings import Settings
from genai_lens.warehouse import connect
from ingest import demo, invocation_logs, landing

CLI = str(Path(sys.executable).parent / "genai-lens")
# What must be equal row for row after a recovered run: every table the ingest writes, the page
# rollups included; bookkeeping times are left out.
TABLES = {
    "invocations": "SELECT * EXCLUDE (source_object) FROM invocations ORDER BY request_id",
    "usage_hourly": "SELECT * FROM usage_hourly ORDER BY ALL",
    "usage_errors_hourly": "SELECT * FROM usage_errors_hourly ORDER BY ALL",
    "usage_guardrails_hourly": "SELECT * FROM usage_guardrails_hourly ORDER BY ALL",
    "usage_principals_hourly": "SELECT * FROM usage_principals_hourly ORDER BY ALL",
    "usage_metrics_hourly": "SELECT * FROM usage_metrics_hourly ORDER BY ALL",
    "usage_changes": "SELECT * FROM usage_changes ORDER BY ALL",
    "inference_profiles": "SELECT * FROM inference_profiles ORDER BY ALL",
    "cloudtrail_events": "SELECT * FROM cloudtrail_events ORDER BY event_id",
    "metrics": "SELECT * FROM metrics ORDER BY ALL",
    "cost_daily": "SELECT * FROM cost_daily ORDER BY ALL",
    "quarantine": "SELECT * FROM quarantine ORDER BY ALL",
    "ingest_objects": "SELECT zone, object_key, etag, records, quarantined "
    "FROM ingest_objects ORDER BY ALL",
    "watermarks": "SELECT source, zone, covered_until FROM watermarks ORDER BY ALL",
}
SOURCES = ("invocation-logs", "cloudtrail", "metrics", "cost")


def _same_float(value: object) -> object:
    # A rollup sums doubles in whatever order the batches arrived: equal to ten digits.
    return float(f"{value:.10g}") if isinstance(value, float) else value


def snapshot(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            name: [tuple(map(_same_float, row)) for row in con.execute(q).fetchall()]
            for name, q in TABLES.items()
        }
    finally:
        con.close()


def cli_env(**extra: str) -> dict[str, str]:
    small_batches = {
        f"GENAI_LENS_{src}__BATCH_FILES": "20"
        for src in ("INVOCATION_LOGS", "CLOUDTRAIL", "METRICS")
    } | {"GENAI_LENS_COST__BATCH_FILES": "1"}  # the bill is a few objects: one a batch
    return {**os.environ, **small_batches, **extra}


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo estate with every source: invocation logs, trail, metric stream, bill."""
    out = tmp_path_factory.mktemp("estate")
    summary = demo.generate_estate(out, days=7, per_day=150, end=datetime(2026, 11, 20))
    return summary.config_path


@pytest.fixture(scope="module")
def reference(estate: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    """The warehouse of one uninterrupted run, as tables."""
    path = tmp_path_factory.mktemp("reference") / "reference.duckdb"
    done = ingest_all(estate, path)
    assert done.returncode == 0, done.stderr
    return snapshot(path)


def ingest_all(config: Path, warehouse: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "--config", str(config), "--warehouse", str(warehouse), "ingest"],
        env=cli_env(**env), capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def kill_during(cmd: list[str], rng: random.Random) -> tuple[bool, bool]:
    """Start an ingest and kill -9 it at a random moment: after 0-2 committed batches (progress
    lines), a random fraction of a second into the next one. Whether the kill landed, and
    whether it landed after a batch had been committed (so the run had surely begun)."""
    proc = subprocess.Popen(cmd, env=cli_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stderr is not None
    wanted = rng.randint(0, 2)
    if wanted == 0:
        time.sleep(rng.uniform(1.0, 3.0))  # start-up: migrations, listing, the first batch
    else:
        seen = 0
        for line in proc.stderr:
            seen += "objects" in line
            if seen >= wanted:
                break
        time.sleep(rng.uniform(0.0, 0.6))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    killed = proc.wait() == -signal.SIGKILL
    return killed, killed and wanted > 0


def test_kill_9_at_random_points_of_every_source_then_the_warehouse_equals_an_uninterrupted_one(
    estate, reference, tmp_path
):
    victim = tmp_path / "victim.duckdb"
    rng = random.Random(20261204)
    landed, mid_run = dict.fromkeys(SOURCES, 0), dict.fromkeys(SOURCES, 0)
    for source in SOURCES:  # in the order a backfill runs them, each killed again and again
        cmd = [CLI, "--config", str(estate), "--warehouse", str(victim), "ingest", source]
        for _ in range(4):
            killed, after_a_batch = kill_during(cmd, rng)
            if not killed:
                break  # that source's backfill finished before the kill: go on to the next
            landed[source] += 1
            mid_run[source] += after_a_batch
    assert sum(landed.values()) >= 10 and min(landed.values()) >= 1, landed
    final = ingest_all(estate, victim)  # the run after the crashes, as the scheduler would
    assert final.returncode == 0, final.stderr
    assert snapshot(victim) == reference
    con = duckdb.connect(str(victim), read_only=True)
    interrupted = con.execute(
        "SELECT source, count(*) FROM ingest_runs WHERE status = 'interrupted' GROUP BY ALL"
    ).fetchall()
    # Every run killed after it began is journalled as interrupted, not lost. A kill in a run's
    # first second may come before its journal row, and one after its last progress line may
    # come after it recorded success: neither is a lost run.
    journalled = dict(interrupted)
    assert all(journalled.get(s, 0) <= landed[s] for s in SOURCES), (journalled, landed)
    assert sum(journalled.values()) >= sum(mid_run.values()) - len(SOURCES), (journalled, mid_run)
    left_running = con.execute("SELECT count(*) FROM ingest_runs WHERE status = 'running'")
    assert left_running.fetchone() == (0,)
    con.close()


def test_a_full_disk_mid_write_is_one_clear_line_and_the_next_run_recovers(
    estate, reference, tmp_path
):
    path = tmp_path / "w.duckdb"
    first = subprocess.run(
        [CLI, "--config", str(estate), "--warehouse", str(path), "ingest", "cost"],
        env=cli_env(), capture_output=True, text=True,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    before = snapshot(path)
    # The warehouse file may grow by 1 MB at most: the first big batch cannot be written.
    limit = path.stat().st_size + 1_000_000
    wrapper = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "from genai_lens.cli import main; sys.argv[0] = 'genai-lens'; main()"
    )
    full = subprocess.run(
        [sys.executable, "-c", wrapper, "--config", str(estate), "--warehouse", str(path),
         "ingest", "metrics"],
        env=cli_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr and "cannot write the warehouse" in full.stderr
    assert "File too large" in full.stderr
    after = snapshot(path)
    assert after["cost_daily"] == before["cost_daily"]  # what was committed is intact
    assert ingest_all(estate, path).returncode == 0  # room again: the run completes
    assert snapshot(path) == reference


def test_out_of_memory_is_one_line_naming_the_setting_and_the_next_run_recovers(
    estate, reference, tmp_path
):
    path = tmp_path / "w.duckdb"
    # CloudTrail files are single JSON objects: DuckDB's reader needs a large buffer for them.
    starved = subprocess.run(
        [CLI, "--config", str(estate), "--warehouse", str(path), "ingest", "cloudtrail"],
        env={**cli_env(), "GENAI_LENS_MEMORY_LIMIT": "64MB"}, capture_output=True, text=True,
    )  # fmt: skip
    assert starved.returncode == 2, starved.stderr
    assert "Traceback" not in starved.stderr and starved.stderr.strip().count("\n") == 0
    assert "ran out of memory" in starved.stderr and "memory_limit" in starved.stderr
    assert ingest_all(estate, path).returncode == 0  # the default limit: the run completes
    assert snapshot(path) == reference


def test_an_object_deleted_between_listing_and_reading_is_counted_not_fatal(tmp_path, monkeypatch):
    root = tmp_path / "landing"
    keys = []
    for h in range(3):
        ts = datetime(2026, 11, 2, h)
        keys.append(F.land(root, [F.converse(timestamp=f"{ts:%Y-%m-%dT%H}:05:00Z")], ts))
    real_objects = landing.LocalLanding.objects

    def listed_then_deleted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        for obj in real_objects(self, *args, **kwargs):
            yield obj
            if obj.key.endswith(keys[1].name):
                keys[1].unlink()  # gone before the batch is read

    monkeypatch.setattr(landing.LocalLanding, "objects", listed_then_deleted)
    path = tmp_path / "w.duckdb"
    con = connect(path)
    cfg = Settings(resolve_profiles_with_api=False,
                   invocation_logs={"landing_zones": [{"uri": str(root)}]})  # fmt: skip
    stats = invocation_logs.run(con, cfg)
    assert (stats.records, stats.missing) == (2, 1)
    assert con.execute("SELECT count(*) FROM invocations").fetchone() == (2,)


def test_a_briefly_unreadable_landing_zone_fails_clearly_and_the_next_run_catches_up(tmp_path):
    root = tmp_path / "landing"
    for h in range(4):
        ts = datetime(2026, 11, 2, h)
        F.land(root, [F.converse(timestamp=f"{ts:%Y-%m-%dT%H}:05:00Z")], ts)
    path = tmp_path / "w.duckdb"
    base = [CLI, "--warehouse", str(path), "ingest", "invocation-logs", "--landing", str(root)]
    env = cli_env(GENAI_LENS_RESOLVE_PROFILES_WITH_API="false")
    assert subprocess.run(base, env=env, capture_output=True).returncode == 0
    for h in range(4, 6):  # more data arrives while the zone is away
        ts = datetime(2026, 11, 2, h)
        F.land(root, [F.converse(timestamp=f"{ts:%Y-%m-%dT%H}:05:00Z")], ts)
    root.rename(tmp_path / "away")  # an unmounted share, a bucket being recreated
    res = subprocess.run(base, env=env, capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert str(root) in res.stderr and res.stderr.strip().count("\n") == 0
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM invocations").fetchone() == (4,)
    con.close()
    (tmp_path / "away").rename(root)
    assert subprocess.run(base, env=env, capture_output=True).returncode == 0
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM invocations").fetchone() == (6,)
    statuses = [r[0] for r in con.execute(
        "SELECT status FROM ingest_runs ORDER BY started_at").fetchall()]  # fmt: skip
    assert statuses == ["ok", "error", "ok"]
