-- The rows of one batch ready to upsert (grain: eventID). ct_parsed is what
-- cloudtrail_parse.sql read; ct_objects maps each scratch file to the object it came from
-- (record_names, for LookupEvents, names each record). A trail may deliver an event twice,
-- in one file or several: the last object (in key order) wins, so reloads are deterministic.
CREATE OR REPLACE TEMP TABLE ct_ready AS
SELECT p.* EXCLUDE (local_file, idx, reason, gr_from_arn),
    coalesce(o.record_names[p.idx], o.source_object) AS source_object
FROM ct_parsed p JOIN ct_objects o USING (local_file)
WHERE p.reason IS NULL
QUALIFY row_number() OVER (PARTITION BY p.event_id ORDER BY o.source_object DESC, p.idx DESC) = 1
