"""Parse files on every core: a pool of threads, each with its own cursor of a private
in-memory DuckDB. Shared by the sources whose parsing dominates their ingest (invocation logs,
CloudTrail).

One DuckDB query reads its files on one core, so each group of a batch's files is parsed by a
cursor of its own (one thread per query; DuckDB releases the GIL) into an Arrow table, and the
caller copies the tables into the warehouse connection, where every write happens. The readers
cannot reach the warehouse, so they cannot write to it.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import duckdb

A = TypeVar("A")
R = TypeVar("R")
Reader = Callable[[duckdb.DuckDBPyConnection, A], R]


class ReaderPool:
    def __init__(self, n: int, memory_limit: str, name: str, setup: str | None = None) -> None:
        """`n` cursors (capped like the warehouse: `memory_limit`), each run through `setup`
        (SQL such as macros) once; threads named `genai-lens-<name>`."""
        self.db = duckdb.connect(config={"threads": 1, "memory_limit": memory_limit})
        self.cursors = [self.db.cursor() for _ in range(n)]
        self.idle: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
        for cur in self.cursors:
            if setup:
                cur.execute(setup)
            self.idle.put(cur)
        self.pool = ThreadPoolExecutor(n, thread_name_prefix=f"genai-lens-{name}")

    def submit(self, fn: Reader[A, R], arg: A) -> Future[R]:
        """Run fn(cursor, arg) in the background on the first idle cursor."""
        return self.pool.submit(self._on_idle_cursor, fn, arg)

    def _on_idle_cursor(self, fn: Reader[A, R], arg: A) -> R:
        cur = self.idle.get()
        try:
            return fn(cur, arg)
        finally:
            self.idle.put(cur)

    def close(self, abandon: bool) -> None:
        if abandon:  # a failed batch: what is being parsed ahead of it is not wanted
            for cur in self.cursors:
                cur.interrupt()
        self.pool.shutdown(wait=True, cancel_futures=True)
        for cur in self.cursors:
            cur.close()
        self.db.close()
