-- Governance and Data health: logging coverage per day, account and region: the calls
-- CloudWatch saw (Invocations plus InvocationThrottles, view cw_calls_hourly: the logs record
-- throttled calls; without them a throttling storm read as 125% coverage) against those the
-- invocation logs delivered (usage_hourly).
-- Grain: day x account x region. Metrics carry no LOB: an all-LOB reader only, and only the
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
