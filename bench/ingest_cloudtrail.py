"""Benchmark: CloudTrail trail-file ingest against DuckDB's bare scan of the same files.

Generates N Bedrock management events as a trail delivers them (gzip `{"Records": [...]}`
objects, one per account, region and 5 minutes; 98% runtime calls, as in a busy estate where
every model call is an event, 2% configuration and access changes), then measures, each in a
fresh process on the same page-cached files:

- scan:  SELECT sum(json_array_length(json, '$.Records')) FROM read_json_objects(files)
- keep:  `genai-lens` ingest into a fresh warehouse, cloudtrail.invocation_events = "keep"
- count: the same with invocation_events = "count" (runtime calls counted per hour only)

Usage: python bench/ingest_cloudtrail.py [--events N] [--per-file N] [--keep DIR]
The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ACCOUNTS = ["111122223333", "444455556666"]
REGIONS = ["us-east-1", "eu-west-1"]
CHANGES = ["UpdateGuardrail", "PutModelInvocationLoggingConfiguration", "ListFoundationModels",
           "CreateProvisionedModelThroughput", "PutUseCaseForModelAccess"]  # fmt: skip


def _event(i: int, when: datetime, account: str, region: str) -> dict:
    runtime = i % 50 != 0
    name = ["InvokeModel", "Converse", "ConverseStream"][i % 3] if runtime else CHANGES[i % 5]
    role = f"arn:aws:iam::{account}:role/lob{i % 6}-app"
    return {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE{i % 6}:session",
            "arn": f"arn:aws:sts::{account}:assumed-role/lob{i % 6}-app/session",
            "accountId": account,
            "accessKeyId": "ASIAEXAMPLEKEY",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": f"AROAEXAMPLE{i % 6}",
                    "arn": role,
                    "accountId": account,
                    "userName": "app",
                },
                "attributes": {
                    "creationDate": f"{when:%Y-%m-%dT%H}:00:00Z",
                    "mfaAuthenticated": "false",
                },
            },
        },
        "eventTime": f"{when:%Y-%m-%dT%H:%M:%S}Z",
        "eventSource": "bedrock.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "10.0.12.34",
        "userAgent": "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux",
        "requestParameters": {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
        "responseElements": None,
        "additionalEventData": {"inferenceRegion": region} if runtime else None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": runtime,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"bedrock-runtime.{region}.amazonaws.com",
        },
    }


def generate(root: Path, events: int, per_file: int) -> list[Path]:
    start = datetime(2026, 1, 1)
    for f in range((events + per_file - 1) // per_file):
        account, region = ACCOUNTS[f % 2], REGIONS[(f // 2) % 2]
        when = start + timedelta(minutes=5 * (f // 4))
        n = min(per_file, events - f * per_file)
        recs = [_event(f * per_file + i, when + timedelta(seconds=i * 300 // n), account, region)
                for i in range(n)]  # fmt: skip
        key = (f"AWSLogs/{account}/CloudTrail/{region}/{when:%Y/%m/%d}/"
               f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%M}Z_{f:016x}.json.gz")  # fmt: skip
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(json.dumps({"Records": recs}).encode(), compresslevel=6))
    return sorted(root.rglob("*.json.gz"))


def phase_scan(landing: str, workdir: str) -> None:
    import duckdb

    files = [str(p) for p in sorted(Path(landing).rglob("*.json.gz"))]
    duckdb.execute("SET enable_progress_bar = false")
    n = duckdb.execute(
        "SELECT sum(json_array_length(json, '$.Records')) FROM read_json_objects(?, "
        "format='unstructured', maximum_object_size=268435456)",
        [files],
    ).fetchone()[0]
    print(json.dumps({"rows": int(n)}))


def _ingest(landing: str, workdir: str, mode: str) -> None:
    from base.settings import Settings
    from ingest.cloudtrail import ingester as cloudtrail
    from warehouse.db import connect

    con = connect(Path(workdir) / f"bench-{mode}.duckdb")
    con.execute("SET enable_progress_bar = false")
    ct = {"invocation_events": mode} if mode != "keep" else {}  # keep: the default
    stats = cloudtrail.run(con, Settings(cloudtrail=ct), landing=landing)
    con.close()  # the final checkpoint is part of the work
    print(json.dumps({"rows": stats.records}))


def phase_keep(landing: str, workdir: str) -> None:
    _ingest(landing, workdir, "keep")


def phase_count(landing: str, workdir: str) -> None:
    _ingest(landing, workdir, "count")


def measure(phase: str, landing: Path, workdir: Path) -> tuple[float, int]:
    code = (
        f"import json,sys,time; sys.path.insert(0, {str(Path(__file__).parent)!r});"
        "import ingest_cloudtrail as b, duckdb, pyarrow, pandas;"
        "import ingest.cloudtrail.ingester, warehouse.db; t=time.perf_counter(); "
        f"b.phase_{phase}({str(landing)!r}, {str(workdir)!r}); "
        "print(json.dumps({'s': time.perf_counter()-t}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return json.loads(out[-1])["s"], json.loads(out[-2])["rows"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=500_000)
    ap.add_argument("--per-file", type=int, default=2_000, help="events per trail file")
    ap.add_argument("--keep", type=Path, help="reuse/keep the generated landing zone here")
    ap.add_argument(
        "--phases", nargs="+", default=["scan", "keep", "count"], choices=["scan", "keep", "count"]
    )
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="genai-lens-bench-"))
    landing = args.keep or work / "landing"
    try:
        if not landing.exists() or not any(landing.rglob("*.json.gz")):
            t = time.perf_counter()
            files = generate(landing, args.events, args.per_file)
            print(f"generated {args.events:,} events in {len(files):,} files "
                  f"in {time.perf_counter() - t:.0f}s")  # fmt: skip
        for f in landing.rglob("*.json.gz"):  # warm the page cache for every phase alike
            f.read_bytes()
        rps = {}
        for phase in args.phases:
            seconds, rows = measure(phase, landing, work)
            rps[phase] = rows / seconds
            print(f"{phase:>5}: {rows:,} events in {seconds:.1f}s = {rps[phase]:,.0f} events/s")
        load = Path("/proc/loadavg").read_text().split()[0]
        scan = rps.get("scan") or float("nan")
        keep, count = rps.get("keep", 0.0), rps.get("count", 0.0)
        print(f"events={args.events} scan_eps={scan:.0f} keep_eps={keep:.0f} "
              f"count_eps={count:.0f} keep_vs_scan={keep / scan:.2f} "
              f"count_vs_scan={count / scan:.2f} loadavg={load}")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
