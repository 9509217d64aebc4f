-- Parse CloudWatch Metric Streams JSON (one object per line) the fast way (grain: one line):
-- read_json with the fields kept as a fixed schema, so each line is parsed once, into the
-- ms_lines shape metrics_stream_parse.sql gives. A line of another shape (not JSON, not an
-- object, a value that is not a map of numbers) fails the read, and one that would be
-- quarantined (no namespace, metric name, timestamp or statistics) raises: the caller then
-- reads the batch the tolerant way, which names each bad line. So every row here loads
-- (`reason` NULL) and `line` is not known (NULL): the caller also goes the tolerant way when a
-- file repeats a point, which the line number breaks ties on.
-- $files: local, uncompressed NDJSON paths.
CREATE OR REPLACE TEMP TABLE ms_lines AS
SELECT filename AS local_file, NULL::BIGINT AS line, namespace, metric_name,
    make_timestamp(timestamp::BIGINT * 1000) AS ts, unit, account_id, region,
    map_from_entries(list_sort(map_entries(coalesce(dimensions,
        MAP {}::MAP(VARCHAR, VARCHAR))))) AS dimensions,
    value AS stats,
    CASE WHEN namespace IS NULL OR metric_name IS NULL OR timestamp IS NULL OR value IS NULL
              OR cardinality(value) = 0
         THEN error('a line to quarantine: read the batch the tolerant way') END::VARCHAR
        AS reason
FROM read_json($files, format = 'newline_delimited', filename = true, columns = {
    metric_stream_name: 'VARCHAR', account_id: 'VARCHAR', region: 'VARCHAR',
    namespace: 'VARCHAR', metric_name: 'VARCHAR', dimensions: 'MAP(VARCHAR, VARCHAR)',
    timestamp: 'DOUBLE', value: 'MAP(VARCHAR, DOUBLE)', unit: 'VARCHAR'});
