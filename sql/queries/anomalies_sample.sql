-- Anomalies detail: up to 50 invocations behind an anomaly: its LOB and model (where the
-- anomaly names them) between its start and end, the most telling first (slowest for latency,
-- dearest for cost, failed for errors, intervened for guardrails). Metadata only: no body text
-- is stored, and no body path or request metadata is read here.
-- Grain: request_id. A bounded point lookup on invocations' time range, not a chart scan.
-- Parameters: $anomaly_id, $all_lobs/$allowed_lobs.
WITH a AS (
    SELECT metric, lob, model, start_ts, coalesce(end_ts, peak_ts + INTERVAL 1 HOUR) AS end_ts
    FROM anomalies
    WHERE anomaly_id = $anomaly_id
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
)
SELECT
    i.ts, i.request_id, i.lob, i.app, i.model, i.operation, i.account_id, i.region,
    i.input_tokens, i.output_tokens, i.latency_ms, i.error_code, i.guardrail_action,
    i.stop_reason, i.est_cost_usd, i.principal_arn
FROM invocations AS i
JOIN a ON i.ts >= a.start_ts AND i.ts < a.end_ts
WHERE (a.lob IS NULL OR i.lob = a.lob)
  AND (a.model IS NULL OR i.model = a.model)
ORDER BY
    CASE
        WHEN a.metric = 'ms_per_1k_output_tokens' THEN i.latency_ms / nullif(i.output_tokens, 0)
        WHEN a.metric LIKE '%latency%' OR a.metric LIKE '%ttft%' THEN i.latency_ms
        WHEN a.metric = 'cost' THEN i.est_cost_usd
        WHEN a.metric = 'tokens' THEN i.input_tokens + i.output_tokens
        WHEN a.metric LIKE '%throttle%' THEN (i.error_code = 'ThrottlingException')::INT
        WHEN a.metric LIKE '%error%' THEN (i.error_code IS NOT NULL)::INT
        WHEN a.metric LIKE 'guardrail%' THEN (i.guardrail_action = 'INTERVENED')::INT
        ELSE 0
    END DESC NULLS LAST,
    i.ts
LIMIT 50
