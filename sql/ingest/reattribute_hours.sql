-- The hours whose rollups a re-attribution can rebuild (grain: hour; rebuild true), and those
-- it must leave as they are (rebuild NULL or false): hours retention emptied, whose rollup rows
-- hold calls no raw row remembers. An hour with fewer raw rows than its usage_hourly counted
-- was emptied in part (a vacuum cutoff inside the hour, before cutoffs were whole hours):
-- rebuilding it would drop the calls that only the rollup still counts.
WITH raw AS (
    SELECT date_trunc('hour', ts) AS hour, count(*) AS calls FROM invocations GROUP BY 1
), rolled AS (
    SELECT hour, sum(invocations) AS calls FROM usage_hourly GROUP BY 1
)
SELECT hour, raw.calls >= coalesce(rolled.calls, 0) AS rebuild
FROM raw FULL JOIN rolled USING (hour)
ORDER BY hour
