-- Anomalies page, "Sensitivity learned from triage": per series whose alerts got a verdict,
-- the band's widening in force now, why, who or what set it and when, and how many alerts the
-- widening has kept quiet (all time, and at the current factor).
-- Grain: series_key (its latest row of anomaly_series_tuning). Within the reader's LOB scope
-- (a per-model series, which has no LOB, only for an all-LOB reader) and the LOB and model
-- filters; the period does not apply (a sensitivity is a state, not an event).
-- Parameters: $lobs, $models, $all_lobs/$allowed_lobs.
WITH latest AS (
    SELECT * FROM anomaly_series_tuning
    QUALIFY row_number() OVER (PARTITION BY series_key ORDER BY set_at DESC) = 1
), quiet AS (
    SELECT series_key, count(*) AS suppressed, max(start_ts) AS last_suppressed
    FROM anomaly_suppressed GROUP BY series_key
)
SELECT l.series_key, l.metric, l.lob, l.model, l.factor, l.why, l.set_at, l.set_by,
    l.reverted, coalesce(q.suppressed, 0) AS suppressed, q.last_suppressed
FROM latest AS l
LEFT JOIN quiet AS q USING (series_key)
WHERE ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], l.lob))
  AND picked($lobs::VARCHAR[], l.lob)
  AND picked($models::VARCHAR[], l.model)
ORDER BY l.factor DESC, suppressed DESC, l.series_key
