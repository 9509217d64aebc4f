-- Capacity & savings (issue 16): the request facts the what-if savings need, kept at parse time
-- without storing any body text, and the hourly rollup the Capacity page reads.

-- max_tokens as the caller asked for it (inferenceConfig.maxTokens, max_tokens, maxTokenCount,
-- max_gen_len): the TPM quota reserves it up front. The prefix is the part of a request that
-- prompt caching could serve (system prompt or preamble, and tool definitions): only its MD5
-- and its size in bytes are kept, like input_body_md5. NULL for rows loaded before this.
ALTER TABLE invocations ADD COLUMN max_tokens BIGINT;
ALTER TABLE invocations ADD COLUMN prefix_md5 VARCHAR;
ALTER TABLE invocations ADD COLUMN prefix_bytes BIGINT;

-- What-if savings facts (grain: hour x account x region x LOB x app x model x operation).
-- Rebuilt for the hours an ingest touches (sql/ingest/usage_savings_hourly_refresh.sql), so the
-- page never scans invocations. Token counts are prefix tokens estimated as input tokens x
-- prefix bytes / request bytes; "hit" means the same prefix was sent by the same account,
-- region and model within the TTL before (a cache would have served it), "miss" that it was
-- not (a cache would have written it). Dollars are the logs' estimate (tokens x catalog).
CREATE TABLE usage_savings_hourly (
    hour                    TIMESTAMP NOT NULL,
    account_id              VARCHAR,
    region                  VARCHAR,
    lob                     VARCHAR NOT NULL,
    app                     VARCHAR,
    model                   VARCHAR,
    operation               VARCHAR,
    invocations             BIGINT NOT NULL,
    est_cost_usd            DOUBLE,
    -- prompt caching what-if (calls not using the cache already, prefix >= min size)
    prefix_calls            BIGINT NOT NULL,
    prefix_hit5_tokens      BIGINT NOT NULL,
    prefix_miss5_tokens     BIGINT NOT NULL,
    prefix_hit60_tokens     BIGINT NOT NULL,
    prefix_miss60_tokens    BIGINT NOT NULL,
    -- cross-region: spend and calls through geo (not global) system profiles
    geo_invocations         BIGINT NOT NULL,
    geo_cost_usd            DOUBLE,
    -- waste
    retry_invocations       BIGINT NOT NULL,   -- calls that repeat a body within seconds of a failure
    retry_waste_usd         DOUBLE,
    cut_invocations         BIGINT NOT NULL,   -- answers cut at max_tokens
    cut_cost_usd            DOUBLE,
    blocked_invocations     BIGINT NOT NULL,   -- a guardrail intervened
    blocked_cost_usd        DOUBLE,
    -- over-reservation: max_tokens asked vs output tokens generated (calls that set it)
    reserved_invocations    BIGINT NOT NULL,
    max_tokens_sum          BIGINT,
    reserved_output_tokens  BIGINT
);
