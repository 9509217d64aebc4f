"""Trail files parsed on every core: a batch's files in a few groups of about equal bytes, one
reader thread each (ingest/reader_pool.py)."""

from __future__ import annotations

import os
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.reader_pool import ReaderPool, balanced, read_sized
from warehouse.db import sql

READERS = max(2, min(4, os.cpu_count() or 2))
# The largest trail file (inflated) a read allows: the JSON reader's buffer is twice it.
MAX_OBJECT = 256 << 20
Failed = tuple[Path, Exception]  # a file no reading could parse, and why


@dataclass
class Part:
    table: pa.Table | None
    failed: list[Failed]


class TrailReaders(ReaderPool):
    def __init__(self, sources: list[str], memory_limit: str, n: int | None = None) -> None:
        super().__init__(n or READERS, memory_limit, "trail")
        self.sources = sources

    def start(self, files: list[Path]) -> list[Future[Part]]:
        """Parse in the background, in groups of about equal bytes (largest first, dealt out)."""
        groups = balanced(files, len(self.cursors), lambda f: f)
        return [self.submit(self._read, g) for g in groups if g]

    def _select(self, cur: duckdb.DuckDBPyConnection, files: list[Path], cap: int) -> pa.Table:
        params = {"files": [str(f) for f in files], "sources": self.sources, "max_object": cap}
        return cur.sql(sql("ingest/cloudtrail_parse"), params=params).to_arrow_table()

    def _read(self, cur: duckdb.DuckDBPyConnection, files: list[Path]) -> Part:
        """All files in one query, with a read buffer sized to them; a group that fails is
        split down to the file that broke it, which is read again with the largest buffer."""
        tables, failed = read_sized(
            files, lambda group, cap: self._select(cur, group, cap), MAX_OBJECT, lambda f: f
        )
        return Part(pa.concat_tables(tables) if tables else None, failed)
