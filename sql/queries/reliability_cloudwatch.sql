-- Reliability: what CloudWatch says per model over time, in one scan of the hourly rollup:
-- latency (InvocationLatency, to the last token) and time to first token (TimeToFirstToken,
-- streaming calls) as p50/p90/p99, and the throttle pressure (EstimatedTPMQuotaUsage's busiest
-- minute, InvocationThrottles, Invocations).
-- Grain: ts ($bucket: 'hour' for short periods, 'day' for long ones) x model x metric.
-- Percentiles: the hourly ones averaged with SampleCount as weight (approximate). Metrics
-- carry no LOB or application: an all-LOB reader only, and only the period, model, region and
-- account filters apply.
-- Parameters: $start/$end (UTC, end exclusive), $bucket, $models, $regions, $accounts,
-- $all_lobs.
SELECT
    date_trunc($bucket::VARCHAR, hour) AS ts, model, metric_name,
    sum(p50 * samples) / nullif(sum(samples) FILTER (WHERE p50 IS NOT NULL), 0) AS p50,
    sum(p90 * samples) / nullif(sum(samples) FILTER (WHERE p90 IS NOT NULL), 0) AS p90,
    sum(p99 * samples) / nullif(sum(samples) FILTER (WHERE p99 IS NOT NULL), 0) AS p99,
    sum(samples) AS samples,
    sum(sum) AS sum,
    max(maximum) AS maximum
FROM usage_metrics_hourly
WHERE $all_lobs
  AND hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND namespace = 'AWS/Bedrock'
  AND metric_name IN ('InvocationLatency', 'TimeToFirstToken', 'EstimatedTPMQuotaUsage',
                      'InvocationThrottles', 'Invocations')
  AND model IS NOT NULL
  AND picked($models::VARCHAR[], model)
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
ORDER BY ts, model, metric_name
