-- Hours of invocations whose hourly rollups (usage_hourly and its siblings) are not rebuilt
-- yet (grain: hour). A batch adds the hours it touched in its own transaction; the end of the
-- ingest (or the next one, after a crash) rebuilds them and removes them, about a million invocations per
-- transaction. Once per run instead of once per batch: a backfill walks one account/region
-- prefix after another, so every hour used to be rebuilt once per prefix.
CREATE TABLE rollup_pending (hour TIMESTAMP NOT NULL PRIMARY KEY);
