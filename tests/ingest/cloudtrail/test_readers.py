"""The trail readers size DuckDB's read buffer to the files they read (readers.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from ingest.cloudtrail.readers import MAX_OBJECT, TrailReaders
from ingest.reader_pool import SMALLEST_CAP, object_cap

MB = 1 << 20


def _trail(records: int, pad: int = 0) -> bytes:
    """A trail file's JSON: `records` Bedrock events, each with `pad` bytes of user agent."""
    recs = [
        {"eventVersion": "1.09", "eventID": f"e-{i:08d}", "eventTime": "2026-06-01T00:00:00Z",
         "eventSource": "bedrock.amazonaws.com", "eventName": "InvokeModel",
         "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
         "userAgent": "x" * pad}
        for i in range(records)
    ]  # fmt: skip
    return json.dumps({"Records": recs}).encode()


def test_the_read_buffer_is_the_largest_inflated_file_as_a_power_of_two(tmp_path: Path):
    small, big, plain = tmp_path / "small.json.gz", tmp_path / "big.json.gz", tmp_path / "p.json"
    small.write_bytes(gzip.compress(_trail(10)))
    big.write_bytes(gzip.compress(b" " * (20 * MB)))  # inflates to 20 MB, compresses to ~20 KB
    plain.write_bytes(b" " * (17 * MB))
    assert object_cap([small], MAX_OBJECT) == SMALLEST_CAP == 16 * MB  # DuckDB's floor
    assert object_cap([small, big], MAX_OBJECT) == 32 * MB
    assert object_cap([plain], MAX_OBJECT) == 32 * MB
    assert object_cap([tmp_path / "gone.json.gz"], MAX_OBJECT) == MAX_OBJECT


def test_a_file_bigger_than_its_gzip_footer_says_still_loads_whole(tmp_path: Path):
    """A gzip file of two members: its footer gives the last member's size only (here a few
    bytes), so the first read's buffer is too small; it is read again with the largest."""
    body = _trail(6000, pad=3000)  # ~18 MB of JSON
    cut = len(body) - 5
    odd = tmp_path / "two-members.json.gz"
    odd.write_bytes(gzip.compress(body[:cut]) + gzip.compress(body[cut:]))
    assert object_cap([odd], MAX_OBJECT) == SMALLEST_CAP < len(body)
    with pytest.raises(duckdb.InvalidInputException):  # so the first read cannot hold it
        duckdb.sql(
            "SELECT * FROM read_json_objects($f, format = 'unstructured', "
            "maximum_object_size = $m)",
            params={"f": [str(odd)], "m": SMALLEST_CAP},
        ).fetchall()
    readers = TrailReaders(["bedrock.amazonaws.com"], "1GB", n=1)
    try:
        [part] = readers.start([odd])
        got = part.result()
    finally:
        readers.close(abandon=False)
    assert got.failed == [] and got.table is not None
    assert got.table.num_rows == 6000
