-- Rebuild usage_principals_hourly for the hours in $hours (grain: hour x account x principal
-- x LOB x app). Run after every invocation-log batch and after a re-attribution, beside
-- usage_hourly_refresh.sql. It tells which LOB each IAM principal works for, so a LOB-scoped
-- reader sees the CloudTrail changes made by its own principals.
DELETE FROM usage_principals_hourly WHERE hour IN (SELECT unnest($hours::TIMESTAMP[]));
INSERT INTO usage_principals_hourly BY NAME
SELECT
    date_trunc('hour', ts) AS hour, account_id, principal_arn, lob, app,
    count(*) AS invocations
FROM invocations
WHERE ts >= list_min($hours::TIMESTAMP[])
  AND ts < list_max($hours::TIMESTAMP[]) + INTERVAL 1 HOUR
  AND date_trunc('hour', ts) IN (SELECT unnest($hours::TIMESTAMP[]))
  AND principal_arn IS NOT NULL
GROUP BY ALL;
