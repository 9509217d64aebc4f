-- Spend: estimate vs bill per day and model (cost_reconciliation), the drift in dollars and as
-- a share of the bill. Grain: day x model. The bill has no LOB, so only an all-LOB reader sees
-- it and only the period and model filters apply.
-- Parameters: $first_day/$last_day (UTC dates, inclusive), $models, $all_lobs.
SELECT usage_date AS day, model, est_cost::DOUBLE AS est_cost, billed_cost::DOUBLE AS billed_cost,
       drift_usd::DOUBLE AS drift_usd, drift_pct, bill_source
FROM cost_reconciliation
WHERE $all_lobs
  AND usage_date BETWEEN $first_day::DATE AND $last_day::DATE
  AND picked($models::VARCHAR[], model)
ORDER BY day, model
