-- Capacity & savings: spend and calls still on LEGACY models per LOB and application, with
-- the day each must move by (end of life) and the suggested successor: usage_hourly joined
-- with model_lifecycle (the model-catalog job: Bedrock's lifecycle status, config dates, the
-- built-in successors; the Region's own row before a config row for every Region).
-- Grain: LOB x application (a NULL app is '(none)') x model, after the scope and every filter.
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $apps, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
WITH usage AS (
    SELECT lob, coalesce(app, '(none)') AS app, model, region,
           sum(invocations)::BIGINT AS invocations, sum(est_cost_usd) AS est_cost_usd
    FROM usage_hourly
    WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
      AND picked($lobs::VARCHAR[], lob)
      AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
      AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
      AND picked($regions::VARCHAR[], region)
      AND picked($accounts::VARCHAR[], account_id)
    GROUP BY ALL
), life AS (
    SELECT u.*, l.status, l.legacy_on, l.end_of_life, l.successor
    FROM usage AS u
    JOIN model_lifecycle AS l ON l.model = u.model AND l.region IN (u.region, '*')
    QUALIFY row_number() OVER (PARTITION BY u.lob, u.app, u.model, u.region
                               ORDER BY (l.region = u.region) DESC) = 1
)
SELECT lob, app, model, any_value(legacy_on) AS legacy_on, min(end_of_life) AS end_of_life,
       any_value(successor) AS successor, sum(invocations)::BIGINT AS invocations,
       sum(est_cost_usd) AS est_cost_usd
FROM life
WHERE status = 'LEGACY'
GROUP BY ALL
ORDER BY end_of_life NULLS LAST, est_cost_usd DESC NULLS LAST
