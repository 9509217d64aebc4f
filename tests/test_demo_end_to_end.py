"""`genai-lens demo --no-serve`: the estate goes through the production ingest, and the
warehouse tells the truth the simulator wrote down — without a byte of prompt text."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest import demo

CLI = str(Path(sys.executable).parent / "genai-lens")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    cwd = tmp_path_factory.mktemp("demo")
    res = subprocess.run(
        [CLI, "demo", "--days", "14", "--per-day", "1500", "--no-serve"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    return cwd / "data" / "demo", res


def test_every_logged_invocation_loads_and_bad_records_are_quarantined(demo_run):
    out, res = demo_run
    truth = json.loads((out / "ground_truth.json").read_text())
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    assert con.execute(
        "SELECT count(*), count(DISTINCT request_id) FROM invocations"
    ).fetchone() == (truth["invocations"]["logged"], truth["invocations"]["logged"])
    quarantined = {
        (Path(o).name, line)
        for o, line in con.execute("SELECT source_object, line FROM quarantine").fetchall()
    }
    planted = {(Path(b["file"]).name, b["line"]) for b in truth["bad_records"]}
    assert {name for name, _ in quarantined} == {name for name, _ in planted}
    assert "quarantined" in res.stdout or "quarantined" in res.stderr


def test_attribution_matches_the_simulated_truth(demo_run):
    out, _ = demo_run
    frame = demo.simulate(days=14, seed=7, per_day=1500, end=_end_of(out)).filter(pl.col("logged"))
    expected = Counter(frame["attributed_lob"].to_list())
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    got = dict(con.execute("SELECT lob, count(*) FROM invocations GROUP BY lob").fetchall())
    assert got == dict(expected)
    rollup = dict(
        con.execute("SELECT lob, sum(invocations) FROM usage_hourly GROUP BY lob").fetchall()
    )
    assert rollup == got


def test_logging_off_window_is_a_gap_in_the_warehouse(demo_run):
    out, _ = demo_run
    truth = json.loads((out / "ground_truth.json").read_text())
    off = next(i for i in truth["incidents"] if i["kind"] == "logging_off")
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    inside = con.execute(
        "SELECT count(*) FROM invocations WHERE account_id = ? AND region = ? "
        "AND ts >= ?::TIMESTAMPTZ AND ts < ?::TIMESTAMPTZ",
        [off["account"], off["region"], off["start"], off["end"]],
    ).fetchone()[0]
    assert inside == 0 and off["effect"]["suppressed_invocations"] > 0


def test_unpriced_and_unresolved_are_counted_not_zero(demo_run):
    out, _ = demo_run
    truth = json.loads((out / "ground_truth.json").read_text())
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    unpriced_model = truth["unpriced_model"]["model"]
    row = con.execute(
        "SELECT count(*), count(est_cost_usd) FROM invocations WHERE model = ?", [unpriced_model]
    ).fetchone()
    assert row[0] > 0 and row[1] == 0
    unresolved = con.execute(
        "SELECT count(*) FROM invocations WHERE model IS NULL AND model_unresolved IS NOT NULL"
    ).fetchone()[0]
    assert unresolved > 0


def test_the_canary_never_reaches_the_warehouse(demo_run):
    out, _ = demo_run
    landing_hits = sum(
        demo.DEMO_CANARY.encode() in _gunzip(p)
        for p in list((out / "landing").rglob("*.json.gz"))[:200]
    )
    assert landing_hits > 0  # it really is in the prompts
    for path in out.glob("warehouse.duckdb*"):
        assert demo.DEMO_CANARY.encode() not in path.read_bytes()


def _gunzip(path: Path) -> bytes:
    import gzip

    try:
        return gzip.decompress(path.read_bytes())
    except (EOFError, OSError):
        return b""


def _end_of(out: Path):
    from datetime import datetime

    truth = json.loads((out / "ground_truth.json").read_text())
    return datetime.fromisoformat(truth["end"].replace("Z", "+00:00")).replace(tzinfo=None)
