-- Pricing the way Bedrock bills in 2026: service tiers, prompt-cache TTLs, latency-optimised
-- inference and long-context rates on every invocation; the multipliers as catalog data; the
-- tier and cache TTL of every bill line; rates learned from the bill.

-- The tier that served the call (priority | default | flex | reserved; a value Bedrock adds
-- later is kept as-is and left unpriced), from the response body, the record or the request
-- body; 'default' when none of them names one (bodies off, older records). NULL on rows loaded
-- before this migration.
ALTER TABLE invocations ADD COLUMN service_tier VARCHAR;
ALTER TABLE invocations ADD COLUMN latency_mode VARCHAR;          -- standard | optimized
-- cache_write_tokens split by TTL (the log's own count is only the total): 1h from the
-- response body's usage (Converse cacheDetails, Anthropic cache_creation), the rest 5m.
ALTER TABLE invocations ADD COLUMN cache_write_5m_tokens BIGINT;
ALTER TABLE invocations ADD COLUMN cache_write_1h_tokens BIGINT;
-- Where est_cost_usd came from: 'bill' (a rate learned from the organisation's own bill),
-- 'list' (the catalog), NULL (unpriced).
ALTER TABLE invocations ADD COLUMN price_basis VARCHAR;

-- The 1-hour cache write price where the catalog states it (else input x the cache_ttl rule).
ALTER TABLE prices ADD COLUMN cache_write_1h_per_1m DOUBLE;

-- Multipliers on the catalog's standard on-demand price, one row per rule (grain: rule x value
-- x model). model '*' = every model without a row of its own. Reloaded with the prices.
-- rule: tier (value = serviceTier), mode (batch), latency (optimized), context (long: applies
-- when a call's input reaches min_input_tokens), cache_ttl (5m | 1h: the cache write price as
-- a multiple of input, where the catalog row has no explicit price).
CREATE TABLE price_rules (
    rule                VARCHAR NOT NULL,
    value               VARCHAR NOT NULL,
    model               VARCHAR NOT NULL,
    input_factor        DOUBLE NOT NULL,
    output_factor       DOUBLE NOT NULL,
    min_input_tokens    BIGINT,
    confirmed           BOOLEAN NOT NULL,
    source              VARCHAR NOT NULL,
    PRIMARY KEY (rule, value, model)
);

-- Bill lines: the tier and cache TTL their usage type names (NULL: not a token line).
ALTER TABLE cost_daily ADD COLUMN service_tier VARCHAR;
ALTER TABLE cost_daily ADD COLUMN cache_ttl VARCHAR;

-- Effective rates learned from the bill (grain: model x token_kind x cache_ttl x service_tier x
-- pricing_scope x region), USD per 1M tokens, net of discounts and credits or not (basis).
-- Replaced whole by every learning run; invocations loaded afterwards are priced with them.
CREATE TABLE effective_rates (
    model           VARCHAR NOT NULL,
    token_kind      VARCHAR NOT NULL,
    cache_ttl       VARCHAR NOT NULL,       -- '5m' | '1h' | '' (not a cache write)
    service_tier    VARCHAR NOT NULL,
    pricing_scope   VARCHAR NOT NULL,       -- regional | global | batch
    region          VARCHAR NOT NULL,
    per_1m          DOUBLE NOT NULL,
    basis           VARCHAR NOT NULL,       -- unblended | net
    learned_from    DATE NOT NULL,
    learned_to      DATE NOT NULL,          -- inclusive
    days            INTEGER NOT NULL,
    tokens          DOUBLE NOT NULL,
    cost            DOUBLE NOT NULL,
    learned_at      TIMESTAMP NOT NULL
);

-- How close the learned-rate estimate came to the final bill on days it did not learn from
-- (grain: run x model, with model '(total)' for the whole). pct = (estimate - bill) / bill.
CREATE TABLE estimate_backtest (
    computed_at     TIMESTAMP NOT NULL,
    model           VARCHAR NOT NULL,
    held_from       DATE NOT NULL,
    held_to         DATE NOT NULL,          -- inclusive
    estimate_usd    DOUBLE NOT NULL,
    bill_usd        DOUBLE NOT NULL,
    pct             DOUBLE,
    excluded_cells  INTEGER NOT NULL        -- account x region x days left out for a logging gap
);

-- How much of each configured reservation its reserved-tier calls use (grain: model x region,
-- newest models run). Tokens per minute count input, output and cache tokens of the calls
-- that ran on the reserved tier; mean over the window's minutes, peak the busiest minute.
CREATE TABLE reserved_utilisation (
    computed_at     TIMESTAMP NOT NULL,
    model           VARCHAR NOT NULL,
    region          VARCHAR NOT NULL,
    window_from     TIMESTAMP NOT NULL,
    window_to       TIMESTAMP NOT NULL,
    reserved_tpm    DOUBLE NOT NULL,
    monthly_usd     DOUBLE NOT NULL,
    calls           BIGINT NOT NULL,
    tokens          BIGINT NOT NULL,
    mean_tpm        DOUBLE NOT NULL,
    peak_tpm        DOUBLE NOT NULL
);
