"""The DuckDB warehouse: opening it, applying numbered migrations, running named SQL files."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from base import clock
from base.errors import MigrationError, WarehouseError

# sql/ is a package of data files, found where it is installed: the checkout (editable) or
# site-packages (a wheel), never by a path relative to the working directory.
SQL_DIR = Path(str(resources.files("sql")))
MIGRATIONS_DIR = SQL_DIR / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Migrations in order; gaps, duplicates and badly named files are errors."""
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"{path.name}: migration files are named NNNN_verb_phrase.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path))
    if not found:  # an install without its SQL files: every query would fail on a missing table
        raise MigrationError(
            f"no migrations in {folder}: this install of genai-lens lacks its SQL files; "
            "reinstall it from a wheel built with `uv build` (or `pip install .`)"
        )
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            kind = "duplicate" if mig.version < expected else "gap before"
            raise MigrationError(
                f"{kind} migration {mig.path.name}: expected number "
                f"{expected:04d}; migrations are numbered 0001, 0002, ..."
            )
    return found


def apply_migrations(con: duckdb.DuckDBPyConnection, folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply what is pending, each in its own transaction; refuse edited applied ones."""
    con.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, checksum VARCHAR NOT NULL,
        applied_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'))""")
    applied = dict(con.execute("SELECT version, checksum FROM schema_migrations").fetchall())
    done: list[str] = []
    for mig in discover_migrations(folder):
        if mig.version in applied:
            if applied[mig.version] != mig.checksum:
                raise MigrationError(
                    f"migration {mig.path.name} was edited after it was applied to this "
                    "warehouse; migrations are forward-only: restore it and add a new one"
                )
            continue
        con.execute("BEGIN")
        try:
            con.execute(mig.path.read_text())
            con.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                "VALUES (?, ?, ?, ?)",
                [mig.version, mig.name, mig.checksum, clock.utcnow()],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise MigrationError(f"migration {mig.path.name} failed: {exc}") from exc
        done.append(mig.path.name)
    unknown = set(applied) - {m.version for m in discover_migrations(folder)}
    if unknown:
        raise MigrationError(
            f"this warehouse has migrations {sorted(unknown)} that this "
            "version of genai-lens does not know; upgrade genai-lens"
        )
    return done


# DuckDB's buffer pool defaults to 80% of RAM and keeps what it read: a long backfill would
# look like a leak. A cap keeps ingest and the server bounded; big sorts spill to disk.
MEMORY_LIMIT = "2GB"


def connect(
    path: Path, *, read_only: bool = False, migrate: bool = True, memory_limit: str = MEMORY_LIMIT
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating it and its folder) and bring its schema up to date."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit})
    except duckdb.IOException as exc:
        raise WarehouseError(describe_open_error(path, exc)) from None
    if migrate and not read_only:
        apply_migrations(con)
    return con


def ensure_not_held(path: Path) -> None:
    """Raise the one-line lock error if another process has the warehouse at `path` open.

    For a command about to delete or replace the file: DuckDB's lock is taken only on open, so
    opening (and closing at once) is the one way to ask. Any other open error is ignored: the
    file is about to go anyway.
    """
    if not path.exists():
        return
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseError(describe_open_error(path, exc)) from None
    except duckdb.Error:
        pass


def describe_open_error(path: Path, exc: Exception) -> str:
    text = str(exc)
    if "lock" in text.lower():
        holder = re.search(r"\(PID (\d+)\)", text)
        who = f"process {holder.group(1)}" if holder else "another process"
        return (
            f"the warehouse {path} is in use by {who} (a running `genai-lens serve`?); "
            "stop it, or use its 'run now' buttons instead of the CLI"
        )
    return f"cannot open the warehouse {path}: {text}"


@cache
def sql(name: str) -> str:
    """The text of sql/<name>.sql: queries live in files, parameters are always bound."""
    path = SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise WarehouseError(f"missing SQL file {path}")
    return path.read_text()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN/COMMIT, or ROLLBACK on any exception: a batch lands whole or not at all."""
    con.execute("BEGIN")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: dict[str, list[Any]],
    *,
    replace: bool = False,
) -> None:
    """Insert column lists in one statement (executemany goes row by row: far slower).

    `table` is an identifier from our own code, never user input.
    """
    if not columns or not len(next(iter(columns.values()))):
        return
    frame = pa.table(columns)
    con.register("_gl_rows", frame)
    try:
        verb = "INSERT OR REPLACE INTO" if replace else "INSERT INTO"
        con.execute(f"{verb} {table} BY NAME SELECT * FROM _gl_rows")
    finally:
        con.unregister("_gl_rows")


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Insert a polars frame by column name (our own table names only)."""
    if frame.is_empty():
        return
    con.register("_gl_frame", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _gl_frame")
    finally:
        con.unregister("_gl_frame")
