"""`genai-lens demo --now`: at a fixed clock and seed the demo is the same on any day.

Two builds, one fixed by `--now` and one by GENAI_LENS_NOW, give the same tables and the same
output (timings aside); and no table holds a time after the fixed clock, which is months before
any day this suite runs, so nothing in the warehouse came from the wall clock.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow  # builds a small demo estate twice, end to end

CLI = str(Path(sys.executable).parent / "genai-lens")
NOW = "2026-06-30T12:00:00Z"
FIXED = datetime(2026, 6, 30, 12)
FORECAST_END = date(2026, 9, 30)  # the end of the quarter after NOW's: the forecast horizon
DEMO = ["demo", "--days", "8", "--per-day", "120", "--seed", "3", "--no-serve", "--out", "demo"]
# What two builds of one estate differ in by nature, whatever the clock: a run's id and
# process, and a landing file's etag (a local file's is its modification time and size).
PER_BUILD = {("ingest_runs", "run_id"), ("ingest_runs", "pid"), ("ingest_objects", "etag")}
# Days after now by design: the forecast, the periods it lands, and the day a quota's
# forecast busiest minute crosses it (30 days ahead at most).
FUTURE = {("forecasts", "day"), ("forecast_landing", "period_end"),
          ("cost_forecast", "period_end"), ("quota_runway", "crossing_day")}  # fmt: skip


def _build(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    res = subprocess.run([CLI, *DEMO, *args], cwd=cwd, capture_output=True, text=True,
                         timeout=600, env={**os.environ, **(env or {})})  # fmt: skip
    assert res.returncode == 0, res.stderr
    return re.sub(r" in \d+\.\ds", "", res.stdout)  # timings aside


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    cwd = tmp_path_factory.mktemp("fixed-clock")
    first_out = _build(cwd, "--now", NOW)
    first = cwd / "first.duckdb"
    shutil.copy(cwd / "demo" / "warehouse.duckdb", first)
    second_out = _build(cwd, env={"GENAI_LENS_NOW": NOW})  # the same folder: the same paths
    return first, cwd / "demo" / "warehouse.duckdb", first_out, second_out


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    ]


def _column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> list[str]:
    """The column's values, sorted; floats to 10 significant digits: DuckDB's parallel sums
    add in whatever order its threads finish, which moves the last bits, not the figures."""
    rows = con.execute(f'SELECT "{column}" FROM {table}').fetchall()
    return sorted(repr(f"{v:.10g}" if isinstance(v, float) else v) for (v,) in rows)


def test_the_same_seed_and_clock_build_the_same_tables_and_output(builds):
    first, second, first_out, second_out = builds
    a = duckdb.connect(str(first), read_only=True)
    b = duckdb.connect(str(second), read_only=True)
    assert _tables(a) == _tables(b)
    compared = 0
    for table in _tables(a):
        columns = [d[0] for d in a.execute(f"SELECT * FROM {table} LIMIT 0").description]
        for column in columns:
            if (table, column) not in PER_BUILD:
                assert _column(a, table, column) == _column(b, table, column), (table, column)
                compared += 1
    assert compared > 200
    assert a.execute("SELECT count(*) FROM invocations").fetchone()[0] > 500
    assert a.execute("SELECT count(*) FROM forecasts").fetchone()[0] > 100
    assert first_out == second_out and "demo: ready" in first_out


def test_nothing_in_the_warehouse_is_later_than_the_fixed_clock(builds):
    """The real clock is months after NOW: a single read of it would show as a later time."""
    con = duckdb.connect(str(builds[0]), read_only=True)
    times = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal "
        "AND (data_type = 'DATE' OR data_type = 'TIMESTAMP') ORDER BY ALL"
    ).fetchall()
    assert len(times) > 20
    for table, column in times:
        (newest,) = con.execute(f'SELECT max("{column}") FROM {table}').fetchone()
        if newest is None:
            continue
        limit = FORECAST_END if (table, column) in FUTURE else FIXED
        newest = newest if isinstance(newest, datetime) else datetime.combine(newest, FIXED.time())
        assert newest <= datetime.combine(limit, FIXED.time()), (table, column, newest)
    # ... and the clock is the fixed one, not merely an earlier one
    assert con.execute("SELECT DISTINCT started_at FROM ingest_runs").fetchall() == [(FIXED,)]
    assert con.execute("SELECT min(day) FROM forecasts WHERE actual IS NULL").fetchone() == (
        date(2026, 6, 30),
    )
    assert con.execute("SELECT max(hour) FROM usage_hourly").fetchone() == (
        datetime(2026, 6, 30, 11),
    )
