-- Data health: the latest job runs (ingest per source, models, vacuum), failed and interrupted
-- ones first, newest first. Grain: run_id; at most 100. The error is the job's one line (never
-- a traceback or record text). Bookkeeping without a LOB: an all-LOB reader only; no filter
-- applies.
-- Parameters: $all_lobs.
SELECT run_id, source, trigger, started_at, finished_at, status, objects, api_calls,
       rows_inserted, rows_updated, rows_quarantined, watermark_after, error,
       date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds
FROM ingest_runs
WHERE $all_lobs
ORDER BY started_at DESC
LIMIT 100
