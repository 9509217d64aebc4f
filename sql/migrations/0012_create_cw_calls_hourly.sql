-- The calls CloudWatch saw per hour, account and region, as Governance's logging coverage and
-- Data health's logging gaps both compare them with the logs. `Invocations` leaves throttled
-- calls out (they count only in `InvocationThrottles`) while the logs record them with their
-- ThrottlingException: the two are added. Each is read from the all-models series (no
-- ModelId) where it was loaded, else as the sum of the per-model ones (never both: that would
-- count every call twice). A view, so a filter on hour, account or region reaches the scan.
CREATE VIEW cw_calls_hourly AS
SELECT hour, account_id, region,
       coalesce(sum(sum) FILTER (WHERE model_id IS NULL AND metric_name = 'Invocations'),
                sum(sum) FILTER (WHERE model_id IS NOT NULL AND metric_name = 'Invocations'),
                0)
       + coalesce(sum(sum) FILTER (WHERE model_id IS NULL AND metric_name = 'InvocationThrottles'),
                  sum(sum) FILTER (WHERE model_id IS NOT NULL
                                   AND metric_name = 'InvocationThrottles'),
                  0) AS cw_calls
FROM usage_metrics_hourly
WHERE namespace = 'AWS/Bedrock' AND metric_name IN ('Invocations', 'InvocationThrottles')
GROUP BY ALL;
