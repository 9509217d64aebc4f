-- Rebuild usage_metrics_hourly for the hours in $hours (grain: hour x account x region x
-- namespace x metric x dimensions). Run after every metrics batch for the hours its points
-- fall in. Pages read this instead of `metrics`, whose points are a minute apart.
-- model: the foundation model behind ModelId (an application profile through
-- inference_profiles, a system profile id or ARN by dropping its ARN and geo prefix).
-- Percentiles: per-period percentiles averaged with SampleCount as weight (approximate).
-- Sums are exact (DECIMAL, then DOUBLE): a DOUBLE sum depends on the order rows arrive in, and
-- an hour re-rolled after a crash or a re-read must come out the same to the last digit.
--
DELETE FROM usage_metrics_hourly WHERE hour IN (SELECT unnest($hours::TIMESTAMP[]));
INSERT INTO usage_metrics_hourly BY NAME
WITH points AS (
    -- One row per series and period, its statistics side by side.
    SELECT
        account_id, region, namespace, metric_name, dimensions, ts,
        date_trunc('hour', ts) AS hour,
        max(value) FILTER (WHERE stat = 'Sum')         AS sum,
        max(value) FILTER (WHERE stat = 'SampleCount') AS samples,
        max(value) FILTER (WHERE stat = 'Maximum')     AS maximum,
        max(value) FILTER (WHERE stat = 'p50')         AS p50,
        max(value) FILTER (WHERE stat = 'p90')         AS p90,
        max(value) FILTER (WHERE stat = 'p99')         AS p99
    FROM metrics
    WHERE ts >= list_min($hours::TIMESTAMP[])
      AND ts < list_max($hours::TIMESTAMP[]) + INTERVAL 1 HOUR
      AND date_trunc('hour', ts) IN (SELECT unnest($hours::TIMESTAMP[]))
    GROUP BY ALL
)
SELECT
    p.hour, p.account_id, p.region, p.namespace, p.metric_name, p.dimensions,
    p.dimensions['ModelId'] AS model_id,
    any_value(CASE
        WHEN p.dimensions['ModelId'] IS NULL THEN NULL
        WHEN ip.arn IS NOT NULL THEN ip.model
        WHEN p.dimensions['ModelId'] LIKE 'arn:%:application-inference-profile/%' THEN NULL
        ELSE regexp_replace(
            regexp_replace(p.dimensions['ModelId'],
                           '^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(inference-profile|foundation-model)/', ''),
            '^(us|eu|apac|global|us-gov|jp|au|ca|ap)\.', '')
    END) AS model,
    sum(p.sum::DECIMAL(38, 10))::DOUBLE AS sum,
    sum(p.samples::DECIMAL(38, 10))::DOUBLE AS samples,
    max(p.maximum) AS maximum,
    (sum((p.p50 * p.samples)::DECIMAL(38, 10))
        / nullif(sum(p.samples::DECIMAL(38, 10)) FILTER (WHERE p.p50 IS NOT NULL), 0))::DOUBLE
        AS p50,
    (sum((p.p90 * p.samples)::DECIMAL(38, 10))
        / nullif(sum(p.samples::DECIMAL(38, 10)) FILTER (WHERE p.p90 IS NOT NULL), 0))::DOUBLE
        AS p90,
    (sum((p.p99 * p.samples)::DECIMAL(38, 10))
        / nullif(sum(p.samples::DECIMAL(38, 10)) FILTER (WHERE p.p99 IS NOT NULL), 0))::DOUBLE
        AS p99
FROM points AS p
LEFT JOIN inference_profiles AS ip ON ip.arn = p.dimensions['ModelId']
GROUP BY p.hour, p.account_id, p.region, p.namespace, p.metric_name, p.dimensions;
