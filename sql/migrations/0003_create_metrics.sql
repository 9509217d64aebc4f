-- CloudWatch metric data points for Bedrock (AWS/Bedrock, AWS/Bedrock/Guardrails, ...), read
-- through GetMetricData ('api') or delivered by a Metric Stream through Firehose ('stream').
-- Timestamps are TIMESTAMP (no zone) holding UTC: the start of the point's period.
--
-- Grain: one statistic of one series for one period:
--   (account_id, region, namespace, metric_name, dimensions, ts, period_s, stat).
-- account_id and region are part of the key because a series is identified by them too: the
-- same ModelId series exists in every account and region, and a multi-account setup (several
-- apis/landing zones, or one cross-account Metric Stream) would otherwise let one account's
-- points replace another's. source is not in the key: a stream point and an API point for the
-- same key are the same CloudWatch aggregate, so the later read replaces the earlier one.
-- dimensions are stored with their keys sorted, so equal series compare equal; {} is the
-- dimension-less ("across all model IDs") series.
-- No index enforces the key (it would have to fit in memory); the ingester deletes then
-- inserts within one transaction, bounded by the batch's ts range (sql/ingest/metrics_upsert).
CREATE TABLE metrics (
    namespace       VARCHAR NOT NULL,
    metric_name     VARCHAR NOT NULL,
    dimensions      MAP(VARCHAR, VARCHAR) NOT NULL,
    ts              TIMESTAMP NOT NULL,
    period_s        INTEGER NOT NULL,
    stat            VARCHAR NOT NULL,         -- Sum, Average, Maximum, Minimum, SampleCount, p99, TM(25%:75%), ...
    value           DOUBLE,
    unit            VARCHAR,                  -- as delivered by the stream; known units for API reads
    account_id      VARCHAR NOT NULL,         -- '' when the reader could not tell
    region          VARCHAR NOT NULL,         -- '' when the reader could not tell
    source          VARCHAR NOT NULL,         -- api | stream
    source_object   VARCHAR NOT NULL          -- stream object URI, or the api source label
);
