"""Retention: old raw invocations go once the rollup covers them; the rest stays."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import factories as F

from genai_lens.settings import Settings
from genai_lens.warehouse import connect
from ingest import invocation_logs
from ingest.landing import utcnow

CLI = str(Path(sys.executable).parent / "genai-lens")


def test_vacuum_deletes_covered_old_rows_and_keeps_rollups_cost_and_recent(tmp_path):
    root = tmp_path / "landing"
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    old, recent = now - timedelta(days=500), now - timedelta(days=3)
    for ts in (old, old + timedelta(hours=1), recent):
        recs = [F.converse(timestamp=f"{ts:%Y-%m-%dT%H}:10:00Z") for _ in range(4)]
        F.land(root, recs, ts)
    path = tmp_path / "w.duckdb"
    con = connect(path)
    cfg = Settings(resolve_profiles_with_api=False,
                   invocation_logs={"landing_zones": [{"uri": str(root)}]})  # fmt: skip
    invocation_logs.run(con, cfg, since=old - timedelta(hours=1))
    # an old hour whose rollup is missing keeps its raw rows: nothing would be left of it
    con.execute("DELETE FROM usage_hourly WHERE hour = ?", [old + timedelta(hours=1)])
    con.execute(
        "INSERT INTO invocation_text VALUES ('r-old', ?, '[EMAIL]', 'ok', 1, 'x'), "
        "('r-new', ?, 'hi', 'ok', 0, 'x')",
        [now - timedelta(days=40), now - timedelta(days=2)],
    )
    before_rollup = con.execute("SELECT sum(invocations) FROM usage_hourly").fetchone()
    con.close()
    res = subprocess.run([CLI, "--warehouse", str(path), "vacuum"], capture_output=True,
                         text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "vacuum: 5 rows deleted" in res.stdout  # 4 raw invocations + 1 old text row
    assert "deleted 4 raw invocations older than" in res.stdout
    con = connect(path)
    hours = con.execute(
        "SELECT date_trunc('hour', ts), count(*) FROM invocations GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert hours == [(old + timedelta(hours=1), 4), (recent, 4)]
    assert con.execute("SELECT sum(invocations) FROM usage_hourly").fetchone() == before_rollup
    assert con.execute("SELECT request_id FROM invocation_text").fetchall() == [("r-new",)]
    (status,) = con.execute("SELECT status FROM ingest_runs WHERE source = 'vacuum'").fetchone()
    assert status == "ok"
