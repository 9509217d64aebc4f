-- Daily spend per LOB, the forecasts' history (grain: day x lob). A billed day uses the
-- allocated bill; days the bill does not cover yet (the bill is a day or two late) use the
-- estimate from the hourly rollup. Today is left out: a partial day would read as a drop.
WITH billed AS (
    SELECT usage_date AS day, lob, CAST(sum(allocated_cost) AS DOUBLE) AS cost
    FROM cost_allocated GROUP BY ALL
), billed_days AS (
    SELECT DISTINCT usage_date AS day FROM cost_allocated
), estimated AS (
    SELECT CAST(hour AS DATE) AS day, lob, coalesce(sum(est_cost_usd), 0) AS cost
    FROM usage_hourly
    WHERE hour < $today
    GROUP BY ALL
)
SELECT day, lob, cost, 'bill' AS basis FROM billed WHERE day < $today
UNION ALL
SELECT e.day, e.lob, e.cost, 'estimate' AS basis
FROM estimated e ANTI JOIN billed_days b ON b.day = e.day
ORDER BY day, lob
