-- Capacity & savings (issue 16): quota runway and model lifecycle.

-- The busiest minute of each hour per account, Region and model, counted as the
-- tokens-per-minute quota counts it (grain: hour x account x region x model x source x LOB).
-- source 'cloudwatch': the minute Sum of EstimatedTPMQuotaUsage (lob NULL; requests from
-- Invocations + InvocationThrottles in that minute are not split, so peak_requests is NULL).
-- source 'logs': input + cache-write tokens + output tokens x the model's burndown multiplier
-- (5 for Claude 3.7 Sonnet and later, else 1) of the calls that were served, per minute; one
-- row per LOB with its share of that minute (lob_tokens), so the page can say who drives it.
CREATE TABLE quota_peaks_hourly (
    hour            TIMESTAMP NOT NULL,
    account_id      VARCHAR,
    region          VARCHAR,
    model           VARCHAR,
    source          VARCHAR NOT NULL,          -- cloudwatch | logs
    lob             VARCHAR,
    peak_minute     TIMESTAMP NOT NULL,
    peak_tokens     DOUBLE NOT NULL,           -- the minute's quota tokens (all LOBs)
    peak_requests   BIGINT,                    -- calls in the busiest-requests minute (logs)
    lob_tokens      DOUBLE,                    -- this LOB's quota tokens in that minute
    throttles       BIGINT,                    -- throttled calls in the hour (logs)
    invocations     BIGINT                     -- calls in the hour (logs)
);

-- Applied on-demand quotas per Region and model (grain: account x region x model x kind).
-- Read daily from Service Quotas (ServiceCode bedrock) or taken from config.
CREATE TABLE model_quotas (
    account_id      VARCHAR,
    region          VARCHAR NOT NULL,
    model           VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,          -- tpm | rpm
    value           DOUBLE NOT NULL,
    quota_code      VARCHAR,
    quota_name      VARCHAR,
    source          VARCHAR NOT NULL,          -- service-quotas | config
    read_at         TIMESTAMP NOT NULL
);

-- Each model's lifecycle as Bedrock reports it, with the end-of-life date and successor from
-- config or the built-in defaults (grain: region x model).
CREATE TABLE model_lifecycle (
    region          VARCHAR NOT NULL,
    model           VARCHAR NOT NULL,
    provider        VARCHAR,
    name            VARCHAR,
    status          VARCHAR NOT NULL,          -- ACTIVE | LEGACY | (config)
    legacy_on       DATE,
    end_of_life     DATE,
    successor       VARCHAR,
    source          VARCHAR NOT NULL,          -- bedrock-api | config | defaults
    read_at         TIMESTAMP NOT NULL
);

-- What `genai-lens models run` forecasts of each quota's daily busiest minute (grain:
-- account x region x model x kind), and its backtest at the first day the logs show
-- throttling (grain: account x region x model x throttle day).
CREATE TABLE quota_runway (
    account_id      VARCHAR,
    region          VARCHAR,
    model           VARCHAR,
    kind            VARCHAR NOT NULL,          -- tpm | rpm
    quota           DOUBLE NOT NULL,
    quota_source    VARCHAR NOT NULL,
    as_of           DATE NOT NULL,             -- last day of history the forecast saw
    peak_last_7d    DOUBLE,
    forecast_peak   DOUBLE,                    -- the highest point forecast in the horizon
    forecast_hi95   DOUBLE,                    -- the highest p95 upper bound in the horizon
    days_until_p95  INTEGER,                   -- first day the p95 bound reaches the quota
    crossing_day    DATE,
    method          VARCHAR,
    note            VARCHAR,
    run_at          TIMESTAMP NOT NULL
);
CREATE TABLE quota_backtests (
    account_id      VARCHAR,
    region          VARCHAR,
    model           VARCHAR,
    throttle_day    DATE NOT NULL,             -- first day with >= 5% of calls throttled
    cutoff_day      DATE NOT NULL,             -- last day of history the backtest forecast saw
    predicted_day   DATE,                      -- first day its p95 bound reached the quota
    days_ahead      INTEGER,                   -- throttle_day - cutoff_day - 1 when predicted
    quota           DOUBLE NOT NULL,
    run_at          TIMESTAMP NOT NULL
);
