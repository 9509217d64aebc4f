-- Governance: spans with Bedrock invocation logging switched off: from each successful
-- DeleteModelInvocationLoggingConfiguration to the next successful Put in the same account and
-- region (NULL while still off), for every span overlapping the selected period.
-- Grain: one Delete event. Scope and filters as governance_changes.sql (the principal who
-- switched logging off decides which LOB it counts for).
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
WITH config AS (
    SELECT
        event_time, event_name, recipient_account_id AS account_id, aws_region AS region,
        coalesce(session_issuer_arn, principal_arn) AS principal,
        lead(event_time) OVER w AS next_time,
        lead(event_name) OVER w AS next_name,
        lead(coalesce(session_issuer_arn, principal_arn)) OVER w AS next_principal
    FROM usage_changes
    WHERE change_kind = 'logging_config' AND error_code IS NULL
      AND event_name IN ('PutModelInvocationLoggingConfiguration',
                         'DeleteModelInvocationLoggingConfiguration')
    WINDOW w AS (PARTITION BY recipient_account_id, aws_region ORDER BY event_time)
)
SELECT
    account_id, region, event_time AS disabled_at, principal AS disabled_by,
    CASE WHEN next_name = 'PutModelInvocationLoggingConfiguration' THEN next_time END
        AS enabled_at,
    CASE WHEN next_name = 'PutModelInvocationLoggingConfiguration' THEN next_principal END
        AS enabled_by
FROM config
WHERE event_name = 'DeleteModelInvocationLoggingConfiguration'
  AND event_time < $end::TIMESTAMP
  AND coalesce(CASE WHEN next_name = 'PutModelInvocationLoggingConfiguration' THEN next_time END,
               $end::TIMESTAMP) >= $start::TIMESTAMP
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
  AND ($all_lobs OR principal IN (
        SELECT principal_arn FROM usage_principals_hourly
        WHERE list_contains($allowed_lobs::VARCHAR[], lob)))
  AND (len($lobs::VARCHAR[]) = 0 OR principal IN (
        SELECT principal_arn FROM usage_principals_hourly
        WHERE list_contains($lobs::VARCHAR[], lob)))
ORDER BY disabled_at DESC
