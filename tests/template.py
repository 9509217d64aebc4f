"""A new warehouse for a test: a copy of one migrated once per test process.

Running the migrations takes ~0.09 CPU-seconds, and the suite opens hundreds of new
warehouses through its fixtures (`warehouse`, `make_warehouse`, `make_estate`), each running
the same DDL. The copy is the very file `warehouse.db.connect` created, and `connect` opens it
as it opens any warehouse (checking every applied migration against its file), so a test still
reads a real, current schema. The tests of migrating itself call `connect` on a new path.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import connect


def new_warehouse(path: Path, **options: Any) -> duckdb.DuckDBPyConnection:
    """`connect(path)`, starting from the migrated template when `path` does not exist yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated(), path)
    return connect(path, **options)


@cache  # built on first use, once per process
def _migrated() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="genai-lens-template-"))
    atexit.register(shutil.rmtree, folder, True)
    connect(folder / "warehouse.duckdb").close()  # closed: checkpointed, no WAL beside it
    return folder / "warehouse.duckdb"
