-- Invocation facts, their quarantine, and the bookkeeping that makes ingest incremental.
-- Timestamps are TIMESTAMP (no zone) and always hold UTC.

-- One row per Bedrock model invocation (grain: requestId, unique: the ingester upserts on it
-- without an index, which would have to fit in memory). Bodies are never stored here:
-- only their sizes and an MD5 (to spot repeated prompts), so the warehouse holds no prompt or response text.
CREATE TABLE invocations (
    request_id            VARCHAR NOT NULL,
    ts                    TIMESTAMP NOT NULL,
    account_id            VARCHAR,
    region                VARCHAR,
    inference_region      VARCHAR,
    operation             VARCHAR,
    model_id              VARCHAR,
    model                 VARCHAR,
    model_unresolved      VARCHAR,          -- why model is NULL, when it is
    profile_kind          VARCHAR,          -- foundation | system_profile | application_profile | other
    profile_scope         VARCHAR,          -- global | geo | NULL (in-region)
    identity_arn          VARCHAR,
    principal_arn         VARCHAR,          -- identity normalised to the IAM role/user ARN
    request_metadata      MAP(VARCHAR, VARCHAR),
    lob                   VARCHAR NOT NULL,
    app                   VARCHAR,
    attribution_rule      INTEGER,          -- index of the matching rule; NULL = unattributed
    input_tokens          BIGINT NOT NULL,
    output_tokens         BIGINT NOT NULL,
    cache_read_tokens     BIGINT NOT NULL,
    cache_write_tokens    BIGINT NOT NULL,
    latency_ms            DOUBLE,
    first_byte_ms         DOUBLE,
    stop_reason           VARCHAR,
    error_code            VARCHAR,
    guardrail_action      VARCHAR,          -- INTERVENED | NONE | NULL (no guardrail ran)
    guardrail_policies    VARCHAR[],        -- policy types that acted (topic, content, ...)
    input_body_bytes      BIGINT,
    output_body_bytes     BIGINT,
    input_body_md5        VARCHAR,          -- MD5 of the request body: spots repeated prompts
    input_body_s3_path    VARCHAR,
    output_body_s3_path   VARCHAR,
    est_cost_usd          DOUBLE,           -- NULL = no price for this model: unpriced, not free
    schema_version        VARCHAR,
    source_object         VARCHAR NOT NULL
);

-- Records that could not be loaded (grain: source object and line). The raw line is not
-- kept: it may hold prompt text, and it stays in the landing zone for inspection.
CREATE TABLE quarantine (
    source          VARCHAR NOT NULL,
    source_object   VARCHAR NOT NULL,
    line            BIGINT NOT NULL,         -- 1-based; 0 = the object as a whole
    reason          VARCHAR NOT NULL,
    request_id      VARCHAR,
    PRIMARY KEY (source, source_object, line)
);

-- Objects (S3 keys, local files, log pages) already loaded, per landing zone.
CREATE TABLE ingest_objects (
    zone            VARCHAR NOT NULL,
    object_key      VARCHAR NOT NULL,
    size            BIGINT,
    etag            VARCHAR,
    records         BIGINT NOT NULL,
    quarantined     BIGINT NOT NULL,
    loaded_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (zone, object_key)
);

-- Newest point in time each source/zone has fully covered; moved only with its data.
CREATE TABLE watermarks (
    source          VARCHAR NOT NULL,
    zone            VARCHAR NOT NULL,
    covered_until   TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (source, zone)
);

-- Application inference profiles and what they route to (config or Bedrock API).
CREATE TABLE inference_profiles (
    arn             VARCHAR PRIMARY KEY,
    model           VARCHAR,
    tags            MAP(VARCHAR, VARCHAR),
    resolved_by     VARCHAR NOT NULL,        -- config | bedrock-api | unresolved
    error           VARCHAR
);

-- The price catalog in force (file + config overrides), reloaded on every start.
CREATE TABLE prices (
    model               VARCHAR NOT NULL,
    region              VARCHAR NOT NULL,    -- '*' = any region without its own row
    effective_from      DATE NOT NULL,
    input_per_1m        DOUBLE NOT NULL,
    output_per_1m       DOUBLE NOT NULL,
    cache_read_per_1m   DOUBLE,
    cache_write_per_1m  DOUBLE,
    geo_premium         DOUBLE NOT NULL,     -- surcharge on geo (non-global) cross-region profiles
    source              VARCHAR NOT NULL,
    PRIMARY KEY (model, region, effective_from)
);

-- Hourly rollup the pages read (grain: hour x account x region x LOB x app x model x
-- operation). Rebuilt for the hours an ingest touches, never scanned raw by a page.
CREATE TABLE usage_hourly (
    hour                    TIMESTAMP NOT NULL,
    account_id              VARCHAR,
    region                  VARCHAR,
    lob                     VARCHAR NOT NULL,
    app                     VARCHAR,
    model                   VARCHAR,
    operation               VARCHAR,
    invocations             BIGINT NOT NULL,
    errors                  BIGINT NOT NULL,
    throttles               BIGINT NOT NULL,
    input_tokens            BIGINT NOT NULL,
    output_tokens           BIGINT NOT NULL,
    cache_read_tokens       BIGINT NOT NULL,
    cache_write_tokens      BIGINT NOT NULL,
    est_cost_usd            DOUBLE,
    unpriced_invocations    BIGINT NOT NULL,
    guardrail_invocations   BIGINT NOT NULL,
    guardrail_interventions BIGINT NOT NULL,
    latency_ms_sum          DOUBLE,
    latency_count           BIGINT NOT NULL,
    latency_p50_ms          DOUBLE,
    latency_p95_ms          DOUBLE
);
