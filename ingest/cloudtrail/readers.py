"""Trail files parsed on every core: a batch's files in a few groups of about equal bytes, one
reader thread each (ingest/reader_pool.py)."""

from __future__ import annotations

import os
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.reader_pool import ReaderPool, read_isolating
from warehouse.db import sql

READERS = max(2, min(4, os.cpu_count() or 2))
# The largest trail file (inflated) a read allows: the JSON reader's buffer is twice it.
MAX_OBJECT = 256 << 20
SMALLEST_CAP = 16 << 20  # DuckDB's own floor: a smaller maximum_object_size reads as this
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
        by_size = sorted(files, key=lambda f: -_size(f))
        groups = [by_size[i :: len(self.cursors)] for i in range(len(self.cursors))]
        return [self.submit(self._read, g) for g in groups if g]

    def _select(self, cur: duckdb.DuckDBPyConnection, files: list[Path], cap: int) -> pa.Table:
        params = {"files": [str(f) for f in files], "sources": self.sources, "max_object": cap}
        return cur.sql(sql("ingest/cloudtrail_parse"), params=params).to_arrow_table()

    def _read(self, cur: duckdb.DuckDBPyConnection, files: list[Path]) -> Part:
        """All files in one query, with a read buffer sized to them; a group that fails is
        split down to the file that broke it, which is read again with the largest buffer."""
        tables, failed = read_isolating(
            files,
            lambda group: self._select(cur, group, object_cap(group)),
            lambda one: self._select(cur, [one], MAX_OBJECT),
        )
        return Part(pa.concat_tables(tables) if tables else None, failed)


def object_cap(files: list[Path]) -> int:
    """A read buffer for these files: the largest one's inflated size (a gzip file's last four
    bytes hold it), as a power of two from 16 MB to MAX_OBJECT. DuckDB allocated the buffer for
    the largest allowed object on every read: 512 MB, released at once, so every read of a few
    small trail files went through the kernel zeroing and returning those pages (a third of
    the 90-day demo's CloudTrail CPU). Should a size be wrong, the read fails and runs again with
    MAX_OBJECT."""
    largest = max((_inflated(f) for f in files), default=0)
    return min(MAX_OBJECT, max(SMALLEST_CAP, 1 << largest.bit_length()))


def _inflated(path: Path) -> int:
    try:
        with path.open("rb") as f:
            if f.read(2) != b"\x1f\x8b":
                return path.stat().st_size
            f.seek(-4, os.SEEK_END)
            return int.from_bytes(f.read(4), "little")  # ISIZE: the size mod 2**32
    except OSError:
        return MAX_OBJECT  # unreadable: the read will say why


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
