-- The Reliability page shows p50 / p90 / p99 per LOB and application; the hourly rollup kept
-- p50 and p95 only. Hours whose raw rows are still here get their p90 and p99 now; an hour the
-- retention already cut keeps NULL (a percentile is never made up from the other two).
ALTER TABLE usage_hourly ADD COLUMN latency_p90_ms DOUBLE;
ALTER TABLE usage_hourly ADD COLUMN latency_p99_ms DOUBLE;
UPDATE usage_hourly AS u
SET latency_p90_ms = r.p90, latency_p99_ms = r.p99
FROM (
    SELECT
        date_trunc('hour', ts) AS hour, account_id, region, lob, app, model, operation,
        quantile_cont(latency_ms, 0.9) AS p90,
        quantile_cont(latency_ms, 0.99) AS p99
    FROM invocations
    GROUP BY ALL
) AS r
WHERE u.hour = r.hour
  AND u.account_id IS NOT DISTINCT FROM r.account_id
  AND u.region IS NOT DISTINCT FROM r.region
  AND u.lob = r.lob
  AND u.app IS NOT DISTINCT FROM r.app
  AND u.model IS NOT DISTINCT FROM r.model
  AND u.operation IS NOT DISTINCT FROM r.operation;
