-- Anomalies triage feed: every anomaly episode that overlaps the selected period, its severity,
-- triage status, expected vs actual and driver, and its series' mute if one is in force.
-- Grain: anomaly_id. Anomalies are per LOB and model: within the scope (a series without a LOB,
-- such as a CloudWatch one, only for an all-LOB reader) and the LOB and model filters; the
-- application, region and account filters do not apply.
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $models, $all_lobs/$allowed_lobs, $now
-- (the product clock, to the minute: a mute that has run out no longer shows).
SELECT
    a.anomaly_id, a.severity, a.status, a.series_key, a.metric, a.lob, a.model,
    a.start_ts, a.end_ts, a.peak_ts, a.expected, a.actual, a.lower, a.upper, a.score,
    a.direction, a.driver, a.driver_share, a.detected_at, a.status_by, a.status_at,
    CASE WHEN m.muted_until > $now::TIMESTAMP THEN m.muted_until END AS muted_until
FROM anomalies AS a
LEFT JOIN anomaly_mutes AS m USING (series_key)
WHERE a.start_ts < $end::TIMESTAMP
  AND coalesce(a.end_ts, $end::TIMESTAMP) >= $start::TIMESTAMP
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], a.lob))
  AND picked($lobs::VARCHAR[], a.lob)
  AND picked($models::VARCHAR[], a.model)
ORDER BY list_position(['critical', 'high', 'medium', 'low'], a.severity), a.peak_ts DESC,
         a.anomaly_id
