-- Anomalies triage write: lift the mute of the anomaly's series (reopening it).
-- Grain: series_key; returns the series it unmuted. Only within the writer's scope.
-- Parameters: $anomaly_id, $all_lobs/$allowed_lobs.
DELETE FROM anomaly_mutes
WHERE series_key IN (
    SELECT series_key FROM anomalies
    WHERE anomaly_id = $anomaly_id
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob)))
RETURNING series_key
