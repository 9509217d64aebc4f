-- Parse CloudWatch Metric Streams JSON (one object per line), the tolerant way: each line as
-- text, then as JSON, every field by path, so any line can be quarantined with its reason.
-- (metrics_stream_strict.sql reads the same ten times faster when every line is well formed;
-- metrics_stream_ready.sql then explodes each line's value into statistic rows.)
--   ms_lines     grain: one non-blank line; `reason` says why a line is quarantined.
-- $files: local, uncompressed NDJSON paths (the caller gunzips). ms_files (local_file,
-- source_object) names each file. A line is loaded whole or quarantined whole: a value map with
-- one non-numeric statistic would otherwise load a partial, misleading point.
CREATE OR REPLACE TEMP TABLE ms_lines AS
WITH split AS (
    -- Unnest lines and their numbers side by side: a lateral unnest would copy each file's
    -- whole content onto every one of its lines (quadratic memory).
    SELECT filename AS local_file, unnest(range(1, len(parts) + 1)) AS line,
        unnest(parts) AS text
    FROM (SELECT filename, string_split(content, chr(10)) AS parts FROM read_text($files))
), lines AS (
    SELECT * FROM split WHERE trim(text) <> ''
), docs AS (
    SELECT local_file, line, TRY_CAST(text AS JSON) AS doc FROM lines
), fields AS (
    SELECT local_file, line, doc,
        json_extract_string(doc, ['$.metric_stream_name', '$.account_id', '$.region',
            '$.namespace', '$.metric_name', '$.timestamp', '$.unit']) AS f,
        json_extract(doc, '$.dimensions') AS dims_json,
        json_extract(doc, '$.value') AS value_json
    FROM docs
), typed AS (
    SELECT local_file, line, doc,
        f[2] AS account_id, f[3] AS region, f[4] AS namespace, f[5] AS metric_name,
        f[7] AS unit,
        make_timestamp(TRY_CAST(TRY_CAST(f[6] AS DOUBLE) AS BIGINT) * 1000) AS ts,
        CASE WHEN dims_json IS NULL THEN MAP {}::MAP(VARCHAR, VARCHAR)
             ELSE TRY_CAST(dims_json AS MAP(VARCHAR, VARCHAR)) END AS dims,
        TRY_CAST(value_json AS MAP(VARCHAR, JSON)) AS stats
    FROM fields
)
SELECT local_file, line, namespace, metric_name, ts, unit, account_id, region,
    map_from_entries(list_sort(map_entries(dims))) AS dimensions, stats,
    CASE
        WHEN doc IS NULL THEN 'not JSON'
        WHEN json_type(doc) <> 'OBJECT' THEN 'not a JSON object'
        WHEN namespace IS NULL THEN 'missing namespace'
        WHEN metric_name IS NULL THEN 'missing metric_name'
        WHEN ts IS NULL THEN 'timestamp is missing or not epoch milliseconds'
        WHEN dims IS NULL THEN 'dimensions is not an object of strings'
        WHEN stats IS NULL THEN 'value is missing or not an object'
        WHEN cardinality(stats) = 0 THEN 'value has no statistics'
        ELSE 'value.' || list_filter(map_entries(stats), lambda e: coalesce(
            json_type(e.value) NOT IN ('DOUBLE', 'BIGINT', 'UBIGINT'), true))[1].key
            || ' is not a number'
    END AS reason
FROM typed;
