-- Data health: bill spend the catalog cannot price, within one ingest of it arriving: token
-- lines of a model the catalog lacks, of a usage type no model could be read from, or of a
-- tier no price rule knows. With the tokens the logs carry unpriced for the same model and
-- the share of the window's bill. One source per day (CUR, then FOCUS, then Cost Explorer:
-- each is the whole bill). Grain: model (or usage type) x why x region.
-- Parameters: $start/$end (UTC, end exclusive), $all_lobs (the bill has no LOB).
WITH lines AS (
    SELECT usage_date, source, model, usage_type, region, token_kind,
        coalesce(service_tier, 'default') AS service_tier,
        CAST(unblended_cost AS DOUBLE) AS cost
    FROM cost_daily
    WHERE breakdown = 'total' AND usage_date >= $start::DATE AND usage_date < $end::DATE
), pick AS (
    SELECT usage_date,
        arg_min(source, CASE source WHEN 'cur' THEN 1 WHEN 'focus' THEN 2 ELSE 3 END) AS source
    FROM lines GROUP BY usage_date
), bill AS (
    SELECT l.* FROM lines l JOIN pick p USING (usage_date, source)
), flagged AS (
    SELECT *,
        CASE WHEN model IS NULL AND token_kind <> 'other'
                THEN 'no model could be read from the usage type'
             WHEN model IS NOT NULL AND model NOT IN (SELECT model FROM prices)
                THEN 'model not in the price catalog'
             WHEN token_kind <> 'other'
                  AND service_tier NOT IN (SELECT value FROM price_rules WHERE rule = 'tier')
                  AND EXISTS (SELECT 1 FROM price_rules WHERE rule = 'tier')
                THEN 'service tier not in the price rules'
        END AS why
    FROM bill
), logs AS (
    SELECT model, sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)
        FILTER (WHERE est_cost_usd IS NULL)::BIGINT AS log_tokens
    FROM usage_hourly
    WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
    GROUP BY model
)
SELECT coalesce(f.model, f.usage_type) AS item, f.why, f.region,
    sum(f.cost) AS bill_usd,
    sum(f.cost) / nullif((SELECT sum(cost) FROM bill), 0) AS share,
    any_value(l.log_tokens) AS log_tokens
FROM flagged f LEFT JOIN logs l ON l.model = f.model
WHERE $all_lobs AND f.why IS NOT NULL
GROUP BY ALL
ORDER BY bill_usd DESC, item
