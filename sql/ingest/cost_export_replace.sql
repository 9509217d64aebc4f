-- Replace one export billing-period folder (every object under its URI prefix) with
-- cost_ready: AWS rewrites a period's files during the month, possibly fewer of them, so
-- every earlier row and loaded-object mark under the folder goes first.
DELETE FROM cost_daily WHERE source IN ('cur', 'focus') AND starts_with(source_object, $uri_prefix);
DELETE FROM ingest_objects WHERE zone = $zone AND starts_with(object_key, $key_prefix);
INSERT INTO cost_daily BY NAME SELECT * FROM cost_ready;
