"""`kill -9` of a real ingest process part-way: the next run finishes the job exactly."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from test_invocation_logs import TABLES, estate

CLI = str(Path(sys.executable).parent / "genai-lens")


def ingest_cmd(warehouse: Path, landing: Path) -> list[str]:
    return [
        CLI,
        "--warehouse",
        str(warehouse),
        "ingest",
        "invocation-logs",
        "--landing",
        str(landing),
    ]


def env() -> dict[str, str]:
    return {
        **os.environ,
        "GENAI_LENS_INVOCATION_LOGS__BATCH_FILES": "2",
        "GENAI_LENS_RESOLVE_PROFILES_WITH_API": "false",
    }


def snapshot(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name: con.execute(q).fetchall() for name, q in TABLES.items()}
    finally:
        con.close()


def loaded_objects(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM ingest_objects").fetchone()[0]
    finally:
        con.close()


@pytest.mark.slow
def test_kill_9_mid_ingest_then_rerun_equals_uninterrupted(tmp_path):
    landing = tmp_path / "landing"
    estate(landing, hours=16, per_file=100)  # 32 objects, 3,200 records, 16 batches
    reference = tmp_path / "reference.duckdb"
    subprocess.run(
        ingest_cmd(reference, landing), env=env(), check=True, capture_output=True, timeout=300
    )
    total = loaded_objects(reference)

    rng = random.Random(20261124)
    mid_run_kills = 0
    for attempt in range(6):
        victim = tmp_path / f"killed-{attempt}.duckdb"
        proc = subprocess.Popen(
            ingest_cmd(victim, landing),
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # Wait until some batches have committed, then pull the plug at a random moment.
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if b"objects" in (proc.stderr.peek(1) if hasattr(proc.stderr, "peek") else b""):
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        still_running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done = loaded_objects(victim) if victim.exists() else 0
        if still_running and 0 < done < total:
            mid_run_kills += 1
        subprocess.run(
            ingest_cmd(victim, landing), env=env(), check=True, capture_output=True, timeout=300
        )
        assert snapshot(victim) == snapshot(reference), f"attempt {attempt}"
        if mid_run_kills >= 2:
            break
    assert mid_run_kills >= 2, "the kills never landed part-way through a run"
