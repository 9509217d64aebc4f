"""A group of files that will not parse is halved down to the file that broke it
(ingest/reader_pool.py: read_halving), on real DuckDB reads of real files."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.reader_pool import read_halving


def _files(tmp_path: Path, n: int, broken: set[int]) -> list[Path]:
    files = []
    for i in range(n):
        f = tmp_path / f"{i:03d}.json"
        f.write_text('{"n": ' + (f"{i}" if i not in broken else "oops") + "}\n")
        files.append(f)
    return files


class Reads:
    """read_json over a group of files (strict), counting the queries."""

    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, group: list[Path]) -> pa.Table:
        self.queries += 1
        return duckdb.sql(
            "SELECT n FROM read_json($f, columns = {n: 'INTEGER'})",
            params={"f": [str(p) for p in group]},
        ).to_arrow_table()


def _numbers(tables: list[pa.Table]) -> list[int]:
    return [n for t in tables for n in t.column("n").to_pylist()]


def test_readable_files_take_one_read(tmp_path: Path):
    reads = Reads()
    tables, failed = read_halving(_files(tmp_path, 64, set()), reads)
    assert (reads.queries, failed, _numbers(tables)) == (1, [], list(range(64)))


def test_one_broken_file_costs_a_logarithmic_number_of_reads_and_loses_no_other(tmp_path: Path):
    files = _files(tmp_path, 64, {37})
    reads = Reads()
    tables, failed = read_halving(files, reads)
    assert [f for f, _ in failed] == [files[37]]
    assert isinstance(failed[0][1], duckdb.Error) and "037.json" in str(failed[0][1])
    assert _numbers(tables) == [i for i in range(64) if i != 37]  # in the files' order
    assert reads.queries <= 2 * math.log2(64) + 1  # was 65 file by file


def test_the_last_try_reads_the_file_alone_and_its_failure_is_kept(tmp_path: Path):
    files = _files(tmp_path, 8, {2, 5})
    tolerant: list[Path] = []

    def lenient(one: Path) -> pa.Table:
        tolerant.append(one)
        if one == files[5]:
            raise duckdb.InvalidInputException("still unreadable")
        return pa.table({"n": pa.array([-1], pa.int32())})

    tables, failed = read_halving(files, Reads(), lenient)
    assert tolerant == [files[2], files[5]]
    assert _numbers(tables) == [0, 1, -1, 3, 4, 6, 7]
    assert [(f, str(e)) for f, e in failed] == [(files[5], "still unreadable")]
