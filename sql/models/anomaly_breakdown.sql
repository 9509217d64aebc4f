-- One series' usage by app, region and account around an anomaly: the peak hour and the same
-- hour of the seven days before (grain: ts x dimension x value), for "which dimension drove it".
SELECT hour AS ts, 'app' AS dimension, coalesce(app, '(none)') AS value,
    coalesce(sum(est_cost_usd), 0) AS cost,
    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::DOUBLE AS tokens,
    sum(invocations)::DOUBLE AS invocations, sum(errors - throttles)::DOUBLE AS errors,
    sum(throttles)::DOUBLE AS throttles, sum(guardrail_interventions)::DOUBLE AS interventions,
    sum(latency_ms_sum) AS latency_sum
FROM usage_hourly
WHERE lob = $lob AND model = $model AND hour = ANY($hours)
GROUP BY ALL
UNION ALL
SELECT hour, 'region', region, coalesce(sum(est_cost_usd), 0),
    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::DOUBLE,
    sum(invocations)::DOUBLE, sum(errors - throttles)::DOUBLE, sum(throttles)::DOUBLE,
    sum(guardrail_interventions)::DOUBLE, sum(latency_ms_sum)
FROM usage_hourly
WHERE lob = $lob AND model = $model AND hour = ANY($hours)
GROUP BY ALL
UNION ALL
SELECT hour, 'account', account_id, coalesce(sum(est_cost_usd), 0),
    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::DOUBLE,
    sum(invocations)::DOUBLE, sum(errors - throttles)::DOUBLE, sum(throttles)::DOUBLE,
    sum(guardrail_interventions)::DOUBLE, sum(latency_ms_sum)
FROM usage_hourly
WHERE lob = $lob AND model = $model AND hour = ANY($hours)
GROUP BY ALL
