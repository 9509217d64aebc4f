-- The hours batches marked for a rollup rebuild, with the invocations each holds, so
-- flush_rollups can cut them into chunks of about FLUSH_ROWS (grain: pending hour).
-- Counted by one bounded scan grouped by hour: a range join of the pending hours onto
-- invocations took 73 s for a backfill's 2,184 hours at 50M invocations; this takes 0.3 s.
-- Params: none.
WITH counted AS (
    SELECT date_trunc('hour', ts) AS hour, count(*) AS invocations
    FROM invocations
    WHERE ts >= (SELECT min(hour) FROM rollup_pending)
      AND ts < (SELECT max(hour) FROM rollup_pending) + INTERVAL 1 HOUR
    GROUP BY ALL
)
SELECT p.hour, coalesce(c.invocations, 0) AS invocations
FROM rollup_pending AS p
LEFT JOIN counted AS c USING (hour)
ORDER BY p.hour
