"""The request facts the Capacity page needs are kept at parse time without any body text
(max_tokens in every provider's spelling, the cacheable prefix as an MD5 and a size), and the
savings rollup finds repeated prefixes and retry storms from them."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import factories as F

from base.settings import Settings
from ingest.invocation_logs import ingester as invocation_logs
from warehouse.db import connect

SYSTEM = [{"text": "You answer questions about the travel policy. " * 200}]


def load(warehouse: Any, tmp_path: Path, records: list[Any]) -> None:
    root = tmp_path / "landing"
    F.land(root, records)
    invocation_logs.run(warehouse, Settings(resolve_profiles_with_api=False), landing=str(root))


def _converse(at: datetime, text: str = "What is the hotel cap?", **over: Any) -> dict[str, Any]:
    body = {"system": SYSTEM, "messages": [{"role": "user", "content": [{"text": text}]}],
            "inferenceConfig": {"maxTokens": 2048}}  # fmt: skip
    rec = F.converse(timestamp=at.strftime("%Y-%m-%dT%H:%M:%SZ"), **over)
    rec["input"] = {"inputContentType": "application/json", "inputBodyJson": body,
                    "inputTokenCount": 3000}  # fmt: skip
    return rec


def test_max_tokens_and_prefix_hash_are_kept_and_no_prefix_text_is(warehouse, tmp_path):
    rec, native = _converse(datetime(2025, 6, 2, 10)), F.invoke_model()
    load(warehouse, tmp_path, [rec, native])
    rows = dict(
        (r[0], r[1:])
        for r in warehouse.execute(
            "SELECT request_id, max_tokens, prefix_md5, prefix_bytes FROM invocations"
        ).fetchall()
    )
    system = json.dumps(SYSTEM, separators=(",", ":"))
    assert rows[rec["requestId"]] == (2048, hashlib.md5(system.encode()).hexdigest(), len(system))
    assert rows[native["requestId"]] == (512, None, None)  # no system prompt: no prefix
    dump = " ".join(str(r) for r in warehouse.execute("SELECT * FROM invocations").fetchall())
    assert "travel policy" not in dump


def test_repeats_within_the_ttl_are_hits_and_a_retry_storm_is_waste(warehouse, tmp_path):
    t0 = datetime(2025, 6, 2, 10)
    repeats = [_converse(t0 + timedelta(minutes=m)) for m in (0, 2, 4, 30)]  # 5m: 2 hits
    storm = [
        F.error_record("ThrottlingException", timestamp="2025-06-02T10:40:00Z"),
        _converse(t0 + timedelta(minutes=40, seconds=3), text="retry me"),
        _converse(t0 + timedelta(minutes=40, seconds=6), text="retry me"),  # sent again
    ]
    storm[0]["input"] = storm[1]["input"] | {"inputTokenCount": 0}  # the same body, refused
    load(warehouse, tmp_path, repeats + storm)
    row = warehouse.execute(
        "SELECT sum(prefix_calls), sum(prefix_hit5_tokens) > 0, sum(prefix_hit60_tokens), "
        "sum(prefix_miss60_tokens), sum(retry_invocations), sum(retry_waste_usd) "
        "FROM usage_savings_hourly"
    ).fetchone()
    cost = warehouse.execute(
        "SELECT est_cost_usd FROM invocations WHERE request_id = ?", [storm[2]["requestId"]]
    ).fetchone()[0]
    prefix_calls, hits5, hits60, misses60, retries, waste = row
    assert prefix_calls == 6 and hits5
    assert hits60 > 0 and hits60 > misses60  # one miss (the first call), five hits
    assert retries == 2  # the throttled try and the second answer, not the first answer
    assert waste == cost


def test_calls_in_the_same_second_split_into_hit_and_write_the_same_way_in_any_order(tmp_path):
    """Two calls with one prefix in the same second (different sizes): which is the cache
    write and which the hit is decided by request id, not by the order they were read in."""
    at = datetime(2025, 6, 2, 10)
    small = _converse(at, text="short")
    big = _converse(at, text="a much longer question " * 40)
    big["input"]["inputTokenCount"] = 9000
    found = []
    for order, name in (([small, big], "ab"), ([big, small], "ba")):
        con = connect(tmp_path / f"{name}.duckdb")
        load(con, tmp_path / name, order)
        found.append(con.execute(
            "SELECT prefix_calls, prefix_hit5_tokens, prefix_miss5_tokens, prefix_hit60_tokens, "
            "prefix_miss60_tokens FROM usage_savings_hourly"
        ).fetchall())  # fmt: skip
        con.close()
    assert found[0] == found[1] and found[0][0][0] == 2, found
    assert found[0][0][1] > 0 and found[0][0][2] > 0  # one hit, one write
