-- Governance audit trail: Bedrock configuration changes from CloudTrail in the selected period
-- (guardrails, invocation logging, inference profiles, model access, provisioned throughput,
-- custom models; model calls and reads left out), failed attempts included. Source: the
-- usage_changes rollup of cloudtrail_events (not one row per model call).
-- Grain: one CloudTrail event. Scope and LOB filter: a change counts for a LOB when its
-- principal (the role behind an assumed-role session, else the caller) invokes Bedrock for that
-- LOB (usage_principals_hourly). The region and account filters apply; application and model
-- do not (a change is not made by an application).
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
SELECT
    c.event_time, c.event_name, c.change_kind,
    coalesce(c.session_issuer_arn, c.principal_arn) AS principal, c.principal_arn,
    c.principal_type, c.source_ip, c.user_agent, c.recipient_account_id AS account_id,
    c.aws_region AS region, c.error_code, c.error_message, c.guardrail_id, c.model_id,
    CAST(c.request_parameters AS VARCHAR) AS request_parameters
FROM usage_changes AS c
WHERE c.event_time >= $start::TIMESTAMP AND c.event_time < $end::TIMESTAMP
  AND picked($regions::VARCHAR[], c.aws_region)
  AND picked($accounts::VARCHAR[], c.recipient_account_id)
  AND ($all_lobs OR coalesce(c.session_issuer_arn, c.principal_arn) IN (
        SELECT principal_arn FROM usage_principals_hourly
        WHERE list_contains($allowed_lobs::VARCHAR[], lob)))
  AND (len($lobs::VARCHAR[]) = 0 OR coalesce(c.session_issuer_arn, c.principal_arn) IN (
        SELECT principal_arn FROM usage_principals_hourly
        WHERE list_contains($lobs::VARCHAR[], lob)))
ORDER BY c.event_time DESC
