-- Overview: how fresh the warehouse is, and the marker the app's cache keys on.
-- Grain: one row for the whole warehouse (filters do not apply: freshness is the source's).
-- An ingest adds or replaces ingest_objects rows (loaded_at, objects) and rebuilds the rollup
-- hours it touched (usage_rows, invocations, last_hour), so new data changes this row and every
-- cached frame keyed on it is recomputed. Each value is a metadata-cheap aggregate.
SELECT
    (SELECT max(loaded_at) FROM ingest_objects)     AS loaded_at,
    (SELECT count(*) FROM ingest_objects)           AS objects,
    (SELECT count(*) FROM usage_hourly)             AS usage_rows,
    (SELECT coalesce(sum(invocations), 0) FROM usage_hourly) AS invocations,
    (SELECT min(hour) FROM usage_hourly)            AS first_hour,
    (SELECT max(hour) FROM usage_hourly)            AS last_hour
