-- What the models write back (genai-lens models run). Every table is replaced per run for the
-- rows the run recomputes, so a re-run is harmless. Money is DECIMAL; times are UTC.

-- Chargeback: the bill of each (day, model, token kind) split across LOBs (grain: usage_date,
-- lob, model, token_kind, basis). basis: 'tag' = the bill's own application-profile tag rows,
-- 'share' = split by the LOB's share of estimated cost, 'no_usage' = billed but no logged
-- usage that day (kept under LOB 'Unattributed'). Sums to the bill to the cent per day/model.
CREATE TABLE cost_allocated (
    usage_date      DATE NOT NULL,
    lob             VARCHAR NOT NULL,
    model           VARCHAR NOT NULL,            -- '(unknown)' when the bill row has no model
    token_kind      VARCHAR NOT NULL,
    basis           VARCHAR NOT NULL,
    est_cost        DECIMAL(18, 6),              -- the LOB's estimated cost behind the split
    allocated_cost  DECIMAL(18, 2) NOT NULL,
    bill_source     VARCHAR NOT NULL             -- cur | focus | ce
);

-- Estimate vs bill per (day, model): the gap is shown, not hidden.
CREATE TABLE cost_reconciliation (
    usage_date      DATE NOT NULL,
    model           VARCHAR NOT NULL,
    est_cost        DECIMAL(18, 6),              -- NULL = no logged usage
    billed_cost     DECIMAL(18, 6),              -- NULL = not billed (yet)
    drift_usd       DECIMAL(18, 6),              -- billed - estimated
    drift_pct       DOUBLE,                      -- drift / billed
    bill_source     VARCHAR
);

-- Daily spend forecasts per series ('total' or 'lob:<name>'), history and future in one
-- frame so a chart draws both (grain: series, day). method: prophet | seasonal_naive | ...
CREATE TABLE forecasts (
    series          VARCHAR NOT NULL,
    day             DATE NOT NULL,
    actual          DOUBLE,                      -- NULL for future days
    yhat            DOUBLE,
    lo80            DOUBLE,
    hi80            DOUBLE,
    lo95            DOUBLE,
    hi95            DOUBLE,
    method          VARCHAR NOT NULL,
    note            VARCHAR,                     -- why a fallback was used, for the page
    run_at          TIMESTAMP NOT NULL
);

-- Rolling-origin backtest beside each forecast (grain: series, horizon_days).
CREATE TABLE forecast_backtests (
    series          VARCHAR NOT NULL,
    horizon_days    INTEGER NOT NULL,
    origins         INTEGER NOT NULL,
    mape            DOUBLE,
    coverage80      DOUBLE,
    coverage95      DOUBLE,
    naive_mape      DOUBLE,                      -- seasonal-naive baseline on the same origins
    method          VARCHAR NOT NULL,
    run_at          TIMESTAMP NOT NULL
);

-- Month- and quarter-end landing per series (grain: series, period_kind, period_start).
CREATE TABLE forecast_landing (
    series          VARCHAR NOT NULL,
    period_kind     VARCHAR NOT NULL,            -- month | quarter
    period_start    DATE NOT NULL,
    period_end      DATE NOT NULL,               -- inclusive
    actual_to_date  DOUBLE NOT NULL,
    landing         DOUBLE NOT NULL,
    lo80            DOUBLE,
    hi80            DOUBLE,
    lo95            DOUBLE,
    hi95            DOUBLE,
    budget          DOUBLE,                      -- NULL = no budget configured
    p_exceed        DOUBLE,                      -- probability the period ends over budget
    status          VARCHAR,                     -- on_track | at_risk | over | no_budget
    run_at          TIMESTAMP NOT NULL
);

-- Detected anomalies (grain: anomaly_id = hash of series key and episode start). Status is
-- the triage state the app edits; a re-run keeps it.
CREATE TABLE anomalies (
    anomaly_id      VARCHAR PRIMARY KEY,
    series_key      VARCHAR NOT NULL,            -- '<metric>|<lob>|<model>' or 'cw:<metric>|<model>'
    metric          VARCHAR NOT NULL,            -- cost | tokens | invocations | error_rate | ...
    lob             VARCHAR,
    model           VARCHAR,
    start_ts        TIMESTAMP NOT NULL,
    end_ts          TIMESTAMP,                   -- NULL while the episode is ongoing
    peak_ts         TIMESTAMP NOT NULL,
    expected        DOUBLE,
    actual          DOUBLE,
    lower           DOUBLE,
    upper           DOUBLE,
    severity        VARCHAR NOT NULL,            -- low | medium | high | critical
    score           DOUBLE NOT NULL,
    direction       VARCHAR NOT NULL,            -- up | down
    driver          VARCHAR,                     -- e.g. 'app=checkout-bot' accounting for most of it
    driver_share    DOUBLE,
    explanation     JSON,                        -- decomposition, CloudTrail changes, ...
    status          VARCHAR NOT NULL DEFAULT 'open',  -- open | acknowledged | muted | resolved
    status_by       VARCHAR,
    status_at       TIMESTAMP,
    detected_at     TIMESTAMP NOT NULL
);

-- A muted series stays quiet until its mute expires.
CREATE TABLE anomaly_mutes (
    series_key      VARCHAR PRIMARY KEY,
    muted_until     TIMESTAMP NOT NULL,
    muted_by        VARCHAR,
    reason          VARCHAR
);

-- The expected band of each anomaly series, for the detail chart (grain: series_key, ts).
CREATE TABLE anomaly_bands (
    series_key      VARCHAR NOT NULL,
    ts              TIMESTAMP NOT NULL,
    actual          DOUBLE,
    expected        DOUBLE,
    lower           DOUBLE,
    upper           DOUBLE
);

-- Notifications sent (grain: alert_key, channel). alert_key de-duplicates: one per budget /
-- period / threshold / kind, or per anomaly.
CREATE TABLE alerts (
    alert_key       VARCHAR NOT NULL,
    channel         VARCHAR NOT NULL,            -- apprise URL scheme or 'webhook'
    kind            VARCHAR NOT NULL,            -- budget | anomaly
    subject         VARCHAR NOT NULL,
    body            VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,            -- sent | failed | dry-run
    attempts        INTEGER NOT NULL,
    last_error      VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    PRIMARY KEY (alert_key, channel)
);
