"""Trail files parsed on every core: a batch's files in a few groups, one thread each.

One DuckDB query reads its files on one core, so each group is parsed by its own cursor of a
private in-memory DuckDB (one thread per query, DuckDB releases the GIL) into an Arrow table;
the caller copies the tables into the warehouse connection, where every write happens. The
readers cannot reach the warehouse, so they cannot write to it.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.bookkeeping import DATA_ERRORS
from warehouse.db import sql

READERS = max(2, min(4, os.cpu_count() or 2))
Failed = tuple[Path, Exception]  # a file no reading could parse, and why


@dataclass
class Part:
    table: pa.Table | None
    failed: list[Failed]


class TrailReaders:
    def __init__(self, sources: list[str], memory_limit: str, n: int | None = None) -> None:
        self.sources = sources
        n = n or READERS
        self.db = duckdb.connect(config={"threads": 1, "memory_limit": memory_limit})
        self.cursors = [self.db.cursor() for _ in range(n)]
        self.idle: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
        for cur in self.cursors:
            self.idle.put(cur)
        self.pool = ThreadPoolExecutor(n, thread_name_prefix="genai-lens-trail")

    def start(self, files: list[Path]) -> list[Future[Part]]:
        """Parse in the background, in groups of about equal bytes (largest first, dealt out)."""
        by_size = sorted(files, key=lambda f: -_size(f))
        groups = [by_size[i :: len(self.cursors)] for i in range(len(self.cursors))]
        return [self.pool.submit(self._idle_cursor, self._read, g) for g in groups if g]

    def _idle_cursor(
        self, fn: Callable[[duckdb.DuckDBPyConnection, list[Path]], Part], files: list[Path]
    ) -> Part:
        cur = self.idle.get()
        try:
            return fn(cur, files)
        finally:
            self.idle.put(cur)

    def _select(self, cur: duckdb.DuckDBPyConnection, files: list[Path]) -> pa.Table:
        params = {"files": [str(f) for f in files], "sources": self.sources}
        return cur.sql(sql("ingest/cloudtrail_parse"), params=params).to_arrow_table()

    def _read(self, cur: duckdb.DuckDBPyConnection, files: list[Path]) -> Part:
        """All files in one query; if one is unreadable, file by file to find which."""
        try:
            return Part(self._select(cur, files), [])
        except DATA_ERRORS:
            pass
        tables: list[pa.Table] = []
        failed: list[Failed] = []
        for f in files:
            try:
                tables.append(self._select(cur, [f]))
            except DATA_ERRORS as exc:
                failed.append((f, exc))
        return Part(pa.concat_tables(tables) if tables else None, failed)

    def close(self, abandon: bool) -> None:
        if abandon:  # a failed batch: what is being parsed ahead of it is not wanted
            for cur in self.cursors:
                cur.interrupt()
        self.pool.shutdown(wait=True, cancel_futures=True)
        for cur in self.cursors:
            cur.close()
        self.db.close()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
