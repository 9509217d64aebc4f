"""`genai-lens status`: per source its last run, status, lag behind now, rows, quarantined and
next run, read from the warehouse when no server holds it."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import factories as F

from base.clock import utcnow

CLI = str(Path(sys.executable).parent / "genai-lens")


def test_status_prints_every_column_per_source(tmp_path, clock_at):
    # The lag is counted from now: on the real clock an hour turning mid-test made it 4h.
    clock_at(datetime(2026, 12, 1, 12, 30))
    root = tmp_path / "landing"
    hour = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    records = [F.converse(timestamp=f"{hour:%Y-%m-%dT%H}:{m:02d}:00Z") for m in range(4)]
    F.land(root, [*records, "not json"], hour)
    config = tmp_path / "genai-lens.toml"
    config.write_text(
        f'resolve_profiles_with_api = false\n[[invocation_logs.landing_zones]]\nuri = "{root}"\n'
    )
    base = [CLI, "--config", str(config), "--warehouse", str(tmp_path / "w.duckdb")]
    assert subprocess.run([*base, "ingest"], capture_output=True).returncode == 0
    out = subprocess.run([*base, "status"], capture_output=True, text=True, check=True).stdout
    header, *rows = out.splitlines()
    assert header.split() == ["source", "last", "run", "status", "lag", "rows", "quarant.",
                              "next", "run"]  # fmt: skip
    line = next(r.split() for r in rows if r.startswith("invocation-logs"))
    ran = datetime.strptime(f"{line[1]} {line[2]}", "%Y-%m-%d %H:%M")
    assert ran == utcnow().replace(second=0) == datetime(2026, 12, 1, 12, 30)
    assert line[3] == "ok" and line[5:7] == ["4", "1"]  # rows, quarantined
    assert line[4] == "3h"  # the newest hour landed is three behind now
    assert line[-2:] != ["on", "demand"]  # the server's scheduler runs it
