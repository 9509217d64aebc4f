-- The Reliability page shows p50 / p90 / p99 latency and time to first byte per LOB and
-- application; the hourly rollup kept latency p50 and p95 only. Hours whose raw rows are still
-- here get the new figures now; an hour the retention already cut keeps NULL (a percentile is
-- never made up from the others) and a first-byte count of 0.
ALTER TABLE usage_hourly ADD COLUMN latency_p90_ms DOUBLE;
ALTER TABLE usage_hourly ADD COLUMN latency_p99_ms DOUBLE;
ALTER TABLE usage_hourly ADD COLUMN first_byte_count BIGINT DEFAULT 0;
ALTER TABLE usage_hourly ADD COLUMN first_byte_ms_sum DOUBLE;
ALTER TABLE usage_hourly ADD COLUMN first_byte_p50_ms DOUBLE;
ALTER TABLE usage_hourly ADD COLUMN first_byte_p90_ms DOUBLE;
ALTER TABLE usage_hourly ADD COLUMN first_byte_p99_ms DOUBLE;
UPDATE usage_hourly AS u
SET latency_p90_ms = r.latency_p90_ms, latency_p99_ms = r.latency_p99_ms,
    first_byte_count = r.first_byte_count, first_byte_ms_sum = r.first_byte_ms_sum,
    first_byte_p50_ms = r.first_byte_p50_ms, first_byte_p90_ms = r.first_byte_p90_ms,
    first_byte_p99_ms = r.first_byte_p99_ms
FROM (
    SELECT
        date_trunc('hour', ts) AS hour, account_id, region, lob, app, model, operation,
        quantile_cont(latency_ms, 0.9) AS latency_p90_ms,
        quantile_cont(latency_ms, 0.99) AS latency_p99_ms,
        count(first_byte_ms) AS first_byte_count,
        sum(first_byte_ms::DECIMAL(38, 6))::DOUBLE AS first_byte_ms_sum,
        quantile_cont(first_byte_ms, 0.5) AS first_byte_p50_ms,
        quantile_cont(first_byte_ms, 0.9) AS first_byte_p90_ms,
        quantile_cont(first_byte_ms, 0.99) AS first_byte_p99_ms
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
