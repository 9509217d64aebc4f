-- Upsert metrics_ready on the natural key (account_id, region, namespace, metric_name,
-- dimensions, ts, period_s, stat): a re-read point replaces its earlier value. No index
-- enforces the key; the delete-then-insert in the caller's transaction does, within the batch's
-- ts range, which zone maps prune to the few row groups a batch can touch.
DELETE FROM metrics m
USING metrics_ready r
WHERE m.ts BETWEEN (SELECT min(ts) FROM metrics_ready) AND (SELECT max(ts) FROM metrics_ready)
  AND m.ts = r.ts AND m.period_s = r.period_s AND m.stat = r.stat
  AND m.metric_name = r.metric_name AND m.namespace = r.namespace
  AND m.account_id = r.account_id AND m.region = r.region AND m.dimensions = r.dimensions;
INSERT INTO metrics BY NAME SELECT * FROM metrics_ready;
