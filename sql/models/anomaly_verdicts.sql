-- People's verdicts on anomaly alerts, the evidence triage feedback learns from (grain:
-- anomaly_id). Only a status a person set counts (status_by): an alert the detector itself
-- stored as 'muted' while its series was muted is the consequence of one verdict, not another.
-- Logging gaps have no band to widen and are left out.
-- Parameters: none.
SELECT series_key, metric, lob, model, start_ts, status
FROM anomalies
WHERE status <> 'open' AND status_by IS NOT NULL AND metric <> 'logging_gap'
ORDER BY series_key, start_ts
