"""Faults an unattended ingest must survive: kill -9 anywhere, objects that vanish between
listing and reading, a landing zone that is briefly unreadable, a disk that fills mid-write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import factories as F
import pytest

from genai_lens.settings import Settings
from genai_lens.warehouse import connect
from ingest import demo, invocation_logs, landing

CLI = str(Path(sys.executable).parent / "genai-lens")
# What must be equal row for row after a recovered run; bookkeeping times are left out.
TABLES = {
    "invocations": "SELECT * EXCLUDE (source_object) FROM invocations ORDER BY request_id",
    "usage_hourly": "SELECT * FROM usage_hourly ORDER BY ALL",
    "cloudtrail_events": "SELECT * FROM cloudtrail_events ORDER BY event_id",
    "metrics": "SELECT * FROM metrics ORDER BY ALL",
    "cost_daily": "SELECT * FROM cost_daily ORDER BY ALL",
    "quarantine": "SELECT * FROM quarantine ORDER BY ALL",
    "ingest_objects": "SELECT zone, object_key, etag, records, quarantined "
    "FROM ingest_objects ORDER BY ALL",
    "watermarks": "SELECT source, zone, covered_until FROM watermarks ORDER BY ALL",
}


def snapshot(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name: con.execute(q).fetchall() for name, q in TABLES.items()}
    finally:
        con.close()


def cli_env(**extra: str) -> dict[str, str]:
    small_batches = {
        f"GENAI_LENS_{src}__BATCH_FILES": "20"
        for src in ("INVOCATION_LOGS", "CLOUDTRAIL", "METRICS", "COST")
    }
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


def test_kill_9_at_ten_points_of_a_backfill_then_the_warehouse_equals_an_uninterrupted_one(
    estate, reference, tmp_path
):
    victim = tmp_path / "victim.duckdb"
    rng = random.Random(20261125)
    kills = 0
    while kills < 10:
        proc = subprocess.Popen(
            [CLI, "--config", str(estate), "--warehouse", str(victim), "ingest"],
            env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # Progress lines mark committed batches; kill after a random number of them, at a
        # random moment within the next batch.
        wanted = rng.randint(1, 4)
        seen = 0
        assert proc.stderr is not None
        for line in proc.stderr:
            seen += "objects" in line
            if seen >= wanted:
                break
        os.kill(proc.pid, signal.SIGKILL) if proc.poll() is None else None
        killed = proc.wait() == -signal.SIGKILL
        kills += killed
        assert killed or kills >= 3, "the backfill finished before ten kills landed"
        if not killed:
            break  # the run finished before the kill: the backfill is complete
    final = ingest_all(estate, victim)  # the run after the crashes, as the scheduler would
    assert final.returncode == 0, final.stderr
    assert snapshot(victim) == reference
    con = duckdb.connect(str(victim), read_only=True)
    interrupted = con.execute(
        "SELECT count(*) FROM ingest_runs WHERE status = 'interrupted'"
    ).fetchone()[0]
    assert interrupted >= 10  # every killed run is journalled as interrupted, not lost


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
