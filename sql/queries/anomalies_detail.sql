-- Anomalies detail: one anomaly with its explanation (the dimension breakdown the detector
-- wrote) and its series' mute. Grain: anomaly_id; no row when it is outside the reader's scope.
-- Parameters: $anomaly_id, $all_lobs/$allowed_lobs.
SELECT
    a.*, m.muted_until, m.muted_by, m.reason AS mute_reason
FROM anomalies AS a
LEFT JOIN anomaly_mutes AS m USING (series_key)
WHERE a.anomaly_id = $anomaly_id
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], a.lob))
