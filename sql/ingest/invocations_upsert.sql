-- Upsert resolved rows on the natural key: a re-read record replaces its earlier version.
-- No index enforces the key (an ART index over billions of request ids would have to fit in
-- memory); the delete-then-insert in one transaction does, within the batch's time range,
-- which zone maps prune to the few row groups a batch can touch.
DELETE FROM invocations
WHERE ts BETWEEN (SELECT min(ts) FROM inv_parsed WHERE reason IS NULL)
             AND (SELECT max(ts) FROM inv_parsed WHERE reason IS NULL)
  AND request_id IN (SELECT request_id FROM inv_parsed WHERE reason IS NULL);
INSERT INTO invocations BY NAME SELECT * FROM inv_ready;
