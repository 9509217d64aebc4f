-- Hourly latency per 1,000 output tokens per model, over all LOBs (grain: ts x model). Long
-- answers take long: per output token, latency is steady enough to show a slowdown that raw
-- latency (a mix of short and long answers) hides. Latency is heavy-tailed (two calls in an
-- hour that take minutes double a sum), so each rollup row counts at its median latency
-- times its calls: a regression moves the median, the tail does not. Time to first token (the hour's median
-- per rollup row, weighted by its streamed calls: robust to the slow tail) shows a queue in
-- front of the model that a long answer hides; output tokens per second, how fast it writes.
-- NULL where too few timed calls.
SELECT hour AS ts, model,
    CASE WHEN sum(latency_count) >= $min_calls AND sum(output_tokens) > 0
         THEN sum(latency_p50_ms * latency_count) / sum(output_tokens)
                  FILTER (WHERE latency_p50_ms IS NOT NULL) * 1000
         END AS ms_per_1k_output_tokens,
    CASE WHEN sum(first_byte_count) >= $min_calls
         THEN sum(first_byte_p50_ms * first_byte_count) / sum(first_byte_count) END AS ttft_ms,
    CASE WHEN sum(latency_count) >= $min_calls AND sum(latency_p50_ms * latency_count) > 0
         THEN sum(output_tokens) FILTER (WHERE latency_p50_ms IS NOT NULL)
                  / sum(latency_p50_ms * latency_count) * 1000
         END AS output_tokens_per_s,
    sum(invocations) AS invocations
FROM usage_hourly
WHERE hour >= $start AND hour < $end AND model IS NOT NULL
GROUP BY hour, model
ORDER BY model, ts
