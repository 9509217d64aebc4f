-- CloudTrail events from Bedrock (and any other configured eventSource), from trail files in a
-- landing zone or from the LookupEvents API. Grain: one event (eventID). Timestamps are UTC.
--
-- No PRIMARY KEY on event_id, on purpose: InvokeModel/Converse are *management* events, so a
-- trail holds one row per model invocation, not just the rare control-plane change, and an ART
-- index over that many ids would have to fit in memory. The ingester upserts instead with a
-- delete-then-insert inside the batch's transaction, bounded by the batch's event_time range
-- (sql/ingest/cloudtrail_upsert.sql), which zone maps prune to the few row groups it touches.
CREATE TABLE cloudtrail_events (
    event_id                VARCHAR NOT NULL,
    event_time              TIMESTAMP NOT NULL,
    event_source            VARCHAR NOT NULL,     -- bedrock.amazonaws.com, ...
    event_name              VARCHAR,
    event_category          VARCHAR,              -- Management | Data
    event_type              VARCHAR,              -- AwsApiCall | AwsServiceEvent | ...
    read_only               BOOLEAN,
    change_kind             VARCHAR NOT NULL,     -- see sql/ingest/cloudtrail_parse.sql
    principal_arn           VARCHAR,              -- userIdentity.arn
    principal_type          VARCHAR,              -- userIdentity.type (AssumedRole, IAMUser, ...)
    principal_account_id    VARCHAR,
    session_issuer_arn      VARCHAR,              -- the role behind an assumed-role session
    source_ip               VARCHAR,
    user_agent              VARCHAR,
    aws_region              VARCHAR,
    recipient_account_id    VARCHAR,
    request_id              VARCHAR,              -- joins invocations.request_id
    error_code              VARCHAR,
    error_message           VARCHAR,
    model_id                VARCHAR,              -- requestParameters.modelId
    guardrail_id            VARCHAR,              -- from the request or the response
    request_parameters      JSON,
    response_elements       JSON,
    additional_event_data   JSON,
    source_object           VARCHAR NOT NULL      -- trail file URI, or lookup://<source>/<id>
);
