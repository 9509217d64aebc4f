-- Capacity & savings: what-if savings facts per application and model over the period:
-- prompt-caching repeats, geo-profile spend, retry storms, answers cut at max_tokens,
-- guardrail-blocked spend and max_tokens reservation, with the model's current catalog price (the region's own row
-- before '*', newest effective_from) for the page's pure model to price (models/savings.py).
-- Grain: LOB x application (a NULL app is '(none)') x model, after the scope and every filter.
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $apps, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
WITH facts AS (
    SELECT lob, coalesce(app, '(none)') AS app, model, region,
           sum(invocations)::BIGINT AS invocations,
           sum(est_cost_usd) AS est_cost_usd,
           sum(prefix_calls)::BIGINT AS prefix_calls,
           sum(prefix_hit5_tokens)::BIGINT AS hit5_tokens,
           sum(prefix_miss5_tokens)::BIGINT AS miss5_tokens,
           sum(prefix_hit60_tokens)::BIGINT AS hit60_tokens,
           sum(prefix_miss60_tokens)::BIGINT AS miss60_tokens,
           sum(geo_invocations)::BIGINT AS geo_invocations,
           coalesce(sum(geo_cost_usd), 0) AS geo_cost_usd,
           sum(retry_invocations)::BIGINT AS retry_invocations,
           coalesce(sum(retry_waste_usd), 0) AS retry_waste_usd,
           sum(cut_invocations)::BIGINT AS cut_invocations,
           coalesce(sum(cut_cost_usd), 0) AS cut_cost_usd,
           sum(blocked_invocations)::BIGINT AS blocked_invocations,
           coalesce(sum(blocked_cost_usd), 0) AS blocked_cost_usd,
           sum(reserved_invocations)::BIGINT AS reserved_invocations,
           sum(max_tokens_sum)::BIGINT AS max_tokens_sum,
           sum(reserved_output_tokens)::BIGINT AS reserved_output_tokens
    FROM usage_savings_hourly
    WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
      AND picked($lobs::VARCHAR[], lob)
      AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
      AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
      AND picked($regions::VARCHAR[], region)
      AND picked($accounts::VARCHAR[], account_id)
    GROUP BY ALL
), price AS (
    SELECT k.model, k.region, p.input_per_1m, p.cache_read_per_1m, p.geo_premium
    FROM (SELECT DISTINCT model, region FROM facts) AS k
    JOIN prices AS p ON p.model = k.model AND p.region IN (k.region, '*')
    QUALIFY row_number() OVER (PARTITION BY k.model, k.region
                               ORDER BY (p.region = k.region) DESC, p.effective_from DESC) = 1
)
SELECT f.lob, f.app, coalesce(f.model, '(unresolved)') AS model,
       sum(f.invocations)::BIGINT AS invocations, sum(f.est_cost_usd) AS est_cost_usd,
       sum(f.prefix_calls)::BIGINT AS prefix_calls,
       sum(f.hit5_tokens)::BIGINT AS hit5_tokens, sum(f.miss5_tokens)::BIGINT AS miss5_tokens,
       sum(f.hit60_tokens)::BIGINT AS hit60_tokens,
       sum(f.miss60_tokens)::BIGINT AS miss60_tokens,
       -- prices are per model; a model priced differently per region takes its mean
       avg(p.input_per_1m) AS input_per_1m, avg(p.cache_read_per_1m) AS cache_read_per_1m,
       avg(p.geo_premium) AS geo_premium,
       sum(f.geo_invocations)::BIGINT AS geo_invocations, sum(f.geo_cost_usd) AS geo_cost_usd,
       sum(f.retry_invocations)::BIGINT AS retry_invocations,
       sum(f.retry_waste_usd) AS retry_waste_usd,
       sum(f.cut_invocations)::BIGINT AS cut_invocations, sum(f.cut_cost_usd) AS cut_cost_usd,
       sum(f.blocked_invocations)::BIGINT AS blocked_invocations,
       sum(f.blocked_cost_usd) AS blocked_cost_usd,
       sum(f.reserved_invocations)::BIGINT AS reserved_invocations,
       sum(f.max_tokens_sum)::BIGINT AS max_tokens_sum,
       sum(f.reserved_output_tokens)::BIGINT AS reserved_output_tokens
FROM facts AS f
LEFT JOIN price AS p ON p.model IS NOT DISTINCT FROM f.model AND p.region = f.region
GROUP BY ALL
ORDER BY est_cost_usd DESC NULLS LAST, f.lob, f.app, model
