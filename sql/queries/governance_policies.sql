-- Governance: guardrail interventions per day, policy type and LOB (usage_guardrails_hourly,
-- from the guardrail traces in the invocation logs). An intervention where several policies
-- acted counts under each. Grain: day x policy x LOB, after the scope and every filter.
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $apps, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
SELECT
    CAST(hour AS DATE) AS day, policy, lob, sum(interventions)::BIGINT AS interventions
FROM usage_guardrails_hourly
WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
  AND picked($lobs::VARCHAR[], lob)
  AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
  AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
ORDER BY day, policy, lob
