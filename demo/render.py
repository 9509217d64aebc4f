"""Render simulated invocations as Bedrock model-invocation-log JSON lines, vectorised.

Each record shape is written once below as a JSON template. `«name»` is a per-row value (a
column, or an expression from `_fields`); `«NAME»` is another template spliced in. A template
becomes one `concat_str` over literal pieces and columns, so a row costs one pass over its
bytes. Building JSON this way is safe because all free text comes from fixed phrase lists
escaped once in Python, and every other value is an id, an ARN or a number.
"""

from __future__ import annotations

import json
import re

import polars as pl

from demo import world as w

MACROS = {
    "SYS": w.escape(w.SYSTEM),
    "METRICS": ',"amazon-bedrock-invocationMetrics":{"inputTokenCount":«n_in»,'
    '"outputTokenCount":«n_out»,"invocationLatency":«n_lat»,"firstByteLatency":«n_fb»}',
    "HEAD": '{"id":"msg_bdrk_«msg_id»","type":"message","role":"assistant","model":"«short»"',
    "LEGACY": '{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"«tstr»",'
    '"accountId":"«account_id»","identity":{"arn":"«identity_arn»"},"region":"«region»",«CALL»}\n',
    "CURRENT": '{"timestamp":"«tstr»","accountId":"«account_id»","region":"«region»",«CALL»,'
    '"identity":{"arn":"«identity_arn»"},"inferenceRegion":"«inference_region»",'
    '"schemaType":"ModelInvocationLog","schemaVersion":"1.0"}\n',
    "CALL": '"requestId":"«request_id»","operation":"«operation»","modelId":"«model_id»"«error»'
    '«metadata»,"input":{"inputContentType":"application/json",«INPUT_BODY»,'
    '"inputTokenCount":«n_in»«cache_counts»},"output":«OUTPUT»',
    "IN_JSON": '"inputBodyJson":«REQUEST»',
    "IN_S3": '"inputBodyS3Path":"s3://' + w.LOG_BUCKET + '/«dir»/data/«request_id»_input.json.gz"',
    "OUT_OK": '{"outputContentType":"application/json",«OUTPUT_BODY»,"outputTokenCount":«n_out»}',
    "OUT_FAILED": '{"outputTokenCount":0}',
    "OUT_JSON": '"outputBodyJson":«RESPONSE»',
    "OUT_S3": '"outputBodyS3Path":"s3://'
    + w.LOG_BUCKET
    + '/«dir»/data/«request_id»_output.json.gz"',
}

CACHED_SYSTEM = (
    f'[{{"type":"text","text":"{MACROS["SYS"]}","cache_control":{{"type":"ephemeral"}}}}]'
)

# (request, response, streamed response) per body family; Converse* share one aggregated shape.
BODIES = {
    "converse": (
        '{"messages":[{"role":"user","content":[{"text":"«p»"}]}],"system":[{"text":"«SYS»"}'
        '«cache_point»],"inferenceConfig":{"maxTokens":«n_max»,"temperature":0.2}«gr_request»}',
        '{"output":{"message":{"role":"assistant","content":[{"text":"«r1»«r2»"}«tool_converse»]}},'
        '"stopReason":"«sr»","metrics":{"latencyMs":«n_lat»},"usage":{"inputTokens":«n_in»,'
        '"outputTokens":«n_out»,"totalTokens":«n_total»«converse_cache»}«gr_converse»}',
        None,
    ),
    "anthropic": (
        '{"anthropic_version":"bedrock-2023-05-31","max_tokens":«n_max»,"system":«system»,'
        '"messages":[{"role":"user","content":[{"type":"text","text":"«p»"}]}],"temperature":0.2}',
        '«HEAD»,"content":[{"type":"text","text":"«r1»«r2»"}«tool_anthropic»],"stop_reason":'
        '"«nsr»","stop_sequence":null,"usage":{"input_tokens":«n_in»,"output_tokens":«n_out»'
        "«anthropic_cache»}«gr_native»}",
        '[{"type":"message_start","message":«HEAD»,"content":[],"stop_reason":null,'
        '"stop_sequence":null,"usage":{"input_tokens":«n_in»,"output_tokens":1«anthropic_cache»}}},'
        '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}},'
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"«r1»"}},'
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"«r2»"}},'
        '{"type":"content_block_stop","index":0},{"type":"message_delta","delta":{"stop_reason":'
        '"«nsr»","stop_sequence":null},"usage":{"output_tokens":«n_out»}},'
        '{"type":"message_stop"«METRICS»«gr_native»}«done»]',
    ),
    "nova": (
        '{"schemaVersion":"messages-v1","system":[{"text":"«SYS»"}],"messages":[{"role":"user",'
        '"content":[{"text":"«p»"}]}],"inferenceConfig":{"maxTokens":«n_max»,"temperature":0.3}}',
        '{"output":{"message":{"role":"assistant","content":[{"text":"«r1»«r2»"}]}},"stopReason":'
        '"«nsr»","usage":{"inputTokens":«n_in»,"outputTokens":«n_out»,"totalTokens":«n_total»'
        "«nova_cache»}«gr_native»}",
        '[{"messageStart":{"role":"assistant"}},{"contentBlockDelta":{"delta":{"text":"«r1»"},'
        '"contentBlockIndex":0}},{"contentBlockDelta":{"delta":{"text":"«r2»"},'
        '"contentBlockIndex":0}},{"contentBlockStop":{"contentBlockIndex":0}},{"messageStop":'
        '{"stopReason":"«nsr»"}},{"metadata":{"usage":{"inputTokens":«n_in»,"outputTokens":«n_out»,'
        '"totalTokens":«n_total»«nova_cache»},"metrics":{},"trace":{}}«METRICS»«gr_native»}«done»]',
    ),
    "titan": (
        '{"inputText":"«SYS»\\n\\nUser: «p»\\nBot:","textGenerationConfig":{"maxTokenCount":'
        '«n_max»,"temperature":0.5,"topP":0.9}}',
        '{"inputTextTokenCount":«n_in»,"results":[{"tokenCount":«n_out»,"outputText":"«r1»«r2»",'
        '"completionReason":"«nsr»"}]«gr_native»}',
        '[{"outputText":"«r1»","index":0,"totalOutputTextTokenCount":null,"completionReason":null,'
        '"inputTextTokenCount":«n_in»},{"outputText":"«r2»","index":0,"totalOutputTextTokenCount":'
        '«n_out»,"completionReason":"«nsr»","inputTextTokenCount":null«METRICS»«gr_native»}«done»]',
    ),
    "meta": (
        '{"prompt":"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\\n\\n«SYS»'
        "<|eot_id|><|start_header_id|>user<|end_header_id|>\\n\\n«p»<|eot_id|>"
        '<|start_header_id|>assistant<|end_header_id|>\\n\\n","max_gen_len":«n_max»,'
        '"temperature":0.5,"top_p":0.9}',
        '{"generation":"«r1»«r2»","prompt_token_count":«n_in»,"generation_token_count":«n_out»,'
        '"stop_reason":"«nsr»"«gr_native»}',
        '[{"generation":"«r1»","prompt_token_count":«n_in»,"generation_token_count":1,'
        '"stop_reason":null},{"generation":"«r2»","prompt_token_count":null,'
        '"generation_token_count":«n_out»,"stop_reason":"«nsr»"«METRICS»«gr_native»}«done»]',
    ),
    "mistral": (
        '{"prompt":"<s>[INST] «SYS»\\n\\n«p» [/INST]","max_tokens":«n_max»,"temperature":0.5}',
        '{"outputs":[{"text":"«r1»«r2»","stop_reason":"«nsr»"}]«gr_native»}',
        '[{"outputs":[{"text":"«r1»","stop_reason":null}]},{"outputs":[{"text":"«r2»",'
        '"stop_reason":"«nsr»"}]«METRICS»«gr_native»}«done»]',
    ),
    "cohere": (
        '{"message":"«p»","preamble":"«SYS»","max_tokens":«n_max»,"temperature":0.3}',
        '{"response_id":"«request_id»","text":"«r1»«r2»","generation_id":"«msg_id»",'
        '"finish_reason":"«nsr»"«gr_native»}',
        '[{"is_finished":false,"event_type":"stream-start","generation_id":"«msg_id»"},'
        '{"is_finished":false,"event_type":"text-generation","text":"«r1»"},'
        '{"is_finished":false,"event_type":"text-generation","text":"«r2»"},'
        '{"is_finished":true,"event_type":"stream-end","response":{"response_id":"«request_id»",'
        '"text":"«r1»«r2»","generation_id":"«msg_id»"},"finish_reason":"«nsr»"«METRICS»'
        "«gr_native»}«done»]",
    ),
}
# Provider vocabularies for the canonical (Converse) stop reasons; "*" is the fallback.
NATIVE_STOPS = {
    "anthropic": {"guardrail_intervened": "end_turn"},
    "nova": {"guardrail_intervened": "end_turn"},
    "titan": {"max_tokens": "LENGTH", "stop_sequence": "STOP_CRITERIA_MET", "*": "FINISH"},
    "meta": {"max_tokens": "length", "*": "stop"},
    "mistral": {"max_tokens": "length", "*": "stop"},
    "cohere": {"max_tokens": "MAX_TOKENS", "stop_sequence": "STOP_SEQUENCE", "*": "COMPLETE"},
}
STOP_REASONS = ("end_turn", "max_tokens", "stop_sequence", "tool_use", "guardrail_intervened")

# Guardrail assessments, kept small: a third of the estate carries two of them per record.
ASSESSED = {
    "invocationMetrics": {
        "guardrailProcessingLatency": 212,
        "usage": {"topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 1},
        "guardrailCoverage": {"textCharacters": {"guarded": 180, "total": 180}},
    }
}
QUIET = {"contentPolicy": {"filters": [{"type": "INSULTS", "confidence": "NONE",
                                        "action": "NONE"}]}, **ASSESSED}  # fmt: skip
POLICIES = {
    "topicPolicy": {"topics": [{"name": "Investment advice", "type": "DENY", "action": "BLOCKED"}]},
    "contentPolicy": {"filters": [{"type": "PROMPT_ATTACK", "confidence": "HIGH",
                                   "filterStrength": "HIGH", "action": "BLOCKED"}]},
    "sensitiveInformationPolicy": {"piiEntities": [{"type": "EMAIL", "action": "ANONYMIZED",
                                                    "match": "jane.doe@example.com"}]},
    "wordPolicy": {"customWords": [{"match": "guaranteed returns", "action": "BLOCKED"}],
                   "managedWordLists": []},
}  # fmt: skip
INPUT_VARIANTS = (1, 2)  # guardrail variants that block the prompt: there is no output


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _opt(cond: pl.Expr | str, text: str) -> pl.Expr:
    """`text` (itself a template) where `cond` holds, else nothing."""
    return pl.when(cond).then(_concat(text, {})).otherwise(pl.lit(""))


def _fields() -> dict[str, pl.Expr]:
    """Per-row values that are not plain columns."""
    cached = "cached"
    return {
        "error": _opt(pl.col("error_code").is_not_null(), ',"errorCode":"«error_code»"'),
        "metadata": _opt(
            pl.col("request_metadata").is_not_null(), ',"requestMetadata":«request_metadata»'
        ),
        "cache_counts": _opt(
            "cache_fields", ',"cacheReadInputTokenCount":«n_cr»,"cacheWriteInputTokenCount":«n_cw»'
        ),
        "cache_point": _opt(cached, ',{"cachePoint":{"type":"default"}}'),
        "converse_cache": _opt(
            cached, ',"cacheReadInputTokens":«n_cr»,"cacheWriteInputTokens":«n_cw»'
        ),
        "nova_cache": _opt(
            cached, ',"cacheReadInputTokenCount":«n_cr»,"cacheWriteInputTokenCount":«n_cw»'
        ),
        "anthropic_cache": _opt(
            cached, ',"cache_creation_input_tokens":«n_cw»,"cache_read_input_tokens":«n_cr»'
        ),
        "system": pl.when(cached)
        .then(pl.lit(CACHED_SYSTEM))
        .otherwise(pl.lit(f'"{MACROS["SYS"]}"')),
        "tool_converse": _opt(
            pl.col("sr") == "tool_use",
            ',{"toolUse":{"toolUseId":"tooluse_«msg_id»","name":"lookup_policy",'
            '"input":{"query":"policy"}}}',
        ),
        "tool_anthropic": _opt(
            pl.col("sr") == "tool_use",
            ',{"type":"tool_use","id":"toolu_bdrk_«msg_id»","name":"lookup_policy",'
            '"input":{"query":"policy"}}',
        ),
        "done": _opt("stream_done", ',"[DONE]"'),
        **{k: pl.col(k).fill_null("") for k in ("gr_request", "gr_converse", "gr_native")},
    }


def _expand(template: str, macros: dict[str, str]) -> str:
    while (found := re.search(r"«([A-Z][A-Z0-9_]*)»", template)) is not None:
        template = template.replace(found.group(0), macros[found.group(1)])
    return template


def _concat(template: str, macros: dict[str, str], fields: dict | None = None) -> pl.Expr:
    pieces = re.split(r"«([a-z0-9_]+)»", _expand(template, {**MACROS, **macros}))
    fields = fields or {}
    exprs = [pl.lit(p) if i % 2 == 0 else fields.get(p, pl.col(p)) for i, p in enumerate(pieces)]
    return pl.concat_str([e for i, e in enumerate(exprs) if i % 2 or pieces[i]])


def guardrail_table(frame: pl.DataFrame) -> pl.DataFrame:
    """JSON fragments per (guardrail_id, variant): request config, Converse and native traces."""
    keys = frame.select("guardrail_id", "guardrail_version", "guardrail_variant").drop_nulls()
    rows = []
    for gid, version, variant in keys.unique().sort("guardrail_id", "guardrail_variant").rows():
        policy = (None, *POLICIES)[variant]
        hit = {policy: POLICIES[policy], **ASSESSED} if policy else QUIET
        blocks_input = variant in INPUT_VARIANTS
        conv: dict[str, object] = {"inputAssessment": {gid: hit if blocks_input else QUIET}}
        native: dict[str, object] = {"input": conv["inputAssessment"]}
        if not blocks_input:
            conv["outputAssessments"] = native["outputs"] = [{gid: hit}]
        config = {"guardrailIdentifier": gid, "guardrailVersion": version, "trace": "enabled"}
        action = "INTERVENED" if variant else "NONE"
        rows.append((gid, variant, ',"guardrailConfig":' + _dump(config),
                     ',"trace":' + _dump({"guardrail": conv}),
                     f',"amazon-bedrock-guardrailAction":"{action}","amazon-bedrock-trace":'
                     + _dump({"guardrail": native})))  # fmt: skip
    names = ("guardrail_id", "guardrail_variant", "gr_request", "gr_converse", "gr_native")
    schema = dict(zip(names, (pl.String, pl.Int8, pl.String, pl.String, pl.String), strict=True))
    return pl.DataFrame(rows, schema=schema, orient="row")


def _texts(frame: pl.DataFrame) -> pl.DataFrame:
    """Escaped prompt and response pieces (the response split in two for stream chunks), and
    the numbers as text."""
    halves = [t.rsplit(" ", 1) if " " in t else [t, ""] for t in w.TEXTS]
    first = pl.Series([w.escape(h[0]) for h in halves])
    second = pl.Series([w.escape(" " + h[1]) if h[1] else "" for h in halves])
    prompts = pl.Series([w.escape(x) for x in w.PROMPTS])
    canary = pl.when("canary").then(pl.lit(f" (ref {w.DEMO_CANARY})")).otherwise(pl.lit(""))
    filler = f" {w.escape(w.FILLER)}"
    tokens = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    numbers = dict(zip(("n_in", "n_out", "n_cr", "n_cw"), tokens, strict=True))
    return frame.with_columns(
        p=pl.concat_str(pl.lit(prompts).gather(pl.col("prompt_idx")), canary,
                        pl.when("large_input").then(pl.lit(filler)).otherwise(pl.lit(""))),
        r1=pl.lit(first).gather(pl.col("response_idx")),
        r2=pl.concat_str(pl.lit(second).gather(pl.col("response_idx")), canary,
                         pl.when("large_output").then(pl.lit(filler)).otherwise(pl.lit(""))),
        sr=pl.col("stop_reason").fill_null("end_turn"),
        n_max=pl.col("max_tokens").cast(pl.String),
        n_lat=pl.col("latency_ms").cast(pl.String),
        n_fb=pl.col("first_byte_ms").cast(pl.String).fill_null("0"),
        n_total=pl.sum_horizontal(tokens).cast(pl.String),
        cached=(pl.col("cache_read_tokens") + pl.col("cache_write_tokens")) > 0,
        msg_id=pl.col("request_id").str.replace_all("-", "", literal=True).str.slice(0, 24),
        failed=pl.col("error_code").is_not_null(),
        tstr=pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        dir=pl.concat_str(pl.lit("AWSLogs/"), "account_id", pl.lit("/BedrockModelInvocationLogs/"),
                          "region", pl.lit("/"), pl.col("ts").dt.strftime("%Y/%m/%d/%H")),
        **{k: pl.col(v).cast(pl.String) for k, v in numbers.items()},
    )  # fmt: skip


def _render_part(part: pl.DataFrame, key: tuple) -> pl.DataFrame:
    operation, provider, order, failed, large_in, large_out = key
    family = "converse" if operation.startswith("Converse") else provider
    request, response, streamed = BODIES[family]
    if streamed and operation.endswith("Stream"):
        response = streamed
    macros = {
        "REQUEST": request,
        "RESPONSE": response,
        "INPUT_BODY": "«IN_S3»" if large_in else "«IN_JSON»",
        "OUTPUT": "«OUT_FAILED»" if failed else "«OUT_OK»",
        "OUTPUT_BODY": "«OUT_S3»" if large_out else "«OUT_JSON»",
    }
    stops = NATIVE_STOPS.get(provider, {})
    part = part.with_columns(
        nsr=pl.col("sr").replace_strict({s: stops.get(s, stops.get("*", s)) for s in STOP_REASONS}),
        short=pl.col("model").str.replace(r"^[a-z0-9]+\.", "").str.replace(r"-v\d+(:\d+)?$", ""),
    )
    fields = _fields()
    cols = {"line": _concat(f"«{order.upper()}»", macros, fields)}
    if large_in:
        cols["input_body"] = _concat(request, macros, fields)
    if large_out:
        cols["output_body"] = _concat(response, macros, fields)
    return part.with_columns(**cols)


def render(frame: pl.DataFrame) -> pl.DataFrame:
    """Per invocation, in frame order: its S3 hour folder `dir`, its NDJSON `line` (newline
    included) and, for calls whose bodies are offloaded, `input_body` / `output_body`."""
    frame = frame.with_row_index("_row").join(
        guardrail_table(frame), on=["guardrail_id", "guardrail_variant"], how="left",
        maintain_order="left",
    )  # fmt: skip
    frame = _texts(frame)
    keys = ["operation", "provider", "key_order", "failed", "large_input", "large_output"]
    parts = frame.partition_by(keys, as_dict=True, maintain_order=True)
    keep = ["_row", "dir", "ts", "request_id", "line", "input_body", "output_body"]
    rendered = [_render_part(p, k) for k, p in parts.items()]
    # Seed the concat with an empty frame of every column: a small estate may offload nothing.
    empty = pl.DataFrame(schema={"input_body": pl.String, "output_body": pl.String})
    out = pl.concat([empty, *(p.select(c for c in keep if c in p.columns) for p in rendered)],
                    how="diagonal")  # fmt: skip
    return out.sort("_row").drop("_row").select(keep[1:])
