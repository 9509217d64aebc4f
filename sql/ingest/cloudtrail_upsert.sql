-- Upsert one batch on eventID: a re-read event replaces its earlier version. No index
-- enforces the key (see migration 0002); the delete-then-insert in the batch's transaction
-- does, bounded by the batch's event_time range so zone maps prune it. $keep_calls false
-- (cloudtrail.invocation_events = "count") stores no runtime call; cloudtrail_calls_hourly counts them.
DELETE FROM cloudtrail_events
WHERE event_time BETWEEN (SELECT min(event_time) FROM ct_ready)
                     AND (SELECT max(event_time) FROM ct_ready)
  AND event_id IN (SELECT event_id FROM ct_ready);
INSERT INTO cloudtrail_events BY NAME
SELECT * FROM ct_ready WHERE $keep_calls OR change_kind <> 'invocation';
-- The batch's runtime calls per object, hour, account, region and name, in either mode.
DELETE FROM cloudtrail_calls_hourly WHERE source_object IN (SELECT unnest($objects::VARCHAR[]));
INSERT INTO cloudtrail_calls_hourly BY NAME
SELECT source_object, date_trunc('hour', event_time) AS hour,
       recipient_account_id AS account_id, aws_region AS region, event_name,
       count(*) AS calls, count(error_code) AS failed_calls
FROM ct_ready WHERE change_kind = 'invocation'
GROUP BY ALL;
