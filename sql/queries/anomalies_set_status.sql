-- Anomalies triage write: set an anomaly's status (open | acknowledged | expected | muted |
-- resolved),
-- who set it and when. Only an anomaly within the writer's scope changes.
-- Grain: anomaly_id; returns the ids it changed (none = not found or out of scope).
-- Parameters: $anomaly_id, $status, $who, $at (UTC), $all_lobs/$allowed_lobs.
UPDATE anomalies
SET status = $status, status_by = $who, status_at = $at::TIMESTAMP
WHERE anomaly_id = $anomaly_id
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
RETURNING anomaly_id
