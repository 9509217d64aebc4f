-- Data health: usage no attribution rule claimed (LOB 'unattributed') against all usage in
-- view, per account, region and model: its share of spend, and hints for the next rule.
-- Grain: account x region x model x unattributed (true | false), after the scope and every
-- filter (a reader sees unattributed usage only if 'unattributed' is within their scope).
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $apps, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
SELECT
    account_id, region, coalesce(model, '(unresolved)') AS model,
    lob = 'unattributed' AS unattributed,
    sum(invocations)::BIGINT AS invocations,
    sum(est_cost_usd) AS est_cost_usd
FROM usage_hourly
WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
  AND picked($lobs::VARCHAR[], lob)
  AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
  AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
ORDER BY invocations DESC
