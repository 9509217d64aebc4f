-- The bill's token lines for learning effective rates (grain: day x account x model x token
-- kind x cache TTL x tier x scope x region), one source per day: a CUR 2.0 export, else a
-- FOCUS export, else Cost Explorer (never two: each is the whole bill).
-- Cost on the configured basis: 'net' = after discounts and credits (CUR net unblended,
-- FOCUS billed cost), 'unblended' = before them. Usage in tokens: CUR and Cost Explorer count
-- Bedrock tokens in the price unit (1K tokens; Marketplace 'Units' are thousands too), FOCUS
-- ConsumedQuantity in tokens.
-- Only the kinds invocation logs record (usage_kind 'tokens': on-demand calls): a batch job,
-- a mantle project or provisioned throughput has no log to price at the learned rate, and its
-- dollars in the held-out bill would read as the estimate missing them (Spend's coverage
-- panel counts those dollars instead).
-- Params: $start (first day), $basis ('net' | 'unblended').
WITH lines AS (
    SELECT usage_date, source, account_id, model, token_kind,
        CASE WHEN token_kind = 'cache_write' THEN coalesce(cache_ttl, '5m') ELSE '' END
            AS cache_ttl,
        coalesce(service_tier, 'default') AS service_tier,
        coalesce(pricing_scope, 'regional') AS pricing_scope,
        coalesce(region, '') AS region,
        CAST(CASE WHEN $basis = 'net' THEN coalesce(net_unblended_cost, unblended_cost)
                  ELSE unblended_cost END AS DOUBLE) AS cost,
        usage_quantity * CASE
            WHEN lower(usage_unit) IN ('tokens', 'token') THEN 1
            WHEN lower(usage_unit) LIKE '%1m%' OR lower(usage_unit) LIKE '%million%' THEN 1e6
            ELSE 1000 END AS tokens
    FROM cost_daily
    WHERE breakdown = 'total' AND usage_date >= $start
      AND model IS NOT NULL AND token_kind <> 'other'
      AND coalesce(usage_kind, 'tokens') = 'tokens'
), pick AS (
    SELECT usage_date,
        arg_min(source, CASE source WHEN 'cur' THEN 1 WHEN 'focus' THEN 2 ELSE 3 END) AS source
    FROM lines GROUP BY usage_date
)
SELECT l.usage_date, l.account_id, l.model, l.token_kind, l.cache_ttl, l.service_tier,
    l.pricing_scope, l.region, sum(l.cost) AS cost, sum(l.tokens) AS tokens
FROM lines l JOIN pick p USING (usage_date, source)
GROUP BY ALL
ORDER BY ALL
