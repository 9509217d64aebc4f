"""The parallel paths (files parsed by several reader threads, the next batch parsed while one
is written, big batches) load exactly the warehouse the serial path loads: one reader, a few
objects a batch."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from base.settings import load_settings
from demo import estate as demo
from ingest.cloudtrail import ingester as cloudtrail
from ingest.cloudtrail import readers as trail_readers
from ingest.invocation_logs import ingester as invocation_logs
from warehouse.db import connect

# Written when they ran, not what they loaded.
WRITTEN_AT = {"ingest_objects": ("loaded_at",), "watermarks": ("updated_at",)}


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("estate")
    return demo.generate_estate(out, days=7, per_day=150, end=datetime(2026, 11, 20)).config_path


def load(config: Path, path: Path, batch_files: int) -> None:
    settings = load_settings(config)
    limits = {"batch_files": batch_files}
    settings = settings.model_copy(update={
        "invocation_logs": settings.invocation_logs.model_copy(update=limits),
        "cloudtrail": settings.cloudtrail.model_copy(update=limits),
    })  # fmt: skip
    con = connect(path)
    try:
        assert invocation_logs.run(con, settings).records > 0
        assert cloudtrail.run(con, settings).records > 0
    finally:
        con.close()


def differences(got: Path, want: Path) -> dict[str, int]:
    """Rows in one warehouse and not the other (EXCEPT ALL keeps duplicates), per table."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{got}' AS got (READ_ONLY)")
    con.execute(f"ATTACH '{want}' AS want (READ_ONLY)")
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'want' AND NOT internal "
        "AND table_name <> 'schema_migrations'").fetchall()]  # fmt: skip
    found = {}
    for name in names:
        cols = ", ".join(
            f'"{c}"'
            for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'want' "
                "AND table_name = ? ORDER BY column_index",
                [name],
            ).fetchall()
            if c not in WRITTEN_AT.get(name, ())
        )
        n = con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM got.{name} EXCEPT ALL "
            f"SELECT {cols} FROM want.{name} UNION ALL (SELECT {cols} FROM want.{name} "
            f"EXCEPT ALL SELECT {cols} FROM got.{name}))"
        ).fetchone()[0]  # type: ignore[index]
        if n:
            found[name] = n
    con.close()
    return found


def test_parallel_readers_and_big_batches_load_the_serial_warehouse_row_for_row(
    estate, tmp_path, monkeypatch
):
    load(estate, tmp_path / "parallel.duckdb", batch_files=50)
    monkeypatch.setattr(invocation_logs, "READERS", 1)
    monkeypatch.setattr(trail_readers, "READERS", 1)
    load(estate, tmp_path / "serial.duckdb", batch_files=10)
    assert differences(tmp_path / "parallel.duckdb", tmp_path / "serial.duckdb") == {}
    # The comparison could fail: the estate loaded rows into the tables that matter.
    con = duckdb.connect(str(tmp_path / "serial.duckdb"), read_only=True)
    for table in ("invocations", "usage_hourly", "cloudtrail_events", "cloudtrail_calls_hourly"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    con.close()
