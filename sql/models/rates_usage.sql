-- Logged token usage at the grain rates are learned at (day x account x model x tier x scope
-- x region), with its list-price estimate, for the calls a bill token line prices: standard
-- latency mode, not reserved capacity. Scope: global profiles bill as global, every other
-- call (geo profile, in-region) as regional. Params: $start.
SELECT ts::DATE AS usage_date, account_id, model,
    coalesce(service_tier, 'default') AS service_tier,
    CASE WHEN profile_scope = 'global' THEN 'global' ELSE 'regional' END AS pricing_scope,
    coalesce(region, '') AS region,
    sum(input_tokens)::DOUBLE AS input, sum(output_tokens)::DOUBLE AS output,
    sum(cache_read_tokens)::DOUBLE AS cache_read,
    sum(coalesce(cache_write_5m_tokens, cache_write_tokens))::DOUBLE AS cache_write_5m,
    sum(coalesce(cache_write_1h_tokens, 0))::DOUBLE AS cache_write_1h,
    sum(est_cost_usd) AS list_cost,
    count(*) FILTER (WHERE est_cost_usd IS NULL) AS unpriced
FROM invocations
WHERE ts >= $start AND model IS NOT NULL
  AND coalesce(latency_mode, 'standard') = 'standard'
  AND coalesce(service_tier, 'default') <> 'reserved'
GROUP BY ALL
ORDER BY ALL
