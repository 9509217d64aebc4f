"""Throttling, 503s and connection resets at the HTTP layer in front of moto: every source's
run completes, retried by botocore, and the warehouse holds exactly the rows of a fault-free
run (tests/faultproxy.py injects the faults; see there for their shapes and schedule)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import factories as F
import pytest
import test_cloudtrail as CT
import test_cost as C
import test_invocation_logs as IL
import test_metrics as M
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError
from botocore.parsers import create_parser
from botocore.retries.standard import (
    RetryContext,
    ThrottledRetryableChecker,
    TransientRetryableChecker,
)
from faultproxy import FAULTS, FaultProxy, error_response, fault_proxy
from test_invocation_logs_aws import put_events, s3_settings, upload_tree

from base.settings import ApiSource, Settings
from ingest.cloudtrail import ingester as cloudtrail
from ingest.cost import ingester as cost
from ingest.invocation_logs import ingester as invocation_logs
from ingest.metrics import ingester as metrics
from warehouse.db import connect

# Three of every four distinct requests fail once (a throttle, a reset, a 503), then succeed:
# well inside the adaptive retry budget (ingest/aws.py: 10 attempts).
PLAN = ("throttle", "reset", "unavailable", "ok")
Run = Callable[[Any, str], object]  # (warehouse, endpoint url) -> stats


def clean_and_faulty(tmp_path: Path, upstream: str, run: Run) -> tuple[Any, Any, FaultProxy]:
    """The same ingest straight to moto, then through the fault proxy, each in its warehouse."""
    clean = connect(tmp_path / "clean.duckdb")
    run(clean, upstream)
    faulty = connect(tmp_path / "faulty.duckdb")
    with fault_proxy(upstream, PLAN) as proxy:
        run(faulty, proxy.url)
    print(f"faults injected: {dict(proxy.injected)} by protocol {dict(proxy.by_protocol)}, "
          f"{proxy.forwarded} requests forwarded")  # fmt: skip
    return clean, faulty, proxy


def assert_injected(proxy: FaultProxy, *protocols: str) -> None:
    assert set(proxy.injected) == set(FAULTS) and min(proxy.injected.values()) > 0
    assert set(proxy.by_protocol) == set(protocols)
    assert proxy.forwarded > 0


def bucket_with(aws_client: Any, root: Path, prefix: str) -> str:
    s3 = aws_client("s3")
    bucket = f"faults-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    assert upload_tree(s3, bucket, root, prefix) > 0
    return bucket


def test_invocation_logs_from_s3(tmp_path, moto_endpoint, aws_client):
    root = tmp_path / "landing"
    IL.estate(root, hours=3)
    F.land(root, ["not json"], datetime(2025, 6, 2, 4))
    bucket = bucket_with(aws_client, root, "bedrock/")
    uri = f"s3://{bucket}/bedrock"
    clean, faulty, proxy = clean_and_faulty(
        tmp_path, moto_endpoint, lambda con, url: invocation_logs.run(con, s3_settings(uri, url))
    )
    assert IL.snapshot(faulty) == IL.snapshot(clean)
    assert len(IL.snapshot(clean)["invocations"]) == 30
    assert_injected(proxy, "s3")


def test_invocation_logs_from_cloudwatch_logs(tmp_path, moto_endpoint, aws_client):
    logs = aws_client("logs")
    group = f"/bedrock/faults-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=group)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    at = now - timedelta(minutes=30)
    recs = [F.converse(timestamp=f"{at:%Y-%m-%dT%H:%M:%S}Z") for _ in range(60)]
    put_events(logs, group, [*recs[:30], "{broken", *recs[30:]], at)

    def run(con: Any, url: str) -> object:
        cfg = Settings(
            resolve_profiles_with_api=False,
            invocation_logs={"log_groups": [{"name": group, "region": "us-east-1",
                                             "endpoint_url": url}]},
        )  # fmt: skip
        return invocation_logs.ingest_log_group(
            con, cfg, cfg.invocation_logs.log_groups[0], events_per_batch=20, page_size=10
        )

    clean, faulty, proxy = clean_and_faulty(tmp_path, moto_endpoint, run)
    # The watermark and page bookkeeping follow the clock; the rows must not.
    tables = ("invocations", "quarantine", "usage_hourly")
    got, want = IL.snapshot(faulty), IL.snapshot(clean)
    assert {t: got[t] for t in tables} == {t: want[t] for t in tables}
    assert len(want["invocations"]) == 60 and len(want["quarantine"]) == 1
    assert_injected(proxy, "json")


def test_cloudtrail_files_from_s3(tmp_path, moto_endpoint, aws_client):
    root = tmp_path / "landing"
    CT.mixed_estate(root)
    bucket = bucket_with(aws_client, root, "trails/")

    def run(con: Any, url: str) -> object:
        zone = {"uri": f"s3://{bucket}/trails", "endpoint_url": url, "region": "us-east-1"}
        return cloudtrail.run(con, CT.settings(landing_zones=[zone]))

    clean, faulty, proxy = clean_and_faulty(tmp_path, moto_endpoint, run)
    assert CT.snapshot(faulty) == CT.snapshot(clean)
    assert len(CT.snapshot(clean)["events"]) == 8
    assert_injected(proxy, "s3")


def test_metric_streams_from_s3(tmp_path, moto_endpoint, aws_client):
    root = tmp_path / "landing"
    M.stream_estate(root, hours=4)
    bucket = bucket_with(aws_client, root, "firehose/bedrock/")

    def run(con: Any, url: str) -> object:
        zone = {"uri": f"s3://{bucket}/firehose/bedrock", "endpoint_url": url,
                "region": "us-east-1"}  # fmt: skip
        return metrics.run(con, M.stream_settings(landing_zones=[zone]))

    clean, faulty, proxy = clean_and_faulty(tmp_path, moto_endpoint, run)
    assert M.snapshot(faulty) == M.snapshot(clean)
    assert len(M.snapshot(clean)) == 4 * 3 * 20
    assert_injected(proxy, "s3")


def test_cur_and_focus_exports_from_s3(tmp_path, moto_endpoint, aws_client):
    root = tmp_path / "exports"
    C.estate(root)
    bucket = bucket_with(aws_client, root, "exports/")

    def run(con: Any, url: str) -> object:
        uri = f"s3://{bucket}/exports"
        return cost.run(con, C.zone_settings(uri, endpoint_url=url, region="us-east-1"))

    clean, faulty, proxy = clean_and_faulty(tmp_path, moto_endpoint, run)
    for table in ("cost_daily", "quarantine"):
        assert C.snapshot(faulty, table) == C.snapshot(clean, table)
    assert len(C.snapshot(clean)) == 4
    assert_injected(proxy, "s3")


def test_cloudwatch_get_metric_data(tmp_path, moto_endpoint, aws_client):
    cw = aws_client("cloudwatch")
    tag = uuid.uuid4().hex[:6]
    ns = f"AWS/Bedrock{tag}"  # moto's server state is shared by the session
    now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    for minutes_ago in (50, 30, 10):
        # Model ids of this test's own: moto ignores a query's namespace when it names
        # dimensions, and test_metrics puts the same metric at other minutes.
        for model, value in ((f"{F.HAIKU}-{tag}", 3.0), (f"{F.SONNET4}-{tag}", 7.0)):
            cw.put_metric_data(Namespace=ns, MetricData=[{
                "MetricName": "InputTokenCount", "Value": value,
                "Dimensions": [{"Name": "ModelId", "Value": model}],
                "Timestamp": now - timedelta(minutes=minutes_ago),
            }])  # fmt: skip

    def run(con: Any, url: str) -> object:
        api = {"endpoint_url": url, "region": "us-east-1"}
        cfg = Settings(metrics={"namespaces": [ns], "apis": [api]})
        return metrics.run(con, cfg)

    clean, faulty, proxy = clean_and_faulty(tmp_path, moto_endpoint, run)
    assert M.snapshot(faulty) == M.snapshot(clean)
    assert len(M.snapshot(clean)) == 2 * 3 * 4  # series x minutes x stats
    # CloudWatch in JSON 1.0 (this botocore's pick), and STS GetCallerIdentity (query) for
    # the account id the rows carry.
    assert_injected(proxy, "json", "query")


def test_cost_explorer_get_cost_and_usage(tmp_path, moto_endpoint):
    def run(con: Any, url: str) -> object:
        C.moto_queue(moto_endpoint, [*C.SERVICE_PAGES, *C.TAG_PAGES])  # moto-api: never proxied
        api = ApiSource(name="ce", endpoint_url=url, region="us-east-1")
        return cost.pull(con, C.ce_settings(), api, today=C.TODAY)

    clean, faulty, proxy = clean_and_faulty(tmp_path, moto_endpoint, run)
    assert C.snapshot(faulty) == C.snapshot(clean)
    assert len(C.snapshot(clean)) == 7  # 3 totals and 4 tag rows over the two pages
    assert_injected(proxy, "json")


@pytest.mark.parametrize(
    ("protocol", "fault"),
    [(p, f) for p in ("s3", "json", "query", "cbor") for f in ("throttle", "unavailable")],
)
def test_injected_errors_parse_as_what_botocore_retries(protocol, fault):
    """Each canned answer parses, in its protocol, as a throttle (which also slows adaptive
    mode's client-side rate) or a transient 503; a reset is a transient connection error."""
    status, headers, body = error_response(protocol, fault, {"X-Amz-Target": "x"})
    parser = {"s3": "rest-xml", "json": "json", "query": "query", "cbor": "smithy-rpc-v2-cbor"}
    parsed = create_parser(parser[protocol]).parse(
        {"status_code": status, "headers": headers, "body": body}, None
    )
    response = AWSResponse("http://proxy", status, headers, None)
    context = RetryContext(1, parsed_response=parsed, http_response=response)
    throttled = ThrottledRetryableChecker().is_retryable(context)
    assert throttled == (fault == "throttle")
    assert throttled or TransientRetryableChecker().is_retryable(context)
    reset = RetryContext(1, caught_exception=ConnectionClosedError(endpoint_url="http://proxy"))
    assert TransientRetryableChecker().is_retryable(reset)
