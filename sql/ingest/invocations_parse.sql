-- Parse Bedrock model invocation log records into typed rows (grain: one record line).
-- (The caller wraps it: CREATE TEMP TABLE inv_parsed AS … or INSERT INTO inv_parsed ….)
-- $tolerant is replaced by the literal true or false before it runs (ingester.parse_sql).
-- $files: local NDJSON paths (gzip or plain); $max_object: the longest line allowed, in bytes. Each line is taken as a JSON document and every
-- envelope field is read by key in ONE pass (a multi-path extract), so any field order loads,
-- unknown fields are ignored, and a field of the wrong type is a quarantine reason rather than
-- a failed file. Bodies are parsed at most once more, for the few facts we keep (stop reason,
-- latency, guardrail outcome, service tier, latency mode, the cache-write TTL split); their
-- text goes no further than this query.
-- `reason` is set for a record that must be quarantined instead of loaded.
WITH raw AS (
    SELECT * EXCLUDE (_line), _line::BIGINT AS _line FROM gl_inv_raw($files, $tolerant, $max_object)
), bodies AS (
    SELECT *,
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
            '$."amazon-bedrock-guardrailAction"', '$.serviceTier', '$.usage.cacheDetails',
            '$.usage.cache_creation.ephemeral_1h_input_tokens',
            '$.usage.cache_creation.ephemeral_5m_input_tokens',
            '$.performanceConfig.latency', '$.trace.guardrail',
            '$."amazon-bedrock-trace".guardrail']) END AS o,
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
            out_body, '$[*]."amazon-bedrock-trace".guardrail')) END AS s_trace,
        -- The request facts, in one more parse of the request: max_tokens (every provider's
        -- spelling) and the cacheable prefix (system prompt or preamble, then tool
        -- definitions), of which only an MD5 and a size are kept, for the Capacity page; the
        -- tier and latency mode the caller asked for (Converse) and its guardrail config.
        json_extract_string(in_body, [
            '$.inferenceConfig.maxTokens', '$.max_tokens', '$.textGenerationConfig.maxTokenCount',
            '$.max_gen_len', '$.maxTokens', '$.system', '$.preamble', '$.toolConfig',
            '$.tools', '$.serviceTier', '$.performanceConfig.latency',
            '$.guardrailConfig']) AS req_facts,
        nullif(concat(coalesce(req_facts[6], req_facts[7]), coalesce(req_facts[8], req_facts[9])),
               '') AS prefix_text
    FROM raw
), facts AS (
    SELECT *,
        coalesce(o[1], o[2], o[3], o[4], o[5], o[6], s_stop) AS stop_reason_raw,
        -- Guardrail traces, in the Converse and the InvokeModel shape (read by the one parse
        -- of the body above; `o` is a column here, so it is not parsed again).
        coalesce(o[16]::JSON, o[17]::JSON, s_trace) AS guard_trace,
        contains(guard_trace::VARCHAR, '"BLOCKED"')
            OR contains(guard_trace::VARCHAR, '"ANONYMIZED"') AS guard_acted,
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
    least(gl_count(in_cache_write), coalesce(TRY_CAST(o[13] AS BIGINT), gl_cache_1h(o[12]),
        TRY_CAST(s_cw1h AS BIGINT), 0)) AS cache_write_1h_tokens,
    gl_count(in_cache_write) - cache_write_1h_tokens AS cache_write_5m_tokens,
    -- What served the call (the response) over what was asked for (record, request); no
    -- mention anywhere is the standard tier, which Bedrock calls 'default'.
    coalesce(gl_tier(o[11]), gl_tier(tier_field), gl_tier(req_facts[10]), 'default') AS service_tier,
    lower(coalesce(o[15], CASE WHEN starts_with(ltrim(perf_field), '{')
        THEN json_extract_string(perf_field, '$.latency') END, req_facts[11], 'standard'))
        AS latency_mode,
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
        WHEN req_facts[12] IS NOT NULL THEN 'NONE'
    END AS guardrail_action,
    CASE WHEN guard_acted THEN guard_trace END AS guard_trace,
    strlen(in_body) AS input_body_bytes,
    strlen(out_body) AS output_body_bytes,
    md5(in_body) AS input_body_md5,
    TRY_CAST(coalesce(req_facts[1], req_facts[2], req_facts[3], req_facts[4], req_facts[5])
        AS BIGINT) AS max_tokens,
    md5(prefix_text) AS prefix_md5,
    strlen(prefix_text) AS prefix_bytes,
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
