-- Small hourly rollups the dashboard pages read instead of raw invocations, raw metric points
-- and one CloudTrail row per call. Each is rebuilt for the hours (or events) an ingest touched
-- by sql/ingest/usage_<table>_refresh.sql, in the same transaction, like usage_hourly.

-- Failed invocations by error code (grain: hour x account x region x LOB x app x model x
-- error_code). Read by Reliability ("errors by code").
CREATE TABLE usage_errors_hourly (
    hour            TIMESTAMP NOT NULL,
    account_id      VARCHAR,
    region          VARCHAR,
    lob             VARCHAR NOT NULL,
    app             VARCHAR,
    model           VARCHAR,
    error_code      VARCHAR NOT NULL,
    errors          BIGINT NOT NULL
);

-- Guardrail interventions by the policy type that acted (grain: hour x account x region x LOB
-- x app x model x policy). An intervention with no policy in its trace counts under '(unknown)';
-- one where several policies acted counts once under each. Read by Governance.
CREATE TABLE usage_guardrails_hourly (
    hour            TIMESTAMP NOT NULL,
    account_id      VARCHAR,
    region          VARCHAR,
    lob             VARCHAR NOT NULL,
    app             VARCHAR,
    model           VARCHAR,
    policy          VARCHAR NOT NULL,      -- TopicPolicy | ContentPolicy | ... | (unknown)
    interventions   BIGINT NOT NULL
);

-- Which IAM principals call Bedrock for which LOB (grain: hour x account x principal x LOB x
-- app). Lets a LOB-scoped reader see the CloudTrail changes its own principals made, without
-- scanning invocations.
CREATE TABLE usage_principals_hourly (
    hour            TIMESTAMP NOT NULL,
    account_id      VARCHAR,
    principal_arn   VARCHAR NOT NULL,
    lob             VARCHAR NOT NULL,
    app             VARCHAR,
    invocations     BIGINT NOT NULL
);

-- CloudWatch points rolled up to the hour (grain: hour x account x region x namespace x metric
-- x dimensions). model is the foundation model behind the ModelId dimension (profile ids and
-- ARNs resolved like invocation logs; NULL for the dimension-less series and for series
-- without a ModelId). Percentiles are the per-period percentiles averaged with SampleCount as
-- weight: an approximation, labelled as such on the pages. Metric points are minutes apart, so
-- this is ~60x smaller than `metrics` for streamed data.
CREATE TABLE usage_metrics_hourly (
    hour            TIMESTAMP NOT NULL,
    account_id      VARCHAR NOT NULL,
    region          VARCHAR NOT NULL,
    namespace       VARCHAR NOT NULL,
    metric_name     VARCHAR NOT NULL,
    dimensions      MAP(VARCHAR, VARCHAR) NOT NULL,
    model_id        VARCHAR,               -- dimensions['ModelId'] as delivered
    model           VARCHAR,               -- its foundation model
    sum             DOUBLE,
    samples         DOUBLE,                -- SampleCount
    maximum         DOUBLE,
    p50             DOUBLE,
    p90             DOUBLE,
    p99             DOUBLE
);

-- Bedrock configuration changes from CloudTrail (grain: event_id): every event that is not a
-- model call or a read. CloudTrail holds one management event per model call, so the audit
-- trail would otherwise scan as many rows as there are invocations. Read by Governance and the
-- Anomalies detail.
CREATE TABLE usage_changes (
    event_id                VARCHAR NOT NULL,
    event_time              TIMESTAMP NOT NULL,
    event_name              VARCHAR,
    change_kind             VARCHAR NOT NULL,
    principal_arn           VARCHAR,
    principal_type          VARCHAR,
    session_issuer_arn      VARCHAR,
    source_ip               VARCHAR,
    user_agent              VARCHAR,
    aws_region              VARCHAR,
    recipient_account_id    VARCHAR,
    error_code              VARCHAR,
    error_message           VARCHAR,
    guardrail_id            VARCHAR,
    model_id                VARCHAR,
    request_parameters      JSON
);
