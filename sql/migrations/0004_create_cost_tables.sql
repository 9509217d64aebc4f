-- Amazon Bedrock spend from the bill: Cost Explorer ('ce'), CUR 2.0 ('cur') and FOCUS 1.x
-- ('focus') data exports. Money is DECIMAL (never DOUBLE); dates are the UTC usage day.
--
-- Grain: (source, source_object, breakdown, usage_date, account_id, service, usage_type,
-- region, tags). Marketplace models (Anthropic, ...) bill under their own SERVICE
-- "<Model> (Amazon Bedrock Edition)", so rows are kept by usage type AND service name.
-- breakdown: 'total' rows add up to the bill; Cost Explorer can group by only two dimensions,
-- so each configured tag key is a separate split of the same spend, stored as
-- 'tag:<key>' rows (sum one breakdown at a time, never across breakdowns).
-- Restatement: a re-pulled day (ce: per API source) or a re-delivered billing period
-- (cur/focus: per export period folder) deletes its earlier rows and inserts the new ones in
-- one transaction (sql/ingest/cost_*_replace.sql).
CREATE TABLE cost_daily (
    usage_date          DATE NOT NULL,
    account_id          VARCHAR,                -- usage account; NULL from Cost Explorer
    service             VARCHAR,                -- 'Amazon Bedrock' or '<Model> (Amazon Bedrock Edition)'
    usage_type          VARCHAR,
    model               VARCHAR,                -- foundation model id, NULL when unknown
    token_kind          VARCHAR NOT NULL,       -- input | output | cache_read | cache_write | other
    pricing_scope       VARCHAR,                -- regional | global | batch | NULL (not tokens)
    region              VARCHAR,
    tags                MAP(VARCHAR, VARCHAR) NOT NULL,  -- configured tag keys only; '' = untagged
    breakdown           VARCHAR NOT NULL,       -- total | tag:<key>
    unblended_cost      DECIMAL(18, 10),
    amortized_cost      DECIMAL(18, 10),
    net_unblended_cost  DECIMAL(18, 10),
    usage_quantity      DOUBLE,
    usage_unit          VARCHAR,
    estimated           BOOLEAN,
    source              VARCHAR NOT NULL,       -- ce | cur | focus
    source_object       VARCHAR NOT NULL        -- API source label, or the export object URI
);

-- Cost Explorer's own forecast of Bedrock spend. Grain: (source_zone, created_at day,
-- metric, granularity, period_start); a same-day re-run replaces that day's forecast.
CREATE TABLE cost_forecast (
    created_at      TIMESTAMP NOT NULL,
    period_start    DATE NOT NULL,
    period_end      DATE NOT NULL,            -- exclusive
    granularity     VARCHAR NOT NULL,         -- MONTHLY | DAILY
    mean            DECIMAL(18, 10),
    lower           DECIMAL(18, 10),
    upper           DECIMAL(18, 10),
    metric          VARCHAR NOT NULL,         -- UNBLENDED_COST
    source_zone     VARCHAR NOT NULL
);
