-- Rebuild quota_peaks_hourly's 'cloudwatch' rows for the hours in $hours (grain: hour x
-- account x region x model): the busiest minute's Sum of EstimatedTPMQuotaUsage, the
-- ModelId series of one model (its id, profile ids and ARNs) added up per minute. Run after
-- every metrics batch beside usage_metrics_hourly_refresh.sql. No LOB: CloudWatch has none.
DELETE FROM quota_peaks_hourly
WHERE source = 'cloudwatch' AND hour IN (SELECT unnest($hours::TIMESTAMP[]));
INSERT INTO quota_peaks_hourly BY NAME
WITH points AS (
    SELECT m.ts, m.account_id, m.region,
           CASE
               WHEN ip.arn IS NOT NULL THEN ip.model
               WHEN m.dimensions['ModelId'] LIKE 'arn:%:application-inference-profile/%' THEN NULL
               ELSE regexp_replace(regexp_replace(m.dimensions['ModelId'],
                   '^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(inference-profile|foundation-model)/', ''),
                   '^(us|eu|apac|global|us-gov|jp|au|ca|ap)\.', '')
           END AS model,
           m.value
    FROM metrics AS m
    LEFT JOIN inference_profiles AS ip ON ip.arn = m.dimensions['ModelId']
    WHERE m.ts >= list_min($hours::TIMESTAMP[])
      AND m.ts < list_max($hours::TIMESTAMP[]) + INTERVAL 1 HOUR
      AND date_trunc('hour', m.ts) IN (SELECT unnest($hours::TIMESTAMP[]))
      AND m.namespace = 'AWS/Bedrock' AND m.metric_name = 'EstimatedTPMQuotaUsage'
      AND m.stat = 'Sum' AND m.dimensions['ModelId'] IS NOT NULL
), per_minute AS (
    SELECT date_trunc('minute', ts) AS minute, account_id, region, model, sum(value) AS tokens
    FROM points WHERE model IS NOT NULL GROUP BY ALL
)
SELECT date_trunc('hour', minute) AS hour, account_id, region, model, 'cloudwatch' AS source,
       -- A tie goes to the earliest minute: arg_max picks any, and a rebuild must read the same.
       NULL::VARCHAR AS lob, first(minute ORDER BY tokens DESC, minute) AS peak_minute,
       max(tokens) AS peak_tokens,
       NULL::BIGINT AS peak_requests, NULL::DOUBLE AS lob_tokens, NULL::BIGINT AS throttles,
       NULL::BIGINT AS invocations
FROM per_minute
GROUP BY ALL;
