-- Overview filter options: every LOB and model the warehouse has seen, in name order.
-- Grain: one row per (kind, name); kind is 'lob' or 'model'. A NULL model (the ingester could
-- not resolve it) is listed as '(unresolved)', the label every overview query uses for it.
SELECT 'lob' AS kind, lob AS name, sum(invocations)::BIGINT AS invocations
FROM usage_hourly
GROUP BY lob
UNION ALL
SELECT 'model' AS kind, coalesce(model, '(unresolved)') AS name, sum(invocations)::BIGINT AS invocations
FROM usage_hourly
GROUP BY coalesce(model, '(unresolved)')
ORDER BY kind, name
