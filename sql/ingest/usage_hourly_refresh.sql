-- Rebuild the hourly rollup for the hours in $hours (grain: hour x account x region x LOB x
-- app x model x operation). Run after every batch for the hours it touched, so pages
-- never scan raw invocations. Money and latency are summed exactly (DECIMAL, then DOUBLE): a
-- DOUBLE sum depends on the order rows arrive in, and an hour rebuilt after a crash, a re-read
-- or a re-attribution must come out the same to the last digit.
DELETE FROM usage_hourly WHERE hour IN (SELECT unnest($hours::TIMESTAMP[]));
INSERT INTO usage_hourly BY NAME
SELECT
    date_trunc('hour', ts) AS hour, account_id, region, lob, app, model, operation,
    count(*) AS invocations,
    count(*) FILTER (WHERE error_code IS NOT NULL) AS errors,
    count(*) FILTER (WHERE error_code = 'ThrottlingException') AS throttles,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(est_cost_usd::DECIMAL(38, 18))::DOUBLE AS est_cost_usd,
    count(*) FILTER (WHERE est_cost_usd IS NULL) AS unpriced_invocations,
    count(*) FILTER (WHERE guardrail_action IS NOT NULL) AS guardrail_invocations,
    count(*) FILTER (WHERE guardrail_action = 'INTERVENED') AS guardrail_interventions,
    sum(latency_ms::DECIMAL(38, 6))::DOUBLE AS latency_ms_sum,
    count(latency_ms) AS latency_count,
    quantile_cont(latency_ms, 0.5) AS latency_p50_ms,
    quantile_cont(latency_ms, 0.9) AS latency_p90_ms,
    quantile_cont(latency_ms, 0.95) AS latency_p95_ms,
    quantile_cont(latency_ms, 0.99) AS latency_p99_ms,
    count(first_byte_ms) AS first_byte_count,
    sum(first_byte_ms::DECIMAL(38, 6))::DOUBLE AS first_byte_ms_sum,
    quantile_cont(first_byte_ms, 0.5) AS first_byte_p50_ms,
    quantile_cont(first_byte_ms, 0.9) AS first_byte_p90_ms,
    quantile_cont(first_byte_ms, 0.99) AS first_byte_p99_ms
FROM invocations
WHERE ts >= list_min($hours::TIMESTAMP[])
  AND ts < list_max($hours::TIMESTAMP[]) + INTERVAL 1 HOUR
  AND date_trunc('hour', ts) IN (SELECT unnest($hours::TIMESTAMP[]))
GROUP BY ALL;
