-- Spend forecast chart: daily spend per forecast series, actuals from the start of the
-- selected period and the forecast to its horizon, with 80% and 95% intervals (newest run).
-- Grain: series x day. Series: 'total' (all LOBs; shown to an all-LOB reader with no LOB
-- filter) and 'lob:<name>' (within the scope and the LOB filter). The forecast is per LOB, so
-- the application, model, region and account filters do not apply.
-- Parameters: $first_day (UTC date), $lobs, $all_lobs/$allowed_lobs.
SELECT series, day, actual, yhat, lo80, hi80, lo95, hi95, method, note, run_at
FROM forecasts
WHERE day >= $first_day::DATE
  AND CASE
        WHEN series = 'total' THEN $all_lobs AND len($lobs::VARCHAR[]) = 0
        WHEN series LIKE 'lob:%' THEN
            ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], substr(series, 5)))
            AND picked($lobs::VARCHAR[], substr(series, 5))
        ELSE $all_lobs
      END
QUALIFY run_at = max(run_at) OVER (PARTITION BY series)
ORDER BY series = 'total' DESC, series, day
