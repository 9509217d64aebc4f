"""The demo estate's CloudTrail and Metric Streams load through the real ingesters and tell the
same story as the simulated invocations, planted incidents included."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from base.settings import load_settings
from demo import world as w
from demo.estate import generate_estate, simulate
from demo.metrics import quota_tokens
from ingest.cloudtrail import ingester as cloudtrail
from ingest.invocation_logs import ingester as invocation_logs
from ingest.metrics import ingester as metrics
from warehouse.db import connect

END = datetime(2026, 3, 2, 17, 40, tzinfo=UTC)
DAYS, SEED, PER_DAY = 9, 3, 600
TRAIL_KEY = re.compile(
    r"^AWSLogs/(?P<acct>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/(?P<day>\d{4}/\d{2}/\d{2})/"
    r"(?P=acct)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_[0-9a-f]{16}\.json\.gz$"
)
STREAM_KEY = re.compile(
    r"^(?P<hour>\d{4}/\d{2}/\d{2}/\d{2})/bedrock-stream-1-(?P<stamp>\d{4}(-\d{2}){5})-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
THROTTLED = (pl.col("error_code") == "ThrottlingException").fill_null(False)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo-sources")
    summary = generate_estate(out, days=DAYS, seed=SEED, end=END, per_day=PER_DAY)
    settings = load_settings(summary.config_path)
    con = connect(out / "w.duckdb")
    stats = {
        "trail": cloudtrail.run(con, settings),
        "metrics": metrics.run(con, settings),
        "logs": invocation_logs.run(con, settings),
    }
    truth = json.loads(summary.ground_truth_path.read_text())
    frame = simulate(days=DAYS, seed=SEED, end=END, per_day=PER_DAY)
    return {"summary": summary, "con": con, "stats": stats, "truth": truth, "frame": frame}


def incident(loaded: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(i for i in loaded["truth"]["incidents"] if i["kind"] == kind)


def window(inc: dict[str, Any]) -> tuple[datetime, datetime]:
    t0, t1 = (datetime.fromisoformat(inc[k].replace("Z", "+00:00")) for k in ("start", "end"))
    return t0.replace(tzinfo=None), t1.replace(tzinfo=None)


def rows(loaded: dict[str, Any], query: str, *params: Any) -> list[tuple]:
    return loaded["con"].execute(query, list(params)).fetchall()


def test_summary_and_config_name_both_sources(loaded):
    s = loaded["summary"]
    assert s.trail == s.out_dir / "trail" and s.metric_stream == s.out_dir / "metric-stream"
    assert s.trail_files > 0 and s.metric_files > 0
    settings = load_settings(s.config_path)
    assert [z.name for z in settings.cloudtrail.landing_zones] == ["demo-trail"]
    assert [z.name for z in settings.metrics.landing_zones] == ["demo-metric-stream"]
    assert loaded["truth"]["cloudtrail"]["files"] == s.trail_files
    assert loaded["truth"]["metrics"]["files"] == s.metric_files


def test_files_follow_the_trail_and_firehose_layouts(loaded):
    s = loaded["summary"]
    trail = [p.relative_to(s.trail).as_posix() for p in s.trail.rglob("*") if p.is_file()]
    assert trail and all(TRAIL_KEY.match(k) for k in trail)
    for key in trail[:50]:
        m = TRAIL_KEY.match(key)
        assert m is not None and m["day"].replace("/", "") == m["stamp"][:8]
        records = json.loads(gzip.decompress((s.trail / key).read_bytes()))["Records"]
        for rec in records:
            assert (rec["recipientAccountId"], rec["awsRegion"]) == (m["acct"], m["region"])
            assert (
                rec["eventTime"] < f"{m['stamp'][:4]}-{m['stamp'][4:6]}-{m['stamp'][6:8]}T"
                f"{m['stamp'][9:11]}:{m['stamp'][11:13]}:00Z"
            )  # delivered after the event
            assert (
                rec["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
            )
            host = rec["tlsDetails"]["clientProvidedHostHeader"]
            runtime = rec["eventName"] in ("InvokeModel", "InvokeModelWithResponseStream",
                                           "Converse", "ConverseStream")  # fmt: skip
            assert host == f"bedrock{'-runtime' if runtime else ''}.{m['region']}.amazonaws.com"
            if runtime:
                assert rec["readOnly"] is True and rec["responseElements"] is None
                assert set(rec["requestParameters"]) == {"modelId"}
    stream = [p.relative_to(s.metric_stream).as_posix() for p in s.metric_stream.rglob("*")
              if p.is_file()]  # fmt: skip
    assert stream and all(STREAM_KEY.match(k) for k in stream)
    first = gzip.decompress((s.metric_stream / stream[0]).read_bytes()).decode().splitlines()
    line = json.loads(first[0])
    assert set(line) == {"metric_stream_name", "account_id", "region", "namespace",
                         "metric_name", "dimensions", "timestamp", "value", "unit"}  # fmt: skip
    assert isinstance(line["timestamp"], int) and line["timestamp"] % 60_000 == 0


def test_nothing_is_quarantined(loaded):
    assert loaded["stats"]["trail"].quarantined == 0
    assert loaded["stats"]["metrics"].quarantined == 0
    assert loaded["stats"]["trail"].objects == loaded["summary"].trail_files
    assert rows(loaded, "SELECT * FROM quarantine WHERE source IN ('cloudtrail', 'metrics')") == []


def test_every_invocation_is_a_trail_event_even_with_logging_off(loaded):
    frame = loaded["frame"]
    con = loaded["con"]
    con.register("sim", frame.select("request_id", "operation", "model_id", "error_code",
                                     "logged", "region", "principal_arn", "identity_arn",
                                     "inference_region"))  # fmt: skip
    missing, mismatched = rows(loaded, """
        SELECT count(*) FILTER (WHERE e.request_id IS NULL),
               count(*) FILTER (WHERE e.event_name <> s.operation OR e.model_id <> s.model_id
                                OR e.error_code IS DISTINCT FROM s.error_code
                                OR e.aws_region <> s.region OR e.change_kind <> 'invocation'
                                OR e.principal_arn <> s.identity_arn
                                OR e.session_issuer_arn <> s.principal_arn
                                OR (s.inference_region <> s.region) <>
                                   (e.additional_event_data->>'inferenceRegion' IS NOT NULL))
        FROM sim s LEFT JOIN cloudtrail_events e USING (request_id)""")[0]  # fmt: skip
    assert (missing, mismatched) == (0, 0)
    off = rows(loaded, "SELECT count(*) FROM sim s JOIN cloudtrail_events e USING (request_id) "
                       "WHERE NOT s.logged")[0][0]  # fmt: skip
    assert off == frame.filter(~pl.col("logged")).height > 0
    assert off == incident(loaded, "logging_off")["cloudtrail"]["invocation_events"]
    con.unregister("sim")


def test_the_guardrail_edit_is_an_update_guardrail_event(loaded):
    edit = incident(loaded, "guardrail_edit")
    got = rows(
        loaded,
        """
        SELECT event_id, event_time, principal_arn, change_kind, guardrail_id, read_only
        FROM cloudtrail_events WHERE event_name = 'UpdateGuardrail'""",
    )
    assert got == [(edit["cloudtrail"]["event_id"], window(edit)[0], w.GUARDRAIL_EDITOR,
                    "guardrail", edit["guardrail_id"], False)]  # fmt: skip
    burst_start = window(incident(loaded, "guardrail_burst"))[0]
    assert burst_start - got[0][1] == timedelta(minutes=40)


def test_logging_config_delete_and_put_bracket_the_gap(loaded):
    off = incident(loaded, "logging_off")
    got = dict(rows(loaded, """
        SELECT event_name, event_time FROM cloudtrail_events
        WHERE change_kind = 'logging_config' AND recipient_account_id = ? AND aws_region = ?""",
                    off["account"], off["region"]))  # fmt: skip
    gap = loaded["frame"].filter(~pl.col("logged"))["ts"].dt.replace_time_zone(None)
    t0, t1 = window(off)
    deleted = got["DeleteModelInvocationLoggingConfiguration"]
    put = got["PutModelInvocationLoggingConfiguration"]
    assert deleted <= gap.min() and put >= gap.max()
    assert t0 - timedelta(minutes=5) <= deleted <= t0 and put == t1
    assert off["cloudtrail"]["off"]["event_time"] == deleted.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hourly_invocations(loaded: dict[str, Any], dims: str) -> dict[tuple, float]:
    return {
        (a, r, h): v
        for a, r, h, v in rows(loaded, f"""
            SELECT account_id, region, date_trunc('hour', ts), sum(value) FROM metrics
            WHERE namespace = 'AWS/Bedrock' AND metric_name = 'Invocations' AND stat = 'Sum'
              AND {dims} GROUP BY ALL""")
    }  # fmt: skip


def test_metric_invocations_match_the_frame_hour_by_hour(loaded):
    frame = loaded["frame"].filter(~THROTTLED)
    hour = pl.col("ts").dt.truncate("1h").dt.replace_time_zone(None)
    expected = {
        (a, r, h): float(n)
        for a, r, h, n in frame.group_by("account_id", "region", hour.alias("h")).len().rows()
    }
    assert _hourly_invocations(loaded, "cardinality(dimensions) > 0") == expected
    assert _hourly_invocations(loaded, "cardinality(dimensions) = 0") == expected


def test_metrics_show_traffic_where_the_invocation_logs_have_none(loaded):
    off = incident(loaded, "logging_off")
    t0, t1 = window(off)
    where = "account_id = ? AND region = ? AND ts >= ? AND ts < ?"
    args = (off["account"], off["region"], t0, t1)
    logged = rows(loaded, f"SELECT count(*) FROM invocations WHERE {where}", *args)[0][0]
    by_name = dict(
        rows(
            loaded,
            f"""
        SELECT metric_name, sum(value) FROM metrics
        WHERE stat = 'Sum' AND cardinality(dimensions) = 0 AND {where} GROUP BY 1""",
            *args,
        )
    )
    assert logged == 0 and off["metrics"]["logged_invocations"] == 0
    assert by_name["Invocations"] == off["metrics"]["invocations"] > 0
    # With the logging configuration deleted Bedrock delivers nothing and fails nothing: the
    # delivery metrics fall silent while Invocations go on.
    assert off["metrics"]["ModelInvocationLogsS3DeliverySuccess"] == 0
    assert not {n for n in by_name if n.startswith("ModelInvocationL")}
    assert not rows(loaded, "SELECT 1 FROM metrics WHERE metric_name LIKE '%DeliveryFailure'")


def test_log_delivery_metrics_count_the_delivered_records_and_bodies(loaded):
    """Each logged record is one S3 delivery, each body offloaded to data/ one more."""
    hour = pl.col("ts").dt.truncate("1h").dt.replace_time_zone(None)
    logged = loaded["frame"].filter("logged").group_by("account_id", "region", hour.alias("h"))
    want = logged.agg(records=pl.len(), bodies=(pl.col("large_input").cast(pl.Int64)
                                                + pl.col("large_output")).sum())  # fmt: skip
    query = """SELECT metric_name, account_id, region, date_trunc('hour', ts), sum(value)
        FROM metrics WHERE metric_name LIKE 'ModelInvocation%DeliverySuccess' AND stat = 'Sum'
        GROUP BY ALL"""
    got = {(m, a, r, h): v for m, a, r, h, v in rows(loaded, query)}
    for a, r, h, records, bodies in want.rows():
        assert got.pop(("ModelInvocationLogsS3DeliverySuccess", a, r, h)) == records
        if bodies:
            assert got.pop(("ModelInvocationLargeDataS3DeliverySuccess", a, r, h)) == bodies
    assert got == {} and want["bodies"].sum() > 0


def _hourly(loaded: dict[str, Any], metric: str, inc: dict[str, Any]) -> tuple[float, float]:
    """The metric's Sum per hour (all model ids) in the incident's window and the week before."""
    t0, t1 = window(inc)
    during, before = rows(loaded, """
        SELECT sum(value) FILTER (WHERE ts >= ?), sum(value) FILTER (WHERE ts < ?)
        FROM metrics WHERE namespace = 'AWS/Bedrock' AND metric_name = ? AND stat = 'Sum'
          AND account_id = ? AND region = ? AND ts >= ? AND ts < ?
          AND cardinality(dimensions) > 0""",
        t0, t0, metric, inc["account"], inc["region"], t0 - timedelta(days=7), t1)[0]  # fmt: skip
    return (during or 0.0) / ((t1 - t0).total_seconds() / 3600), (before or 0.0) / 168


def _per_model_hour(loaded: dict[str, Any], metric: str, stat: str = "Sum") -> dict[tuple, float]:
    return {
        (a, r, m, h): v
        for a, r, m, h, v in rows(loaded, """
            SELECT account_id, region, dimensions['ModelId'], date_trunc('hour', ts), sum(value)
            FROM metrics WHERE namespace = 'AWS/Bedrock' AND metric_name = ? AND stat = ?
              AND cardinality(dimensions) > 0 GROUP BY ALL""", metric, stat)
    }  # fmt: skip


def test_token_metrics_equal_the_simulated_tokens_per_model_hour(loaded):
    hour = pl.col("ts").dt.truncate("1h").dt.replace_time_zone(None)
    served = loaded["frame"].filter(pl.col("error_code").is_null())
    keys = ("account_id", "region", "model_id", hour.alias("h"))
    want = loaded["frame"].filter(~THROTTLED).group_by(*keys).agg(
        pl.col("input_tokens").sum(), pl.col("output_tokens").sum(),
        pl.col("cache_read_tokens").sum(), pl.col("cache_write_tokens").sum(),
    )  # fmt: skip
    # Token counts go out for every minute with calls; cache counts only where there were any.
    cases = (("InputTokenCount", "input_tokens", True),
             ("OutputTokenCount", "output_tokens", True),
             ("CacheReadInputTokenCount", "cache_read_tokens", False),
             ("CacheWriteInputTokenCount", "cache_write_tokens", False))  # fmt: skip
    for metric, col, zeros in cases:
        expected = {
            tuple(k): float(v) for *k, v in want.select(*want.columns[:4], col).rows() if v or zeros
        }
        assert _per_model_hour(loaded, metric) == expected, metric
        assert sum(expected.values()) > 0
    # The quota metric: one point per successful call, input + cache writes + output x burndown.
    quota = served.group_by(*keys).agg(q=quota_tokens().sum(), n=pl.len())
    assert _per_model_hour(loaded, "EstimatedTPMQuotaUsage") == {
        tuple(k): float(q) for *k, q, _ in quota.rows()
    }
    assert _per_model_hour(loaded, "EstimatedTPMQuotaUsage", "SampleCount") == {
        tuple(k): float(n) for *k, _, n in quota.rows()
    }


def test_cost_runaway_shows_in_the_token_metrics(loaded):
    run = incident(loaded, "cost_runaway")
    t0, t1 = window(run)
    per_call = {}
    for when, (lo, hi) in (("during", (t0, t1)), ("before", (t0 - timedelta(days=7), t0))):
        by_name = dict(rows(loaded, """
            SELECT metric_name, sum(value) FROM metrics
            WHERE namespace = 'AWS/Bedrock' AND stat = 'Sum' AND cardinality(dimensions) > 0
              AND metric_name IN ('Invocations', 'InputTokenCount', 'OutputTokenCount')
              AND account_id = ? AND region = ? AND ts >= ? AND ts < ? GROUP BY 1""",
            run["account"], run["region"], lo, hi))  # fmt: skip
        tokens = by_name["InputTokenCount"] + by_name["OutputTokenCount"]
        per_call[when] = tokens / by_name["Invocations"]
        if when == "during":  # the app's own tokens are inside the account's
            assert by_name["InputTokenCount"] >= run["metrics"]["InputTokenCount"] > 0
            assert by_name["OutputTokenCount"] >= run["metrics"]["OutputTokenCount"] > 0
    assert per_call["during"] > 3 * per_call["before"]


def test_throttling_storm_pushes_quota_usage_up(loaded):
    storm = incident(loaded, "throttling_storm")
    ids = loaded["frame"].filter(pl.col("model") == storm["model"])["model_id"].unique()
    t0, t1 = window(storm)
    during, before = rows(loaded, """
        SELECT sum(value) FILTER (WHERE ts >= ?), sum(value) FILTER (WHERE ts < ?)
        FROM metrics WHERE metric_name = 'EstimatedTPMQuotaUsage' AND stat = 'Sum'
          AND dimensions['ModelId'] IN (SELECT unnest(?::VARCHAR[]))
          AND account_id = ? AND region = ? AND ts >= ? AND ts < ?""",
        t0, t0, ids.to_list(), storm["account"], storm["region"], t0 - timedelta(days=7),
        t1)[0]  # fmt: skip
    per_minute = during / ((t1 - t0).total_seconds() / 60)
    m = storm["metrics"]
    assert per_minute == pytest.approx(m["EstimatedTPMQuotaUsage_per_minute"], abs=0.1)
    assert per_minute > 4 * before / (7 * 24 * 60)
    assert (
        m["EstimatedTPMQuotaUsage_per_minute"] > 4 * m["EstimatedTPMQuotaUsage_per_minute_before"]
    )


def test_throttling_storm_spikes_invocation_throttles(loaded):
    storm = incident(loaded, "throttling_storm")
    during, before = _hourly(loaded, "InvocationThrottles", storm)
    assert during > 10 * max(before, 0.1)
    assert during * 3 >= storm["metrics"]["InvocationThrottles"] > 20


def test_latency_regression_raises_p99(loaded):
    reg = incident(loaded, "latency_regression")
    ids = loaded["frame"].filter(pl.col("model") == reg["model"])["model_id"].unique().to_list()
    t0, t1 = window(reg)
    during, before = rows(loaded, """
        SELECT avg(value) FILTER (WHERE ts >= ?), avg(value) FILTER (WHERE ts < ?)
        FROM metrics WHERE metric_name = 'InvocationLatency' AND stat = 'p99'
          AND dimensions['ModelId'] IN (SELECT unnest(?::VARCHAR[])) AND ts >= ? AND ts < ?""",
        t0, t0, ids, t0 - timedelta(days=7), t1)[0]  # fmt: skip
    assert during > 2 * before
    m = reg["metrics"]
    assert m["InvocationLatency_p99"] > 2 * m["InvocationLatency_p99_before"]


def test_guardrail_burst_shows_in_invocations_intervened(loaded):
    burst = incident(loaded, "guardrail_burst")
    gid, _ = w.GUARDRAIL_APPS[burst["app"]]
    t0, t1 = window(burst)
    during, before = rows(loaded, """
        SELECT sum(value) FILTER (WHERE ts >= ?), sum(value) FILTER (WHERE ts < ?)
        FROM metrics WHERE namespace = 'AWS/Bedrock/Guardrails' AND stat = 'Sum'
          AND metric_name = 'InvocationsIntervened' AND dimensions['GuardrailArn'] LIKE ?
          AND ts >= ? AND ts < ?""",
        t0, t0, f"%:guardrail/{gid}", t0 - timedelta(days=7), t1)[0]  # fmt: skip
    hours = (t1 - t0).total_seconds() / 3600
    assert during == burst["metrics"]["InvocationsIntervened"]
    assert during / hours > 5 * max((before or 0) / 168, 0.05)
    query = ("SELECT DISTINCT dimensions['GuardrailPolicyType'] FROM metrics "
             "WHERE metric_name = 'InvocationsIntervened'")  # fmt: skip
    policies = {r[0] for r in rows(loaded, query)}
    assert policies <= {"ContentPolicy", "TopicPolicy", "WordPolicy",
                        "SensitiveInformationPolicy", "ContextualGroundingPolicy"}  # fmt: skip
