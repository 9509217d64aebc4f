-- Overview: usage of the selected period and of the period before it, in one scan, for the
-- KPI tiles, the trend charts and the per-LOB table (app/reduce.py sums it each way).
-- Grain: period ('current' | 'previous') x day x LOB x application x model, after the scope
-- and every filter (a NULL app is '(none)', a NULL model '(unresolved)').
-- Parameters: $start/$end and $prev_start/$prev_end (UTC, end exclusive: the previous period
-- is cut to the current one's elapsed span), $lobs, $apps, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
-- est_cost_usd sums priced usage only and stays NULL when nothing was priced: unpriced
-- invocations are counted on their own, never priced at $0. latency_p95_* carry the hourly p95
-- times its invocations, and those invocations, to average with invocations as weight.
SELECT
    CASE WHEN hour >= $start::TIMESTAMP THEN 'current' ELSE 'previous' END AS period,
    CAST(hour AS DATE) AS day, lob, coalesce(app, '(none)') AS app,
    coalesce(model, '(unresolved)') AS model,
    sum(est_cost_usd) AS est_cost_usd,
    sum(invocations)::BIGINT AS invocations,
    sum(unpriced_invocations)::BIGINT AS unpriced_invocations,
    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::BIGINT AS tokens,
    sum(errors)::BIGINT AS errors,
    sum(throttles)::BIGINT AS throttles,
    sum(guardrail_invocations)::BIGINT AS guardrail_invocations,
    sum(guardrail_interventions)::BIGINT AS guardrail_interventions,
    sum(latency_p95_ms * latency_count) AS latency_p95_weighted,
    sum(latency_count) FILTER (WHERE latency_p95_ms IS NOT NULL)::BIGINT AS latency_p95_count
FROM usage_hourly
WHERE ((hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP)
       OR (hour >= $prev_start::TIMESTAMP AND hour < $prev_end::TIMESTAMP))
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
  AND picked($lobs::VARCHAR[], lob)
  AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
  AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
