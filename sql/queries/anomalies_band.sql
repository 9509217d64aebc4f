-- Anomalies detail chart: the anomaly's series with its expected band, from three days before
-- the episode to a day after it (anomaly_bands). Grain: ts (the detector's step, an hour).
-- Parameters: $anomaly_id, $all_lobs/$allowed_lobs.
WITH a AS (
    SELECT series_key, start_ts, coalesce(end_ts, peak_ts) AS end_ts
    FROM anomalies
    WHERE anomaly_id = $anomaly_id
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
)
SELECT b.ts, b.actual, b.expected, b.lower, b.upper
FROM anomaly_bands AS b
JOIN a ON b.series_key = a.series_key
WHERE b.ts >= a.start_ts - INTERVAL 3 DAY AND b.ts <= a.end_ts + INTERVAL 1 DAY
ORDER BY b.ts
