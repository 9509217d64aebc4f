-- The alerts a widened band kept quiet in this run (the frame registered as _quiet) into
-- anomaly_suppressed, upserted by the id the alert would have had (grain: anomaly_id); the
-- first detection time stays.
-- Parameters: none.
INSERT INTO anomaly_suppressed BY NAME
SELECT anomaly_id, series_key, metric, lob, model, start_ts, end_ts, peak_ts, expected, actual,
    upper, lower, severity, factor, detected_at
FROM _quiet
ON CONFLICT (anomaly_id) DO UPDATE SET
    end_ts = excluded.end_ts, peak_ts = excluded.peak_ts, expected = excluded.expected,
    actual = excluded.actual, upper = excluded.upper, lower = excluded.lower,
    severity = excluded.severity, factor = excluded.factor
