"""Parse files on every core: a pool of threads, each with its own cursor of a private
in-memory DuckDB. Shared by the sources whose parsing dominates their ingest (invocation logs,
CloudTrail).

One DuckDB query reads its files on one core, so each group of a batch's files is parsed by a
cursor of its own (one thread per query; DuckDB releases the GIL) into an Arrow table, and the
caller copies the tables into the warehouse connection, where every write happens. The readers
cannot reach the warehouse, so they cannot write to it.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from warehouse.bookkeeping import DATA_ERRORS

SMALLEST_CAP = 16 << 20  # DuckDB's own floor: a smaller maximum_object_size reads as this
A = TypeVar("A")
R = TypeVar("R")
T = TypeVar("T")
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


def read_isolating(
    files: list[T],
    read: Callable[[list[T]], pa.Table],
    read_one: Callable[[T], pa.Table | None] | None = None,
    name: Callable[[T], str] = str,
) -> tuple[list[pa.Table], list[tuple[T, Exception]]]:
    """`read(files)` in one query; if it fails on the data, the file its error names (DuckDB's
    reader names the file of a malformed line or a broken gzip stream) is read apart from the
    rest, else each half the same way, down to the file alone (and `read_one(file)`, a last
    and more lenient try, when given; None from it: no other try, the file's error stands).
    Returns the tables, in the files' order, and the files no reading could parse, with why.
    `name(file)` is the path the errors would give.

    Not file by file: a query's set-up (~25 ms) dwarfs a small file's parse, so one broken file
    among n cost n queries (80% of a 7-day demo's invocation-log ingest); now four when the
    error names it, else about 2·log2(n)."""
    try:
        return [read(files)], []
    except DATA_ERRORS as exc:
        first = exc
        if len(files) > 1:
            at = next((i for i, f in enumerate(files) if name(f) in str(exc)), None)
            parts = (
                [files[:at], files[at : at + 1], files[at + 1 :]]
                if at is not None
                else [files[: len(files) // 2], files[len(files) // 2 :]]
            )
            done = [read_isolating(part, read, read_one, name) for part in parts if part]
            return [t for got, _ in done for t in got], [f for _, bad in done for f in bad]
        if read_one is None:
            return [], [(files[0], exc)]
    try:
        table = read_one(files[0])
    except DATA_ERRORS as exc:
        return [], [(files[0], exc)]
    return ([table], []) if table is not None else ([], [(files[0], first)])


def read_sized(
    files: list[T],
    read: Callable[[list[T], int], pa.Table],
    most: int,
    path: Callable[[T], Path],
) -> tuple[list[pa.Table], list[tuple[T, Exception]]]:
    """`read_isolating` with DuckDB's read buffer sized to what is read: `read(group, cap)`
    with the group's object_cap, and a file that fails alone once more with `most` (a gzip
    file of several members gives only its last member's size in its footer) — unless its
    own cap was `most` already: the same read again would fail the same way."""

    def again(one: T) -> pa.Table | None:
        return read([one], most) if object_cap([path(one)], most) < most else None

    return read_isolating(
        files,
        lambda group: read(group, object_cap([path(f) for f in group], most)),
        again,
        lambda f: str(path(f)),
    )


def balanced(files: list[T], n: int, path: Callable[[T], Path]) -> list[list[T]]:
    """n groups of about equal bytes, for n readers: largest file first, dealt out in turn."""
    by_size = sorted(files, key=lambda f: -_size(path(f)))
    return [by_size[i::n] for i in range(n)]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def object_cap(files: list[Path], most: int) -> int:
    """A read buffer for these files: the largest one's inflated size (a gzip file's last four
    bytes hold it), as a power of two from 16 MB to `most`. DuckDB's JSON reader allocates
    twice `maximum_object_size` on every read and frees it at once, so every read of a few
    small files went through the kernel zeroing and returning those pages (a third of the
    90-day demo's CloudTrail CPU; a quarter of an invocation-log parse of small objects at
    128 MB). Should a size be wrong, the read fails and the caller reads again with `most`."""
    largest = max((_inflated(f, most) for f in files), default=0)
    return min(most, max(SMALLEST_CAP, 1 << largest.bit_length()))


def _inflated(path: Path, most: int) -> int:
    try:
        with path.open("rb") as f:
            if f.read(2) != b"\x1f\x8b":
                return path.stat().st_size
            f.seek(-4, os.SEEK_END)
            return int.from_bytes(f.read(4), "little")  # ISIZE: the size mod 2**32
    except OSError:
        return most  # unreadable: the read will say why
