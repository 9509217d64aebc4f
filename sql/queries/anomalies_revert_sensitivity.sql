-- Anomalies triage write: revert a series to base sensitivity. Appends a decision at factor 1
-- (anomaly_series_tuning is a forward log: the hours judged while it was widened stay as they
-- were judged), marked reverted, so the rule counts only verdicts on alerts after it.
-- Only a series within the writer's scope whose band is widened now changes.
-- Grain: series_key; returns the series it reverted (none = unknown, at base, or out of scope).
-- Parameters: $series_key, $at (UTC), $who, $why, $all_lobs/$allowed_lobs.
INSERT INTO anomaly_series_tuning
    (series_key, set_at, metric, lob, model, factor, quiet, incidents, why, set_by, reverted)
SELECT series_key, $at::TIMESTAMP, metric, lob, model, 1.0, 0, 0, $why, $who, true
FROM anomaly_series_tuning
WHERE series_key = $series_key
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
QUALIFY row_number() OVER (ORDER BY set_at DESC) = 1 AND factor > 1.0
RETURNING series_key
