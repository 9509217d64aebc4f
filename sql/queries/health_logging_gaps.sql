-- Data health: hours where CloudWatch counted Bedrock invocations but the invocation logs
-- delivered none, or under half of them (logging off, a delivery failure, a missing landing
-- zone). Grain: hour x account x region; the 200 most recent.
-- Sources as governance_coverage.sql (CloudWatch's calls are Invocations plus
-- InvocationThrottles, as the logs record throttled calls): an all-LOB reader only; the
-- period, region and account filters apply.
-- Parameters: $start/$end (UTC, end exclusive), $regions, $accounts, $all_lobs.
WITH cw AS (
    SELECT hour, account_id, region, cw_calls AS cw_invocations
    FROM cw_calls_hourly  -- Invocations + InvocationThrottles (migration 0012)
    WHERE $all_lobs
      AND hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
      AND picked($regions::VARCHAR[], region)
      AND picked($accounts::VARCHAR[], account_id)
),
logs AS (
    SELECT hour, account_id, region, sum(invocations) AS logged
    FROM usage_hourly
    WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
    GROUP BY ALL
)
SELECT cw.hour, cw.account_id, cw.region, cw.cw_invocations::BIGINT AS cw_invocations,
       coalesce(logs.logged, 0)::BIGINT AS logged_invocations
FROM cw
LEFT JOIN logs USING (hour, account_id, region)
WHERE cw.cw_invocations > 0 AND coalesce(logs.logged, 0) < 0.5 * cw.cw_invocations
ORDER BY cw.hour DESC
LIMIT 200
