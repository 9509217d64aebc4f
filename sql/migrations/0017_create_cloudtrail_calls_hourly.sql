-- The runtime calls (change_kind 'invocation': InvokeModel, Converse, ...) CloudTrail recorded,
-- counted per source object, hour, account, region and event name. Filled by every CloudTrail
-- ingest whatever cloudtrail.invocation_events says, so the count a logging-gap check compares
-- with the invocation logs survives when the events themselves are not kept. Keyed by the
-- object the events came from (a trail file, or one LookupEvents record), so re-reading an
-- object replaces its counts instead of adding to them.
CREATE TABLE cloudtrail_calls_hourly (
    source_object VARCHAR NOT NULL,
    hour TIMESTAMP NOT NULL,
    account_id VARCHAR,
    region VARCHAR,
    event_name VARCHAR NOT NULL,
    calls BIGINT NOT NULL,
    failed_calls BIGINT NOT NULL
);

-- The same per hour, account and region, as cw_calls_hourly gives CloudWatch's.
CREATE VIEW ct_calls_hourly AS
SELECT hour, account_id, region, sum(calls) AS ct_calls, sum(failed_calls) AS ct_failed_calls
FROM cloudtrail_calls_hourly
GROUP BY ALL;
