-- Spend backtest table: how well each forecast series did on rolling origins (MAPE and interval
-- coverage) next to the seasonal-naive baseline on the same origins (newest run).
-- Grain: series x horizon_days. Series as in spend_forecast.sql.
-- Parameters: $lobs, $all_lobs/$allowed_lobs.
SELECT series, horizon_days, origins, mape, naive_mape, coverage80, coverage95, method, run_at
FROM forecast_backtests
WHERE CASE
        WHEN series = 'total' THEN $all_lobs AND len($lobs::VARCHAR[]) = 0
        WHEN series LIKE 'lob:%' THEN
            ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], substr(series, 5)))
            AND picked($lobs::VARCHAR[], substr(series, 5))
        ELSE $all_lobs
      END
QUALIFY run_at = max(run_at) OVER (PARTITION BY series)
ORDER BY series = 'total' DESC, series, horizon_days
