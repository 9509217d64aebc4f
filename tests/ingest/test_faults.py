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

from base.settings import Settings
from demo import estate as demo
from ingest import landing
from ingest.invocation_logs import ingester as invocation_logs
from warehouse.db import connect

CLI = str(Path(sys.executable).parent / "genai-lens")
# Compared row for row after a recovered run: every table, found in the warehouse so a new one
# is compared without being listed here, less the journal of runs (times, pids, a row per
# killed run) and the migration record, and less the columns that say when a row was written.
BOOKKEEPING = ("ingest_runs", "schema_migrations")
WRITTEN_AT = {
    "ingest_objects": ("loaded_at",),
    "watermarks": ("updated_at",),
    "cost_forecast": ("created_at",),
}
SOURCES = ("invocation-logs", "cloudtrail", "metrics", "cost")


def tables(con: duckdb.DuckDBPyConnection, db: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
            "AND schema_name = 'main' AND NOT temporary AND NOT internal ORDER BY 1",
            [db],
        ).fetchall()
        if r[0] not in BOOKKEEPING
    ]


def _columns(con: duckdb.DuckDBPyConnection, db: str, table: str) -> str:
    """The columns compared; doubles to twelve significant digits. The rollups sum exactly
    (DECIMAL), so a recovered run gives the very same doubles: twelve digits leave room for
    nothing but how a float was computed, never for a lost or an extra row."""
    cols = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [db, table],
    ).fetchall()
    return ", ".join(
        f"CASE WHEN {q} = 0 OR NOT isfinite({q}) THEN {q} "
        f"ELSE round({q}, 11 - floor(log10(abs({q})))::INTEGER) END AS {q}"
        if kind == "DOUBLE" else q
        for c, kind in cols
        if c not in WRITTEN_AT.get(table, ()) and (q := f'"{c}"')
    )  # fmt: skip


def differences(path: Path, reference: Path, only: tuple[str, ...] = ()) -> dict[str, object]:
    """Per table that differs: rows only in `path`, rows only in `reference` (a few of each).

    Compared inside DuckDB (EXCEPT ALL keeps duplicates): hundreds of thousands of metric
    rows, which as Python tuples took seconds a side."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{path}' AS got (READ_ONLY)")
        con.execute(f"ATTACH '{reference}' AS want (READ_ONLY)")
        names = only or tuple(tables(con, "want"))
        assert set(tables(con, "got")) >= set(names)
        found: dict[str, object] = {}
        for name in names:
            cols = _columns(con, "want", name)
            extra, missing = (
                con.execute(
                    f"SELECT * FROM (SELECT {cols} FROM {a}.{name} "
                    f"EXCEPT ALL SELECT {cols} FROM {b}.{name}) LIMIT 3"
                ).fetchall()
                for a, b in (("got", "want"), ("want", "got"))
            )
            if extra or missing:
                found[name] = {"extra": extra, "missing": missing}
        return found
    finally:
        con.close()


def cli_env(batch_files: int | None = 20, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: small batches (so a fault can land between commits), or
    the default sizes with batch_files=None."""
    if batch_files is None:
        return {**os.environ, **extra}
    small_batches = {
        f"GENAI_LENS_{src}__BATCH_FILES": str(batch_files)
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
def reference(estate: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse of one uninterrupted run."""
    path = tmp_path_factory.mktemp("reference") / "reference.duckdb"
    done = ingest_all(estate, path)
    assert done.returncode == 0, done.stderr
    return path


def rows(path: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    finally:
        con.close()


def ingest_all(
    config: Path, warehouse: Path, batch_files: int | None = None, **env: str
) -> subprocess.CompletedProcess:
    """Every source, in one CLI run. Default batch sizes: what a run commits is the same
    whatever the batch size (tests/ingest/test_parallel.py), and the uninterrupted reference
    and the runs that recover load in a few batches instead of a hundred small ones."""
    return subprocess.run(
        [CLI, "--config", str(config), "--warehouse", str(warehouse), "ingest"],
        env=cli_env(batch_files, **env), capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run to the end: seconds taken, and batches committed (one progress line each)."""
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return time.perf_counter() - started, done.stderr.count(" objects (")


def kill_after(cmd: list[str], env: dict[str, str], batches: int, delay: float) -> tuple[bool, int]:
    """Start an ingest, let it commit `batches` batches, kill -9 it `delay` seconds later.

    Whether the kill landed (the run had not finished), and the batches it saw committed."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    assert proc.stderr is not None
    seen = 0
    while seen < batches and (line := proc.stderr.readline()):
        seen += " objects (" in line
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
    return proc.wait() == -signal.SIGKILL, seen


@pytest.mark.slow
def test_kill_9_at_random_points_of_every_source_then_the_warehouse_equals_an_uninterrupted_one(
    tmp_path,
):
    """Three kills per source at seeded random points of a backfill of a dozen batches or more
    per source (a week: ~2,100 invocations, ~2,400 trail, metric and bill objects, in batches
    of 50 objects: as many batches as two weeks in batches of 100, at half the data to read).

    A point is a batch drawn at random over the source's whole backfill and a random moment
    inside it (reading, parsing, the transaction, its commit): the run is let commit the
    batches before it, then killed that far into the next. Batches, not seconds, place the
    kills over the backfill, so they spread over it and land however busy the machine is."""
    config = demo.generate_estate(tmp_path / "estate", days=7, per_day=300,
                                  end=datetime(2026, 11, 20)).config_path  # fmt: skip
    ref_path, victim = tmp_path / "reference.duckdb", tmp_path / "victim.duckdb"

    def cmd(path: Path, *args: str) -> list[str]:
        return [CLI, "--config", str(config), "--warehouse", str(path), *args]

    env = cli_env(batch_files=50)
    start_up, _ = timed(cmd(ref_path, "migrate"), env)  # imports, config, opening the file
    runs = {s: timed(cmd(ref_path, "ingest", s), env) for s in SOURCES}
    for table in ("usage_errors_hourly", "usage_guardrails_hourly", "usage_principals_hourly",
                  "usage_metrics_hourly", "usage_changes", "cost_daily", "quarantine"):  # fmt: skip
        assert rows(ref_path, table), f"the estate leaves {table} empty: it would prove nothing"
    assert any(row[3] == "unresolved" for row in rows(ref_path, "inference_profiles"))

    rng = random.Random(20261204)
    landed, points = dict.fromkeys(SOURCES, 0), []
    for source in SOURCES:  # in the order a backfill runs them
        took, batches = runs[source]
        per_batch = max(took - start_up, 0.1) / max(batches, 1)
        if batches >= 5:
            # Three batches over the whole backfill, never the last two: a run killed a moment
            # into batch N still has N+1 to do, so the kill lands however fast this run goes.
            targets = sorted(rng.sample(range(1, batches - 1), 3))
            plans = [(t, rng.uniform(0.0, 0.9) * per_batch) for t in targets]
        else:  # the bill: two objects, so into start-up or the first batch
            plans = [(0, rng.uniform(0.2, 0.8) * (start_up + per_batch)) for _ in range(3)]
        done = 0  # batches committed by the runs killed so far
        for target, delay in plans:
            wait = max(target - done, 1) if target else 0
            killed, seen = kill_after(cmd(victim, "ingest", source), env, wait, delay)
            if not killed:
                break  # it finished first: that source is done, on to the next
            landed[source] += 1
            done += seen
            points.append((source, target, round(delay, 2)))
    assert sum(landed.values()) >= 10 and min(landed.values()) >= 2, (landed, points)
    assert len({p[:2] for p in points}) >= 9, points  # spread, not the same batch again and again
    final = ingest_all(config, victim)  # the run after the crashes (default batch sizes)
    assert final.returncode == 0, final.stderr
    assert differences(victim, ref_path) == {}
    con = duckdb.connect(str(victim), read_only=True)
    journalled = dict(con.execute(
        "SELECT source, count(*) FROM ingest_runs WHERE status = 'interrupted' GROUP BY ALL"
    ).fetchall())  # fmt: skip
    # A kill in a run's first moments may come before its journal row: never more than landed.
    assert all(journalled.get(s, 0) <= landed[s] for s in SOURCES), (journalled, landed)
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
    before = rows(path, "cost_daily")
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
    assert rows(path, "cost_daily") == before  # what was committed is intact
    assert ingest_all(estate, path).returncode == 0  # room again: the run completes
    assert differences(path, reference) == {}


def test_out_of_memory_is_one_line_naming_the_setting_and_the_next_run_recovers(
    estate, reference, tmp_path
):
    path = tmp_path / "w.duckdb"
    # CloudTrail files are single JSON objects: DuckDB's reader needs a buffer twice the largest
    # file's size (16 MB at least) for them. Batches may commit before one runs out.
    starved = subprocess.run(
        [CLI, "--config", str(estate), "--warehouse", str(path), "ingest", "cloudtrail"],
        env={**cli_env(), "GENAI_LENS_MEMORY_LIMIT": "64MB"}, capture_output=True, text=True,
    )  # fmt: skip
    assert starved.returncode == 2, starved.stderr
    *progress, error = starved.stderr.strip().splitlines()
    assert "Traceback" not in starved.stderr
    assert all(" objects (" in line for line in progress), progress  # a batch's line each
    assert "ran out of memory" in error and "memory_limit" in error
    assert ingest_all(estate, path).returncode == 0  # the default limit: the run completes
    assert differences(path, reference) == {}


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
