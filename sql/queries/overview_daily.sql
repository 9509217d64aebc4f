-- Overview trend charts: usage per UTC day, LOB and model in the selected period.
-- Grain: day x LOB x model, after the LOB and model filters (a NULL model is '(unresolved)').
-- Parameters: $start/$end (UTC, end exclusive), $lobs and $models (empty list = all).
-- est_cost_usd is NULL for a group with no priced usage; unpriced_invocations says how many
-- invocations its figure leaves out.
SELECT
    CAST(hour AS DATE)                                             AS day,
    lob,
    coalesce(model, '(unresolved)')                                AS model,
    sum(est_cost_usd)                                              AS est_cost_usd,
    sum(invocations)::BIGINT                                       AS invocations,
    sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)::BIGINT AS tokens,
    sum(unpriced_invocations)::BIGINT                              AS unpriced_invocations
FROM usage_hourly
WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND (len($lobs::VARCHAR[]) = 0 OR list_contains($lobs::VARCHAR[], lob))
  AND (len($models::VARCHAR[]) = 0
       OR list_contains($models::VARCHAR[], coalesce(model, '(unresolved)')))
GROUP BY ALL
ORDER BY day, lob, model
