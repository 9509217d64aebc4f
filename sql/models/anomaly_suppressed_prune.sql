-- Before this run's suppressed alerts (the frame registered as _quiet) are stored: those of the hours this
-- run judged that it no longer finds go. Rows older than the run's look-back are left alone,
-- so the count per series keeps what was suppressed before it (grain: anomaly_id).
-- Parameters: $since (UTC, the first hour this run judged).
DELETE FROM anomaly_suppressed
WHERE start_ts >= $since::TIMESTAMP AND anomaly_id NOT IN (SELECT anomaly_id FROM _quiet)
