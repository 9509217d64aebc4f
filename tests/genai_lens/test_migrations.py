"""Numbered, forward-only migrations recorded with checksums."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from genai_lens.errors import MigrationError
from genai_lens.warehouse import MIGRATIONS_DIR, apply_migrations, connect, discover_migrations

# Landed migrations never change; a new schema change is a new file. Add a line here for
# each new migration (its sha256); editing a landed one fails this test.
LANDED = {
    "0001_create_invocation_tables.sql": (
        "470f6aa45ba3f6fdd4195e2be689e3aa0295e763894707d6f4a4128aea3ef9fe"
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


def copy_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    return folder


def test_gap_and_duplicate_are_refused(tmp_path):
    folder = copy_migrations(tmp_path)
    (folder / "0003_add_things.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="gap before migration 0003"):
        discover_migrations(folder)
    (folder / "0003_add_things.sql").unlink()
    (folder / "0001_again.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="duplicate"):
        discover_migrations(folder)


def test_applied_once_recorded_and_edit_detected(tmp_path):
    folder = copy_migrations(tmp_path)
    con = connect(tmp_path / "w.duckdb")  # applies the real ones
    assert apply_migrations(con, folder) == []
    (folder / "0002_add_note.sql").write_text("CREATE TABLE note (x INTEGER);")
    assert apply_migrations(con, folder) == ["0002_add_note.sql"]
    assert con.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()[-1] == (
        2,
        "add_note",
    )
    (folder / "0002_add_note.sql").write_text("CREATE TABLE note (x BIGINT);")
    with pytest.raises(MigrationError, match="was edited after it was applied"):
        apply_migrations(con, folder)


def test_a_failing_migration_leaves_nothing_half_applied(tmp_path):
    folder = copy_migrations(tmp_path)
    con = connect(tmp_path / "w.duckdb")
    (folder / "0002_broken.sql").write_text("CREATE TABLE half (x INT); SELECT * FROM nope;")
    with pytest.raises(MigrationError, match=r"0002_broken\.sql failed"):
        apply_migrations(con, folder)
    assert con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half'"
    ).fetchone() == (0,)
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchone() == (1,)
