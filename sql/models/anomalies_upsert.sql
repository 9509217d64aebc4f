-- Detected anomalies (temp view _new) into `anomalies`: a re-detected episode updates its
-- figures and keeps its triage status, who set it and when it was first detected; except
-- 'muted', which only lasts as long as the series' mute: once the mute has expired (the run
-- found it 'open'), an episode still going must alert again, not stay silent for good.
INSERT INTO anomalies BY NAME
SELECT anomaly_id, series_key, metric, lob, model, start_ts, end_ts, peak_ts, expected, actual,
    lower, upper, severity, score, direction, driver, driver_share,
    CAST(explanation AS JSON) AS explanation, status, detected_at
FROM _new
ON CONFLICT (anomaly_id) DO UPDATE SET
    end_ts = excluded.end_ts, peak_ts = excluded.peak_ts, expected = excluded.expected,
    actual = excluded.actual, lower = excluded.lower, upper = excluded.upper,
    severity = excluded.severity, score = excluded.score, direction = excluded.direction,
    driver = excluded.driver, driver_share = excluded.driver_share,
    explanation = excluded.explanation,
    status = CASE WHEN anomalies.status = 'muted' AND excluded.status = 'open' THEN 'open'
        ELSE anomalies.status END
