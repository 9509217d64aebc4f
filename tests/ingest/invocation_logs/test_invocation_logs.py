"""Incremental, idempotent, crash-safe loading of invocation-log landing zones."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import factories as F
import pytest

from base.settings import Settings
from ingest.invocation_logs import ingester as invocation_logs
from warehouse.db import connect

TABLES = {
    "invocations": "SELECT * FROM invocations ORDER BY request_id",
    "quarantine": "SELECT * FROM quarantine ORDER BY ALL",
    "usage_hourly": "SELECT * FROM usage_hourly ORDER BY ALL",
    "ingest_objects": "SELECT zone, object_key, size, etag, records, quarantined "
    "FROM ingest_objects ORDER BY ALL",
    "watermarks": "SELECT source, zone, covered_until FROM watermarks ORDER BY ALL",
}


def snapshot(con: Any) -> dict[str, list[tuple]]:
    return {name: con.execute(q).fetchall() for name, q in TABLES.items()}


def settings(**kw: Any) -> Settings:
    return Settings(resolve_profiles_with_api=False, **kw)


def estate(
    root: Path, hours: int = 12, per_file: int = 5, start: datetime | None = None
) -> list[str]:
    """A small landing zone: two accounts/regions, one object per hour each."""
    start = start or datetime(2025, 6, 2, 0)
    ids = []
    for h in range(hours):
        ts = start + timedelta(hours=h)
        for account, region in (("111122223333", "us-east-1"), ("444455556666", "eu-west-1")):
            recs = [
                F.converse(
                    timestamp=f"{ts:%Y-%m-%dT%H}:{m:02d}:00Z", accountId=account, region=region
                )
                for m in range(per_file)
            ]
            ids += [r["requestId"] for r in recs]
            F.land(root, recs, ts, account=account, region=region)
    return ids


def test_bad_input_is_quarantined_with_line_and_reason_and_the_rest_loads(warehouse, tmp_path):
    root = tmp_path / "landing"
    good = [F.converse() for _ in range(3)]
    mixed = F.land(
        root,
        [
            good[0],
            "{not json",
            {"timestamp": "2025-06-02T10:00:00Z"},
            F.converse(input={"inputTokenCount": "many"}),
            good[1],
            F.converse(timestamp="yesterday"),
            "[1, 2]",
        ],
    )
    empty = F.write_object(root, F.log_key(datetime(2025, 6, 2, 11)), gzip.compress(b""))
    truncated = F.write_object(
        root,
        F.log_key(datetime(2025, 6, 2, 12)),
        F.ndjson_gz([good[2]] * 1 + [F.converse() for _ in range(40)])[:900],
    )
    stats = invocation_logs.run(warehouse, settings(), landing=str(root))
    rows = warehouse.execute(
        "SELECT source_object, line, reason FROM quarantine ORDER BY source_object, line"
    ).fetchall()
    by_obj: dict[str, list[tuple[int, str]]] = {}
    for obj, line, reason in rows:
        by_obj.setdefault(obj, []).append((line, reason))
    assert [line for line, _ in by_obj[str(mixed)]] == [2, 3, 4, 6, 7]
    reasons = dict(by_obj[str(mixed)])
    assert reasons[2].startswith("not JSON")
    assert reasons[3] == "missing requestId"
    assert reasons[4] == "input.inputTokenCount is not a number"
    assert reasons[6] == "timestamp missing or not RFC 3339"
    assert reasons[7] == "not a JSON object but a list"
    assert by_obj[str(empty)] == [(0, "empty object: no records")]
    assert "truncated or corrupt" in by_obj[str(truncated)][0][1]
    loaded = {r[0] for r in warehouse.execute("SELECT request_id FROM invocations").fetchall()}
    assert {good[0]["requestId"], good[1]["requestId"]} <= loaded
    assert stats.quarantined == len(rows) == 7
    # No raw line is kept: the quarantine holds positions and reasons only.
    assert not any("not json" in str(r).lower() and "{" in str(r) for r in rows)


def test_running_twice_changes_nothing(warehouse, tmp_path):
    root = tmp_path / "landing"
    estate(root, hours=6)
    F.land(root, ["garbage"], datetime(2025, 6, 2, 3, 30))
    first = invocation_logs.run(warehouse, settings(), landing=str(root))
    before = snapshot(warehouse)
    second = invocation_logs.run(warehouse, settings(), landing=str(root))
    assert snapshot(warehouse) == before
    assert first.records == 60 and second.records == 0 and second.objects == 0
    # Watermark 05:00 less the 3 h overlap: hours 02..05 of both prefixes (+ the bad object)
    # are listed again and recognised as loaded; older hours are not even listed.
    assert second.skipped == 4 * 2 + 1
    # Even a forced full re-read (--since) is harmless.
    invocation_logs.run(warehouse, settings(), landing=str(root), since=datetime(2025, 1, 1))
    assert snapshot(warehouse) == before


def test_new_and_late_objects_within_the_overlap_are_picked_up(warehouse, tmp_path):
    root = tmp_path / "landing"
    estate(root, hours=10)
    cfg = settings(invocation_logs={"overlap_hours": 3, "batch_files": 4})
    invocation_logs.run(warehouse, cfg, landing=str(root))
    newer = F.converse(timestamp="2025-06-02T12:05:00Z")
    late = F.converse(timestamp="2025-06-02T08:59:59Z")  # 1 h behind the watermark (09:00)
    too_late = F.converse(timestamp="2025-06-02T02:00:00Z")  # beyond the overlap
    F.land(root, [newer], datetime(2025, 6, 2, 12))
    F.land(root, [late], datetime(2025, 6, 2, 8))
    F.land(root, [too_late], datetime(2025, 6, 2, 2))
    stats = invocation_logs.run(warehouse, cfg, landing=str(root))
    loaded = {r[0] for r in warehouse.execute("SELECT request_id FROM invocations").fetchall()}
    assert newer["requestId"] in loaded and late["requestId"] in loaded
    assert too_late["requestId"] not in loaded
    assert stats.objects == 2
    # Only the overlap window was listed again, not the whole history.
    assert stats.skipped == 2 * 4  # hours 6..9 of both prefixes, already loaded
    # A backfill reaches it.
    invocation_logs.run(warehouse, cfg, landing=str(root), since=datetime(2025, 6, 2))
    assert warehouse.execute(
        "SELECT count(*) FROM invocations WHERE request_id = ?", [too_late["requestId"]]
    ).fetchone() == (1,)


def test_a_rewritten_object_is_reloaded_and_replaces_its_rows(warehouse, tmp_path):
    root = tmp_path / "landing"
    rec = F.converse()
    path = F.land(root, [rec, "bad line"])
    invocation_logs.run(warehouse, settings(), landing=str(root))
    rec["output"]["outputTokenCount"] = 999
    path.write_bytes(F.ndjson_gz([rec]))
    invocation_logs.run(warehouse, settings(), landing=str(root))
    assert warehouse.execute("SELECT output_tokens FROM invocations").fetchall() == [(999,)]
    assert warehouse.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)


def test_duplicate_request_ids_across_objects_load_once(warehouse, tmp_path):
    root = tmp_path / "landing"
    rec = F.converse()
    F.land(root, [rec], datetime(2025, 6, 2, 10))
    F.land(root, [rec, rec], datetime(2025, 6, 2, 11))
    invocation_logs.run(warehouse, settings(), landing=str(root))
    assert warehouse.execute("SELECT count(*) FROM invocations").fetchone() == (1,)
    assert warehouse.execute("SELECT sum(invocations) FROM usage_hourly").fetchone() == (1,)


def test_until_stops_before_the_given_hour(warehouse, tmp_path):
    root = tmp_path / "landing"
    estate(root, hours=6)
    invocation_logs.run(warehouse, settings(), landing=str(root), until=datetime(2025, 6, 2, 3))
    assert warehouse.execute(
        "SELECT max(ts) < TIMESTAMP '2025-06-02 03:00' , count(*) FROM invocations"
    ).fetchone() == (True, 30)


def test_a_crash_mid_run_loses_and_duplicates_nothing(tmp_path, monkeypatch):
    root = tmp_path / "landing"
    estate(root, hours=12)
    cfg = settings(invocation_logs={"batch_files": 3})
    reference = connect(tmp_path / "reference.duckdb")
    invocation_logs.run(reference, cfg, landing=str(root))

    crashed = connect(tmp_path / "crashed.duckdb")
    real = invocation_logs.advance_watermark
    calls = {"n": 0}

    def dies_on_the_fourth_batch(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("power cut")  # inside the batch's transaction
        real(*args)

    monkeypatch.setattr(invocation_logs, "advance_watermark", dies_on_the_fourth_batch)
    with pytest.raises(KeyboardInterrupt):
        invocation_logs.run(crashed, cfg, landing=str(root))
    partial = crashed.execute("SELECT count(*) FROM invocations").fetchone()[0]
    assert partial == 3 * 3 * 5  # three whole batches of three objects, nothing of the fourth
    monkeypatch.setattr(invocation_logs, "advance_watermark", real)
    invocation_logs.run(crashed, cfg, landing=str(root))
    assert snapshot(crashed) == snapshot(reference)


def test_the_hourly_rollup_keeps_percentiles_of_latency_and_of_the_first_byte(warehouse, tmp_path):
    import numpy as np

    root = tmp_path / "landing"
    latencies = [float(120 + (i * 37) % 900 + (4000 if i % 25 == 0 else 0)) for i in range(60)]
    first_bytes = [float(80 + (i * 53) % 400) for i in range(0, 60, 3)]
    recs = []
    for i, ms in enumerate(latencies):
        if i % 3:  # Converse: a latency, no first byte
            recs.append(F.converse(
                timestamp=f"2025-06-02T10:{i:02d}:00Z",
                output={"outputBodyJson": {"metrics": {"latencyMs": ms}}},
            ))  # fmt: skip
            continue
        rec = F.invoke_stream(timestamp=f"2025-06-02T10:{i:02d}:00Z")
        last = rec["output"]["outputBodyJson"][3]["amazon-bedrock-invocationMetrics"]
        last["invocationLatency"], last["firstByteLatency"] = ms, first_bytes[i // 3]
        recs.append(rec)
    F.land(root, recs, datetime(2025, 6, 2, 10))
    invocation_logs.run(warehouse, settings(), landing=str(root))
    got = warehouse.execute("""
        SELECT sum(latency_count), sum(first_byte_count), sum(first_byte_ms_sum)
        FROM usage_hourly
    """).fetchone()
    assert got == (60, 20, pytest.approx(sum(first_bytes)))
    # Per operation (the rollup's grain); quantile_cont interpolates linearly, as numpy does.
    rows = warehouse.execute("""
        SELECT operation, latency_p50_ms, latency_p90_ms, latency_p95_ms, latency_p99_ms,
            first_byte_p50_ms, first_byte_p90_ms, first_byte_p99_ms
        FROM usage_hourly ORDER BY operation
    """).fetchall()
    converse = [ms for i, ms in enumerate(latencies) if i % 3]
    streams = [ms for i, ms in enumerate(latencies) if not i % 3]
    q = (50, 90, 95, 99)
    assert [r[0] for r in rows] == ["Converse", "InvokeModelWithResponseStream"]
    assert rows[0][1:5] == pytest.approx(tuple(np.percentile(converse, q)))
    assert rows[0][5:] == (None, None, None)
    assert rows[1][1:5] == pytest.approx(tuple(np.percentile(streams, q)))
    assert rows[1][5:] == pytest.approx(tuple(np.percentile(first_bytes, (50, 90, 99))))


def test_pending_rollup_hours_are_rebuilt_in_chunks_of_about_flush_rows(tmp_path, monkeypatch):
    """Twelve hours of 10 calls each, FLUSH_ROWS 25: the hours go in order, in chunks of at
    most 25 calls (two hours, since a third would pass it), each rebuilt and unmarked; the
    rollups equal those of one chunk of everything."""
    root = tmp_path / "landing"
    estate(root, hours=12)
    whole = connect(tmp_path / "whole.duckdb")
    invocation_logs.run(whole, settings(), landing=str(root))
    chunks: list[list[datetime]] = []
    real = invocation_logs._flush

    def recorded(con: Any, hours: list[datetime]) -> None:
        chunks.append(hours)
        real(con, hours)

    monkeypatch.setattr(invocation_logs, "FLUSH_ROWS", 25)
    monkeypatch.setattr(invocation_logs, "_flush", recorded)
    chunked = connect(tmp_path / "chunked.duckdb")
    invocation_logs.run(chunked, settings(), landing=str(root))
    hours = [datetime(2025, 6, 2, h) for h in range(12)]
    assert chunks == [hours[i : i + 2] for i in range(0, 12, 2)]
    assert chunked.execute("SELECT count(*) FROM rollup_pending").fetchone() == (0,)
    assert snapshot(chunked) == snapshot(whole)
