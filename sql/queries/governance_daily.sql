-- Governance: guardrail activity per day, LOB and application from the invocation logs:
-- invocations, those a guardrail checked (coverage) and those where it intervened.
-- Grain: day x LOB x application (a NULL app is '(none)'), after the scope and every filter.
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $apps, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
SELECT
    CAST(hour AS DATE) AS day, lob, coalesce(app, '(none)') AS app,
    sum(invocations)::BIGINT AS invocations,
    sum(guardrail_invocations)::BIGINT AS guardrail_invocations,
    sum(guardrail_interventions)::BIGINT AS guardrail_interventions
FROM usage_hourly
WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
  AND picked($lobs::VARCHAR[], lob)
  AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
  AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
ORDER BY day, lob, app
