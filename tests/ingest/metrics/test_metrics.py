"""CloudWatch metrics: Metric Streams objects (local, moto S3) and GetMetricData (moto, Stubber)."""

from __future__ import annotations

import gzip
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from base.errors import ConfigError
from base.settings import Settings
from ingest.metrics import ingester as metrics
from ingest.metrics import queries as Q
from warehouse.bookkeeping import watermark
from warehouse.db import connect

ACCOUNT = "111122223333"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"
T0 = datetime(2025, 6, 2, 10, 0)


# --- factories -----------------------------------------------------------------------------


def stream_line(**overrides: Any) -> dict[str, Any]:
    """One Metric Streams JSON object, as CloudWatch writes it (values are doubles)."""
    rec: dict[str, Any] = {
        "metric_stream_name": "bedrock-stream",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "namespace": "AWS/Bedrock",
        "metric_name": "Invocations",
        "dimensions": {"ModelId": HAIKU},
        "timestamp": _ms(T0),
        "value": {"max": 1.0, "min": 1.0, "sum": 12.0, "count": 12.0},
        "unit": "Count",
    }
    rec.update(overrides)
    return rec


def latency_line(**overrides: Any) -> dict[str, Any]:
    value = {"max": 900.0, "min": 120.0, "sum": 4000.0, "count": 10.0}
    value |= {"p50": 350.0, "p90": 700.0, "p99": 880.0, "TM(25%:75%)": 360.0}
    return stream_line(
        metric_name="InvocationLatency", unit="Milliseconds", value=value, **overrides
    )


def _ms(t: datetime) -> int:
    return int(t.replace(tzinfo=UTC).timestamp() * 1000)


def stream_key(hour: datetime, n: int = 1, gz: bool = False) -> str:
    """Firehose's key: YYYY/MM/DD/HH/<stream>-<n>-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]."""
    stamp = hour.strftime("%Y-%m-%d-%H-05-00")
    name = f"bedrock-stream-{n}-{stamp}-{uuid.UUID(int=n + hour.hour)}"
    return f"{hour:%Y/%m/%d/%H}/{name}" + (".gz" if gz else "")


def land_stream(
    root: Path, lines: list[Any], hour: datetime = T0, n: int = 1, gz: bool = False
) -> Path:
    text = "".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines)
    data = gzip.compress(text.encode()) if gz else text.encode()
    path = root / stream_key(hour, n, gz)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def stream_estate(root: Path, hours: int = 3) -> None:
    """A few hours of two models' series, a dimension-less one and latency percentiles."""
    for h in range(hours):
        hour = T0 + timedelta(hours=h)
        lines = []
        for minute in range(3):
            ts = _ms(hour + timedelta(minutes=minute))
            lines += [
                stream_line(timestamp=ts, dimensions={"ModelId": HAIKU}),
                stream_line(timestamp=ts, dimensions={"ModelId": SONNET}),
                stream_line(timestamp=ts, dimensions={}),
                latency_line(timestamp=ts),
            ]
        # Odd hours are gzip without an extension, as Firehose may name them.
        path = land_stream(root, lines, hour, n=h, gz=h % 2 == 1)
        if h % 2 == 1:
            path.rename(path.with_suffix(""))


def series(namespace: str, name: str, **dims: str) -> dict[str, Any]:
    """One ListMetrics entry."""
    return {
        "Namespace": namespace,
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
    }


def result(qid: str, points: list[tuple[datetime, float]], status: str = "Complete") -> dict:
    """One GetMetricData MetricDataResults entry."""
    return {
        "Id": qid,
        "Label": qid,
        "Timestamps": [t.replace(tzinfo=UTC) for t, _ in points],
        "Values": [v for _, v in points],
        "StatusCode": status,
    }


SNAPSHOT = """SELECT namespace, metric_name, dimensions::VARCHAR, ts, period_s, stat, value, unit,
    account_id, region, source FROM metrics ORDER BY ALL"""


def snapshot(con: Any) -> list[tuple]:
    return con.execute(SNAPSHOT).fetchall()


def stream_settings(**metrics_cfg: Any) -> Settings:
    return Settings(metrics={"batch_files": 2, **metrics_cfg})


# --- Metric Streams ------------------------------------------------------------------------


def test_stream_explodes_stats_percentiles_and_dimensionless(tmp_path, warehouse):
    root = tmp_path / "landing"
    stream_estate(root, hours=1)
    stats = metrics.run(warehouse, stream_settings(), landing=str(root))
    # 3 minutes x (3 series x 4 stats + latency 8 stats)
    assert stats.records == 3 * (3 * 4 + 8) and stats.quarantined == 0
    rows = warehouse.execute(
        "SELECT stat, value, unit, period_s, account_id, region, source FROM metrics WHERE "
        "metric_name = 'InvocationLatency' AND ts = ? ORDER BY stat",
        [T0],
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        ("Maximum", 900.0),
        ("Minimum", 120.0),
        ("SampleCount", 10.0),
        ("Sum", 4000.0),
        ("TM(25%:75%)", 360.0),
        ("p50", 350.0),
        ("p90", 700.0),
        ("p99", 880.0),
    ]
    assert {r[2:] for r in rows} == {("Milliseconds", 60, ACCOUNT, "us-east-1", "stream")}
    total = warehouse.execute(
        "SELECT sum(value) FROM metrics WHERE metric_name = 'Invocations' AND stat = 'Sum' "
        "AND cardinality(dimensions) = 0"
    ).fetchone()
    assert total == (36.0,)


def test_dimensions_compare_equal_in_any_key_order(tmp_path, warehouse):
    root = tmp_path / "landing"
    dims = {"GuardrailArn": "arn:aws:bedrock:us-east-1:1:guardrail/g1", "GuardrailVersion": "1"}
    ns = {"namespace": "AWS/Bedrock/Guardrails"}
    land_stream(root, [stream_line(dimensions=dims, **ns)], n=1)
    flipped = dict(reversed(list(dims.items())))
    land_stream(root, [stream_line(dimensions=flipped, value={"sum": 5.0}, **ns)], n=2)
    metrics.run(warehouse, stream_settings(), landing=str(root))
    rows = warehouse.execute(
        "SELECT map_keys(dimensions), value FROM metrics WHERE stat = 'Sum'"
    ).fetchall()
    assert rows == [(["GuardrailArn", "GuardrailVersion"], 5.0)]  # the later object won


def test_string_value_is_quarantined_with_its_line_and_the_rest_loads(tmp_path, warehouse):
    root = tmp_path / "landing"
    bad = stream_line(value={"max": 1.0, "min": 1.0, "sum": "twelve", "count": 12.0})
    path = land_stream(root, [stream_line(), bad, "not json", stream_line(metric_name="X")])
    stats = metrics.run(warehouse, stream_settings(), landing=str(root))
    assert stats.records == 8 and stats.quarantined == 2
    assert warehouse.execute(
        "SELECT source_object, line, reason FROM quarantine WHERE source = 'metrics' ORDER BY line"
    ).fetchall() == [
        (str(path), 2, "value.sum is not a number"),
        (str(path), 3, "not JSON"),
    ]
    assert warehouse.execute(
        "SELECT records, quarantined FROM ingest_objects WHERE zone = ?", [str(root)]
    ).fetchall() == [(8, 2)]


def test_a_batch_with_a_bad_line_loads_its_good_lines_as_a_clean_batch_does(tmp_path):
    """A clean batch is read the fast way (a fixed schema); one bad line sends the whole batch
    the tolerant way (line by line, to name it). Both ways load the very same points."""
    got = {}
    for name, extra in (("clean", []), ("dirty", ["not json"])):
        root = tmp_path / name
        stream_estate(root, hours=3)
        land_stream(root, [stream_line(timestamp=_ms(T0 + timedelta(hours=5))), *extra], n=7)
        con = connect(tmp_path / f"{name}.duckdb")
        stats = metrics.run(con, stream_settings(batch_files=50), landing=str(root))
        assert stats.quarantined == len(extra)
        got[name] = snapshot(con)
        con.close()
    assert got["clean"] == got["dirty"] and len(got["clean"]) > 40


def test_a_point_repeated_in_one_object_keeps_its_later_line(tmp_path, warehouse):
    root = tmp_path / "landing"
    later = stream_line(value={"max": 9.0, "min": 9.0, "sum": 9.0, "count": 9.0})
    land_stream(root, [stream_line(), later, stream_line(metric_name="X")])
    metrics.run(warehouse, stream_settings(), landing=str(root))
    assert warehouse.execute(
        "SELECT DISTINCT value FROM metrics WHERE metric_name = 'Invocations'"
    ).fetchall() == [(9.0,)]


def test_stream_run_twice_is_idempotent_and_reread_replaces(tmp_path, warehouse):
    root = tmp_path / "landing"
    stream_estate(root, hours=3)
    cfg = stream_settings()
    first = metrics.run(warehouse, cfg, landing=str(root))
    before = snapshot(warehouse)
    again = metrics.run(warehouse, cfg, landing=str(root))
    assert first.objects == 3 and again.objects == 0 and again.skipped == 3
    assert snapshot(warehouse) == before
    assert watermark(warehouse, metrics.SOURCE, str(root)) == T0 + timedelta(hours=2)

    # Firehose rewrites an object (same key, new content): the re-read replaces its points.
    path = land_stream(
        root, [stream_line(value={"sum": 99.0, "count": 3.0})], T0 + timedelta(hours=2), n=2
    )
    os.utime(path, ns=(1, 1))
    metrics.run(warehouse, cfg, landing=str(root))
    got = warehouse.execute(
        "SELECT stat, value FROM metrics WHERE ts = ? AND metric_name = 'Invocations' "
        "AND dimensions['ModelId'] = ? ORDER BY stat",
        [T0, HAIKU],
    ).fetchall()
    assert got == [("Maximum", 1.0), ("Minimum", 1.0), ("SampleCount", 3.0), ("Sum", 99.0)]
    assert len(snapshot(warehouse)) == len(before)


def test_stream_window_skips_hours_before_the_watermark_overlap(tmp_path, warehouse):
    root = tmp_path / "landing"
    stream_estate(root, hours=6)
    metrics.run(warehouse, stream_settings(), landing=str(root), until=T0 + timedelta(hours=5))
    assert warehouse.execute("SELECT max(ts) FROM metrics").fetchone()[0] < T0 + timedelta(hours=5)
    warehouse.execute("DELETE FROM ingest_objects")  # force re-reads: only the overlap comes back
    stats = metrics.run(warehouse, stream_settings(overlap_hours=1), landing=str(root))
    assert stats.objects == 3  # hours 3 (overlap), 4 and 5


def test_stream_from_moto_s3_equals_local(tmp_path, moto_endpoint, aws_client):
    root = tmp_path / "landing"
    stream_estate(root, hours=4)
    s3 = aws_client("s3")
    bucket = f"metrics-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = "firehose/bedrock/" + path.relative_to(root).as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    s3.put_object(Bucket=bucket, Key="firehose/bedrock/README.txt", Body=b"stray")

    local = connect(tmp_path / "local.duckdb")
    metrics.run(local, stream_settings(), landing=str(root))
    remote = connect(tmp_path / "remote.duckdb")
    zone = {"uri": f"s3://{bucket}/firehose/bedrock", "endpoint_url": moto_endpoint}
    stats = metrics.run(remote, stream_settings(landing_zones=[{**zone, "region": "us-east-1"}]))
    assert stats.objects == 4 and stats.records == 4 * 3 * 20
    assert snapshot(remote) == snapshot(local)
    assert (
        remote.execute("SELECT min(source_object) FROM metrics")
        .fetchone()[0]
        .startswith(f"s3://{bucket}/firehose/bedrock/2025/06/02/10/bedrock-stream-0-")
    )


def test_run_without_sources_says_what_to_configure(warehouse):
    with pytest.raises(ConfigError, match=r"\[\[metrics.apis\]\]"):
        metrics.run(warehouse, Settings())


# --- GetMetricData: planning ---------------------------------------------------------------


def test_period_follows_the_age_of_the_data():
    now = datetime(2025, 6, 30, 12, 30)
    got = Q.windows(now - timedelta(days=100, minutes=7), now, now)
    edge63, edge15 = datetime(2025, 4, 28, 13, 0), datetime(2025, 6, 15, 13, 0)
    assert got == [
        Q.Window(datetime(2025, 3, 22, 12, 0), edge63, 3600),
        Q.Window(edge63, edge15, 300),
        Q.Window(edge15, now, 60),
    ]
    assert Q.windows(now - timedelta(hours=3, seconds=30), now, now) == [
        Q.Window(datetime(2025, 6, 30, 9, 29), now, 60)
    ]
    assert Q.windows(now - timedelta(days=30), now - timedelta(days=20), now) == [
        Q.Window(datetime(2025, 5, 31, 12, 30), now - timedelta(days=20), 300)
    ]
    assert Q.windows(now, now, now) == []


def test_queries_cover_every_stat_with_valid_ids():
    s = [
        Q.Series("AWS/Bedrock", "InvocationLatency", (("ModelId", HAIKU),)),
        Q.Series("AWS/Bedrock", "Invocations", ()),
    ]
    qs = Q.queries(s, 60)
    assert [(q.series.metric_name, q.stat) for q in qs] == [
        ("InvocationLatency", st)
        for st in ("Sum", "Average", "Maximum", "SampleCount", "p50", "p90", "p99")
    ] + [("Invocations", st) for st in ("Sum", "Average", "Maximum", "SampleCount")]
    assert all(__import__("re").fullmatch(r"[a-z][a-zA-Z0-9_]*", q.id) for q in qs)
    assert len({q.id for q in qs}) == len(qs)


# --- GetMetricData: moto server ------------------------------------------------------------


def test_pull_from_moto_matches_what_was_put(warehouse, moto_endpoint, aws_client):
    cw = aws_client("cloudwatch")
    tag = uuid.uuid4().hex[:6]
    ns = f"AWS/Bedrock{tag}"  # moto's server state is shared by the session
    now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    put: dict[tuple[str, str | None, datetime], list[float]] = {}
    # moto answers Dimensions=[] with every series of the metric (CloudWatch: only the
    # dimension-less one), so the dimension-less series here is a metric of its own. And it
    # ignores the namespace of a query with dimensions, so the model ids are this test's own:
    # another test's points of the same minutes would be summed in.
    cases = (
        ("InputTokenCount", f"{HAIKU}-{tag}", [3.0, 5.0]),
        ("InputTokenCount", f"{SONNET}-{tag}", [7.0]),
        ("Invocations", None, [10.0, 2.0, 4.0]),
    )
    for minutes_ago in (50, 30, 10):
        ts = now - timedelta(minutes=minutes_ago)
        for metric, model, values in cases:
            dims = [{"Name": "ModelId", "Value": model}] if model else []
            data = [
                {"MetricName": metric, "Dimensions": dims, "Timestamp": ts, "Value": v}
                for v in values
            ]
            cw.put_metric_data(Namespace=ns, MetricData=data)
            put[(metric, model, ts)] = values
    cfg = Settings(
        metrics={
            "namespaces": [ns],
            "apis": [{"endpoint_url": moto_endpoint, "region": "us-east-1"}],
        }
    )
    stats = metrics.run(warehouse, cfg)
    assert stats.objects == 3  # two ModelId series and the dimension-less one
    got = warehouse.execute(
        "SELECT metric_name, dimensions['ModelId'], ts, stat, value, period_s, account_id, "
        "region, source "
        "FROM metrics WHERE stat IN ('Sum', 'SampleCount', 'Maximum', 'Average')"
    ).fetchall()
    by_key = {r[:4]: r[4] for r in got}
    for (metric, model, ts), values in put.items():
        assert by_key[(metric, model, ts, "Sum")] == sum(values)
        assert by_key[(metric, model, ts, "SampleCount")] == len(values)
        assert by_key[(metric, model, ts, "Maximum")] == max(values)
        assert by_key[(metric, model, ts, "Average")] == pytest.approx(sum(values) / len(values))
    assert {r[5:] for r in got} == {(60, "123456789012", "us-east-1", "api")}
    assert len(got) == 3 * 3 * 4
    wm = watermark(warehouse, metrics.SOURCE, cfg.metrics.apis[0].label)
    assert wm is not None and wm >= now

    again = metrics.run(warehouse, cfg)  # the overlap re-reads: replaced, not duplicated
    assert again.records == stats.records
    assert warehouse.execute("SELECT count(*) FROM metrics").fetchone()[0] == stats.records


# --- GetMetricData: Stubber ----------------------------------------------------------------


class Capture:
    """An expected parameter that accepts anything and remembers it."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def __eq__(self, other: object) -> bool:
        self.seen.append(other)
        return True

    __hash__ = None  # type: ignore[assignment]


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("cloudwatch", region_name="eu-west-1")
    return client, Stubber(client)


NOW = datetime(2025, 6, 30, 12, 0)
API = {"name": "prod-eu"}


def api_settings(**extra: Any) -> Settings:
    return Settings(metrics={"namespaces": ["AWS/Bedrock"], "apis": [API], **extra})


def test_percentiles_pagination_and_partial_data_reread(warehouse):
    client, stub = stubbed()
    latency = series("AWS/Bedrock", "InvocationLatency", ModelId=HAIKU)
    stub.add_response(
        "list_metrics", {"Metrics": [latency], "NextToken": "more"}, {"Namespace": "AWS/Bedrock"}
    )
    stub.add_response(
        "list_metrics",
        {"Metrics": [series("AWS/Bedrock", "Invocations")]},
        {"Namespace": "AWS/Bedrock", "NextToken": "more"},
    )
    # Series sort: InvocationLatency q0..q6 (Sum Average Maximum SampleCount p50 p90 p99),
    # then the dimension-less Invocations q7..q10.
    t1, t2 = NOW - timedelta(minutes=2), NOW - timedelta(minutes=1)
    queries = Capture()
    stub.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                result(f"q{i}", [(t1, 10.0 + i)], "PartialData") for i in range(11)
            ],
            "NextToken": "page2",
        },
        {
            "MetricDataQueries": queries,
            "StartTime": ANY,
            "EndTime": ANY,
            "ScanBy": "TimestampAscending",
        },
    )
    page2 = [result(f"q{i}", [(t2, 20.0 + i)]) for i in range(11) if i != 6]
    page2.append(result("q6", [], "PartialData"))  # p99 still partial at the end
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": page2},
        {
            "MetricDataQueries": ANY,
            "StartTime": ANY,
            "EndTime": ANY,
            "ScanBy": "TimestampAscending",
            "NextToken": "page2",
        },
    )
    reread = Capture()
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [result("q6", [(t1, 16.5), (t2, 26.5)])]},
        {
            "MetricDataQueries": reread,
            "StartTime": ANY,
            "EndTime": ANY,
            "ScanBy": "TimestampAscending",
        },
    )
    with stub:
        stats = metrics.pull(
            warehouse,
            api_settings(),
            api_settings().metrics.apis[0],
            since=NOW - timedelta(hours=1),
            client=client,
            now=NOW,
            account_id=ACCOUNT,
        )
        stub.assert_no_pending_responses()
    assert [q["MetricStat"]["Stat"] for q in queries.seen[0]] == [
        "Sum",
        "Average",
        "Maximum",
        "SampleCount",
        "p50",
        "p90",
        "p99",
        "Sum",
        "Average",
        "Maximum",
        "SampleCount",
    ]
    assert queries.seen[0][0]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "ModelId", "Value": HAIKU}
    ]
    assert queries.seen[0][7]["MetricStat"]["Metric"]["Dimensions"] == []
    assert [q["Id"] for q in reread.seen[0]] == ["q6"]
    assert stats.records == 22 and not stats.notes
    rows = warehouse.execute(
        "SELECT metric_name, stat, ts, value, unit FROM metrics WHERE stat LIKE 'p%' "
        "ORDER BY stat, ts"
    ).fetchall()
    assert rows == [
        ("InvocationLatency", "p50", t1, 14.0, "Milliseconds"),
        ("InvocationLatency", "p50", t2, 24.0, "Milliseconds"),
        ("InvocationLatency", "p90", t1, 15.0, "Milliseconds"),
        ("InvocationLatency", "p90", t2, 25.0, "Milliseconds"),
        ("InvocationLatency", "p99", t1, 16.5, "Milliseconds"),
        ("InvocationLatency", "p99", t2, 26.5, "Milliseconds"),
    ]
    dimless = warehouse.execute(
        "SELECT stat, value, region, account_id FROM metrics WHERE cardinality(dimensions) = 0 "
        "AND ts = ? ORDER BY stat",
        [t2],
    ).fetchall()
    assert dimless == [
        ("Average", 28.0, "eu-west-1", ACCOUNT),
        ("Maximum", 29.0, "eu-west-1", ACCOUNT),
        ("SampleCount", 30.0, "eu-west-1", ACCOUNT),
        ("Sum", 27.0, "eu-west-1", ACCOUNT),
    ]


def test_default_namespaces_newer_metrics_and_their_units(warehouse):
    """ListMetrics of both default namespaces; TimeToFirstToken with its percentiles, the quota
    and log-delivery metrics and a guardrail series all land, each with its unit."""
    client, stub = stubbed()
    guardrail = {"GuardrailArn": f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:guardrail/g1",
                 "GuardrailVersion": "3", "GuardrailPolicyType": "ContentPolicy"}  # fmt: skip
    stub.add_response("list_metrics", {"Metrics": [
        series("AWS/Bedrock", "TimeToFirstToken", ModelId=SONNET),
        series("AWS/Bedrock", "EstimatedTPMQuotaUsage", ModelId=SONNET),
        series("AWS/Bedrock", "ModelInvocationLogsS3DeliverySuccess"),
    ]}, {"Namespace": "AWS/Bedrock"})  # fmt: skip
    stub.add_response("list_metrics", {"Metrics": [
        series("AWS/Bedrock/Guardrails", "InvocationsIntervened", **guardrail),
    ]}, {"Namespace": "AWS/Bedrock/Guardrails"})  # fmt: skip
    # Series sort by namespace, name, dimensions: EstimatedTPMQuotaUsage q0-q3,
    # ModelInvocationLogsS3DeliverySuccess q4-q7, TimeToFirstToken q8-q14 (p50/p90/p99 last),
    # then the guardrail's InvocationsIntervened q15-q18.
    t1 = NOW - timedelta(minutes=4)
    queries = Capture()
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [result(f"q{i}", [(t1, 100.0 + i)]) for i in range(19)]},
        {"MetricDataQueries": queries, "StartTime": ANY, "EndTime": ANY,
         "ScanBy": "TimestampAscending"},
    )  # fmt: skip
    cfg = Settings(metrics={"apis": [API]})  # namespaces left at their default
    with stub:
        stats = metrics.pull(warehouse, cfg, cfg.metrics.apis[0], since=NOW - timedelta(hours=1),
                             client=client, now=NOW, account_id=ACCOUNT)  # fmt: skip
        stub.assert_no_pending_responses()
    sent = [(q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"])
            for q in queries.seen[0]]  # fmt: skip
    assert sent[8:15] == [("TimeToFirstToken", s) for s in Q.BASE_STATS + Q.PERCENTILES]
    assert {name for name, _ in sent} == {"TimeToFirstToken", "EstimatedTPMQuotaUsage",
                                          "ModelInvocationLogsS3DeliverySuccess",
                                          "InvocationsIntervened"}  # fmt: skip
    assert stats.objects == 4 and stats.records == 19
    ttft = warehouse.execute(
        "SELECT stat, value, unit, dimensions['ModelId'] FROM metrics "
        "WHERE metric_name = 'TimeToFirstToken' AND stat LIKE 'p%' ORDER BY stat"
    ).fetchall()
    assert ttft == [("p50", 112.0, "Milliseconds", SONNET), ("p90", 113.0, "Milliseconds", SONNET),
                    ("p99", 114.0, "Milliseconds", SONNET)]  # fmt: skip
    got = warehouse.execute(
        "SELECT namespace, metric_name, dimensions, stat, value, unit FROM metrics "
        "WHERE stat = 'Sum' AND ts = ? ORDER BY ALL",
        [t1],
    ).fetchall()
    assert got == [
        ("AWS/Bedrock", "EstimatedTPMQuotaUsage", {"ModelId": SONNET}, "Sum", 100.0, "Count"),
        ("AWS/Bedrock", "ModelInvocationLogsS3DeliverySuccess", {}, "Sum", 104.0, "Count"),
        ("AWS/Bedrock", "TimeToFirstToken", {"ModelId": SONNET}, "Sum", 108.0, "Milliseconds"),
        ("AWS/Bedrock/Guardrails", "InvocationsIntervened", guardrail, "Sum", 115.0, "Count"),
    ]
    assert warehouse.execute("SELECT count(*) FROM metrics WHERE unit IS NULL").fetchone() == (0,)


def test_partial_data_rereads_are_bounded(warehouse):
    client, stub = stubbed()
    stub.add_response(
        "list_metrics",
        {"Metrics": [series("AWS/Bedrock", "Invocations")]},
        {"Namespace": "AWS/Bedrock"},
    )
    t1 = NOW - timedelta(minutes=5)
    for _ in range(1 + Q.MAX_REREADS):
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [result(f"q{i}", [(t1, 1.0)], "PartialData") for i in range(4)]},
        )
    with stub:
        stats = metrics.pull(
            warehouse,
            api_settings(),
            api_settings().metrics.apis[0],
            since=NOW - timedelta(hours=1),
            client=client,
            now=NOW,
        )
        stub.assert_no_pending_responses()
    assert stats.records == 4 and "still incomplete" in stats.notes[0]


def test_more_than_500_queries_are_split_and_the_watermark_moves_last(warehouse):
    client, stub = stubbed()
    models = [f"model-{i:03d}" for i in range(126)]  # 126 series x 4 stats = 504 queries
    page1 = [series("AWS/Bedrock", "Invocations", ModelId=m) for m in models[:100]]
    page2 = [series("AWS/Bedrock", "Invocations", ModelId=m) for m in models[100:]]
    stub.add_response(
        "list_metrics", {"Metrics": page1, "NextToken": "n"}, {"Namespace": "AWS/Bedrock"}
    )
    stub.add_response(
        "list_metrics", {"Metrics": page2}, {"Namespace": "AWS/Bedrock", "NextToken": "n"}
    )
    sizes = Capture()
    t1 = NOW - timedelta(minutes=3)
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [result("q0", [(t1, 1.0)])]},
        {
            "MetricDataQueries": sizes,
            "StartTime": ANY,
            "EndTime": ANY,
            "ScanBy": "TimestampAscending",
        },
    )
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [result("q503", [(t1, 2.0)])]},
        {
            "MetricDataQueries": sizes,
            "StartTime": ANY,
            "EndTime": ANY,
            "ScanBy": "TimestampAscending",
        },
    )
    cfg = api_settings()
    with stub:
        stats = metrics.pull(
            warehouse,
            cfg,
            cfg.metrics.apis[0],
            client=client,
            now=NOW,
            since=NOW - timedelta(hours=2),
        )
        stub.assert_no_pending_responses()
    assert [len(s) for s in sizes.seen] == [500, 4]
    assert sizes.seen[1][-1]["Id"] == "q503" and stats.batches == 2
    assert warehouse.execute(
        "SELECT dimensions['ModelId'], stat, value FROM metrics ORDER BY value"
    ).fetchall() == [("model-000", "Sum", 1.0), ("model-125", "SampleCount", 2.0)]
    assert watermark(warehouse, metrics.SOURCE, "prod-eu") == NOW


def test_first_run_and_next_run_windows(warehouse):
    cfg = api_settings(first_run_days=3, overlap_hours=2)
    starts = Capture()
    for when in (NOW, NOW + timedelta(hours=5)):
        client, stub = stubbed()
        stub.add_response(
            "list_metrics",
            {"Metrics": [series("AWS/Bedrock", "Invocations")]},
            {"Namespace": "AWS/Bedrock"},
        )
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": []},
            {
                "MetricDataQueries": ANY,
                "StartTime": starts,
                "EndTime": ANY,
                "ScanBy": "TimestampAscending",
            },
        )
        with stub:
            metrics.pull(warehouse, cfg, cfg.metrics.apis[0], client=client, now=when)
    assert [s.replace(tzinfo=None) for s in starts.seen] == [
        NOW - timedelta(days=3),
        NOW - timedelta(hours=2),
    ]


def test_cli_ingests_a_metric_stream_landing_and_reports_it(tmp_path):
    import subprocess
    import sys

    stream_estate(tmp_path / "streams", hours=2)
    cli = str(Path(sys.executable).parent / "genai-lens")
    res = subprocess.run([cli, "--warehouse", "w.duckdb", "ingest", "metrics", "--landing",
                          str(tmp_path / "streams")], cwd=tmp_path, capture_output=True,
                         text=True, timeout=180)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("metrics: ") and "data points loaded from 2 objects" in res.stdout
