-- The bill's token lines per (day, model, token kind, tags, source, breakdown), from
-- cost_daily. 'total' rows add up to the bill; Cost Explorer's 'tag:<key>' rows are a second
-- split of the same spend (the runner takes the tagged part from them, the rest from 'total').
SELECT usage_date, model, token_kind, tags, breakdown, source,
    CAST(sum(unblended_cost) AS DOUBLE) AS cost
FROM cost_daily
WHERE usage_date >= $start
GROUP BY ALL
ORDER BY ALL
