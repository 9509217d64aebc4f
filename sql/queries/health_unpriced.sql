-- Data health: models used without a price in the catalog, per model and region: their cost is
-- unknown (not $0) until a price is added. Grain: model x region, after the scope and every
-- filter. Parameters: $start/$end (UTC, end exclusive), $lobs, $apps, $models, $regions,
-- $accounts, $all_lobs/$allowed_lobs.
SELECT
    coalesce(model, '(unresolved)') AS model, region,
    sum(unpriced_invocations)::BIGINT AS unpriced_invocations,
    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)
        FILTER (WHERE est_cost_usd IS NULL)::BIGINT AS unpriced_tokens,
    count(DISTINCT lob) AS lobs,
    max(hour) + INTERVAL 1 HOUR AS last_seen
FROM usage_hourly
WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND unpriced_invocations > 0
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
  AND picked($lobs::VARCHAR[], lob)
  AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
  AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
ORDER BY unpriced_invocations DESC, model, region
