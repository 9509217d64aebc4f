"""Every invocation-log record variant of aws-formats.md section 1 loads into the right columns."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import factories as F
import pytest

from base.settings import Settings
from ingest.invocation_logs import ingester as invocation_logs


def load(warehouse: Any, tmp_path: Path, records: list[Any], **settings: Any) -> dict[str, dict]:
    root = tmp_path / "landing"
    F.land(root, records)
    invocation_logs.run(
        warehouse, Settings(resolve_profiles_with_api=False, **settings), landing=str(root)
    )
    cur = warehouse.execute("SELECT * FROM invocations")
    cols = [d[0] for d in cur.description]
    return {row[0]: dict(zip(cols, row, strict=True)) for row in cur.fetchall()}


def test_converse_tokens_latency_cache_and_cost(warehouse, tmp_path):
    rec = F.converse()
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["operation"] == "Converse"
    assert (row["input_tokens"], row["output_tokens"]) == (1200, 240)
    assert (row["cache_read_tokens"], row["cache_write_tokens"]) == (300, 50)
    assert row["latency_ms"] == 1834 and row["first_byte_ms"] is None
    assert row["stop_reason"] == "end_turn"
    assert row["model"] == F.SONNET4 and row["profile_kind"] == "foundation"
    # Sonnet 4: $3 in, $15 out, $0.30 cache read, $3.75 cache write per 1M tokens.
    expected = (1200 * 3 + 240 * 15 + 300 * 0.30 + 50 * 3.75) / 1e6
    assert row["est_cost_usd"] == pytest.approx(expected)
    assert row["guardrail_action"] is None and row["error_code"] is None
    assert str(row["ts"]) == "2025-06-02 10:15:30"


def test_invoke_model_provider_native_body(warehouse, tmp_path):
    rec = F.invoke_model()
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["stop_reason"] == "max_tokens"
    assert (row["input_tokens"], row["output_tokens"]) == (800, 60)
    assert row["cache_read_tokens"] == 0 and row["latency_ms"] is None
    assert row["est_cost_usd"] == pytest.approx((800 * 0.25 + 60 * 1.25) / 1e6)


@pytest.mark.parametrize("done_marker", [True, False])
def test_stream_array_body_metrics_in_last_chunk(warehouse, tmp_path, done_marker):
    rec = F.invoke_stream(done_marker=done_marker)
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["operation"] == "InvokeModelWithResponseStream"
    assert (row["latency_ms"], row["first_byte_ms"]) == (2450, 310)
    assert row["stop_reason"] == "end_turn"
    assert row["output_tokens"] == 60


def test_converse_stream_is_an_aggregated_object(warehouse, tmp_path):
    rec = F.converse(operation="ConverseStream")
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["operation"] == "ConverseStream" and row["latency_ms"] == 1834


def test_error_record_without_output_body(warehouse, tmp_path):
    rec = F.error_record("ThrottlingException")
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["error_code"] == "ThrottlingException"
    assert row["output_tokens"] == 0 and row["output_body_bytes"] is None
    assert row["cache_read_tokens"] == 0  # missing cache fields count as 0


@pytest.mark.parametrize(
    ("model_id", "kind", "scope"),
    [
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "system_profile", "geo"),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "system_profile", "global"),
        (
            "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.amazon.nova-pro-v1:0",
            "system_profile",
            "geo",
        ),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", "foundation", None),
    ],
)
def test_profile_forms_resolve_to_the_foundation_model(warehouse, tmp_path, model_id, kind, scope):
    rec = F.converse(modelId=model_id, inferenceRegion="us-west-2")
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert (
        row["model"] == model_id.rsplit("/", 1)[-1].split(".", 1)[-1]
        if kind != "foundation"
        else model_id.rsplit("/", 1)[-1]
    )
    assert not row["model"].startswith(("arn:", "us.", "eu.", "global."))
    assert (row["profile_kind"], row["profile_scope"]) == (kind, scope)
    assert row["inference_region"] == "us-west-2" and row["model_id"] == model_id


def test_geo_and_in_region_calls_pay_the_premium_over_global_ones(warehouse, tmp_path):
    # Sonnet 4.5 is priced from 2025-09-29; 100K tokens stay under its long-context size.
    base = F.token_counts(100_000) | {"timestamp": "2025-10-15T08:00:00Z"}
    geo = F.converse(modelId="us.anthropic.claude-sonnet-4-5-20250929-v1:0", **base)
    glob = F.converse(modelId="global.anthropic.claude-sonnet-4-5-20250929-v1:0", **base)
    local = F.converse(modelId="anthropic.claude-sonnet-4-5-20250929-v1:0", **base)
    rows = load(warehouse, tmp_path, [geo, glob, local])
    assert rows[glob["requestId"]]["est_cost_usd"] == pytest.approx(0.30)
    assert rows[geo["requestId"]]["est_cost_usd"] == pytest.approx(0.33)
    assert rows[local["requestId"]]["est_cost_usd"] == pytest.approx(0.33)


def test_application_profile_resolved_from_config(warehouse, tmp_path):
    rec = F.converse(modelId=F.APP_PROFILE)
    rows = load(
        warehouse,
        tmp_path,
        [rec],
        inference_profiles=[
            {
                "arn": F.APP_PROFILE,
                "model": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
                "tags": {"lob": "payments"},
            }
        ],
    )
    row = rows[rec["requestId"]]
    assert row["model"] == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert row["profile_kind"] == "application_profile"
    assert row["model_unresolved"] is None and row["est_cost_usd"] is not None


def test_unresolvable_application_profile_keeps_model_null_with_reason(warehouse, tmp_path):
    rec = F.converse(modelId=F.APP_PROFILE)
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["model"] is None and row["est_cost_usd"] is None
    assert "resolve_profiles_with_api" in row["model_unresolved"]


def test_cache_tokens_on_a_model_without_cache_prices_are_unpriced(warehouse, tmp_path):
    rec = F.converse(modelId=F.HAIKU)  # Claude 3 Haiku has no cache price in the catalog
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["cache_read_tokens"] == 300 and row["est_cost_usd"] is None


def test_unpriced_model_is_null_never_zero(warehouse, tmp_path):
    rec = F.converse(modelId="ai21.jamba-1-5-large-v1:0")
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["model"] == "ai21.jamba-1-5-large-v1:0" and row["est_cost_usd"] is None
    hourly = warehouse.execute("SELECT unpriced_invocations, est_cost_usd FROM usage_hourly")
    assert hourly.fetchall() == [(1, None)]


def test_converse_guardrail_trace(warehouse, tmp_path):
    hit, miss = F.converse_guardrail(True), F.converse_guardrail(False)
    rows = load(warehouse, tmp_path, [hit, miss])
    assert rows[hit["requestId"]]["guardrail_action"] == "INTERVENED"
    assert rows[hit["requestId"]]["guardrail_policies"] == [
        "SensitiveInformationPolicy",
        "TopicPolicy",
    ]
    assert rows[miss["requestId"]]["guardrail_action"] == "NONE"
    assert rows[miss["requestId"]]["guardrail_policies"] is None


def test_invoke_model_guardrail_action_and_trace(warehouse, tmp_path):
    hit, miss = F.invoke_guardrail(True), F.invoke_guardrail(False)
    rows = load(warehouse, tmp_path, [hit, miss])
    assert rows[hit["requestId"]]["guardrail_action"] == "INTERVENED"
    assert rows[hit["requestId"]]["guardrail_policies"] == ["ContentPolicy"]
    assert rows[miss["requestId"]]["guardrail_action"] == "NONE"


def test_guardrail_in_a_stream_chunk(warehouse, tmp_path):
    rec = F.invoke_stream(done_marker=False)
    rec["output"]["outputBodyJson"][-1]["amazon-bedrock-guardrailAction"] = "INTERVENED"
    rec["output"]["outputBodyJson"][-1]["amazon-bedrock-trace"] = {
        "guardrail": {
            "outputs": [
                {
                    "gr-1": {
                        "wordPolicy": {"customWords": [{"match": "secret", "action": "BLOCKED"}]}
                    }
                }
            ]
        }
    }
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["guardrail_action"] == "INTERVENED"
    assert row["guardrail_policies"] == ["WordPolicy"]


def test_large_bodies_offloaded_to_s3(warehouse, tmp_path):
    rec = F.converse()
    rec["input"].pop("inputBodyJson")
    rec["output"].pop("outputBodyJson")
    rec["input"]["inputBodyS3Path"] = "s3://logs/AWSLogs/1/data/abc_input.json.gz"
    rec["output"]["outputBodyS3Path"] = "s3://logs/AWSLogs/1/data/abc_output.json.gz"
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["input_body_s3_path"].endswith("abc_input.json.gz")
    assert row["output_body_s3_path"].endswith("abc_output.json.gz")
    assert row["input_body_bytes"] is None and row["input_tokens"] == 1200


def test_request_metadata_and_any_field_order(warehouse, tmp_path):
    rec = F.newer_key_order(
        F.converse(requestMetadata={"lob": "risk", "app": "kyc"}, inferenceRegion="us-east-2")
    )
    assert next(iter(rec)) == "timestamp" and list(rec)[-1] == "schemaVersion"
    row = load(
        warehouse,
        tmp_path,
        [rec],
        attribution={"rules": [{"lob": "risk", "request_metadata": {"lob": "risk"}}]},
    )[rec["requestId"]]
    assert row["lob"] == "risk" and row["app"] == "kyc"
    assert row["inference_region"] == "us-east-2"


def test_unknown_fields_and_operations_are_kept_as_is(warehouse, tmp_path):
    rec = F.converse(
        operation="InvokeAgentRuntime",
        brandNewField={"x": 1},
        performanceConfig={"latency": "optimized"},
    )
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["operation"] == "InvokeAgentRuntime"


def test_no_body_text_reaches_the_warehouse(warehouse, tmp_path):
    canary = "CANARY-prompt-text-7c1e"
    rec = F.converse(
        input={"inputBodyJson": {"messages": [{"role": "user", "content": [{"text": canary}]}]}}
    )
    load(warehouse, tmp_path, [rec])
    warehouse.execute("CHECKPOINT")
    assert canary.encode() not in (tmp_path / "warehouse.duckdb").read_bytes()
    row = warehouse.execute("SELECT input_body_bytes, input_body_md5 FROM invocations")
    size, digest = row.fetchone()
    assert size > len(canary) and len(digest) == 32


def test_a_record_longer_than_the_gzip_footer_says_still_loads(warehouse, tmp_path):
    """A read allows lines as long as its largest file inflates to (the gzip footer's
    size, from 16 MB). An object of two gzip members gives the last member's size only, so a
    ~17 MB record fails that read; the object is read again, alone, with the 128 MB limit, and
    loads whole, nothing quarantined."""
    big = F.converse(input={"inputBodyJson": {"messages": [{"role": "user", "content": [
        {"text": "x" * (17 << 20)}]}]}, "inputTokenCount": 12})  # fmt: skip
    small = F.converse()
    text = (json.dumps(big) + "\n" + json.dumps(small) + "\n").encode()
    data = gzip.compress(text[:-10]) + gzip.compress(text[-10:])
    assert int.from_bytes(data[-4:], "little") == 10  # the footer speaks for the last member
    root = tmp_path / "landing"
    F.write_object(root, F.log_key(datetime(2025, 6, 2, 10)), data)
    F.land(root, [F.converse()], ts=datetime(2025, 6, 2, 10))  # a neighbour in the same read
    invocation_logs.run(warehouse, Settings(resolve_profiles_with_api=False), landing=str(root))
    rows = dict(
        warehouse.execute("SELECT request_id, input_body_bytes FROM invocations").fetchall()
    )
    assert len(rows) == 3 and rows[big["requestId"]] > 17 << 20
    assert warehouse.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)


def test_bodies_of_an_odd_shape_load_with_their_sizes_and_spoil_nothing(warehouse, tmp_path):
    """A request body that is a JSON string, a response body that is a number, an identity
    that is not an object: each record loads (its sizes kept, the facts it lacks NULL), and so
    do its neighbours. The body facts were read by parsing each body's text again, which a
    string body's text is not: the whole object was quarantined as unreadable, good records
    and all."""
    text, number, flat, good = F.converse(), F.converse(), F.converse(), F.converse()
    text["input"]["inputBodyJson"] = "just text"
    number["output"]["outputBodyJson"] = 42
    flat["identity"] = "not-an-object"
    rows = load(warehouse, tmp_path, [text, number, flat, good])
    assert set(rows) == {r["requestId"] for r in (text, number, flat, good)}
    assert rows[text["requestId"]]["input_body_bytes"] == len("just text")
    assert rows[text["requestId"]]["stop_reason"] == rows[good["requestId"]]["stop_reason"]
    assert rows[number["requestId"]]["output_body_bytes"] == 2
    assert rows[number["requestId"]]["stop_reason"] is None
    assert rows[flat["requestId"]]["identity_arn"] is None
    assert warehouse.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
