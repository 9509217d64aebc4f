-- Rebuild usage_guardrails_hourly for the hours in $hours (grain: hour x account x region x
-- LOB x app x model x policy). Run after every invocation-log batch, beside
-- usage_hourly_refresh.sql; the Governance page reads it for interventions by policy type.
-- An intervention whose trace names no policy counts under '(unknown)'.
DELETE FROM usage_guardrails_hourly WHERE hour IN (SELECT unnest($hours::TIMESTAMP[]));
INSERT INTO usage_guardrails_hourly BY NAME
SELECT hour, account_id, region, lob, app, model, policy, count(*) AS interventions
FROM (
    SELECT
        date_trunc('hour', ts) AS hour, account_id, region, lob, app, model,
        unnest(CASE WHEN len(guardrail_policies) > 0 THEN guardrail_policies
                    ELSE ['(unknown)'] END) AS policy
    FROM invocations
    WHERE ts >= list_min($hours::TIMESTAMP[])
      AND ts < list_max($hours::TIMESTAMP[]) + INTERVAL 1 HOUR
      AND date_trunc('hour', ts) IN (SELECT unnest($hours::TIMESTAMP[]))
      AND guardrail_action = 'INTERVENED'
)
GROUP BY ALL;
