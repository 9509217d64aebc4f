-- Data health: records that could not be loaded, per source and reason, with how many objects
-- they came from and one example (object and line; the record text is never stored).
-- Grain: source x reason. Quarantine has no time or LOB: an all-LOB reader only; no filter
-- applies.
-- Parameters: $all_lobs.
SELECT
    source, reason, count(*) AS records, count(DISTINCT source_object) AS objects,
    min(source_object) AS example_object,
    arg_min(line, source_object) AS example_line
FROM quarantine
WHERE $all_lobs
GROUP BY source, reason
ORDER BY records DESC, source, reason
