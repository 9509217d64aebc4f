-- Spend unit economics per application: estimated spend, requests, tokens, cost per request and
-- per 1K tokens, and what prompt caching saved: cache_read_tokens x (input price - cache read
-- price), priced per model, region and day from the prices table (the region's own row before
-- '*'; no cache read price = no saving counted).
-- Grain: LOB x application (a NULL app is '(none)'), after the scope and every filter.
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $apps, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
WITH usage AS MATERIALIZED (
    SELECT CAST(hour AS DATE) AS day, lob, coalesce(app, '(none)') AS app, model, region,
           sum(est_cost_usd) AS cost, sum(invocations) AS invocations,
           sum(unpriced_invocations) AS unpriced,
           sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) AS tokens,
           sum(cache_read_tokens) AS cache_read_tokens
    FROM usage_hourly
    WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
      AND picked($lobs::VARCHAR[], lob)
      AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
      AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
      AND picked($regions::VARCHAR[], region)
      AND picked($accounts::VARCHAR[], account_id)
    GROUP BY ALL
),
price_keys AS (
    -- The price in force per day, model and region (its own row before '*'): resolved once
    -- per key, not once per usage row.
    SELECT k.day, k.model, k.region, p.input_per_1m - p.cache_read_per_1m AS saved_per_1m
    FROM (SELECT DISTINCT day, model, region FROM usage WHERE cache_read_tokens > 0) AS k
    JOIN prices AS p
      ON p.model = k.model AND p.region IN (k.region, '*') AND p.effective_from <= k.day
    WHERE p.cache_read_per_1m IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY k.day, k.model, k.region
        ORDER BY (p.region = k.region) DESC, p.effective_from DESC) = 1
),
savings AS (
    SELECT u.lob, u.app, sum(u.cache_read_tokens * k.saved_per_1m / 1e6) AS saved
    FROM usage AS u
    JOIN price_keys AS k USING (day, model, region)
    GROUP BY u.lob, u.app
)
SELECT
    u.lob, u.app,
    sum(u.cost)                                         AS est_cost_usd,
    sum(u.invocations)::BIGINT                          AS invocations,
    sum(u.unpriced)::BIGINT                             AS unpriced_invocations,
    sum(u.tokens)::BIGINT                               AS tokens,
    sum(u.cost) / nullif(sum(u.invocations) - sum(u.unpriced), 0) AS cost_per_request,
    sum(u.cost) / nullif(sum(u.tokens) FILTER (WHERE u.cost IS NOT NULL), 0) * 1000
                                                        AS cost_per_1k_tokens,
    sum(u.cache_read_tokens)::BIGINT                    AS cache_read_tokens,
    coalesce(any_value(s.saved), 0)                     AS cache_savings_usd
FROM usage AS u
LEFT JOIN savings AS s USING (lob, app)
GROUP BY u.lob, u.app
ORDER BY est_cost_usd DESC NULLS LAST, u.lob, u.app
