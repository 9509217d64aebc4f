-- Explode each Metric Streams line of ms_lines (metrics_stream_parse.sql or
-- metrics_stream_strict.sql) into statistic rows (grain: account, region, series, ts, period,
-- stat), ready to upsert. ms_files (local_file, source_object) names each file.
-- The statistics are unnested in the select list (keys and values side by side): a lateral
-- unnest of map_entries costs five times as much.
-- $repeats (BOOLEAN): whether the batch holds a point twice (ingester._repeats). Firehose may
-- deliver a point twice (retries) or in two objects: the later object wins, then the later
-- line. That window sorts every row of the batch (40% of the parse's time on the demo), so
-- a batch without repeats, nearly every batch, skips it.
CREATE OR REPLACE TEMP VIEW ms_stats AS
SELECT namespace, metric_name, dimensions, ts, 60 AS period_s,
    CASE k
        WHEN 'count' THEN 'SampleCount' WHEN 'sum' THEN 'Sum'
        WHEN 'max' THEN 'Maximum' WHEN 'min' THEN 'Minimum'
        ELSE k
    END AS stat,
    v::DOUBLE AS value, unit,
    coalesce(account_id, '') AS account_id, coalesce(region, '') AS region,
    'stream' AS source, source_object, line
FROM (
    SELECT l.*, f.source_object, unnest(map_keys(l.stats)) AS k,
        unnest(map_values(l.stats)) AS v
    FROM ms_lines l JOIN ms_files f USING (local_file)
    WHERE l.reason IS NULL
);
CREATE OR REPLACE TEMP TABLE metrics_ready AS
SELECT * EXCLUDE (line) FROM ms_stats WHERE NOT $repeats;
INSERT INTO metrics_ready
SELECT * EXCLUDE (line) FROM ms_stats WHERE $repeats
QUALIFY row_number() OVER (
    PARTITION BY account_id, region, namespace, metric_name, dimensions, ts, period_s, stat
    ORDER BY source_object DESC, line DESC) = 1;
