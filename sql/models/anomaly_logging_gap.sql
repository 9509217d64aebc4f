-- Hours where CloudWatch counted invocations that no invocation log delivered (grain: hour x
-- account x region): logging switched off, a broken delivery role, a bucket policy change.
-- CloudWatch's per-ModelId series are summed; the logs side is the hourly rollup. The logs
-- record throttled calls, CloudWatch's Invocations leaves them out (they count only in
-- InvocationThrottles): both are added, as the Data health page does.
WITH cw AS (
    SELECT date_trunc('hour', ts) AS hour, account_id, region, sum(value) AS cw_invocations
    FROM metrics
    WHERE namespace = 'AWS/Bedrock' AND metric_name IN ('Invocations', 'InvocationThrottles')
      AND stat = 'Sum'
      AND dimensions['ModelId'] IS NOT NULL AND ts >= $start AND ts < $end
    GROUP BY ALL
), logged AS (
    SELECT hour, account_id, region, sum(invocations) AS logged
    FROM usage_hourly WHERE hour >= $start AND hour < $end
    GROUP BY ALL
)
SELECT c.hour, c.account_id, c.region, c.cw_invocations, coalesce(l.logged, 0) AS logged
FROM cw c LEFT JOIN logged l USING (hour, account_id, region)
WHERE c.cw_invocations >= $min_calls AND coalesce(l.logged, 0) < c.cw_invocations * $share
ORDER BY c.account_id, c.region, c.hour
