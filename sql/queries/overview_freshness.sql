-- Overview (and every page): how fresh the warehouse is, and the marker the app's cache keys on.
-- Grain: one row for the whole warehouse. Usage figures are within the reader's LOB scope
-- ($all_lobs, $allowed_lobs); the rest is bookkeeping with no LOB in it.
-- An ingest adds ingest_objects rows or moves a watermark, a job writes ingest_runs, the models
-- rewrite their tables and a reader triages an anomaly or reverts a series' sensitivity: each
-- changes `changes` or a count, so every cached frame keyed on this row is recomputed. Each
-- value is a metadata-cheap aggregate.
WITH scoped AS (
    SELECT hour, invocations FROM usage_hourly
    WHERE $all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob)
)
SELECT
    (SELECT max(loaded_at) FROM ingest_objects)     AS loaded_at,
    (SELECT count(*) FROM ingest_objects)           AS objects,
    (SELECT count(*) FROM scoped)                   AS usage_rows,
    (SELECT coalesce(sum(invocations), 0) FROM scoped) AS invocations,
    (SELECT min(hour) FROM scoped)                  AS first_hour,
    (SELECT max(hour) FROM scoped)                  AS last_hour,
    concat_ws('|',
        (SELECT max(updated_at) FROM watermarks),
        (SELECT concat_ws('/', max(coalesce(finished_at, started_at)), count(*)) FROM ingest_runs),
        (SELECT max(run_at) FROM forecasts),
        (SELECT max(run_at) FROM forecast_landing),
        (SELECT count(*) FROM cost_allocated),
        (SELECT count(*) FROM cost_reconciliation),
        (SELECT concat_ws('/', max(detected_at), max(status_at), count(*)) FROM anomalies),
        (SELECT concat_ws('/', max(muted_until), count(*)) FROM anomaly_mutes),
        (SELECT concat_ws('/', max(set_at), count(*)) FROM anomaly_series_tuning)
    )                                               AS changes
