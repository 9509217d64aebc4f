-- Overview per-LOB table: spend, volume, share of spend and top model in the selected period,
-- the previous period's spend (for the change column) and spend per day (for the sparkline).
-- Grain: one row per LOB with usage in the selected period, after the LOB and model filters.
-- Parameters: $start/$end and $prev_start/$prev_end (UTC, end exclusive), $lobs and $models.
-- A LOB whose usage is all unpriced has est_cost_usd NULL (unknown), not 0.
WITH filtered AS (
    SELECT
        hour, lob, coalesce(model, '(unresolved)') AS model, est_cost_usd, invocations,
        input_tokens + output_tokens + cache_read_tokens + cache_write_tokens AS tokens,
        unpriced_invocations
    FROM usage_hourly
    WHERE (len($lobs::VARCHAR[]) = 0 OR list_contains($lobs::VARCHAR[], lob))
      AND (len($models::VARCHAR[]) = 0
           OR list_contains($models::VARCHAR[], coalesce(model, '(unresolved)')))
),
current_usage AS (
    SELECT * FROM filtered WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
),
by_model AS (
    SELECT lob, model, sum(est_cost_usd) AS cost, sum(invocations) AS invocations,
           sum(tokens) AS tokens, sum(unpriced_invocations) AS unpriced
    FROM current_usage
    GROUP BY lob, model
),
previous AS (
    SELECT lob, sum(est_cost_usd) AS cost
    FROM filtered
    WHERE hour >= $prev_start::TIMESTAMP AND hour < $prev_end::TIMESTAMP
    GROUP BY lob
),
days AS (
    SELECT CAST(d AS DATE) AS day
    FROM range(date_trunc('day', $start::TIMESTAMP), $end::TIMESTAMP, INTERVAL 1 DAY) AS t (d)
),
by_day AS (
    SELECT lob, CAST(hour AS DATE) AS day, sum(est_cost_usd) AS cost
    FROM current_usage
    GROUP BY ALL
),
series AS (
    -- A day without usage is $0; a day with only unpriced usage stays NULL (unknown).
    SELECT l.lob,
           list(CASE WHEN b.lob IS NULL THEN 0 ELSE b.cost END ORDER BY days.day) AS daily_cost
    FROM (SELECT DISTINCT lob FROM by_model) AS l
    CROSS JOIN days
    LEFT JOIN by_day AS b ON b.lob = l.lob AND b.day = days.day
    GROUP BY l.lob
)
SELECT
    m.lob,
    sum(m.cost)                                                     AS est_cost_usd,
    sum(m.cost) / nullif(sum(sum(m.cost)) OVER (), 0)               AS cost_share,
    any_value(p.cost)                                               AS prev_est_cost_usd,
    sum(m.invocations)::BIGINT                                      AS invocations,
    sum(m.tokens)::BIGINT                                           AS tokens,
    sum(m.unpriced)::BIGINT                                         AS unpriced_invocations,
    first(m.model ORDER BY coalesce(m.cost, 0) DESC, m.invocations DESC, m.model) AS top_model,
    any_value(s.daily_cost)                                         AS daily_cost
FROM by_model AS m
LEFT JOIN previous AS p USING (lob)
LEFT JOIN series AS s USING (lob)
GROUP BY m.lob
ORDER BY est_cost_usd DESC NULLS LAST, invocations DESC, m.lob
