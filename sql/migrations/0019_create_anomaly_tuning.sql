-- Triage that learns (issue 15): each anomaly series' sensitivity as its alerts' verdicts set
-- it, and the alerts a widened band kept quiet. See models/sensitivity.py for the rule.

-- Sensitivity decisions per series, a forward log (grain: series_key, set_at). The detector
-- widens a series' band by the factor of its latest decision from the hour that decision was
-- made in on, so a decision never rewrites an alert judged before it, and the log is what
-- the page shows (now) and what a re-run replays (the past). `models run` appends a row when
-- the rule's factor or reason changes; a person's revert appends one at factor 1.
CREATE TABLE anomaly_series_tuning (
    series_key      VARCHAR NOT NULL,
    set_at          TIMESTAMP NOT NULL,          -- UTC; widens hours from this hour on
    metric          VARCHAR NOT NULL,
    lob             VARCHAR,                     -- NULL for a per-model series (CloudWatch, latency)
    model           VARCHAR,
    factor          DOUBLE NOT NULL,             -- band half-width x this; 1 = base sensitivity
    quiet           INTEGER NOT NULL,            -- alerts marked expected or muted it counted
    incidents       INTEGER NOT NULL,            -- alerts acknowledged or resolved it counted
    why             VARCHAR NOT NULL,            -- the sentence the Anomalies page shows
    set_by          VARCHAR NOT NULL,            -- 'automatic' (models run) or who reverted it
    reverted        BOOLEAN NOT NULL DEFAULT false,  -- a person reverted it to base here
    PRIMARY KEY (series_key, set_at)
);

-- Alerts the base band would have raised that the widened band kept quiet (grain:
-- anomaly_id, the id the alert would have had). Kept like anomalies: a re-run over the same
-- hours finds the same ones (the decisions it replays are the same), rows older than the
-- detector's look-back stay, so the count per series only grows with new suppressions.
CREATE TABLE anomaly_suppressed (
    anomaly_id      VARCHAR PRIMARY KEY,
    series_key      VARCHAR NOT NULL,
    metric          VARCHAR NOT NULL,
    lob             VARCHAR,
    model           VARCHAR,
    start_ts        TIMESTAMP NOT NULL,
    end_ts          TIMESTAMP,
    peak_ts         TIMESTAMP NOT NULL,
    expected        DOUBLE,
    actual          DOUBLE,
    upper           DOUBLE,                      -- the base band's edges at the peak
    lower           DOUBLE,
    severity        VARCHAR NOT NULL,            -- what it would have been at base sensitivity
    factor          DOUBLE NOT NULL,             -- the widening in force when it started
    detected_at     TIMESTAMP NOT NULL
);
