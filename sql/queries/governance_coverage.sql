-- Governance and Data health: logging coverage per day, account and region: the invocations
-- CloudWatch counted against those the invocation logs delivered (usage_hourly). CloudWatch's
-- `Invocations` leaves throttled calls out (they count only in `InvocationThrottles`), while
-- the logs record them with their ThrottlingException: the calls CloudWatch saw are the two
-- added (each from the all-models series (no ModelId), else the sum of the per-model ones).
-- Without the throttles a throttling storm read as 125% coverage.
-- Grain: day x account x region. Metrics carry no LOB: an all-LOB reader only, and only the
-- period, region and account filters apply.
-- Parameters: $start/$end (UTC, end exclusive), $regions, $accounts, $all_lobs.
WITH cw AS (
    SELECT hour, account_id, region,
           coalesce(sum(sum) FILTER (WHERE model_id IS NULL AND metric_name = 'Invocations'),
                    sum(sum) FILTER (WHERE model_id IS NOT NULL AND metric_name = 'Invocations'),
                    0)
           + coalesce(sum(sum) FILTER (WHERE model_id IS NULL
                                       AND metric_name = 'InvocationThrottles'),
                      sum(sum) FILTER (WHERE model_id IS NOT NULL
                                       AND metric_name = 'InvocationThrottles'),
                      0) AS cw_invocations
    FROM usage_metrics_hourly
    WHERE $all_lobs
      AND hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
      AND namespace = 'AWS/Bedrock' AND metric_name IN ('Invocations', 'InvocationThrottles')
      AND picked($regions::VARCHAR[], region)
      AND picked($accounts::VARCHAR[], account_id)
    GROUP BY ALL
),
logs AS (
    SELECT hour, account_id, region, sum(invocations) AS logged_invocations
    FROM usage_hourly
    WHERE $all_lobs
      AND hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
      AND picked($regions::VARCHAR[], region)
      AND picked($accounts::VARCHAR[], account_id)
    GROUP BY ALL
)
SELECT
    CAST(hour AS DATE) AS day, account_id, region,
    sum(cw.cw_invocations)::BIGINT AS cw_invocations,
    coalesce(sum(logs.logged_invocations), 0)::BIGINT AS logged_invocations
FROM cw
FULL JOIN logs USING (hour, account_id, region)
GROUP BY ALL
ORDER BY day, account_id, region
