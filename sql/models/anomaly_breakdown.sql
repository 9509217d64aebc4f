-- One series' usage by app, region and account around an anomaly: the peak hour and the same
-- hour of the seven days before (grain: ts x dimension x value), for "which dimension drove it".
-- One pass, three groupings: GROUPING SETS gives each dimension its own rows.
SELECT hour AS ts,
    CASE WHEN grouping(app) = 0 THEN 'app'
         WHEN grouping(region) = 0 THEN 'region' ELSE 'account' END AS dimension,
    CASE WHEN grouping(app) = 0 THEN coalesce(app, '(none)')
         WHEN grouping(region) = 0 THEN region ELSE account_id END AS value,
    coalesce(sum(est_cost_usd), 0) AS cost,
    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::DOUBLE AS tokens,
    sum(invocations)::DOUBLE AS invocations, sum(errors - throttles)::DOUBLE AS errors,
    sum(throttles)::DOUBLE AS throttles, sum(guardrail_interventions)::DOUBLE AS interventions,
    sum(latency_ms_sum) AS latency_sum
FROM usage_hourly
WHERE lob = $lob AND model = $model AND hour = ANY($hours)
GROUP BY GROUPING SETS ((hour, app), (hour, region), (hour, account_id))
