-- One series' usage around an anomaly, by app, region, account, LOB and model: the peak hour
-- and the same hour of the seven days before (grain: ts x dimension x value), for "which
-- dimension drove it" and the cost decomposition. $lob / $model NULL = every LOB / model: a
-- per-model CloudWatch series is explained by the LOBs and apps that called the model.
-- One pass, five groupings: GROUPING SETS gives each dimension its own rows.
SELECT hour AS ts,
    CASE WHEN grouping(app) = 0 THEN 'app'
         WHEN grouping(region) = 0 THEN 'region'
         WHEN grouping(account_id) = 0 THEN 'account'
         WHEN grouping(lob) = 0 THEN 'lob' ELSE 'model' END AS dimension,
    CASE WHEN grouping(app) = 0 THEN coalesce(app, '(none)')
         WHEN grouping(region) = 0 THEN region
         WHEN grouping(account_id) = 0 THEN account_id
         WHEN grouping(lob) = 0 THEN lob ELSE model END AS value,
    coalesce(sum(est_cost_usd), 0) AS cost,
    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::DOUBLE AS tokens,
    sum(invocations)::DOUBLE AS invocations, sum(errors - throttles)::DOUBLE AS errors,
    sum(throttles)::DOUBLE AS throttles, sum(guardrail_interventions)::DOUBLE AS interventions,
    sum(latency_ms_sum) AS latency_sum, sum(first_byte_ms_sum) AS first_byte_sum
FROM usage_hourly
WHERE hour = ANY($hours) AND model IS NOT NULL
  AND ($lob IS NULL OR lob = $lob) AND ($model IS NULL OR model = $model)
GROUP BY GROUPING SETS ((hour, app), (hour, region), (hour, account_id), (hour, lob),
                        (hour, model))
