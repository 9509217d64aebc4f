-- Every page's panel captions and Data health's freshness table: how new each source's data
-- is, how far its ingest has read, and its last run.
-- Grain: one row per source (invocation-logs, metrics, cloudtrail, cost, models).
-- newest: the end of the newest data the pages can show (an hour's or a day's end).
-- Usage and allocation are within the reader's LOB scope; metrics, CloudTrail, the bill and the
-- ingest runs carry no LOB, so a LOB-scoped reader ($all_lobs false) gets NULL for them. The
-- models run is the exception: when it last ran and whether that run failed say nothing about
-- another LOB, and without them a viewer could not tell "nothing in your LOBs" from "the
-- pipeline is broken". Its error text stays with readers of every LOB (it may name paths).
-- Parameters: $all_lobs/$allowed_lobs, $now (the product clock, to the minute).
WITH newest (source, newest) AS (
    SELECT 'invocation-logs', max(hour) + INTERVAL 1 HOUR FROM usage_hourly
    WHERE $all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob)
    UNION ALL
    SELECT 'metrics', max(ts) + INTERVAL 1 MINUTE FROM metrics WHERE $all_lobs
    UNION ALL
    SELECT 'cloudtrail', max(event_time) FROM cloudtrail_events WHERE $all_lobs
    UNION ALL
    SELECT 'cost', (max(usage_date) + INTERVAL 1 DAY)::TIMESTAMP FROM cost_daily WHERE $all_lobs
    UNION ALL
    SELECT 'models', CASE WHEN $all_lobs
        THEN greatest((SELECT max(run_at) FROM forecasts), (SELECT max(detected_at) FROM anomalies))
        ELSE greatest((SELECT max(run_at) FROM forecasts),
                      (SELECT max(finished_at) FROM ingest_runs
                       WHERE source = 'models' AND status = 'ok')) END
),
covered AS (
    SELECT replace(source, '_', '-') AS source, max(covered_until) AS covered_until,
           count(*) AS zones
    FROM watermarks WHERE $all_lobs
    GROUP BY ALL
),
runs AS (
    SELECT
        source,
        max(started_at) AS last_run_at,
        arg_max(status, started_at) AS last_status,
        arg_max(error, started_at) FILTER (WHERE $all_lobs) AS last_error,
        max(finished_at) FILTER (WHERE status = 'ok') AS last_ok_at,
        count(*) FILTER (WHERE status IN ('error', 'interrupted')
                         AND started_at >= $now::TIMESTAMP - INTERVAL 1 DAY) AS failed_24h
    FROM ingest_runs WHERE $all_lobs OR source = 'models'
    GROUP BY source
),
allocated AS (
    SELECT (max(usage_date) + INTERVAL 1 DAY)::TIMESTAMP AS newest FROM cost_allocated
    WHERE $all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob)
)
SELECT
    n.source,
    CASE WHEN n.source = 'cost' THEN coalesce(n.newest, (SELECT newest FROM allocated))
         ELSE n.newest END AS newest,
    c.covered_until, c.zones, r.last_run_at, r.last_status, r.last_error, r.last_ok_at,
    coalesce(r.failed_24h, 0) AS failed_24h
FROM newest AS n
LEFT JOIN covered AS c USING (source)
LEFT JOIN runs AS r USING (source)
ORDER BY list_position(['invocation-logs', 'metrics', 'cloudtrail', 'cost', 'models'], n.source)
