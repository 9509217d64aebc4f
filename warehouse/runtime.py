"""The process's one warehouse connection, shared by the app and (later) the scheduler.

DuckDB allows one writing process; `genai-lens serve` opens the warehouse here before it
starts Streamlit in the same interpreter, and every page reads through `cursor()`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

from base.settings import DEFAULT_WAREHOUSE, Settings, load_settings
from warehouse.db import MEMORY_LIMIT, connect

_lock = threading.Lock()
_settings: Settings | None = None
_con: duckdb.DuckDBPyConnection | None = None
_path: Path | None = None


def open_warehouse(path: Path, memory_limit: str = MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Open (once) the warehouse this process will own."""
    global _con, _path
    with _lock:
        if _con is None:
            _con, _path = connect(path, memory_limit=memory_limit), path
        return _con


def use_settings(settings: Settings) -> None:
    """What `serve` loaded; the app reads roles and budgets from here."""
    global _settings
    _settings = settings


def settings() -> Settings:
    return _settings or load_settings()


def warehouse_path() -> Path:
    return _path or Path(os.environ.get("GENAI_LENS_WAREHOUSE", DEFAULT_WAREHOUSE))


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor for the calling thread; opens the warehouse lazily if nothing has yet."""
    con = _con or open_warehouse(warehouse_path())
    return con.cursor()


def close() -> None:
    global _con, _path
    with _lock:
        if _con is not None:
            _con.close()
        _con, _path = None, None
