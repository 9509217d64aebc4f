-- Spend: Cost Explorer's own forecast of Bedrock spend (its newest pull), to show beside ours
-- for the total. Grain: granularity x period_start. Whole-bill figures: shown to an all-LOB
-- reader only, and no filter but the period applies.
-- Parameters: $first_day (UTC date), $all_lobs.
SELECT granularity, period_start, period_end, mean::DOUBLE AS mean, lower::DOUBLE AS lower,
       upper::DOUBLE AS upper, created_at
FROM cost_forecast
WHERE $all_lobs AND period_end > $first_day::DATE
QUALIFY created_at = max(created_at) OVER ()
ORDER BY granularity, period_start
