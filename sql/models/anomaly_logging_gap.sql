-- Hours where CloudWatch counted invocations that no invocation log delivered (grain: hour x
-- account x region): logging switched off, a broken delivery role, a bucket policy change.
-- CloudWatch's calls are Invocations plus InvocationThrottles (the view of migration 0012, as
-- the pages count them): the logs record throttled calls too. The logs side is the rollup.
WITH cw AS (
    SELECT hour, account_id, region, cw_calls AS cw_invocations
    FROM cw_calls_hourly
    WHERE hour >= $start AND hour < $end
), logged AS (
    SELECT hour, account_id, region, sum(invocations) AS logged
    FROM usage_hourly WHERE hour >= $start AND hour < $end
    GROUP BY ALL
)
SELECT c.hour, c.account_id, c.region, c.cw_invocations, coalesce(l.logged, 0) AS logged
FROM cw c LEFT JOIN logged l USING (hour, account_id, region)
WHERE c.cw_invocations >= $min_calls AND coalesce(l.logged, 0) < c.cw_invocations * $share
ORDER BY c.account_id, c.region, c.hour
