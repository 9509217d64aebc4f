"""Numbered, forward-only migrations recorded with checksums."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from base.errors import MigrationError
from warehouse.db import MIGRATIONS_DIR, apply_migrations, connect, discover_migrations

# Landed migrations never change; a new schema change is a new file. Add a line here for
# each new migration (its sha256); editing a landed one fails this test.
LANDED = {
    "0001_create_invocation_tables.sql": (
        "470f6aa45ba3f6fdd4195e2be689e3aa0295e763894707d6f4a4128aea3ef9fe"
    ),
    "0002_create_cloudtrail_events.sql": (
        "e140337db6c6be39a43c887e3828c6d362014763d70142dc8e7e5b30187632d4"
    ),
    "0003_create_metrics.sql": "3f577c0d00617c11702fa72beaf21cc4d6c01d91be120248f4f556ca8b4ff9a3",
    "0004_create_cost_tables.sql": (
        "5e2df7385346f69887ac6c1792a4ed31fe55a2236212c6e5f286226264f2fc1a"
    ),
    "0005_create_ingest_runs.sql": (
        "fbc6a6cff2fde6438058b0e3f2dd3ba7c6c859a18884897866c171d2b504095f"
    ),
    "0006_create_model_tables.sql": (
        "15b464cbcb68fa787c0e4f0f4be8c3c1c825f53e5f514cd5ae9ecd2a6e9db643"
    ),
    "0007_create_invocation_text.sql": (
        "c64e8de7883ca81c479b319cccc48febf809c97ddec5e26c563022ec8878deee"
    ),
    "0008_create_page_rollups.sql": (
        "25a7733a7b3e2dc357b4f819b8cb15927685b6038615b27719341832943b8af3"
    ),
    "0009_create_filter_macros.sql": (
        "7f967955865dd4c3a09a7960fc33d52b29aafbe0959ec75b485c3e36ed7ada9e"
    ),
    "0010_add_ingest_runs_deletions.sql": (
        "36c9f10e0fa608eda60925a784d6b55eae0f773eee6e38351b0fc067153e3fb9"
    ),
    "0011_add_usage_hourly_percentiles.sql": (
        "13438c76d2881d00e3c270a9d52b7da3636eaacfd277f7854ef7b600cafe8f45"
    ),
    "0012_create_cw_calls_hourly.sql": (
        "4acac7399279dcd880110fe8761b2662b30194ebf8ecd2d516d636484c0e058f"
    ),
    "0013_add_cost_bill_identity.sql": (
        "8844c4dd24c2af6d56754dce85c10aabacf8537dd2bc5716fe2a928941f0fa8a"
    ),
    "0014_add_service_tiers_and_price_rules.sql": (
        "f794fd6f908ad90b9e977a4fdc2c42f6dd84e87bddc414dbcb2a917f9ab93ad3"
    ),
    "0015_create_capacity_savings.sql": (
        "8d0ebd678269aa816b08312ce9e0e690ca6ebdfb0bbe126058f362abea4b176b"
    ),
    "0016_create_quota_and_lifecycle.sql": (
        "ea7a4aace4298e0860ee75480278ecc1b57020a8c31744bc15ea9bf3d43f2ca1"
    ),
    "0017_create_cloudtrail_calls_hourly.sql": (
        "b2517436b79690476c18be72dbf4f50c8f7af8548c6465a782da29b34f5f6bec"
    ),
    "0018_create_rollup_pending.sql": (
        "460e99c78bf9928d2c1a9aab3d2e482325c700a6d371f7a4e26bf4f9cc4a1765"
    ),
    "0019_create_anomaly_tuning.sql": (
        "9d01190e7b960de419ad9785a5cac83791c5ced0fa70418deccff4cce3792fd4"
    ),
}


def test_repository_migrations_are_numbered_without_gaps_and_unedited():
    found = discover_migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    for mig in found:
        assert mig.path.name in LANDED, f"record {mig.path.name} in LANDED"
        assert hashlib.sha256(mig.path.read_bytes()).hexdigest() == LANDED[mig.path.name], (
            f"{mig.path.name} was edited after it landed; add a new migration instead"
        )


def copy_migrations(tmp_path: Path) -> tuple[Path, int]:
    """A copy of the real migrations folder, and the number the next migration takes."""
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    return folder, len(discover_migrations()) + 1


def test_gap_and_duplicate_are_refused(tmp_path):
    folder, nxt = copy_migrations(tmp_path)
    (folder / f"{nxt + 1:04d}_add_things.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=f"gap before migration {nxt + 1:04d}"):
        discover_migrations(folder)
    (folder / f"{nxt + 1:04d}_add_things.sql").unlink()
    (folder / "0001_again.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="duplicate"):
        discover_migrations(folder)


def test_an_install_without_migrations_says_so(tmp_path):
    with pytest.raises(MigrationError, match="lacks its SQL files"):
        discover_migrations(tmp_path)


def test_applied_once_recorded_and_edit_detected(tmp_path):
    folder, nxt = copy_migrations(tmp_path)
    con = connect(tmp_path / "w.duckdb")  # applies the real ones
    assert apply_migrations(con, folder) == []
    note = folder / f"{nxt:04d}_add_note.sql"
    note.write_text("CREATE TABLE note (x INTEGER);")
    assert apply_migrations(con, folder) == [note.name]
    last = con.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()[-1]
    assert last == (nxt, "add_note")
    note.write_text("CREATE TABLE note (x BIGINT);")
    with pytest.raises(MigrationError, match="was edited after it was applied"):
        apply_migrations(con, folder)


def test_a_failing_migration_leaves_nothing_half_applied(tmp_path):
    folder, nxt = copy_migrations(tmp_path)
    con = connect(tmp_path / "w.duckdb")
    (folder / f"{nxt:04d}_broken.sql").write_text("CREATE TABLE half (x INT); SELECT * FROM nope;")
    with pytest.raises(MigrationError, match=rf"{nxt:04d}_broken\.sql failed"):
        apply_migrations(con, folder)
    assert con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half'"
    ).fetchone() == (0,)
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchone() == (nxt - 1,)


def test_new_percentiles_are_filled_for_hours_whose_raw_rows_remain(tmp_path):
    """0011 adds latency p90 / p99 and first-byte figures to a warehouse loaded before it: from
    the raw rows where they are still kept, NULL (and a count of 0) for an hour retention
    already cut (never guessed from the figures kept)."""
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    for later in folder.glob("*.sql"):  # the warehouse as it was before 0011
        if later.name >= "0011":
            later.unlink()
    con = connect(tmp_path / "w.duckdb", migrate=False)
    apply_migrations(con, folder)
    con.execute("""
        INSERT INTO invocations (request_id, ts, lob, app, model, operation, account_id, region,
            input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, latency_ms,
            first_byte_ms, source_object)
        SELECT 'r' || i, TIMESTAMP '2026-11-02 10:00:00' + INTERVAL (i % 60) MINUTE, 'wealth',
            'advisor', 'm', 'InvokeModelWithResponseStream', '111122223333', 'us-east-1',
            1, 1, 0, 0, 100 + i * 7 % 1000, CASE WHEN i % 4 > 0 THEN 20 + i * 3 % 200 END, 'o'
        FROM range(500) t(i)
    """)
    con.execute("""
        INSERT INTO usage_hourly BY NAME
        SELECT date_trunc('hour', ts) AS hour, account_id, region, lob, app, model, operation,
            count(*) AS invocations, 0 AS errors, 0 AS throttles, 0 AS input_tokens,
            0 AS output_tokens, 0 AS cache_read_tokens, 0 AS cache_write_tokens,
            0 AS unpriced_invocations, 0 AS guardrail_invocations,
            0 AS guardrail_interventions, count(latency_ms) AS latency_count,
            quantile_cont(latency_ms, 0.5) AS latency_p50_ms,
            quantile_cont(latency_ms, 0.95) AS latency_p95_ms
        FROM invocations GROUP BY ALL
        UNION ALL  -- an hour whose raw rows retention deleted
        SELECT TIMESTAMP '2025-01-01 00:00:00', '111122223333', 'us-east-1', 'wealth',
            'advisor', 'm', 'Converse', 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 120.0, 300.0
    """)
    con.close()

    con = connect(tmp_path / "w.duckdb")  # the real folder: 0011 runs now
    expected = con.execute("""
        SELECT quantile_cont(latency_ms, 0.9), quantile_cont(latency_ms, 0.99),
            count(first_byte_ms), sum(first_byte_ms), quantile_cont(first_byte_ms, 0.5),
            quantile_cont(first_byte_ms, 0.9), quantile_cont(first_byte_ms, 0.99)
        FROM invocations
    """).fetchone()
    got = con.execute("""
        SELECT latency_p90_ms, latency_p99_ms, first_byte_count, first_byte_ms_sum,
            first_byte_p50_ms, first_byte_p90_ms, first_byte_p99_ms
        FROM usage_hourly ORDER BY hour
    """).fetchall()
    assert got[0] == (None, None, 0, None, None, None, None)
    assert got[1] == pytest.approx(expected)
    assert expected[2] == 375 and got[1][0] < got[1][1]
