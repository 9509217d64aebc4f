-- Spend landing table: where the month and the quarter holding $today land per series, against
-- budget, with the probability of ending over it (newest run of forecast_landing).
-- Grain: series x period_kind ('month' | 'quarter'). Series as in spend_forecast.sql: 'total'
-- for an all-LOB reader with no LOB filter, 'lob:<name>' within the scope and the LOB filter.
-- actuals_through: the last day of that run's actuals (the allocated bill, the estimate for
-- days not billed yet; whole days before the run), which `actual_to_date` sums to.
-- Parameters: $today (UTC date), $lobs, $all_lobs/$allowed_lobs.
SELECT series, period_kind, period_start, period_end, actual_to_date, landing, lo80, hi80,
       lo95, hi95, budget, p_exceed, status, run_at,
       (SELECT max(f.day) FROM forecasts AS f
        WHERE f.series = l.series AND f.run_at = l.run_at AND f.actual IS NOT NULL
          AND f.day <= l.period_end) AS actuals_through
FROM forecast_landing AS l
WHERE $today::DATE BETWEEN period_start AND period_end
  AND CASE
        WHEN series = 'total' THEN $all_lobs AND len($lobs::VARCHAR[]) = 0
        WHEN series LIKE 'lob:%' THEN
            ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], substr(series, 5)))
            AND picked($lobs::VARCHAR[], substr(series, 5))
        ELSE $all_lobs
      END
QUALIFY row_number() OVER (PARTITION BY series, period_kind ORDER BY run_at DESC) = 1
ORDER BY series = 'total' DESC, series, period_kind = 'quarter'
