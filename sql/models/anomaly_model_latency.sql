-- Hourly latency per 1,000 output tokens per model, over all LOBs (grain: ts x model). Long
-- answers take long: per output token, latency is steady enough to show a slowdown that raw
-- latency (a mix of short and long answers) hides. NULL where too few timed calls.
SELECT hour AS ts, model,
    CASE WHEN sum(latency_count) >= $min_calls AND sum(output_tokens) > 0
         THEN sum(latency_ms_sum) / sum(output_tokens) * 1000 END AS ms_per_1k_output_tokens,
    sum(invocations) AS invocations
FROM usage_hourly
WHERE hour >= $start AND hour < $end AND model IS NOT NULL
GROUP BY hour, model
ORDER BY model, ts
