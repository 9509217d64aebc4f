-- What a retention run freed, in its own columns: a vacuum deletes rows and frees blocks, and
-- counting those as rows_inserted read as if it had loaded data. NULL for jobs that delete
-- nothing (ingests, models).
ALTER TABLE ingest_runs ADD COLUMN rows_deleted BIGINT;
ALTER TABLE ingest_runs ADD COLUMN bytes_freed BIGINT;
