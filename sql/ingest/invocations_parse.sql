-- Parse Bedrock model invocation log records into typed rows (grain: one record line).
-- (The caller wraps it: CREATE TEMP TABLE inv_parsed AS … or INSERT INTO inv_parsed ….)
-- $files: local NDJSON paths (gzip or plain). Fields are read by key, so any field order
-- loads and unknown fields are ignored. The envelope is read into typed structs in the one
-- JSON pass DuckDB makes; counts come in as text so a wrong type is quarantined, not fatal.
-- Bodies arrive as JSON text and are parsed at most once more, for the few facts we keep
-- (stop reason, latency, guardrail outcome); their text goes no further than this query.
-- `reason` is set for a record that must be quarantined instead of loaded.
WITH raw AS (
    SELECT * FROM read_json($files, format = 'newline_delimited', filename = true,
        maximum_object_size = 134217728,
        columns = {schemaType: 'VARCHAR', schemaVersion: 'VARCHAR', timestamp: 'VARCHAR',
                   accountId: 'VARCHAR', identity: 'STRUCT(arn VARCHAR)', region: 'VARCHAR',
                   requestId: 'VARCHAR', operation: 'VARCHAR', modelId: 'VARCHAR',
                   inferenceRegion: 'VARCHAR', errorCode: 'VARCHAR',
                   requestMetadata: 'MAP(VARCHAR, VARCHAR)',
                   input: 'STRUCT(inputTokenCount VARCHAR, cacheReadInputTokenCount VARCHAR,
                                  cacheWriteInputTokenCount VARCHAR, inputBodyS3Path VARCHAR,
                                  inputBodyJson JSON)',
                   output: 'STRUCT(outputTokenCount VARCHAR, outputBodyS3Path VARCHAR,
                                   outputBodyJson JSON)',
                   _line: 'BIGINT'})
), bodies AS (
    SELECT *,
        input.inputBodyJson AS in_body,
        output.outputBodyJson AS out_body,
        TRY_CAST(timestamp AS TIMESTAMP) AS ts,
        coalesce(starts_with(out_body, '['), false) AS streamed,
        -- One parse of the body for every scalar we keep (InvokeModel bodies are
        -- provider-native, hence the several stop-reason spellings).
        CASE WHEN NOT streamed THEN json_extract_string(out_body, [
            '$.stopReason', '$.stop_reason', '$.finish_reason',
            '$.results[0].completionReason', '$.outputs[0].stop_reason',
            '$.generations[0].finish_reason', '$.metrics.latencyMs',
            '$."amazon-bedrock-invocationMetrics".invocationLatency',
            '$."amazon-bedrock-invocationMetrics".firstByteLatency',
            '$."amazon-bedrock-guardrailAction"']) END AS o,
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
        -- Guardrail traces, in the Converse and the InvokeModel shape, only when present.
        CASE WHEN contains(out_body, 'guardrail') THEN coalesce(
            json_extract(out_body, '$.trace.guardrail'),
            json_extract(out_body, '$."amazon-bedrock-trace".guardrail'),
            CASE WHEN streamed THEN to_json(json_extract(out_body,
                '$[*]."amazon-bedrock-trace".guardrail')) END) END AS guard_trace,
        contains(guard_trace::VARCHAR, '"BLOCKED"')
            OR contains(guard_trace::VARCHAR, '"ANONYMIZED"') AS guard_acted
    FROM raw
), facts AS (
    SELECT *,
        coalesce(o[1], o[2], o[3], o[4], o[5], o[6], s_stop) AS stop_reason_raw,
        CASE WHEN streamed THEN s_guard ELSE list_filter([o[10]], lambda x: x IS NOT NULL) END
            AS guard_actions
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
    identity.arn AS identity_arn,
    requestMetadata AS request_metadata,
    -- Attribution looks only at the metadata keys rules name ($md_keys), so it runs once
    -- per distinct (account, identity, model, those keys), not once per record.
    gl_md_project(requestMetadata, $md_keys) AS attr_metadata,
    hash(accountId, identity.arn, modelId, attr_metadata) AS attr_key,
    gl_count(input.inputTokenCount) AS input_tokens,
    gl_count(output.outputTokenCount) AS output_tokens,
    gl_count(input.cacheReadInputTokenCount) AS cache_read_tokens,
    gl_count(input.cacheWriteInputTokenCount) AS cache_write_tokens,
    TRY_CAST(coalesce(o[7], o[8], s_metrics[1]) AS DOUBLE) AS latency_ms,
    TRY_CAST(coalesce(o[9], s_metrics[2]) AS DOUBLE) AS first_byte_ms,
    stop_reason_raw AS stop_reason,
    errorCode AS error_code,
    CASE
        WHEN stop_reason_raw = 'guardrail_intervened' THEN 'INTERVENED'
        WHEN len(guard_actions) > 0 THEN
            CASE WHEN list_contains(guard_actions, 'INTERVENED') THEN 'INTERVENED'
                 ELSE 'NONE' END
        WHEN guard_trace IS NOT NULL AND guard_trace::VARCHAR NOT IN ('null', '[]') THEN
            CASE WHEN guard_acted THEN 'INTERVENED' ELSE 'NONE' END
        WHEN contains(in_body, '"guardrailConfig"') THEN 'NONE'
    END AS guardrail_action,
    CASE WHEN guard_acted THEN guard_trace END AS guard_trace,
    strlen(in_body) AS input_body_bytes,
    strlen(out_body) AS output_body_bytes,
    md5(in_body) AS input_body_md5,
    md5(out_body) AS output_body_md5,
    input.inputBodyS3Path AS input_body_s3_path,
    output.outputBodyS3Path AS output_body_s3_path,
    schemaVersion AS schema_version,
    filename AS local_file,
    _line AS line,
    CASE
        WHEN requestId IS NULL OR trim(requestId) = '' THEN 'missing requestId'
        WHEN schemaType IS NOT NULL AND schemaType <> 'ModelInvocationLog'
            THEN 'schemaType is ' || schemaType || ', expected ModelInvocationLog'
        WHEN ts IS NULL THEN 'timestamp missing or not RFC 3339'
        WHEN modelId IS NULL THEN 'missing modelId'
        WHEN gl_bad_count(input.inputTokenCount)
            THEN 'input.inputTokenCount is not a number'
        WHEN gl_bad_count(output.outputTokenCount)
            THEN 'output.outputTokenCount is not a number'
        WHEN gl_bad_count(input.cacheReadInputTokenCount)
            THEN 'input.cacheReadInputTokenCount is not a number'
        WHEN gl_bad_count(input.cacheWriteInputTokenCount)
            THEN 'input.cacheWriteInputTokenCount is not a number'
    END AS reason
FROM facts;
