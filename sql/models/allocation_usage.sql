-- Logged usage behind the bill: tokens and estimated cost per (day, LOB, model, token kind).
-- Grain: usage_date x lob x model x token_kind x tagged. `tagged` = the LOB came from an
-- application inference profile tag rule ($tag_rules: indices of profile_tag rules), whose
-- spend the bill itself tags. The estimate of each kind is its tokens at the catalog price
-- (region row first, then '*'), geo premium included, as the ingester prices invocations.
WITH daily AS (
    SELECT CAST(ts AS DATE) AS usage_date, lob, model, region, profile_scope,
        coalesce(attribution_rule = ANY($tag_rules), false) AS tagged,
        sum(input_tokens) AS input, sum(output_tokens) AS output,
        sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write
    FROM invocations
    WHERE model IS NOT NULL AND ts >= $start
    GROUP BY ALL
), keyed AS (
    SELECT *, '*' AS any_region FROM daily
), rated AS (
    SELECT k.*,
        coalesce(pr.input_per_1m, pa.input_per_1m) AS p_in,
        coalesce(pr.output_per_1m, pa.output_per_1m) AS p_out,
        coalesce(pr.cache_read_per_1m, pa.cache_read_per_1m) AS p_cr,
        coalesce(pr.cache_write_per_1m, pa.cache_write_per_1m) AS p_cw,
        CASE WHEN k.profile_scope = 'geo' THEN 1 + coalesce(pr.geo_premium, pa.geo_premium, 0)
             ELSE 1 END AS geo
    FROM keyed k
    ASOF LEFT JOIN prices pr
        ON pr.model = k.model AND pr.region = k.region AND pr.effective_from <= k.usage_date
    ASOF LEFT JOIN prices pa
        ON pa.model = k.model AND pa.region = k.any_region AND pa.effective_from <= k.usage_date
), kinds AS (
    SELECT usage_date, lob, model, tagged, 'input' AS token_kind, input AS tokens,
        input * p_in * geo / 1e6 AS est_cost FROM rated
    UNION ALL
    SELECT usage_date, lob, model, tagged, 'output', output, output * p_out * geo / 1e6 FROM rated
    UNION ALL
    SELECT usage_date, lob, model, tagged, 'cache_read', cache_read, cache_read * p_cr * geo / 1e6
    FROM rated
    UNION ALL
    SELECT usage_date, lob, model, tagged, 'cache_write', cache_write,
        cache_write * p_cw * geo / 1e6 FROM rated
)
SELECT usage_date, lob, model, token_kind, CAST(sum(tokens) AS DOUBLE) AS tokens,
    sum(est_cost) AS est_cost, tagged
FROM kinds
WHERE tokens > 0
GROUP BY usage_date, lob, model, token_kind, tagged
ORDER BY ALL
