"""The demo estate: a realistic Bedrock estate written to a local landing zone in AWS's formats.

`simulate` builds one frame of invocations (pure); `write_invocation_logs` lays it out exactly
as Bedrock delivers model invocation logs to S3. `begin_estate` writes them (a few deliberately
broken files planted) and the config; `finish_estate` the trail, the metric stream, the bill and
the ground truth of the planted incidents; `generate_estate` both in a row, and `Finishing` the
second on a thread while `genai-lens demo` loads the first.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from demo import bill as demo_bill
from demo import capacity as demo_capacity
from demo import platform as demo_platform
from demo import tiers as demo_tiers
from demo import world as w
from demo.frame import expected_attribution, simulate_rows
from demo.metrics import write_metric_stream
from demo.render import render
from demo.sim import estate_window, incident_windows
from demo.trail import control_events, write_trail
from demo.truth import config_toml, ground_truth, source_truth

DEMO_CANARY = w.DEMO_CANARY
FILE_RECORDS = 2000  # Bedrock splits a busy hour into several objects; so do we
# The frame's columns, in order. Ids and names are strings, ts is UTC, counts are Int64.
COLUMNS = (
    "request_id", "ts", "account_id", "region", "inference_region", "operation", "model_id",
    "model_id_form", "model", "provider", "lob", "app", "team", "identity_arn", "principal_arn",
    "request_metadata", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "max_tokens", "latency_ms", "first_byte_ms", "stop_reason",
    "error_code", "guardrail_id", "guardrail_version", "guardrail_action", "guardrail_policy",
    "guardrail_variant", "prompt_idx", "response_idx", "canary", "large_input", "large_output",
    "stream_done", "key_order", "cache_fields", "logged", "incident", "attributed_lob",
    "attribution_rule", "service_tier", "cache_write_1h_tokens",
)  # fmt: skip


@dataclass(frozen=True)
class DemoSummary:
    out_dir: Path
    landing: Path
    config_path: Path
    ground_truth_path: Path
    invocations: int
    files: int
    start: datetime
    end: datetime
    trail: Path | None = None  # CloudTrail bucket root (AWSLogs/… under it)
    metric_stream: Path | None = None  # Metric Streams Firehose destination
    trail_files: int = 0
    metric_files: int = 0
    bill: Path | None = None  # CUR 2.0 (cur/) and FOCUS (focus/) data exports
    bill_files: int = 0


def simulate(
    *, days: int = 90, seed: int = 7, end: datetime | None = None, per_day: int = 6000
) -> pl.DataFrame:
    """One row per invocation, sorted by time; `logged` is false where logging was off.
    Includes the apps planted for the Capacity page (demo/capacity.py)."""
    frame, _ = simulate_rows(days=days, seed=seed, end=end, per_day=per_day)
    tags = {p.arn: dict(p.tags) for p in w.PROFILES if p.listed}
    frame = expected_attribution(frame, w.RULES, tags)
    ts = pl.from_epoch("ts_s", time_unit="s").dt.replace_time_zone("UTC")
    frame = frame.with_columns(ts=ts).select(c for c in COLUMNS if c not in demo_tiers.ADDS)
    frame = demo_capacity.add_to(frame, *estate_window(days, end), seed)[0]
    return demo_tiers.assign(frame).select(COLUMNS)


def _file_name(last: datetime, first_id: str) -> str:
    digest = hashlib.blake2b(first_id.encode(), digest_size=8).hexdigest()
    return f"{last:%Y%m%dT%H%M%S}Z_{digest}.json.gz"


def _put(path: Path, data: bytes | memoryview) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, compresslevel=1, mtime=0))


def write_invocation_logs(frame: pl.DataFrame, landing: Path) -> int:
    """Write the logged rows as Bedrock's S3 layout under `landing`; returns the number of
    record objects (the `…/HH/*.json.gz` files, not the `…/HH/data/` body objects)."""
    rec = demo_capacity.render_fix(render(frame.filter("logged")), frame.filter("logged"))
    # A stable sort on the folder keeps each file's records in time order.
    rec = (
        rec.sort("dir", maintain_order=True)
        .with_columns(part=pl.int_range(pl.len()).over("dir") // FILE_RECORDS)
        .rechunk()
    )
    files = rec.group_by("dir", "part", maintain_order=True).agg(
        n=pl.len(), last=pl.col("ts").max(), first_id=pl.col("request_id").first()
    )
    lines = rec["line"].to_arrow(compat_level=pl.CompatLevel.oldest())
    _, offset_buf, data_buf = lines.buffers()[:3]  # validity, offsets, bytes of a string array
    if offset_buf is None or data_buf is None:
        raise ValueError("the line column has no string buffers")
    offsets = np.frombuffer(memoryview(offset_buf), dtype=np.int64)[lines.offset :]
    data = memoryview(data_buf)
    bounds = np.concatenate([[0], np.cumsum(files["n"].to_numpy())]).astype(np.int64)
    jobs = [
        (landing / d / _file_name(last, fid), int(offsets[a]), int(offsets[b]))
        for (d, last, fid), a, b in zip(
            files.select("dir", "last", "first_id").rows(), bounds[:-1], bounds[1:], strict=True
        )
    ]
    bodies = [
        (landing / d / "data" / f"{rid}_{kind}.json.gz", body.encode())
        for kind in ("input", "output")
        for d, rid, body in rec.filter(pl.col(f"{kind}_body").is_not_null())
        .select("dir", "request_id", f"{kind}_body")
        .rows()
    ]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        # zlib releases the GIL, so threads really do compress in parallel. (The demo waits
        # for these before anything loads; the trail and metric stream, written while they
        # load, are written on one thread: see demo.trail.write_objects.)
        list(pool.map(lambda j: _put(j[0], data[j[1] : j[2]]), jobs))
        list(pool.map(lambda b: _put(*b), bodies))
    return len(jobs)


@dataclass(frozen=True)
class Begun:
    """The first half of an estate: the invocation logs and the config are written, so the
    invocation logs can load while `finish_estate` writes the rest."""

    out_dir: Path
    landing: Path
    config_path: Path
    frame: pl.DataFrame
    start: datetime
    stop: datetime
    seed: int
    per_day: int
    files: int
    bad: list[dict[str, Any]]
    quota: dict[str, Any]

    @property
    def invocations(self) -> int:
        return int(self.frame["logged"].sum())


def begin_estate(
    out_dir: Path,
    *,
    days: int = 90,
    seed: int = 7,
    end: datetime | None = None,
    per_day: int = 6000,
    bad_records: bool = True,
) -> Begun:
    """Simulate the estate, write its invocation logs (broken files planted) and its config."""
    out_dir = Path(out_dir).resolve()
    landing = out_dir / "landing"
    start, stop = estate_window(days, end)
    for root in (
        landing,
        out_dir / "trail",
        out_dir / "metric-stream",
        out_dir / demo_bill.BILL_DIR,
    ):
        if root.exists():
            shutil.rmtree(root)  # a stale object from an earlier run would break determinism
    frame = simulate(days=days, seed=seed, end=stop, per_day=per_day)
    files = write_invocation_logs(frame, landing)
    bad = _plant_bad_records(landing, np.random.default_rng(seed + 1)) if bad_records else []
    files += sum(1 for b in bad if b["line"] == 0)
    config_path = out_dir / "genai-lens.toml"
    quota = demo_capacity.quota_truth(frame, start, stop)
    config_path.write_text(
        config_toml(out_dir, days, per_day, now=end) + demo_capacity.config_toml(quota)
    )
    return Begun(out_dir, landing, config_path, frame, start, stop, seed, per_day, files, bad,
                 quota)  # fmt: skip


def finish_estate(begun: Begun, written: Callable[[str], None] = lambda _: None) -> DemoSummary:
    """Write the trail, the metric stream, the bill and the ground truth; `written(source)`
    is told each source's name (cloudtrail, metrics, cost) once its files are all there."""
    b, frame, start, stop, seed = begun, begun.frame, begun.start, begun.stop, begun.seed
    trail, stream = b.out_dir / "trail", b.out_dir / "metric-stream"
    bill_root = b.out_dir / demo_bill.BILL_DIR
    savings = demo_capacity.planted_truth(start, stop, seed, frame.schema)
    control, planted = control_events(incident_windows(start, stop), start, stop, seed)
    trail_files = write_trail(frame, trail, control)
    written("cloudtrail")
    metric_files = write_metric_stream(frame, stream)
    written("metrics")
    bill = demo_bill.write_bill(frame, bill_root, end=stop)
    platform = demo_platform.write(bill_root, start.date(), (stop - timedelta(hours=1)).date(),
                                   bill.delivered)  # fmt: skip
    written("cost")
    truth = ground_truth(frame, start, stop, seed=seed, per_day=b.per_day)
    truth["files"] = b.files
    truth["bad_records"] = b.bad
    source_truth(truth, frame, planted, trail_files=trail_files, metric_files=metric_files)
    truth["bill"] = demo_bill.truth(bill, frame)
    truth["bill"]["platform"] = platform
    truth["savings"] = savings
    truth["quota"] = b.quota
    truth_path = b.out_dir / "ground_truth.json"
    truth_path.write_text(json.dumps(truth, indent=2) + "\n")
    return DemoSummary(
        b.out_dir,
        b.landing,
        b.config_path,
        truth_path,
        b.invocations,
        b.files,
        start,
        stop,
        trail,
        stream,
        trail_files,
        metric_files,
        bill_root,
        bill.files,
    )


def generate_estate(out_dir: Path, **options: Any) -> DemoSummary:
    """The whole estate under `out_dir`, one half after the other (`begin_estate`'s options):
    what the tests and benchmarks build."""
    return finish_estate(begin_estate(out_dir, **options))


class Finishing:
    """`finish_estate` on a thread, so the sources written first load while the rest is
    written. `wait(source)` returns once that source's files are all written (a name the
    estate does not announce: once it is whole) and raises what the thread raised."""

    def __init__(self, begun: Begun) -> None:
        self._written = {"invocation-logs"}  # begin_estate wrote them
        self._cond = threading.Condition()
        self.seconds = 0.0
        pool = ThreadPoolExecutor(1, thread_name_prefix="demo-estate")
        self._future = pool.submit(self._run, begun)
        self._future.add_done_callback(lambda _: self._tell(""))
        pool.shutdown(wait=False)

    def _run(self, begun: Begun) -> DemoSummary:
        started = time.perf_counter()
        try:
            return finish_estate(begun, self._tell)
        finally:
            self.seconds = time.perf_counter() - started

    def _tell(self, source: str) -> None:
        with self._cond:
            self._written.add(source)
            self._cond.notify_all()

    def wait(self, source: str) -> None:
        with self._cond:
            self._cond.wait_for(lambda: source in self._written or self._future.done())
        if source not in self._written:
            self._future.result()

    def result(self) -> DemoSummary:
        return self._future.result()


def _rewrite(path: Path, at: int, line: str) -> None:
    lines = gzip.decompress(path.read_bytes()).decode().splitlines(keepends=True)
    lines.insert(at, line if line.endswith("\n") else line + "\n")
    path.write_bytes(gzip.compress("".join(lines).encode(), compresslevel=1, mtime=0))


def _plant_bad_records(landing: Path, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Broken input an ingester must quarantine without losing the rest. Bad lines are added
    (never replace a record), so every simulated invocation stays loadable."""
    objects = sorted(p for p in landing.rglob("*.json.gz") if p.parent.name != "data")
    picks = [objects[i] for i in rng.choice(len(objects), 5, replace=False)]
    key = lambda p: p.relative_to(landing).as_posix()  # noqa: E731
    bad: list[dict[str, Any]] = []
    for path, kind in zip(picks[:3], ("not_json", "missing_request_id", "wrong_type"), strict=True):
        lines = gzip.decompress(path.read_bytes()).decode().splitlines()
        at = len(lines) // 2
        record = json.loads(lines[at])
        entry: dict[str, Any] = {"kind": kind, "file": key(path), "line": at + 1}
        if kind == "not_json":
            text = lines[at][:150]  # a line cut off mid-write
        elif kind == "missing_request_id":
            entry["copy_of"] = record.pop("requestId")
            text = json.dumps(record, separators=(",", ":"))
        else:
            record["requestId"] = str(_uuid(rng))
            record["input"]["inputTokenCount"] = "many"
            entry["request_id"], entry["field"] = record["requestId"], "input.inputTokenCount"
            text = json.dumps(record, separators=(",", ":"))
        _rewrite(path, at, text)
        bad.append(entry)
    empty = _sibling(picks[3], "empty")
    empty.write_bytes(gzip.compress(b"", mtime=0))
    bad.append({"kind": "empty_file", "file": key(empty), "line": 0})
    whole = picks[4].read_bytes()
    cut = _sibling(picks[4], "cut")
    cut.write_bytes(whole[: len(whole) // 2])
    bad.append({"kind": "truncated_gzip", "file": key(cut), "line": 0, "copy_of": key(picks[4])})
    return bad


def _sibling(path: Path, tag: str) -> Path:
    """Another object in the same hour folder, named like Bedrock's."""
    stamp = path.name.split("Z_", 1)[0]
    digest = hashlib.blake2b(f"{path.name}/{tag}".encode(), digest_size=8).hexdigest()
    return path.with_name(f"{stamp}Z_{digest}.json.gz")


def _uuid(rng: np.random.Generator) -> str:
    raw = bytearray(rng.bytes(16))
    raw[6], raw[8] = (raw[6] & 0x0F) | 0x40, (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
