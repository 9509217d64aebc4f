-- Bedrock configuration changes in the hours before an anomaly (grain: CloudTrail event):
-- what an SRE checks first. Invocations and reads are not changes.
SELECT event_id, event_time, event_name, change_kind, principal_arn, aws_region, guardrail_id,
    model_id, error_code
FROM cloudtrail_events
WHERE event_time >= $since AND event_time <= $until
  AND change_kind NOT IN ('invocation', 'read')
ORDER BY event_time DESC
LIMIT 20
