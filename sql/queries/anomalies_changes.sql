-- Anomalies detail: the Bedrock configuration changes CloudTrail recorded from $hours_before
-- hours before the episode to its end (guardrails, logging, profiles, model access; model
-- calls and reads left out: the usage_changes rollup of CloudTrail). Grain: one event.
-- Scope: a LOB-scoped reader sees a change only when its principal (the role behind an assumed
-- role session, else the caller) is one that invokes Bedrock for one of the reader's LOBs
-- (usage_principals_hourly); the anomaly itself must be within the scope too.
-- Parameters: $anomaly_id, $hours_before, $all_lobs/$allowed_lobs.
WITH a AS (
    SELECT start_ts, coalesce(end_ts, peak_ts) AS end_ts
    FROM anomalies
    WHERE anomaly_id = $anomaly_id
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
)
SELECT
    c.event_time, c.event_name, c.change_kind,
    coalesce(c.session_issuer_arn, c.principal_arn) AS principal, c.principal_arn,
    c.recipient_account_id AS account_id, c.aws_region AS region, c.error_code,
    c.guardrail_id, c.model_id
FROM usage_changes AS c
JOIN a ON c.event_time >= a.start_ts - to_hours($hours_before::BIGINT)
      AND c.event_time <= a.end_ts
WHERE ($all_lobs OR coalesce(c.session_issuer_arn, c.principal_arn) IN (
        SELECT principal_arn FROM usage_principals_hourly
        WHERE list_contains($allowed_lobs::VARCHAR[], lob)))
ORDER BY c.event_time DESC
