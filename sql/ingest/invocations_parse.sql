-- Parse Bedrock model invocation log records into typed rows (grain: one record line).
-- (The caller wraps it: CREATE TEMP TABLE inv_parsed AS … or INSERT INTO inv_parsed ….)
-- $files: local NDJSON paths (gzip or plain); $max_object: the longest line allowed, in bytes;
-- $md_keys: the requestMetadata keys attribution rules name.
-- Each line is parsed once (gl_inv_raw, macros.sql): every envelope field and every body fact
-- we keep (stop reason, latency, guardrail outcome, service tier, latency mode, the cache-write
-- TTL split, the request's max tokens and cacheable prefix) is read by path in one pass, so
-- any field order loads, unknown fields are ignored, and a field of the wrong type is a
-- quarantine reason rather than a failed file. Only a streamed response (an array of chunks)
-- is parsed once more. Body text goes no further than this query: only sizes and MD5s leave.
-- `reason` is set for a record that must be quarantined instead of loaded.
WITH raw AS (
    SELECT * EXCLUDE (_line), _line::BIGINT AS _line FROM gl_inv_raw($files, $max_object)
), bodies AS (
    SELECT *,
        TRY_CAST(timestamp AS TIMESTAMP) AS ts,
        coalesce(starts_with(out_body, '['), false) AS streamed,
        -- An Anthropic stream carries its cache split in message_start's usage.
        CASE WHEN streamed AND contains(out_body, 'ephemeral_1h') THEN gl_first(
            json_extract_string(out_body,
                '$[*].message.usage.cache_creation.ephemeral_1h_input_tokens')) END AS s_cw1h,
        -- A stream body is an array of chunks; the metrics and guardrail action sit in one.
        CASE WHEN streamed THEN json_extract_string(gl_first(json_extract(out_body,
            '$[*]."amazon-bedrock-invocationMetrics"')),
            ['$.invocationLatency', '$.firstByteLatency']) END AS s_metrics,
        CASE WHEN streamed THEN coalesce(
            gl_first(json_extract_string(out_body, '$[*].delta.stop_reason')),
            gl_first(json_extract_string(out_body, '$[*].messageStop.stopReason')),
            gl_first(json_extract_string(out_body, '$[*].stop_reason')),
            gl_first(json_extract_string(out_body, '$[*].completionReason'))) END AS s_stop,
        CASE WHEN streamed AND contains(out_body, 'amazon-bedrock-guardrailAction') THEN
            json_extract_string(out_body, '$[*]."amazon-bedrock-guardrailAction"')
            END AS s_guard,
        -- A stream's guardrail trace, only when its text mentions one (a substring search
        -- over every body would cost more than the parse).
        CASE WHEN streamed AND contains(out_body, 'guardrail') THEN to_json(json_extract(
            out_body, '$[*]."amazon-bedrock-trace".guardrail')) END AS s_trace
    FROM raw
), facts AS (
    SELECT *,
        coalesce(rsp_stop_reason, s_stop) AS stop_reason_raw,
        -- Guardrail traces, in the Converse and the InvokeModel shape.
        coalesce(rsp_guard_trace::JSON, s_trace) AS guard_trace,
        contains(guard_trace::VARCHAR, '"BLOCKED"')
            OR contains(guard_trace::VARCHAR, '"ANONYMIZED"') AS guard_acted,
        CASE WHEN streamed THEN s_guard
             ELSE list_filter([rsp_guard_action], lambda x: x IS NOT NULL) END AS guard_actions
    FROM bodies
)
SELECT
    requestId AS request_id,
    ts,
    accountId AS account_id,
    region,
    inferenceRegion AS inference_region,
    operation,
    modelId AS model_id,
    identity_arn,
    requestMetadata AS request_metadata,
    -- Attribution looks only at the metadata keys rules name ($md_keys), so it runs once
    -- per distinct (account, identity, model, those keys), not once per record.
    gl_md_project(requestMetadata, $md_keys) AS attr_metadata,
    hash(accountId, identity_arn, modelId, attr_metadata) AS attr_key,
    gl_count(in_tokens) AS input_tokens,
    gl_count(out_tokens) AS output_tokens,
    gl_count(in_cache_read) AS cache_read_tokens,
    gl_count(in_cache_write) AS cache_write_tokens,
    -- The log's cacheWriteInputTokenCount is the total; the body says how much was 1-hour.
    least(gl_count(in_cache_write), coalesce(TRY_CAST(rsp_cache_1h AS BIGINT),
        gl_cache_1h(rsp_cache_details), TRY_CAST(s_cw1h AS BIGINT), 0)) AS cache_write_1h_tokens,
    gl_count(in_cache_write) - cache_write_1h_tokens AS cache_write_5m_tokens,
    -- What served the call (the response) over what was asked for (record, request); no
    -- mention anywhere is the standard tier, which Bedrock calls 'default'.
    coalesce(gl_tier(rsp_tier), gl_tier(tier_field), gl_tier(req_tier), 'default') AS service_tier,
    lower(coalesce(rsp_latency_mode, CASE WHEN starts_with(ltrim(perf_field), '{')
        THEN json_extract_string(perf_field, '$.latency') END, req_latency_mode, 'standard'))
        AS latency_mode,
    TRY_CAST(coalesce(rsp_latency_ms, s_metrics[1]) AS DOUBLE) AS latency_ms,
    TRY_CAST(coalesce(rsp_first_byte_ms, s_metrics[2]) AS DOUBLE) AS first_byte_ms,
    stop_reason_raw AS stop_reason,
    errorCode AS error_code,
    CASE
        WHEN stop_reason_raw = 'guardrail_intervened' THEN 'INTERVENED'
        WHEN len(guard_actions) > 0 THEN
            CASE WHEN list_contains(guard_actions, 'INTERVENED') THEN 'INTERVENED'
                 ELSE 'NONE' END
        WHEN guard_trace IS NOT NULL AND guard_trace::VARCHAR NOT IN ('null', '[]') THEN
            CASE WHEN guard_acted THEN 'INTERVENED' ELSE 'NONE' END
        WHEN req_guardrail IS NOT NULL THEN 'NONE'
    END AS guardrail_action,
    CASE WHEN guard_acted THEN guard_trace END AS guard_trace,
    strlen(in_body) AS input_body_bytes,
    strlen(out_body) AS output_body_bytes,
    md5(in_body) AS input_body_md5,
    TRY_CAST(req_max_tokens AS BIGINT) AS max_tokens,
    -- Of the cacheable prefix only an MD5 and a size are kept, for the Capacity page.
    md5(req_prefix) AS prefix_md5,
    strlen(req_prefix) AS prefix_bytes,
    in_s3 AS input_body_s3_path,
    out_s3 AS output_body_s3_path,
    schemaVersion AS schema_version,
    filename AS local_file,
    _line AS line,
    CASE
        WHEN not_object IS NOT NULL THEN 'not a JSON object but ' || not_object
        WHEN requestId IS NULL OR trim(requestId) = '' THEN 'missing requestId'
        WHEN schemaType IS NOT NULL AND schemaType <> 'ModelInvocationLog'
            THEN 'schemaType is ' || schemaType || ', expected ModelInvocationLog'
        WHEN ts IS NULL THEN 'timestamp missing or not RFC 3339'
        WHEN modelId IS NULL THEN 'missing modelId'
        WHEN md_json IS NOT NULL AND requestMetadata IS NULL
            THEN 'requestMetadata is not a map of strings'
        WHEN gl_bad_count(in_tokens)
            THEN 'input.inputTokenCount is not a number'
        WHEN gl_bad_count(out_tokens)
            THEN 'output.outputTokenCount is not a number'
        WHEN gl_bad_count(in_cache_read)
            THEN 'input.cacheReadInputTokenCount is not a number'
        WHEN gl_bad_count(in_cache_write)
            THEN 'input.cacheWriteInputTokenCount is not a number'
    END AS reason
FROM facts;
