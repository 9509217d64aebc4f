-- Every sensitivity decision so far, oldest first (grain: series_key, set_at): what the
-- detector replays over its look-back and what the rule compares its new verdict with.
-- Parameters: none.
SELECT series_key, set_at, metric, lob, model, factor, quiet, incidents, why, set_by, reverted
FROM anomaly_series_tuning
ORDER BY series_key, set_at
