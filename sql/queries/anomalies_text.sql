-- Anomalies detail: the captured prompt and response text (PII-redacted at ingest) of the
-- sampled invocations behind an anomaly, for the drill-down. Only when capture_text is on
-- (app/data.py does not run it otherwise); invocation_text has no LOB, so every row is
-- scoped through its invocation's LOB, and through the anomaly's own LOB, model and hours.
-- Grain: request_id. A point lookup on at most the 50 sampled request ids.
-- Parameters: $anomaly_id, $request_ids, $all_lobs/$allowed_lobs.
WITH a AS (
    SELECT lob, model, start_ts, coalesce(end_ts, peak_ts + INTERVAL 1 HOUR) AS end_ts
    FROM anomalies
    WHERE anomaly_id = $anomaly_id
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
)
SELECT t.request_id, t.ts, i.lob, t.prompt, t.response, t.redactions
FROM invocation_text AS t
JOIN invocations AS i USING (request_id)
JOIN a ON i.ts >= a.start_ts AND i.ts < a.end_ts
WHERE list_contains($request_ids::VARCHAR[], t.request_id)
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], i.lob))
  AND (a.lob IS NULL OR i.lob = a.lob)
  AND (a.model IS NULL OR i.model = a.model)
ORDER BY t.ts, t.request_id
