-- Anomalies triage write: mute the anomaly's series until $until (anomaly_mutes; a later mute
-- of the same series replaces it). Only an anomaly within the writer's scope is muted.
-- Grain: series_key; returns the series it muted.
-- Parameters: $anomaly_id, $until (UTC), $who, $reason, $all_lobs/$allowed_lobs.
INSERT OR REPLACE INTO anomaly_mutes (series_key, muted_until, muted_by, reason)
SELECT series_key, $until::TIMESTAMP, $who, $reason
FROM anomalies
WHERE anomaly_id = $anomaly_id
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
RETURNING series_key
