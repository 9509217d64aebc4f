"""CloudWatch GetMetricData for Bedrock: which series exist, which queries, which periods.

Pure planning (series -> queries, window -> periods) is separate from the two API calls
(ListMetrics, GetMetricData), both read through boto3 paginators.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from ingest import aws

BASE_STATS = ("Sum", "Average", "Maximum", "SampleCount")
PERCENTILES = ("p50", "p90", "p99")
# Metrics whose distribution matters: their percentiles are read as well.
LATENCY_METRICS = frozenset({"InvocationLatency", "TimeToFirstToken", "Latency"})
# Everything else Bedrock publishes counts calls, tokens, findings or log deliveries. AWS's
# tables write "SampleCount" for many of these, a statistic; their CloudWatch unit is Count.
COUNT_METRICS = frozenset({
    # AWS/Bedrock
    "Invocations", "InvocationClientErrors", "InvocationServerErrors", "InvocationThrottles",
    "InputTokenCount", "OutputTokenCount", "CacheReadInputTokenCount",
    "CacheWriteInputTokenCount", "EstimatedTPMQuotaUsage", "LegacyModelInvocations",
    "OutputImageCount",
    "ModelInvocationLogsCloudWatchDeliverySuccess", "ModelInvocationLogsCloudWatchDeliveryFailure",
    "ModelInvocationLogsS3DeliverySuccess", "ModelInvocationLogsS3DeliveryFailure",
    "ModelInvocationLargeDataS3DeliverySuccess", "ModelInvocationLargeDataS3DeliveryFailure",
    # AWS/Bedrock/Guardrails
    "TextUnitCount", "InvocationsIntervened", "FindingCounts", "TotalFindings",
    # AWS/BedrockMantle (not read unless configured)
    "Inferences", "TotalInputTokens", "TotalOutputTokens",
})  # fmt: skip
# GetMetricData returns no unit; Metric Streams lines carry theirs. A metric named nowhere
# here keeps a NULL unit rather than a guessed one.
UNITS = {m: "Milliseconds" for m in LATENCY_METRICS} | {m: "Count" for m in COUNT_METRICS}
MAX_QUERIES = 500  # GetMetricData's limit per call
MAX_REREADS = 3  # extra reads of queries CloudWatch answered PartialData / InternalError
RETRY_STATUSES = frozenset({"PartialData", "InternalError"})
# CloudWatch keeps 1-minute points for 15 days, 5-minute ones for 63 days, hourly ones beyond;
# asking for a finer period than the age allows returns nothing.
TIERS = ((timedelta(days=63), 3600), (timedelta(days=15), 300))
FINEST = 60

Dimensions = tuple[tuple[str, str], ...]  # sorted (name, value) pairs; () = no dimension


@dataclass(frozen=True, order=True)
class Series:
    namespace: str
    metric_name: str
    dimensions: Dimensions


@dataclass(frozen=True)
class Query:
    id: str  # ^[a-z][a-zA-Z0-9_]*$, as GetMetricData requires
    series: Series
    stat: str
    period: int


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    period: int


def stats_for(metric_name: str) -> tuple[str, ...]:
    return BASE_STATS + (PERCENTILES if metric_name in LATENCY_METRICS else ())


def windows(start: datetime, end: datetime, now: datetime) -> list[Window]:
    """Split [start, end) where the data's age changes the finest period CloudWatch keeps.

    Each boundary is rounded up to the hour, so the coarser window reaches a little into the
    younger tier (which also has the coarser points) rather than asking too fine a period of
    data too old for it. A window's start is aligned down to its period: whole periods only.
    """
    out: list[Window] = []
    lo = start
    for age, period in TIERS:
        edge = _ceil_hour(now - age)
        hi = min(end, edge)
        if hi > lo:
            out.append(Window(_floor(lo, period), hi, period))
            lo = hi
    if end > lo:
        out.append(Window(_floor(lo, FINEST), end, FINEST))
    return out


def _floor(t: datetime, seconds: int) -> datetime:
    epoch = datetime(1970, 1, 1)
    return epoch + timedelta(seconds=int((t - epoch).total_seconds()) // seconds * seconds)


def _ceil_hour(t: datetime) -> datetime:
    floor = _floor(t, 3600)
    return floor if floor == t else floor + timedelta(hours=1)


def queries(series: list[Series], period: int) -> list[Query]:
    """One query per series and statistic; Ids are positional (q0, q1, ...)."""
    out: list[Query] = []
    for s in series:
        for stat in stats_for(s.metric_name):
            out.append(Query(f"q{len(out)}", s, stat, period))
    return out


def chunks(items: list[Query], size: int = MAX_QUERIES) -> Iterator[list[Query]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def list_series(client: Any, namespaces: list[str], label: str) -> list[Series]:
    """Every series of these namespaces, the dimension-less ones included (ListMetrics)."""
    found: set[Series] = set()
    paginator = client.get_paginator("list_metrics")
    for ns in namespaces:
        for page in aws.pages(
            paginator.paginate(Namespace=ns),
            f"CloudWatch metrics of {label}",
            "cloudwatch:ListMetrics",
        ):
            for m in page.get("Metrics", []):
                dims = tuple(sorted((d["Name"], d["Value"]) for d in m.get("Dimensions", [])))
                found.add(Series(m["Namespace"], m["MetricName"], dims))
    return sorted(found)


Points = dict[str, dict[datetime, float]]  # query id -> ts -> value


def read(client: Any, chunk: list[Query], window: Window, label: str) -> tuple[Points, list[Query]]:
    """Points of up to 500 queries; queries still incomplete after the re-reads come second."""
    got: Points = {}
    pending = chunk
    for _ in range(1 + MAX_REREADS):
        points, status = _read_once(client, pending, window, label)
        got.update(points)
        pending = [q for q in pending if status.get(q.id) in RETRY_STATUSES]
        if not pending:
            break
    return got, pending


def _read_once(
    client: Any, chunk: list[Query], window: Window, label: str
) -> tuple[Points, dict[str, str]]:
    pages = client.get_paginator("get_metric_data").paginate(
        MetricDataQueries=[_query(q) for q in chunk],
        StartTime=window.start.replace(tzinfo=UTC),
        EndTime=window.end.replace(tzinfo=UTC),
        ScanBy="TimestampAscending",
    )
    points: Points = {q.id: {} for q in chunk}
    status: dict[str, str] = {}
    for page in aws.pages(pages, f"CloudWatch metrics of {label}", "cloudwatch:GetMetricData"):
        for res in page.get("MetricDataResults", []):
            into = points.setdefault(res["Id"], {})
            for ts, value in zip(res.get("Timestamps", []), res.get("Values", []), strict=False):
                into[_naive_utc(ts)] = value
            # The last page's status is the query's: earlier pages say PartialData while
            # NextToken still has more for it.
            status[res["Id"]] = res.get("StatusCode", "Complete")
    return points, status


def _query(q: Query) -> dict[str, Any]:
    s = q.series
    return {
        "Id": q.id,
        "MetricStat": {
            "Metric": {
                "Namespace": s.namespace,
                "MetricName": s.metric_name,
                "Dimensions": [{"Name": n, "Value": v} for n, v in s.dimensions],
            },
            "Period": q.period,
            "Stat": q.stat,
        },
        "ReturnData": True,
    }


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


ROWS_SCHEMA = pa.schema(
    [
        ("namespace", pa.string()),
        ("metric_name", pa.string()),
        ("dimensions", pa.map_(pa.string(), pa.string())),
        ("ts", pa.timestamp("us")),
        ("period_s", pa.int32()),
        ("stat", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("account_id", pa.string()),
        ("region", pa.string()),
        ("source", pa.string()),
        ("source_object", pa.string()),
    ]
)


def frame(chunk: list[Query], points: Points, account_id: str, region: str, label: str) -> pa.Table:
    """Map each query's points back to metrics rows (the metrics table's columns)."""
    cols: dict[str, list[Any]] = {name: [] for name in ROWS_SCHEMA.names}
    for q in chunk:
        s = q.series
        for ts, value in sorted(points.get(q.id, {}).items()):
            row: tuple[Any, ...] = (
                s.namespace,
                s.metric_name,
                list(s.dimensions),
                ts,
                q.period,
                q.stat,
                value,
            )
            row += (UNITS.get(s.metric_name), account_id, region, "api", label)
            for name, v in zip(ROWS_SCHEMA.names, row, strict=True):
                cols[name].append(v)
    return pa.table(cols, schema=ROWS_SCHEMA)
