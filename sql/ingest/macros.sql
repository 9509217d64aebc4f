-- Temporary macros the ingest SQL shares; created once per connection.

-- A count that arrived as text (so a wrong JSON type cannot fail the whole file) but is
-- not a number: the record is quarantined.
CREATE OR REPLACE TEMP MACRO gl_bad_count(v) AS
    v IS NOT NULL AND TRY_CAST(v AS DOUBLE) IS NULL;

-- A count as BIGINT; missing (older logs lack cache counts) is 0.
CREATE OR REPLACE TEMP MACRO gl_count(v) AS coalesce(TRY_CAST(v AS DOUBLE), 0)::BIGINT;

-- The first non-NULL element of a list (stream chunks carry a field in one chunk only).
CREATE OR REPLACE TEMP MACRO gl_first(l) AS list_filter(l, lambda x: x IS NOT NULL)[1];

-- Geo/global prefix of a system inference profile id (us., eu., apac., global., ...).
CREATE OR REPLACE TEMP MACRO gl_geo_prefix(id) AS
    nullif(regexp_extract(id, '^(us|eu|apac|global|us-gov|jp|au|ca|ap)\.', 1), '');

-- requestMetadata reduced to the keys attribution looks at (NULL when absent).
CREATE OR REPLACE TEMP MACRO gl_md_project(md, keys) AS
    CASE WHEN md IS NOT NULL THEN map_from_entries(list_filter(
        map_entries(md), lambda e: list_contains(keys, e.key))) END;

-- Invocation-log records as text columns, each line parsed once: one multi-path extract reads
-- every envelope field we keep and, through the bodies, every body fact (`rsp_*`: the
-- response's, `req_*`: the request's), so a body is not parsed again unless it is a stream
-- (an array of chunks, whose facts need wildcard paths, which a multi-path extract cannot
-- take). A field comes back as text: a string unquoted, anything else as minified JSON (a
-- body's text is what its size and MD5 are taken of). Any field order loads, unknown fields
-- are ignored, and a field of the wrong shape is NULL or a quarantine reason, never a failed
-- file; a line that is not JSON fails the read, and the file is then read line by line
-- (salvage.py). No line may be longer than max_object bytes (the reader sizes it to the
-- files: reader_pool.object_cap).
-- Why this shape (measured on one core, README "Where the per-record time went"): a read_json
-- with the envelope as a typed schema, then a parse of each body, cost 25% more on small
-- records (a typed field costs more than a path) and as much on Converse-sized ones; each
-- element is taken out of the list once (a list slice copies every element it keeps).
CREATE OR REPLACE TEMP MACRO gl_inv_raw(files, max_object) AS TABLE
SELECT filename, f[1] AS requestId, f[2] AS timestamp, f[3] AS accountId, f[4] AS identity_arn,
    f[5] AS region, f[6] AS operation, f[7] AS modelId, f[8] AS inferenceRegion,
    f[9] AS errorCode, f[10] AS schemaType, f[11] AS schemaVersion, f[12] AS in_tokens,
    f[13] AS in_cache_read, f[14] AS in_cache_write, f[15] AS out_tokens, f[16] AS in_s3,
    f[17] AS out_s3, f[18] AS _line, f[19] AS in_body, f[20] AS out_body, f[21] AS md_json,
    CASE WHEN md_json IS NOT NULL THEN TRY_CAST(TRY_CAST(md_json AS JSON) AS MAP(VARCHAR, VARCHAR))
        END AS requestMetadata,
    CASE WHEN NOT starts_with(ltrim(json), '{') THEN lower(json_type(json)) END AS not_object,
    f[22] AS tier_field, f[23] AS perf_field,
    -- the response (InvokeModel bodies are provider-native: several stop-reason spellings)
    coalesce(f[24], f[25], f[26], f[27], f[28], f[29]) AS rsp_stop_reason,
    coalesce(f[30], f[31]) AS rsp_latency_ms, f[32] AS rsp_first_byte_ms,
    f[33] AS rsp_guard_action, f[34] AS rsp_tier, f[35] AS rsp_cache_details,
    f[36] AS rsp_cache_1h, f[37] AS rsp_latency_mode, coalesce(f[38], f[39]) AS rsp_guard_trace,
    -- the request: max tokens (every provider's spelling), the cacheable prefix (system prompt
    -- or preamble, then tool definitions), the tier and latency mode asked for, its guardrail
    coalesce(f[40], f[41], f[42], f[43], f[44]) AS req_max_tokens,
    nullif(concat(coalesce(f[45], f[46]), coalesce(f[47], f[48])), '') AS req_prefix,
    f[49] AS req_tier, f[50] AS req_latency_mode, f[51] AS req_guardrail
FROM (
    SELECT json, filename,
        json_extract_string(json, [
            '$.requestId', '$.timestamp', '$.accountId', '$.identity.arn', '$.region',
            '$.operation', '$.modelId', '$.inferenceRegion', '$.errorCode', '$.schemaType',
            '$.schemaVersion', '$.input.inputTokenCount', '$.input.cacheReadInputTokenCount',
            '$.input.cacheWriteInputTokenCount', '$.output.outputTokenCount',
            '$.input.inputBodyS3Path', '$.output.outputBodyS3Path', '$._line',
            '$.input.inputBodyJson', '$.output.outputBodyJson', '$.requestMetadata',
            '$.serviceTier', '$.performanceConfig',
            '$.output.outputBodyJson.stopReason', '$.output.outputBodyJson.stop_reason',
            '$.output.outputBodyJson.finish_reason',
            '$.output.outputBodyJson.results[0].completionReason',
            '$.output.outputBodyJson.outputs[0].stop_reason',
            '$.output.outputBodyJson.generations[0].finish_reason',
            '$.output.outputBodyJson.metrics.latencyMs',
            '$.output.outputBodyJson."amazon-bedrock-invocationMetrics".invocationLatency',
            '$.output.outputBodyJson."amazon-bedrock-invocationMetrics".firstByteLatency',
            '$.output.outputBodyJson."amazon-bedrock-guardrailAction"',
            '$.output.outputBodyJson.serviceTier', '$.output.outputBodyJson.usage.cacheDetails',
            '$.output.outputBodyJson.usage.cache_creation.ephemeral_1h_input_tokens',
            '$.output.outputBodyJson.performanceConfig.latency',
            '$.output.outputBodyJson.trace.guardrail',
            '$.output.outputBodyJson."amazon-bedrock-trace".guardrail',
            '$.input.inputBodyJson.inferenceConfig.maxTokens', '$.input.inputBodyJson.max_tokens',
            '$.input.inputBodyJson.textGenerationConfig.maxTokenCount',
            '$.input.inputBodyJson.max_gen_len', '$.input.inputBodyJson.maxTokens',
            '$.input.inputBodyJson.system', '$.input.inputBodyJson.preamble',
            '$.input.inputBodyJson.toolConfig', '$.input.inputBodyJson.tools',
            '$.input.inputBodyJson.serviceTier', '$.input.inputBodyJson.performanceConfig.latency',
            '$.input.inputBodyJson.guardrailConfig']) AS f
    FROM read_ndjson_objects(files, filename = true, maximum_object_size = max_object)
);

-- A service tier as Bedrock writes it: the Converse shape {"type": "priority"} or a bare
-- string (the InvokeModel header's value); lower-cased. NULL when absent.
CREATE OR REPLACE TEMP MACRO gl_tier(v) AS lower(nullif(trim(
    CASE WHEN starts_with(ltrim(v), '{') THEN json_extract_string(v, '$.type') ELSE v END), ''));

-- Tokens of the 1-hour TTL in a Converse usage.cacheDetails array ([{ttl, inputTokens}]).
CREATE OR REPLACE TEMP MACRO gl_cache_1h(details) AS
    CASE WHEN details IS NOT NULL AND starts_with(ltrim(details), '[') THEN
        list_sum(list_transform(json_extract(details, '$[*]'), lambda e:
            CASE WHEN json_extract_string(e, '$.ttl') = '1h'
                 THEN TRY_CAST(json_extract_string(e, '$.inputTokens') AS BIGINT) ELSE 0 END))
    END;

-- One token kind's cost in USD: 0 without tokens, else tokens x the learned rate, else x the
-- list price; NULL (unpriced) when neither prices tokens that were used.
CREATE OR REPLACE TEMP MACRO gl_kind_cost(tokens, learned, list) AS
    CASE WHEN tokens = 0 THEN 0 ELSE tokens * coalesce(learned, list) / 1e6 END;
