-- Upsert resolved rows on the natural key: a re-read record replaces its earlier version.
INSERT OR REPLACE INTO invocations BY NAME SELECT * FROM inv_ready;
