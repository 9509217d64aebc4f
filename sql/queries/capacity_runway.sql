-- Capacity & savings: quota runway per account, Region, model and quota (tokens or requests
-- per minute): the applied quota, the last week's busiest minute, the forecast and the days
-- until its p95 bound reaches the quota, as the last `genai-lens models run` left them.
-- Quotas and CloudWatch carry no LOB: an all-LOB reader only, and only the model, Region and
-- account filters apply.
-- Grain: account x region x model x kind.
-- Parameters: $models, $regions, $accounts, $all_lobs.
SELECT account_id, region, model, kind, quota, quota_source, as_of, peak_last_7d,
       peak_last_7d / quota AS used, forecast_peak, forecast_hi95, days_until_p95,
       crossing_day, method
FROM quota_runway
WHERE $all_lobs
  AND picked($models::VARCHAR[], model)
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], coalesce(account_id, ''))
ORDER BY days_until_p95 NULLS LAST, used DESC
