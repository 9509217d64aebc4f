-- One row per run of an ingest, model or maintenance job (grain: run_id). Written as
-- 'running' when the job starts, in its own transaction, and finished when it ends, so a run
-- killed mid-way stays visible as 'running' until the next start marks it 'interrupted'.
CREATE TABLE ingest_runs (
    run_id              VARCHAR PRIMARY KEY,
    source              VARCHAR NOT NULL,     -- invocation-logs | cloudtrail | metrics | cost | models | vacuum
    trigger             VARCHAR NOT NULL,     -- schedule | cli | run-now | demo
    started_at          TIMESTAMP NOT NULL,   -- UTC
    finished_at         TIMESTAMP,
    status              VARCHAR NOT NULL,     -- running | ok | error | interrupted
    objects             BIGINT,               -- objects read (files, log pages)
    api_calls           BIGINT,               -- AWS API requests (Cost Explorer charges for each)
    rows_inserted       BIGINT,
    rows_updated        BIGINT,
    rows_quarantined    BIGINT,
    watermark_before    TIMESTAMP,
    watermark_after     TIMESTAMP,
    error               VARCHAR,              -- one line, never a traceback or record text
    pid                 INTEGER
);
