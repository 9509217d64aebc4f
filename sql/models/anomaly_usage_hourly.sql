-- Hourly usage per LOB x model, the anomaly series from the logs (grain: ts x lob x model).
-- Rates are left NULL where their denominator is too small to mean anything: three errors out
-- of four calls is not an error-rate incident.
SELECT hour AS ts, lob, model,
    coalesce(sum(est_cost_usd), 0) AS cost,
    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::DOUBLE AS tokens,
    sum(invocations)::DOUBLE AS invocations,
    CASE WHEN sum(invocations) >= $min_calls
         THEN sum(errors - throttles) / sum(invocations) END AS error_rate,
    CASE WHEN sum(invocations) >= $min_calls
         THEN sum(throttles) / sum(invocations) END AS throttle_rate,
    CASE WHEN sum(latency_count) >= $min_calls
         THEN sum(latency_p95_ms * latency_count) / sum(latency_count) END AS p95_latency_ms,
    CASE WHEN sum(first_byte_count) >= $min_calls
         THEN sum(first_byte_p50_ms * first_byte_count) / sum(first_byte_count) END AS ttft_ms,
    CASE WHEN sum(latency_count) >= $min_calls AND sum(latency_p50_ms * latency_count) > 0
         THEN sum(output_tokens) FILTER (WHERE latency_p50_ms IS NOT NULL)
                  / sum(latency_p50_ms * latency_count) * 1000
         END AS output_tokens_per_s,
    CASE WHEN sum(guardrail_invocations) >= $min_calls
         THEN sum(guardrail_interventions) / sum(guardrail_invocations) END
         AS guardrail_intervention_rate,
    sum(guardrail_invocations)::DOUBLE AS guardrail_invocations
FROM usage_hourly
WHERE hour >= $start AND hour < $end AND model IS NOT NULL
GROUP BY hour, lob, model
ORDER BY lob, model, ts
