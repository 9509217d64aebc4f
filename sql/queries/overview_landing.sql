-- Overview per-LOB table: where each LOB's month lands against its budget (the newest run of
-- forecast_landing for the month holding $today). Grain: LOB, within the scope and the LOB
-- filter (the forecast is per LOB: the other filters do not apply to it).
-- Parameters: $today (UTC date), $lobs, $all_lobs/$allowed_lobs.
SELECT substr(series, 5) AS lob, landing AS month_landing, budget AS month_budget, p_exceed,
       status AS budget_status
FROM forecast_landing
WHERE series LIKE 'lob:%' AND period_kind = 'month'
  AND $today::DATE BETWEEN period_start AND period_end
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], substr(series, 5)))
  AND picked($lobs::VARCHAR[], substr(series, 5))
QUALIFY row_number() OVER (PARTITION BY series ORDER BY run_at DESC) = 1
