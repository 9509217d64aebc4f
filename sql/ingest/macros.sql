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

-- Invocation-log records as text columns, read from $files one of two ways (only one runs:
-- the other's filter is a constant the optimizer drops); no line may be longer than
-- max_object bytes (the reader sizes it to the files: ingest/reader_pool.object_cap).
-- Strict: read_json with the envelope fields we keep as a fixed schema, so each line is parsed
-- once and only what we keep is materialised; a field of an unexpected shape (identity or
-- input/output not an object, a line that is not an object, a repeated key) fails the file.
-- Tolerant: each line as text, every field read by path with json_extract_string; slower, but
-- it loads whatever the strict read refuses. Both give a field the same text (a string
-- unquoted, anything else as minified JSON), so the two ways load identical rows.
CREATE OR REPLACE TEMP MACRO gl_inv_raw(files, tolerant, max_object) AS TABLE
SELECT filename, requestId, timestamp, accountId, identity.arn AS identity_arn, region,
    operation, modelId, inferenceRegion, errorCode, schemaType, schemaVersion,
    input.inputTokenCount AS in_tokens, input.cacheReadInputTokenCount AS in_cache_read,
    input.cacheWriteInputTokenCount AS in_cache_write, output.outputTokenCount AS out_tokens,
    input.inputBodyS3Path AS in_s3, output.outputBodyS3Path AS out_s3, _line,
    input.inputBodyJson AS in_body, output.outputBodyJson AS out_body,
    NULL::VARCHAR AS md_json, requestMetadata, NULL::VARCHAR AS not_object,
    serviceTier AS tier_field, performanceConfig AS perf_field
FROM read_json(files, format = 'newline_delimited', records = true, filename = true,
    maximum_object_size = max_object, columns = {
        requestId: 'VARCHAR', timestamp: 'VARCHAR', accountId: 'VARCHAR',
        identity: 'STRUCT(arn VARCHAR)', region: 'VARCHAR', operation: 'VARCHAR',
        modelId: 'VARCHAR', inferenceRegion: 'VARCHAR', errorCode: 'VARCHAR',
        schemaType: 'VARCHAR', schemaVersion: 'VARCHAR',
        input: 'STRUCT(inputTokenCount VARCHAR, cacheReadInputTokenCount VARCHAR,
            cacheWriteInputTokenCount VARCHAR, inputBodyS3Path VARCHAR, inputBodyJson VARCHAR)',
        output: 'STRUCT(outputTokenCount VARCHAR, outputBodyS3Path VARCHAR,
            outputBodyJson VARCHAR)',
        _line: 'VARCHAR', requestMetadata: 'MAP(VARCHAR, VARCHAR)',
        serviceTier: 'VARCHAR', performanceConfig: 'VARCHAR'})
WHERE NOT tolerant
UNION ALL
SELECT filename, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12],
    f[13], f[14], f[15], f[16], f[17], f[18], f[19], f[20], f[21],
    CASE WHEN f[21] IS NOT NULL THEN TRY_CAST(TRY_CAST(f[21] AS JSON) AS MAP(VARCHAR, VARCHAR)) END,
    CASE WHEN NOT starts_with(ltrim(json), '{') THEN lower(json_type(json)) END,
    f[22], f[23]
FROM (
    SELECT json, filename,
        json_extract_string(json, [
            '$.requestId', '$.timestamp', '$.accountId', '$.identity.arn', '$.region',
            '$.operation', '$.modelId', '$.inferenceRegion', '$.errorCode', '$.schemaType',
            '$.schemaVersion', '$.input.inputTokenCount', '$.input.cacheReadInputTokenCount',
            '$.input.cacheWriteInputTokenCount', '$.output.outputTokenCount',
            '$.input.inputBodyS3Path', '$.output.outputBodyS3Path', '$._line',
            '$.input.inputBodyJson', '$.output.outputBodyJson', '$.requestMetadata',
            '$.serviceTier', '$.performanceConfig']) AS f
    FROM read_ndjson_objects(files, filename = true, maximum_object_size = max_object)
)
WHERE tolerant;

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
