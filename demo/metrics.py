"""The demo estate's CloudWatch Metric Streams: the same invocations as per-minute statistics.

CloudWatch publishes AWS/Bedrock per ModelId (the id as called) and across all model ids, the
invocation-log delivery health metrics, and AWS/Bedrock/Guardrails interventions. A Metric
Stream sends each minute's statistic set as one JSON line; Firehose writes them, gzipped and
without an extension, to `YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>`. Zero-valued
error and cache series are left out to keep the estate small (CloudWatch would send zeros).

EstimatedTPMQuotaUsage is one point per successful call (so a minute's Sum is the tokens per
minute the quota saw): input plus cache-write tokens plus output tokens times the model's
burndown rate, as AWS describes it for on-demand inference; cache reads are not counted.
Logging delivery counts what was delivered: with logging switched off Bedrock attempts no
delivery, so that shows as Invocations with no ModelInvocationLogsS3DeliverySuccess, not as
failures.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from demo.trail import Piece, buffer_of, write_objects

STREAM = "bedrock-stream"
FLUSH_S = 15 * 60  # Firehose buffer interval: one object per quarter hour
CLIENT_ERRORS = ("ValidationException", "AccessDeniedException")
POLICY_TYPES = {
    "contentPolicy": "ContentPolicy", "topicPolicy": "TopicPolicy", "wordPolicy": "WordPolicy",
    "sensitiveInformationPolicy": "SensitiveInformationPolicy",
    "contextualGroundingPolicy": "ContextualGroundingPolicy",
}  # fmt: skip
KEYS = ("account_id", "region", "minute")
# Claude 3.7 Sonnet and later burn five tokens of TPM quota per output token; other models one.
BURNDOWN_5X = (
    "anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic.claude-sonnet-4-20250514-v1:0",
    "anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0",
    "anthropic.claude-opus-4-1-20250805-v1:0",
)  # fmt: skip


def quota_tokens() -> pl.Expr:
    """A call's EstimatedTPMQuotaUsage (null for a call that failed or was throttled)."""
    burndown = pl.when(pl.col("model").is_in(BURNDOWN_5X)).then(5).otherwise(1)
    used = (
        pl.col("input_tokens") + pl.col("cache_write_tokens") + pl.col("output_tokens") * burndown
    )
    return pl.when(pl.col("error_code").is_null()).then(used)


def _num(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.Float64).cast(pl.String)


def _counts(name: str, n: pl.Expr, hits: pl.Expr | None = None) -> dict[str, pl.Expr]:
    """A per-call 0/1 metric: count = calls, sum = hits (= calls when hits is None)."""
    hits = n if hits is None else hits
    return {
        "metric_name": pl.lit(name), "unit": pl.lit("Count"),
        "value": pl.concat_str(pl.lit('{"count":'), _num(n), pl.lit(',"sum":'), _num(hits),
                               pl.lit(',"max":'), _num((hits > 0).cast(pl.Int64)),
                               pl.lit(',"min":'), _num((hits == n).cast(pl.Int64)), pl.lit("}")),
    }  # fmt: skip


def _stats(col: str, unit: str, pct: bool) -> tuple[list[pl.Expr], dict[str, pl.Expr]]:
    """Aggregations of `col` over a group, and the value JSON built from them."""
    c = pl.col(col).drop_nulls()
    aggs = [c.count().alias(f"{col}_n"), c.sum().alias(f"{col}_s"),
            c.min().alias(f"{col}_lo"), c.max().alias(f"{col}_hi")]  # fmt: skip
    parts: list[Any] = [pl.lit('{"count":'), _num(pl.col(f"{col}_n")), pl.lit(',"sum":'),
                        _num(pl.col(f"{col}_s")), pl.lit(',"max":'), _num(pl.col(f"{col}_hi")),
                        pl.lit(',"min":'), _num(pl.col(f"{col}_lo"))]  # fmt: skip
    if pct:
        for q in (50, 90, 99):
            aggs.append(c.quantile(q / 100, "linear").round(1).alias(f"{col}_p{q}"))
            parts += [pl.lit(f',"p{q}":'), _num(pl.col(f"{col}_p{q}"))]
    value = pl.concat_str([*parts, pl.lit("}")])
    return aggs, {"metric_name": pl.lit(""), "unit": pl.lit(unit), "value": value}


def _bedrock(calls: pl.DataFrame, dims: pl.Expr, by: list[str]) -> list[pl.DataFrame]:
    """AWS/Bedrock lines per minute and `by` (dims is the dimensions JSON)."""
    err = pl.col("error_code")
    throttled = (err == "ThrottlingException").fill_null(False)
    ok = calls.filter(~throttled)
    lat_aggs, lat = _stats("latency_ms", "Milliseconds", True)
    fb_aggs, fb = _stats("first_byte_ms", "Milliseconds", True)
    q_aggs, quota = _stats("quota", "Count", False)
    agg = ok.group_by(*KEYS, *by).agg(
        *lat_aggs,
        *fb_aggs,
        *q_aggs,
        n=pl.len(),
        client=err.is_in(CLIENT_ERRORS).sum(),
        server=(err.is_not_null() & ~err.is_in(CLIENT_ERRORS)).sum(),
        tin=pl.col("input_tokens").fill_null(0).sum(),
        tout=pl.col("output_tokens").fill_null(0).sum(),
        tcr=pl.col("cache_read_tokens").fill_null(0).sum(),
        tcw=pl.col("cache_write_tokens").fill_null(0).sum(),
    )
    thr = calls.filter(throttled).group_by(*KEYS, *by).agg(n=pl.len())
    n = pl.col("n")
    token = lambda name, c: {"metric_name": pl.lit(name), "unit": pl.lit("Count"),  # noqa: E731
                             "value": pl.concat_str(pl.lit('{"count":'), _num(n),
                                                    pl.lit(',"sum":'), _num(pl.col(c)),
                                                    pl.lit("}"))}  # fmt: skip
    out = [
        _lines(agg, dims, _counts("Invocations", n)),
        _lines(agg.filter(pl.col("latency_ms_n") > 0), dims,
               {**lat, "metric_name": pl.lit("InvocationLatency")}),
        _lines(agg.filter(pl.col("first_byte_ms_n") > 0), dims,
               {**fb, "metric_name": pl.lit("TimeToFirstToken")}),
        _lines(agg.filter(pl.col("client") > 0), dims,
               _counts("InvocationClientErrors", n, pl.col("client"))),
        _lines(agg.filter(pl.col("server") > 0), dims,
               _counts("InvocationServerErrors", n, pl.col("server"))),
        _lines(agg, dims, token("InputTokenCount", "tin")),
        _lines(agg, dims, token("OutputTokenCount", "tout")),
        _lines(agg.filter(pl.col("tcr") > 0), dims, token("CacheReadInputTokenCount", "tcr")),
        _lines(agg.filter(pl.col("tcw") > 0), dims, token("CacheWriteInputTokenCount", "tcw")),
        _lines(agg.filter(pl.col("quota_n") > 0), dims,
               {**quota, "metric_name": pl.lit("EstimatedTPMQuotaUsage")}),
        _lines(thr, dims, _counts("InvocationThrottles", n)),
    ]  # fmt: skip
    return out


def _lines(df: pl.DataFrame, dims: pl.Expr, m: dict[str, pl.Expr],
           namespace: str = "AWS/Bedrock") -> pl.DataFrame:  # fmt: skip
    """Metric Streams JSON lines (columns account_id, region, minute, line)."""
    line = pl.concat_str(
        pl.lit('{"metric_stream_name":"' + STREAM + '","account_id":"'), pl.col("account_id"),
        pl.lit('","region":"'), pl.col("region"), pl.lit(f'","namespace":"{namespace}",'
                                                         '"metric_name":"'),
        m["metric_name"], pl.lit('","dimensions":'), dims, pl.lit(',"timestamp":'),
        (pl.col("minute") * 60_000).cast(pl.String), pl.lit(',"value":'), m["value"],
        pl.lit(',"unit":"'), m["unit"], pl.lit('"}\n'),
    )  # fmt: skip
    order = ["minute", *(c for c in df.columns if c != "minute")]  # deterministic bytes
    return df.sort(order).select("minute", line=line)


def metric_lines(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """Every metric line the stream sends for `frame`: parts of (minute, line), by minute."""
    calls = frame.select(
        "account_id", "region", "model_id", "error_code", "input_tokens", "output_tokens",
        "cache_read_tokens", "cache_write_tokens", "latency_ms", "first_byte_ms", "logged",
        "guardrail_id", "guardrail_version", "guardrail_action", "guardrail_policy",
        quota=quota_tokens(),
        minute=pl.col("ts").dt.epoch("s") // 60,
        large=pl.col("large_input").cast(pl.Int64) + pl.col("large_output").cast(pl.Int64),
    )  # fmt: skip
    by_model = pl.concat_str(pl.lit('{"ModelId":"'), pl.col("model_id"), pl.lit('"}'))
    parts = _bedrock(calls, by_model, ["model_id"]) + _bedrock(calls, pl.lit("{}"), [])
    # Logging health: one delivery per logged record, and per body offloaded to data/.
    logged = calls.filter("logged")
    health = logged.group_by(*KEYS).agg(records=pl.len(), bodies=pl.col("large").sum())
    for name, c in (("ModelInvocationLogsS3DeliverySuccess", "records"),
                    ("ModelInvocationLargeDataS3DeliverySuccess", "bodies")):  # fmt: skip
        parts.append(_lines(health.filter(pl.col(c) > 0), pl.lit("{}"), _counts(name, pl.col(c))))
    gr = calls.filter(pl.col("guardrail_action").is_not_null()).with_columns(
        arn=pl.concat_str(pl.lit("arn:aws:bedrock:"), pl.col("region"), pl.lit(":"),
                          pl.col("account_id"), pl.lit(":guardrail/"), pl.col("guardrail_id"))
    )  # fmt: skip
    gdims = pl.concat_str(
        pl.lit('{"GuardrailArn":"'),
        pl.col("arn"),
        pl.lit('","GuardrailVersion":"'),
        pl.col("guardrail_version"),
    )
    hit = gr.filter(pl.col("guardrail_action") == "INTERVENED").with_columns(
        policy=pl.col("guardrail_policy").replace_strict(POLICY_TYPES, default="ContentPolicy")
    )
    by_policy = hit.group_by(*KEYS, "arn", "guardrail_version", "policy").agg(n=pl.len())
    pdims = pl.concat_str(
        gdims, pl.lit('","GuardrailPolicyType":"'), pl.col("policy"), pl.lit('"}')
    )
    parts.append(_lines(by_policy, pdims, _counts("InvocationsIntervened", pl.col("n")),
                        "AWS/Bedrock/Guardrails"))  # fmt: skip
    return parts


def write_metric_stream(frame: pl.DataFrame, root: Path) -> int:
    """Write Firehose objects under `root`; returns the number of objects."""
    files: dict[int, list[Piece]] = {}
    for part in metric_lines(frame):
        offsets, data = buffer_of(part["line"])
        runs = part.group_by(flush=pl.col("minute") * 60 // FLUSH_S, maintain_order=True).len()
        row = 0
        for flush, n in runs.iter_rows():
            files.setdefault(flush, []).append(data[int(offsets[row]) : int(offsets[row + n])])
            row += n
    paths = []
    for flush in sorted(files):
        at = datetime.fromtimestamp(flush * FLUSH_S + FLUSH_S - 60 + flush % 50, UTC)
        uid = hashlib.blake2b(f"{STREAM}/{flush}".encode(), digest_size=16).hexdigest()
        uid = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:]}"
        paths.append(root / f"{at:%Y/%m/%d/%H}/{STREAM}-1-{at:%Y-%m-%d-%H-%M-%S}-{uid}")
    write_objects(paths, [files[f] for f in sorted(files)])
    return len(paths)
