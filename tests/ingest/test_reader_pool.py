"""A group of files that will not parse is split down to the file that broke it
(ingest/reader_pool.py: read_isolating), on real DuckDB reads of real files: straight to the
file when the error names it, by halving when it does not."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.reader_pool import read_isolating


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
    tables, failed = read_isolating(_files(tmp_path, 64, set()), reads)
    assert (reads.queries, failed, _numbers(tables)) == (1, [], list(range(64)))


def test_a_broken_file_the_error_names_is_read_apart_in_four_reads(tmp_path: Path):
    files = _files(tmp_path, 64, {37})
    reads = Reads()
    tables, failed = read_isolating(files, reads)
    assert [f for f, _ in failed] == [files[37]]
    assert isinstance(failed[0][1], duckdb.Error) and "037.json" in str(failed[0][1])
    assert _numbers(tables) == [i for i in range(64) if i != 37]  # in the files' order
    # The group, the 37 before it, the file alone, the 26 after it (was 65 file by file).
    assert reads.queries == 4


def test_an_error_naming_no_file_halves_the_group_in_a_logarithmic_number_of_reads(
    tmp_path: Path,
):
    files = _files(tmp_path, 64, {37, 50})
    reads = Reads()
    tables, failed = read_isolating(files, reads, name=lambda f: "(a name no error holds)")
    assert [f for f, _ in failed] == [files[37], files[50]]
    assert _numbers(tables) == [i for i in range(64) if i not in (37, 50)]
    assert reads.queries <= 2 * (2 * math.log2(64)) + 1


def test_the_last_try_reads_the_file_alone_and_its_failure_is_kept(tmp_path: Path):
    files = _files(tmp_path, 8, {2, 5})
    tolerant: list[Path] = []

    def lenient(one: Path) -> pa.Table:
        tolerant.append(one)
        if one == files[5]:
            raise duckdb.InvalidInputException("still unreadable")
        return pa.table({"n": pa.array([-1], pa.int32())})

    tables, failed = read_isolating(files, Reads(), lenient)
    assert tolerant == [files[2], files[5]]
    assert _numbers(tables) == [0, 1, -1, 3, 4, 6, 7]
    assert [(f, str(e)) for f, e in failed] == [(files[5], "still unreadable")]
