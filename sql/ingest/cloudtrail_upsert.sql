-- Upsert one batch on eventID: a re-read event replaces its earlier version. No index
-- enforces the key (see migration 0002); the delete-then-insert in the batch's transaction
-- does, bounded by the batch's event_time range so zone maps prune it.
DELETE FROM cloudtrail_events
WHERE event_time BETWEEN (SELECT min(event_time) FROM ct_ready)
                     AND (SELECT max(event_time) FROM ct_ready)
  AND event_id IN (SELECT event_id FROM ct_ready);
INSERT INTO cloudtrail_events BY NAME SELECT * FROM ct_ready;
