"""Benchmark: invocation-log ingest against DuckDB's bare scan and a plain pandas loader.

Generates N realistic records (Converse-sized bodies: request and response text sized from
their token counts at ~4 characters a token) into a landing zone, then measures, each in a
fresh process on the same files (page cache warmed first):

- ours:   `genai-lens` ingest into a fresh warehouse (parse, attribute, price, upsert, rollup)
- scan:   SELECT count(*) FROM read_json(files, columns={requestId, input, output}) — the limit
- pandas: the plain loader: gzip + json.loads per line, eight fields into a list of dicts,
          pandas.DataFrame
- s3:     ours again, reading the same objects from S3: moto's server (its own process, on
          this machine's cores, which real S3 would not take) with the files uploaded before
          the clock starts; listing, download and parse overlap as in production

Usage: python bench/ingest_invocations.py [--records N] [--keep DIR]
The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

PER_FILE = 5000
ACCOUNTS = ["111122223333", "444455556666"]
REGIONS = ["us-east-1", "eu-west-1"]
MODELS = [
    "anthropic.claude-sonnet-4-20250514-v1:0",
    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "amazon.nova-pro-v1:0",
    "meta.llama3-3-70b-instruct-v1:0",
    "mistral.mistral-large-2407-v1:0",
]
WORDS = [
    "the",
    "invoice",
    "total",
    "account",
    "customer",
    "policy",
    "claim",
    "shipment",
    "summary",
    "table",
    "report",
    "quarter",
    "revenue",
    "forecast",
    "contract",
    "clause",
    "risk",
    "review",
    "draft",
    "email",
    "reply",
    "ticket",
    "order",
    "refund",
    "product",
    "feature",
    "latency",
    "model",
    "prompt",
    "answer",
    "context",
    "document",
    "section",
    "figure",
]


_CORPUS = " ".join(np.random.default_rng(0).choice(WORDS, 400_000))


def _text(rng: np.random.Generator, tokens: int) -> str:
    n = max(4, tokens * 4)  # ~4 characters a token
    start = int(rng.integers(0, len(_CORPUS) - n - 1))
    return _CORPUS[start : start + n]


MEDIAN_TOKENS = {"input": 600, "output": 150}  # overridden by --input-tokens/--output-tokens


def _record(rng: np.random.Generator, ts: datetime, account: str, region: str) -> dict:
    op = rng.choice(
        ["Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"],
        p=[0.5, 0.15, 0.2, 0.15],
    )
    tin = int(MEDIAN_TOKENS["input"] * rng.lognormal(0, 0.8))
    tout = int(MEDIAN_TOKENS["output"] * rng.lognormal(0, 0.7))
    role = f"arn:aws:sts::{account}:assumed-role/lob{rng.integers(6)}-app{rng.integers(3)}/s"
    rec: dict = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": f"{ts:%Y-%m-%dT%H:%M:%S}Z",
        "accountId": account,
        "identity": {"arn": role},
        "region": region,
        "requestId": str(uuid.uuid4()),
        "operation": str(op),
        "modelId": str(rng.choice(MODELS)),
    }
    prompt, answer = _text(rng, tin), _text(rng, tout)
    usage = {"inputTokens": tin, "outputTokens": tout, "totalTokens": tin + tout}
    if op.startswith("Converse"):
        rec["requestMetadata"] = {"lob": f"lob{rng.integers(6)}", "app": "assistant"}
        body_in = {
            "messages": [{"role": "user", "content": [{"text": prompt}]}],
            "inferenceConfig": {"maxTokens": 1024},
        }
        body_out: object = {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "end_turn",
            "metrics": {"latencyMs": 900 + tout * 9},
            "usage": usage,
        }
        if rng.random() < 0.1:
            body_out["trace"] = {
                "guardrail": {
                    "inputAssessment": {
                        "gr1": {
                            "contentPolicy": {
                                "filters": [
                                    {
                                        "type": "HATE",
                                        "confidence": "HIGH",
                                        "action": "BLOCKED" if rng.random() < 0.3 else "NONE",
                                    }
                                ]
                            }
                        }
                    }
                }
            }
    else:
        body_in = {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": prompt}],
        }
        msg = {
            "id": "msg_bdrk_1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": answer}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": tin, "output_tokens": tout},
        }
        body_out = (
            msg
            if op == "InvokeModel"
            else [
                {"type": "message_start", "message": {"id": "msg_bdrk_1"}},
                {"type": "content_block_delta", "delta": {"type": "text_delta", "text": answer}},
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn"},
                    "usage": {"output_tokens": tout},
                },
                {
                    "type": "message_stop",
                    "amazon-bedrock-invocationMetrics": {
                        "inputTokenCount": tin,
                        "outputTokenCount": tout,
                        "invocationLatency": 900 + tout * 9,
                        "firstByteLatency": 300,
                    },
                },
            ]
        )
    rec["input"] = {
        "inputContentType": "application/json",
        "inputBodyJson": body_in,
        "inputTokenCount": tin,
    }
    rec["output"] = {
        "outputContentType": "application/json",
        "outputBodyJson": body_out,
        "outputTokenCount": tout,
    }
    if rng.random() < 0.02:
        rec["errorCode"] = "ThrottlingException"
    return rec


def _write_file(args: tuple[Path, int, int, dict[str, int], int]) -> int:
    root, index, n, medians, per_file = args
    MEDIAN_TOKENS.update(medians)  # worker processes do not share the parent's globals
    rng = np.random.default_rng(index)
    account, region = ACCOUNTS[index % 2], REGIONS[(index // 2) % 2]
    # 5,000 records an hour per account and region whatever the object size: smaller objects
    # are more objects per hour, as Bedrock delivers them.
    hour = datetime(2026, 1, 1) + timedelta(hours=(index // 4) * per_file // PER_FILE)
    lines = [
        json.dumps(_record(rng, hour + timedelta(seconds=int(s)), account, region))
        for s in np.sort(rng.integers(0, 3600, n))
    ]
    key = (
        f"AWSLogs/{account}/BedrockModelInvocationLogs/{region}/{hour:%Y/%m/%d/%H}/"
        f"{hour:%Y%m%dT%H%M%S}Z_{index:016x}.json.gz"
    )
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1))
    return n


def generate(root: Path, records: int, per_file: int = PER_FILE) -> list[Path]:
    jobs = [
        (root, i, min(per_file, records - i * per_file), dict(MEDIAN_TOKENS), per_file)
        for i in range((records + per_file - 1) // per_file)
    ]
    with ProcessPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(_write_file, jobs))
    return sorted(root.rglob("*.json.gz"))


def phase_ours(landing: str, workdir: str) -> None:
    _ingest(Path(workdir) / "bench.duckdb", {}, landing)


def _ingest(warehouse: Path, config: dict[str, Any], landing: str | None = None) -> None:
    """`genai-lens` ingest of invocation logs into a fresh warehouse; prints the rows."""
    from base.settings import Settings
    from ingest.invocation_logs import ingester as invocation_logs
    from warehouse.db import connect

    con = connect(warehouse)
    con.execute("SET enable_progress_bar = false")
    settings = Settings.model_validate({"resolve_profiles_with_api": False, **config})
    invocation_logs.run(con, settings, landing=landing)
    n = con.execute("SELECT count(*) FROM invocations").fetchone()[0]  # type: ignore[index]
    con.close()  # the final checkpoint is part of the work: it is timed too
    print(json.dumps({"rows": n}))


def phase_s3(landing: str, workdir: str) -> None:
    zone = {"uri": f"s3://{BUCKET}/", "endpoint_url": os.environ["BENCH_S3_ENDPOINT"],
            "region": "us-east-1"}  # fmt: skip
    _ingest(Path(workdir) / "bench-s3.duckdb", {"invocation_logs": {"landing_zones": [zone]}})


BUCKET = "bench-invocation-logs"
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip


def moto_s3(landing: Path) -> tuple[subprocess.Popen[bytes], str]:
    """moto's server in its own process, holding the landing zone's objects in a bucket."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    for _ in range(100):
        try:
            s3.create_bucket(Bucket=BUCKET)
            break
        except Exception:  # not listening yet
            time.sleep(0.1)
    files = [f for f in landing.rglob("*") if f.is_file()]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda f: s3.upload_file(str(f), BUCKET, str(f.relative_to(landing))), files))
    return server, endpoint


def phase_scan(landing: str, workdir: str) -> None:
    import duckdb

    files = [str(p) for p in sorted(Path(landing).rglob("*.json.gz"))]
    duckdb.execute("SET enable_progress_bar = false")
    n = duckdb.execute(
        "SELECT count(*) FROM read_json(?, format='newline_delimited', "
        "columns={'requestId': 'VARCHAR', 'input': 'JSON', 'output': 'JSON'})",
        [files],
    ).fetchone()[0]
    print(json.dumps({"rows": n}))


def phase_pandas(landing: str, workdir: str) -> None:
    """The plain loader the issue names: gzip + json.loads per line, eight fields into a list
    of dicts, a pandas DataFrame. (It writes nothing: ours also writes and rolls up.)"""
    import pandas as pd

    rows = []
    for path in sorted(Path(landing).rglob("*.json.gz")):
        with gzip.open(path, "rt") as fh:
            for line in fh:
                r = json.loads(line)
                rows.append(
                    {
                        "requestId": r["requestId"],
                        "timestamp": r["timestamp"],
                        "accountId": r["accountId"],
                        "region": r["region"],
                        "operation": r["operation"],
                        "modelId": r["modelId"],
                        "inputTokenCount": r["input"]["inputTokenCount"],
                        "outputTokenCount": r["output"]["outputTokenCount"],
                    }
                )
    print(json.dumps({"rows": len(pd.DataFrame(rows))}))


def warm(phase: str) -> None:
    """Import what a phase uses before its clock starts: a process's first import of pandas
    (which DuckDB pulls in to register an Arrow table) costs ~1 s, 4 s without bytecode caches,
    and says nothing about the ingest."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    if phase in ("ours", "s3"):
        import boto3  # noqa: F401

        import ingest.invocation_logs.ingester  # noqa: F401
        import warehouse.db  # noqa: F401


def measure(
    phase: str, landing: Path, workdir: Path, env: dict[str, str] | None = None
) -> tuple[float, int, float]:
    """Seconds, rows and the phase process's peak RSS in MB."""
    code = (
        f"import json,resource,sys,time; sys.path.insert(0, {str(Path(__file__).parent)!r});"
        f"import ingest_invocations as b; b.warm({phase!r}); t=time.perf_counter(); "
        f"b.phase_{phase}({str(landing)!r}, {str(workdir)!r}); "
        "print(json.dumps({'s': time.perf_counter()-t, "
        "'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))"
    )
    full = {**os.environ, **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=full
    )
    out = done.stdout.strip().splitlines()
    rows, timing = json.loads(out[-2])["rows"], json.loads(out[-1])
    return timing["s"], rows, timing["rss"] / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--keep", type=Path, help="reuse/keep the generated landing zone here")
    ap.add_argument("--input-tokens", type=int, default=600, help="median input tokens")
    ap.add_argument("--output-tokens", type=int, default=150, help="median output tokens")
    ap.add_argument(
        "--per-file",
        type=int,
        default=PER_FILE,
        help="records per object (the demo's Bedrock objects hold ~100)",
    )
    ap.add_argument(
        "--phases",
        nargs="+",
        default=["scan", "ours", "pandas"],
        choices=["scan", "ours", "pandas", "s3"],
        help="what to measure (in this order)",
    )
    args = ap.parse_args()
    MEDIAN_TOKENS.update(input=args.input_tokens, output=args.output_tokens)
    work = Path(tempfile.mkdtemp(prefix="genai-lens-bench-"))
    landing = args.keep or work / "landing"
    try:
        if not landing.exists() or not any(landing.rglob("*.json.gz")):
            t = time.perf_counter()
            files = generate(landing, args.records, args.per_file)
            print(
                f"generated {args.records:,} records in {len(files):,} files "
                f"({sum(f.stat().st_size for f in files) / 1e6:,.0f} MB gzip) "
                f"in {time.perf_counter() - t:.0f}s"
            )
        for f in landing.rglob("*.json.gz"):  # warm the page cache for every phase alike
            f.read_bytes()
        results = {}
        for phase in args.phases:  # ours next to the scan: same machine load
            env, server = None, None
            if phase == "s3":
                t = time.perf_counter()
                server, endpoint = moto_s3(landing)
                env = {**FAKE_AWS, "BENCH_S3_ENDPOINT": endpoint}
                print(f"uploaded the landing zone to moto in {time.perf_counter() - t:.0f}s")
            try:
                seconds, rows, rss = measure(phase, landing, work, env)
            finally:
                if server:
                    server.terminate()
                    server.wait()
            results[phase] = (rows / seconds, rss)
            print(
                f"{phase:>6}: {rows:,} rows in {seconds:.1f}s = {rows / seconds:,.0f} rows/s, "
                f"peak RSS {rss:,.0f} MB"
            )
        ours, scan, pandas_, s3 = (
            results.get(p, (0.0, 0.0))[0] for p in ("ours", "scan", "pandas", "s3")
        )
        loadavg = Path("/proc/loadavg")
        load = loadavg.read_text().split()[0] if loadavg.exists() else "?"
        print(
            f"records={args.records} ours_rps={ours:.0f} scan_rps={scan:.0f} "
            f"pandas_rps={pandas_:.0f} s3_rps={s3:.0f} vs_scan={ours / scan if scan else 0:.2f} "
            f"vs_pandas={ours / pandas_ if pandas_ else 0:.2f} "
            f"peak_rss_mb={results.get('ours', (0, 0))[1]:.0f} loadavg={load}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
