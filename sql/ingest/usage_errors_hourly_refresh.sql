-- Rebuild usage_errors_hourly for the hours in $hours (grain: hour x account x region x LOB x
-- app x model x error_code). Run after every invocation-log batch, beside
-- usage_hourly_refresh.sql, for the hours it touched; the Reliability page reads it for
-- "errors by code" instead of scanning invocations.
DELETE FROM usage_errors_hourly WHERE hour IN (SELECT unnest($hours::TIMESTAMP[]));
INSERT INTO usage_errors_hourly BY NAME
SELECT
    date_trunc('hour', ts) AS hour, account_id, region, lob, app, model, error_code,
    count(*) AS errors
FROM invocations
WHERE ts >= list_min($hours::TIMESTAMP[])
  AND ts < list_max($hours::TIMESTAMP[]) + INTERVAL 1 HOUR
  AND date_trunc('hour', ts) IN (SELECT unnest($hours::TIMESTAMP[]))
  AND error_code IS NOT NULL
GROUP BY ALL;
