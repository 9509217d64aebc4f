-- Capacity & savings: the quota runway backtest: at the first day the logs show throttling
-- (5% of a model's calls in a Region), what the forecast from the data up to two days before
-- said, and how many days ahead it warned.
-- Grain: account x region x model x throttle day. No LOB: an all-LOB reader only.
-- Parameters: $models, $regions, $accounts, $all_lobs.
SELECT account_id, region, model, throttle_day, cutoff_day, predicted_day, days_ahead, quota
FROM quota_backtests
WHERE $all_lobs
  AND picked($models::VARCHAR[], model)
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], coalesce(account_id, ''))
ORDER BY throttle_day DESC
