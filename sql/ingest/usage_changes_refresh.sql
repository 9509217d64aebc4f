-- Rebuild usage_changes for the CloudTrail batch just upserted: events in [$since, $until)
-- (grain: event_id). Run after sql/ingest/cloudtrail_upsert.sql with the batch's event_time
-- range. Keeps the events that are not model calls or reads, so the Governance audit trail and
-- the Anomalies detail never scan one CloudTrail row per invocation.
DELETE FROM usage_changes WHERE event_time >= $since::TIMESTAMP AND event_time < $until::TIMESTAMP;
INSERT INTO usage_changes BY NAME
SELECT
    event_id, event_time, event_name, change_kind, principal_arn, principal_type,
    session_issuer_arn, source_ip, user_agent, aws_region, recipient_account_id, error_code,
    error_message, guardrail_id, model_id, request_parameters
FROM cloudtrail_events
WHERE event_time >= $since::TIMESTAMP AND event_time < $until::TIMESTAMP
  AND change_kind NOT IN ('invocation', 'read');
