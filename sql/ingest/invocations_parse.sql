-- Parse Bedrock model invocation log records into typed rows (grain: one record line).
-- $files: local NDJSON paths (gzip or plain). Fields are read by key, so any field order
-- loads and unknown fields are ignored. Bodies are reduced to sizes, hashes and the few
-- facts we keep (stop reason, latency, guardrail outcome); their text goes no further.
-- `reason` is set for a record that must be quarantined instead of loaded.
-- (The caller wraps it: CREATE TEMP TABLE inv_parsed AS … or INSERT INTO inv_parsed …)
WITH raw AS (
    SELECT * FROM read_json($files, format = 'newline_delimited', filename = true,
        maximum_object_size = 134217728,
        columns = {schemaType: 'VARCHAR', schemaVersion: 'VARCHAR', timestamp: 'VARCHAR',
                   accountId: 'VARCHAR', identity: 'JSON', region: 'VARCHAR',
                   requestId: 'VARCHAR', operation: 'VARCHAR', modelId: 'VARCHAR',
                   inferenceRegion: 'VARCHAR', errorCode: 'VARCHAR',
                   requestMetadata: 'JSON', input: 'JSON', output: 'JSON', _line: 'BIGINT'})
), bodies AS (
    SELECT *,
        input -> 'inputBodyJson' AS in_body,
        output -> 'outputBodyJson' AS out_body,
        coalesce(json_type(output, '$.outputBodyJson') = 'ARRAY', false) AS streamed,
        TRY_CAST(timestamp AS TIMESTAMP) AS ts
    FROM raw
), facts AS (
    SELECT *,
        -- InvokeModelWithResponseStream: metrics and guardrail action live in one chunk.
        CASE WHEN streamed THEN gl_first(json_extract(out_body,
            '$[*]."amazon-bedrock-invocationMetrics"'))
            ELSE out_body -> 'amazon-bedrock-invocationMetrics' END AS inv_metrics,
        CASE WHEN streamed THEN json_extract_string(out_body,
            '$[*]."amazon-bedrock-guardrailAction"')
            ELSE list_filter([out_body ->> 'amazon-bedrock-guardrailAction'],
                             lambda x: x IS NOT NULL) END AS invoke_guard_actions,
        CASE WHEN streamed THEN to_json(json_extract(out_body, '$[*]."amazon-bedrock-trace".guardrail'))
            ELSE coalesce(out_body -> 'trace' -> 'guardrail',
                          out_body -> 'amazon-bedrock-trace' -> 'guardrail') END AS guard_trace,
        coalesce(
            out_body ->> 'stopReason', out_body ->> 'stop_reason', out_body ->> 'finish_reason',
            out_body -> 'results' -> 0 ->> 'completionReason',
            out_body -> 'outputs' -> 0 ->> 'stop_reason',
            out_body -> 'generations' -> 0 ->> 'finish_reason',
            CASE WHEN streamed THEN gl_first(list_concat(
                json_extract_string(out_body, '$[*].delta.stop_reason'),
                json_extract_string(out_body, '$[*].messageStop.stopReason'),
                json_extract_string(out_body, '$[*].stop_reason'),
                json_extract_string(out_body, '$[*].completionReason'))) END
        ) AS stop_reason_raw,
        in_body::VARCHAR AS in_text,
        out_body::VARCHAR AS out_text
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
    identity ->> 'arn' AS identity_arn,
    CASE WHEN json_type(requestMetadata) = 'OBJECT' THEN requestMetadata END AS request_metadata,
    -- Attribution looks only at the metadata keys rules name ($md_keys), so it runs once
    -- per distinct (account, identity, model, those keys), not once per record.
    gl_md_project(requestMetadata, $md_keys) AS attr_metadata,
    hash(accountId, identity ->> 'arn', modelId, attr_metadata) AS attr_key,
    gl_count(input, '$.inputTokenCount') AS input_tokens,
    gl_count(output, '$.outputTokenCount') AS output_tokens,
    gl_count(input, '$.cacheReadInputTokenCount') AS cache_read_tokens,
    gl_count(input, '$.cacheWriteInputTokenCount') AS cache_write_tokens,
    coalesce(TRY_CAST(out_body -> 'metrics' ->> 'latencyMs' AS DOUBLE),
             TRY_CAST(inv_metrics ->> 'invocationLatency' AS DOUBLE)) AS latency_ms,
    TRY_CAST(inv_metrics ->> 'firstByteLatency' AS DOUBLE) AS first_byte_ms,
    stop_reason_raw AS stop_reason,
    errorCode AS error_code,
    CASE
        WHEN stop_reason_raw = 'guardrail_intervened' THEN 'INTERVENED'
        WHEN len(invoke_guard_actions) > 0 THEN
            CASE WHEN list_contains(invoke_guard_actions, 'INTERVENED') THEN 'INTERVENED'
                 ELSE 'NONE' END
        WHEN guard_trace IS NOT NULL AND guard_trace::VARCHAR NOT IN ('null', '[]') THEN
            CASE WHEN regexp_matches(guard_trace::VARCHAR,
                                     '"action"\s*:\s*"(BLOCKED|ANONYMIZED)"')
                 THEN 'INTERVENED' ELSE 'NONE' END
        WHEN json_exists(in_body, '$.guardrailConfig') THEN 'NONE'
    END AS guardrail_action,
    CASE WHEN regexp_matches(guard_trace::VARCHAR, '"action"\s*:\s*"(BLOCKED|ANONYMIZED)"')
         THEN guard_trace END AS guard_trace,
    strlen(in_text) AS input_body_bytes,
    strlen(out_text) AS output_body_bytes,
    sha256(in_text) AS input_body_sha256,
    sha256(out_text) AS output_body_sha256,
    input ->> 'inputBodyS3Path' AS input_body_s3_path,
    output ->> 'outputBodyS3Path' AS output_body_s3_path,
    schemaVersion AS schema_version,
    filename AS local_file,
    _line AS line,
    CASE
        WHEN requestId IS NULL OR trim(requestId) = '' THEN 'missing requestId'
        WHEN schemaType IS NOT NULL AND schemaType <> 'ModelInvocationLog'
            THEN 'schemaType is ' || schemaType || ', expected ModelInvocationLog'
        WHEN ts IS NULL THEN 'timestamp missing or not RFC 3339'
        WHEN modelId IS NULL THEN 'missing modelId'
        WHEN input IS NOT NULL AND json_type(input) <> 'OBJECT' THEN 'input is not an object'
        WHEN output IS NOT NULL AND json_type(output) NOT IN ('OBJECT', 'NULL')
            THEN 'output is not an object'
        WHEN gl_bad_count(input, '$.inputTokenCount')
            THEN 'input.inputTokenCount is not a number'
        WHEN gl_bad_count(output, '$.outputTokenCount')
            THEN 'output.outputTokenCount is not a number'
        WHEN gl_bad_count(input, '$.cacheReadInputTokenCount')
            THEN 'input.cacheReadInputTokenCount is not a number'
        WHEN gl_bad_count(input, '$.cacheWriteInputTokenCount')
            THEN 'input.cacheWriteInputTokenCount is not a number'
    END AS reason
FROM facts;
