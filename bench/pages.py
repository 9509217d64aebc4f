"""Bench: every dashboard page's queries on warehouses holding 5M and 50M invocations.

Builds each warehouse with DuckDB SQL straight from range() (no landing zone, no ingest):
90 days of usage_hourly for 6 LOBs x 15 applications x 12 models x 4 regions, sparse (each
application uses a few models in a region or two, and a quiet hour may have no call); the
page rollups (migration 0008) derived from it; CloudWatch
hourly points; the bill and what `genai-lens models run` writes; job bookkeeping; and, at
full size, the raw tables a page touches only by a bounded lookup or a newest-row read:
one invocations row and one CloudTrail row per invocation (CloudTrail logs every model call
as a management event), and a minute of raw metric points per account and region.

Then, in a fresh process per warehouse (so its peak RSS is the pages' and not the build's), it
runs each page's queries through app.data.query (uncached: the first view after an ingest)
with the sidebar's queries included, for the default 30-day period and for 90 days, and prints
per page the median over runs of all its queries together, and the peak RSS.

    .venv/bin/python bench/pages.py                 # build (once) and measure 5M and 50M
    .venv/bin/python bench/pages.py --rebuild       # build again
    .venv/bin/python bench/pages.py --scales 5      # only 5M

Warehouses are kept in bench/out/ (git-ignored). Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
DAYS = 90
RUNS = 7

SIDEBAR = ["overview_freshness", "overview_dimensions", "shared_sources"]
PAGES = {
    "overview": ["overview_usage", "overview_month", "overview_landing"],
    "spend": ["spend_daily", "spend_units", "spend_forecast", "spend_landing", "spend_backtests",
              "spend_ce_forecast", "spend_reconciliation", "spend_chargeback"],
    "capacity": ["capacity_savings", "capacity_mix", "capacity_prices", "capacity_runway",
                 "capacity_backtests", "capacity_drivers", "capacity_lifecycle"],
    "reliability": ["reliability_usage", "reliability_cloudwatch", "reliability_errors"],
    "anomalies": ["anomalies_feed", "anomalies_detail", "anomalies_band", "anomalies_changes",
                  "anomalies_sample"],
    "governance": ["governance_daily", "governance_changes", "governance_logging_gaps",
                   "governance_policies", "governance_guardrails", "governance_coverage"],
    "data-health": ["health_runs", "health_quarantine", "health_unpriced", "health_unattributed",
                    "health_logging_gaps"],
}  # fmt: skip
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]

MODELS = [  # (model id, input, output USD per 1M tokens, base latency ms); the last is unpriced
    ("anthropic.claude-sonnet-4-20250514-v1:0", 3.0, 15.0, 2400),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", 0.8, 4.0, 900),
    ("anthropic.claude-opus-4-1-20250805-v1:0", 15.0, 75.0, 5200),
    ("anthropic.claude-haiku-4-5-20251001-v1:0", 1.0, 5.0, 800),
    ("amazon.nova-pro-v1:0", 0.8, 3.2, 1500),
    ("amazon.nova-lite-v1:0", 0.06, 0.24, 700),
    ("amazon.nova-micro-v1:0", 0.035, 0.14, 450),
    ("meta.llama3-1-70b-instruct-v1:0", 0.72, 0.72, 1900),
    ("meta.llama3-1-8b-instruct-v1:0", 0.22, 0.22, 600),
    ("mistral.mistral-large-2407-v1:0", 2.0, 6.0, 2100),
    ("amazon.titan-embed-text-v2:0", 0.02, 0.0, 120),
    ("cohere.command-r-plus-v1:0", None, None, 1700),
]
LOBS = ["retail-banking", "wealth", "insurance", "customer-service", "marketing", "risk"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]
ACCOUNTS = ["111111111111", "222222222222", "333333333333"]


def build(path: Path, invocations: int) -> None:
    """A warehouse of `invocations` over DAYS days, every table a page reads filled."""
    from warehouse.db import connect

    partial = path.with_suffix(".partial")  # renamed when whole: a failed build is not reused
    partial.unlink(missing_ok=True)
    con = connect(partial)  # migrations create every table, the page rollups included
    end = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    params = {"end": end, "days": DAYS, "target": invocations}
    started = time.perf_counter()
    for name, script in STEPS:
        t = time.perf_counter()
        for statement in script.split(";\n"):
            used = {k: v for k, v in params.items() if f"${k}" in statement}
            con.execute(statement, used) if used else con.execute(statement)
        print(f"  {name:<28} {time.perf_counter() - t:6.1f} s", flush=True)
    con.execute("CHECKPOINT")
    con.close()
    partial.replace(path)
    size = path.stat().st_size / 1e9
    print(f"  built in {time.perf_counter() - started:.0f} s, {size:.1f} GB", flush=True)


def _values(rows: list[tuple]) -> str:
    cells = (", ".join("NULL" if v is None else repr(v) for v in row) for row in rows)
    return ", ".join(f"({c})" for c in cells)


DIMENSIONS = f"""
CREATE OR REPLACE TABLE bench_models (model_i INT, model VARCHAR, p_in DOUBLE, p_out DOUBLE,
                                      base_ms DOUBLE);
INSERT INTO bench_models VALUES {_values([(i, *m) for i, m in enumerate(MODELS)])};
CREATE OR REPLACE TABLE bench_combos AS
WITH lobs AS (SELECT l AS lob_i, {LOBS}[l + 1] AS lob FROM range(6) t (l)),
     apps AS (SELECT lob_i, lob, lob || '-app-' || a AS app FROM lobs, range(15) t (a)),
     regions AS (SELECT {REGIONS}[r + 1] AS region FROM range(4) t (r))
SELECT row_number() OVER () AS combo, a.lob_i, a.lob, a.app, m.model_i, m.model, r.region,
       {ACCOUNTS}[a.lob_i % 3 + 1] AS account_id,
       'arn:aws:iam::' || {ACCOUNTS}[a.lob_i % 3 + 1] || ':role/' || a.app AS principal,
       0.3 + (hash(a.app) % 100) / 50.0 AS weight
FROM apps a, bench_models m, regions r
WHERE hash(a.app || m.model) % 5 = 0 AND hash(a.app || r.region) % 3 = 0
"""

USAGE = """
INSERT INTO usage_hourly BY NAME
WITH hours AS (
    SELECT $end::TIMESTAMP - to_hours(h::BIGINT) AS hour FROM range(24 * $days) t (h)
), grid AS (
    SELECT h.hour, c.*,
           -- office hours and weekdays busier; a pseudo-random draw per hour and combo
           (CASE WHEN hour(h.hour) BETWEEN 7 AND 19 THEN 1.6 ELSE 0.25 END)
           * (CASE WHEN dayofweek(h.hour) IN (0, 6) THEN 0.35 ELSE 1.0 END) * c.weight AS rhythm,
           (hash(h.hour, c.combo) % 10000) / 10000.0 AS u
    FROM hours h, bench_combos c
), sized AS (
    SELECT *, sum(rhythm) OVER () AS total_rhythm FROM grid
), counted AS (
    SELECT *, floor($target::DOUBLE * rhythm / total_rhythm * (0.4 + 1.2 * u))::BIGINT AS n
    FROM sized
)
SELECT
    c.hour, c.account_id, c.region, c.lob, c.app, c.model,
    CASE WHEN c.model LIKE 'amazon.titan-embed%' THEN 'InvokeModel' ELSE 'Converse' END
        AS operation,
    c.n AS invocations,
    floor(c.n * 0.012 * ((hash(c.combo, c.hour, 1) % 100) / 100.0))::BIGINT AS errors,
    floor(c.n * 0.004 * ((hash(c.combo, c.hour, 2) % 100) / 100.0))::BIGINT AS throttles,
    c.n * (1200 + hash(c.combo, c.hour, 3) % 1400) AS input_tokens,
    c.n * (150 + hash(c.combo, c.hour, 4) % 550) AS output_tokens,
    CASE WHEN c.model LIKE 'anthropic.%' THEN c.n * 300 ELSE 0 END AS cache_read_tokens,
    0 AS cache_write_tokens,
    (c.n * (1200 + hash(c.combo, c.hour, 3) % 1400) * m.p_in
     + c.n * (150 + hash(c.combo, c.hour, 4) % 550) * m.p_out) / 1e6 AS est_cost_usd,
    CASE WHEN m.p_in IS NULL THEN c.n ELSE 0 END AS unpriced_invocations,
    CASE WHEN c.lob_i IN (0, 1, 3) THEN c.n ELSE 0 END AS guardrail_invocations,
    CASE WHEN c.lob_i IN (0, 1, 3)
         THEN floor(c.n * 0.03 * ((hash(c.combo, c.hour, 5) % 100) / 100.0))::BIGINT
         ELSE 0 END AS guardrail_interventions,
    c.n * m.base_ms * (0.8 + 0.4 * c.u) AS latency_ms_sum,
    c.n AS latency_count,
    m.base_ms * (0.8 + 0.4 * c.u) AS latency_p50_ms,
    m.base_ms * (0.8 + 0.4 * c.u) * 1.8 AS latency_p90_ms,
    m.base_ms * (0.8 + 0.4 * c.u) * 2.2 AS latency_p95_ms,
    m.base_ms * (0.8 + 0.4 * c.u) * 3.5 AS latency_p99_ms,
    CASE WHEN c.lob_i % 2 = 0 THEN c.n // 3 ELSE 0 END AS first_byte_count,
    CASE WHEN c.lob_i % 2 = 0 THEN c.n // 3 * m.base_ms * 0.15 END AS first_byte_ms_sum,
    CASE WHEN c.lob_i % 2 = 0 THEN m.base_ms * 0.13 END AS first_byte_p50_ms,
    CASE WHEN c.lob_i % 2 = 0 THEN m.base_ms * 0.25 END AS first_byte_p90_ms,
    CASE WHEN c.lob_i % 2 = 0 THEN m.base_ms * 0.5 END AS first_byte_p99_ms
FROM counted c JOIN bench_models m USING (model_i)
WHERE c.n > 0
ORDER BY c.hour
"""

ROLLUP_ROWS = """
INSERT INTO usage_errors_hourly BY NAME
SELECT hour, account_id, region, lob, app, model, 'ThrottlingException' AS error_code,
       throttles AS errors
FROM usage_hourly WHERE throttles > 0
UNION ALL
SELECT hour, account_id, region, lob, app, model,
       ['ValidationException', 'ModelErrorException', 'ServiceUnavailableException',
        'ModelTimeoutException'][(hash(hour, app) % 4)::BIGINT + 1],
       errors - throttles
FROM usage_hourly WHERE errors > throttles;
INSERT INTO usage_guardrails_hourly BY NAME
SELECT hour, account_id, region, lob, app, model,
       ['TopicPolicy', 'ContentPolicy', 'WordPolicy', 'SensitiveInformationPolicy']
           [(hash(hour, app) % 4)::BIGINT + 1] AS policy,
       guardrail_interventions AS interventions
FROM usage_hourly WHERE guardrail_interventions > 0;
INSERT INTO usage_principals_hourly BY NAME
SELECT hour, account_id, 'arn:aws:iam::' || account_id || ':role/' || app AS principal_arn,
       lob, app, sum(invocations) AS invocations
FROM usage_hourly GROUP BY ALL
"""

METRICS = """
INSERT INTO usage_metrics_hourly BY NAME
WITH per_model AS (
    SELECT u.hour, u.account_id, u.region, u.model, sum(u.invocations)::DOUBLE AS n,
           sum(u.throttles)::DOUBLE AS throttles, any_value(m.base_ms) AS base,
           sum(u.input_tokens + u.output_tokens)::DOUBLE AS tokens
    FROM usage_hourly u JOIN bench_models m USING (model)
    GROUP BY ALL
)
SELECT hour, account_id, region, 'AWS/Bedrock' AS namespace, metric AS metric_name,
       map(['ModelId'], [model]) AS dimensions, model AS model_id, model,
       CASE metric WHEN 'Invocations' THEN n WHEN 'InvocationThrottles' THEN throttles
                   WHEN 'InputTokenCount' THEN tokens END AS sum,
       n AS samples,
       CASE WHEN metric = 'EstimatedTPMQuotaUsage' THEN tokens / 20 END AS maximum,
       CASE metric WHEN 'InvocationLatency' THEN base WHEN 'TimeToFirstToken' THEN base / 6 END
           AS p50,
       CASE metric WHEN 'InvocationLatency' THEN base * 1.8 WHEN 'TimeToFirstToken' THEN base / 3
       END AS p90,
       CASE metric WHEN 'InvocationLatency' THEN base * 3 WHEN 'TimeToFirstToken' THEN base / 2
       END AS p99
FROM per_model,
     unnest(['Invocations', 'InvocationThrottles', 'InputTokenCount', 'InvocationLatency',
             'TimeToFirstToken', 'EstimatedTPMQuotaUsage']) t (metric)
UNION ALL BY NAME
SELECT hour, account_id, region, 'AWS/Bedrock' AS namespace, 'Invocations' AS metric_name,
       MAP {}::MAP(VARCHAR, VARCHAR) AS dimensions, sum(n) AS sum, sum(n) AS samples
FROM per_model GROUP BY ALL
UNION ALL BY NAME
SELECT hour, account_id, region, 'AWS/Bedrock/Guardrails' AS namespace,
       'InvocationsIntervened' AS metric_name,
       map(['GuardrailArn', 'GuardrailPolicyType', 'GuardrailVersion'],
           ['arn:aws:bedrock:' || region || ':' || account_id || ':guardrail/g'
                || (hash(region) % 9), policy, '3']) AS dimensions,
       (hash(hour, policy) % 7)::DOUBLE AS sum
FROM (SELECT DISTINCT hour, account_id, region FROM per_model),
     unnest(['TopicPolicy', 'ContentPolicy', 'WordPolicy', 'SensitiveInformationPolicy'])
         t (policy);
INSERT INTO metrics BY NAME
SELECT 'AWS/Bedrock' AS namespace, 'Invocations' AS metric_name,
       MAP {}::MAP(VARCHAR, VARCHAR) AS dimensions,
       $end::TIMESTAMP - to_minutes(m::BIGINT) AS ts, 60 AS period_s, 'Sum' AS stat,
       (hash(m, a) % 40)::DOUBLE AS value, 'Count' AS unit, a AS account_id,
       'us-east-1' AS region, 'stream' AS source, 'bench' AS source_object
FROM range(60 * 24 * $days) t (m),
     unnest(['111111111111', '222222222222', '333333333333']) u (a)
ORDER BY ts
"""

RAW = """
INSERT INTO invocations BY NAME
WITH usage AS (
    SELECT hour, account_id, region, lob, app, model, invocations,
           sum(invocations) OVER (ORDER BY hour, lob, app, model, region ROWS UNBOUNDED PRECEDING)
               - invocations AS first
    FROM usage_hourly
)
SELECT 'r' || (u.first + i) AS request_id,
       u.hour + to_seconds((i * 3599 // u.invocations)::BIGINT) AS ts,
       u.account_id, u.region, 'Converse' AS operation, u.model AS model_id, u.model, u.lob,
       u.app, 'arn:aws:iam::' || u.account_id || ':role/' || u.app AS principal_arn,
       1500 + (u.first + i) % 1000 AS input_tokens, 300 + (u.first + i) % 500 AS output_tokens,
       0 AS cache_read_tokens, 0 AS cache_write_tokens,
       800.0 + (u.first + i) % 3000 AS latency_ms,
       ((u.first + i) % 997 * 1e-5) AS est_cost_usd, 's3://bench/logs' AS source_object
FROM usage u, range(u.invocations) t (i);
INSERT INTO cloudtrail_events BY NAME
-- Model calls and configuration changes interleaved in time, as trail files deliver them.
SELECT * FROM (
    SELECT 'e' || request_id AS event_id, ts + INTERVAL 1 SECOND AS event_time,
           'bedrock.amazonaws.com' AS event_source, 'Converse' AS event_name,
           'Management' AS event_category, true AS read_only, 'invocation' AS change_kind,
           principal_arn, principal_arn AS session_issuer_arn, region AS aws_region,
           account_id AS recipient_account_id, request_id, model_id,
           's3://bench/trail' AS source_object
    FROM invocations
    UNION ALL BY NAME
    SELECT 'c' || i AS event_id, $end::TIMESTAMP - to_minutes((i * 97)::BIGINT) AS event_time,
           'bedrock.amazonaws.com' AS event_source,
           ['UpdateGuardrail', 'CreateInferenceProfile',
            'DeleteModelInvocationLoggingConfiguration', 'PutModelInvocationLoggingConfiguration',
            'ListGuardrails'][i % 5 + 1] AS event_name,
           ['guardrail', 'inference_profile', 'logging_config', 'logging_config', 'read']
               [i % 5 + 1] AS change_kind,
           'arn:aws:iam::111111111111:role/retail-banking-app-' || i % 15 AS principal_arn,
           'arn:aws:iam::111111111111:role/retail-banking-app-' || i % 15 AS session_issuer_arn,
           'us-east-1' AS aws_region, '111111111111' AS recipient_account_id,
           's3://bench/trail' AS source_object
    FROM range(1300) t (i)
)
ORDER BY event_time;
INSERT INTO usage_changes BY NAME
SELECT event_id, event_time, event_name, change_kind, principal_arn, session_issuer_arn,
       aws_region, recipient_account_id
FROM cloudtrail_events WHERE change_kind NOT IN ('invocation', 'read')
"""

COST_AND_MODELS = """
INSERT INTO cost_daily BY NAME
SELECT CAST(hour AS DATE) AS usage_date, account_id, 'Amazon Bedrock' AS service,
       'USE1-' || model || '-' || kind AS usage_type, model, kind AS token_kind,
       'regional' AS pricing_scope, region, MAP {}::MAP(VARCHAR, VARCHAR) AS tags,
       'total' AS breakdown, sum(est_cost_usd * share) * 1.03 AS unblended_cost,
       false AS estimated, 'cur' AS source, 'bench' AS source_object
FROM usage_hourly, (VALUES ('input', 0.4), ('output', 0.6)) k (kind, share)
WHERE est_cost_usd IS NOT NULL AND hour < date_trunc('day', $end::TIMESTAMP)
GROUP BY ALL;
INSERT INTO cost_allocated BY NAME
SELECT CAST(hour AS DATE) AS usage_date, lob, model, kind AS token_kind, 'share' AS basis,
       sum(est_cost_usd * share) AS est_cost, round(sum(est_cost_usd * share) * 1.03, 2)
           AS allocated_cost, 'cur' AS bill_source
FROM usage_hourly, (VALUES ('input', 0.4), ('output', 0.6)) k (kind, share)
WHERE est_cost_usd IS NOT NULL AND hour < date_trunc('day', $end::TIMESTAMP)
GROUP BY ALL;
INSERT INTO cost_reconciliation BY NAME
SELECT CAST(hour AS DATE) AS usage_date, model, sum(est_cost_usd) AS est_cost,
       sum(est_cost_usd) * 1.03 AS billed_cost, sum(est_cost_usd) * 0.03 AS drift_usd,
       0.03 / 1.03 AS drift_pct, 'cur' AS bill_source
FROM usage_hourly WHERE est_cost_usd IS NOT NULL GROUP BY ALL;
INSERT INTO cost_forecast VALUES
    ($end::TIMESTAMP, date_trunc('month', $end::TIMESTAMP)::DATE,
     (date_trunc('month', $end::TIMESTAMP) + INTERVAL 1 MONTH)::DATE, 'MONTHLY', 1000, 900,
     1100, 'UNBLENDED_COST', 'ce');
INSERT INTO forecasts BY NAME
WITH daily AS (
    SELECT 'lob:' || lob AS series, CAST(hour AS DATE) AS day, sum(est_cost_usd) AS cost
    FROM usage_hourly GROUP BY ALL
    UNION ALL
    SELECT 'total', CAST(hour AS DATE), sum(est_cost_usd) FROM usage_hourly GROUP BY ALL
)
SELECT series, day, cost AS actual, cost AS yhat, 'prophet' AS method,
       $end::TIMESTAMP AS run_at FROM daily
UNION ALL BY NAME
SELECT series, (max(day) + to_days(d::INT))::DATE AS day, avg(cost) AS yhat,
       avg(cost) * 0.9 AS lo80, avg(cost) * 1.1 AS hi80, avg(cost) * 0.85 AS lo95,
       avg(cost) * 1.15 AS hi95, 'prophet' AS method, $end::TIMESTAMP AS run_at
FROM daily, range(1, 46) t (d) GROUP BY series, d;
INSERT INTO forecast_landing BY NAME
SELECT series, kind AS period_kind, start AS period_start, finish AS period_end,
       sum(actual) AS actual_to_date, sum(actual) * 1.4 AS landing, sum(actual) * 1.3 AS lo80,
       sum(actual) * 1.5 AS hi80, sum(actual) * 1.4 AS budget, 0.5 AS p_exceed,
       'at_risk' AS status, $end::TIMESTAMP AS run_at
FROM forecasts,
     (SELECT 'month' AS kind, date_trunc('month', $end::TIMESTAMP)::DATE AS start,
             (date_trunc('month', $end::TIMESTAMP) + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE
                 AS finish
      UNION ALL
      SELECT 'quarter', date_trunc('quarter', $end::TIMESTAMP)::DATE,
             (date_trunc('quarter', $end::TIMESTAMP) + INTERVAL 3 MONTH - INTERVAL 1 DAY)::DATE)
WHERE actual IS NOT NULL AND day >= start
GROUP BY ALL;
INSERT INTO forecast_backtests BY NAME
SELECT DISTINCT series, h AS horizon_days, 8 AS origins, 0.08 AS mape, 0.8 AS coverage80,
       0.94 AS coverage95, 0.12 AS naive_mape, 'prophet' AS method, $end::TIMESTAMP AS run_at
FROM forecasts, (VALUES (7), (30)) t (h);
INSERT INTO anomalies BY NAME
SELECT 'a' || i AS anomaly_id, 'cost|' || lob || '|' || model AS series_key, 'cost' AS metric,
       lob, model, $end::TIMESTAMP - to_hours((i * 7)::BIGINT) AS start_ts,
       $end::TIMESTAMP - to_hours((i * 7 - 2)::BIGINT) AS end_ts,
       $end::TIMESTAMP - to_hours((i * 7 - 1)::BIGINT) AS peak_ts, 40.0 AS expected,
       150.0 AS actual, 30.0 AS lower, 50.0 AS upper,
       ['low', 'medium', 'high', 'critical'][i % 4 + 1] AS severity, 3.0 AS score,
       'up' AS direction, 'app=' || app AS driver, 0.8 AS driver_share,
       '{"driver": {"label": "app", "breakdown": []}}' AS explanation, 'open' AS status,
       $end::TIMESTAMP AS detected_at
FROM range(300) t (i)
JOIN (SELECT row_number() OVER (ORDER BY combo) - 1 AS k, lob, model, app FROM bench_combos) c
  ON c.k = i % 200;
INSERT INTO anomaly_bands BY NAME
SELECT a.series_key, a.start_ts + to_hours(s::BIGINT) AS ts, 40.0 + s % 5 AS actual,
       40.0 AS expected, 30.0 AS lower, 50.0 AS upper
FROM anomalies a, range(-72, 25) t (s);
INSERT INTO ingest_runs BY NAME
SELECT 'run-' || i AS run_id,
       ['invocation-logs', 'metrics', 'cloudtrail', 'cost', 'models'][i % 5 + 1] AS source,
       'schedule' AS trigger, $end::TIMESTAMP - to_minutes((i * 3)::BIGINT) AS started_at,
       $end::TIMESTAMP - to_minutes((i * 3)::BIGINT) + INTERVAL 40 SECOND AS finished_at,
       CASE WHEN i % 97 = 0 THEN 'error' ELSE 'ok' END AS status, 12 AS objects,
       1200 AS rows_inserted, CASE WHEN i % 97 = 0 THEN 'AccessDenied: grant s3:GetObject' END
           AS error
FROM range(43200) t (i);
INSERT INTO quarantine BY NAME
SELECT 'invocation_logs' AS source, 's3://bench/logs/' || (i // 3) || '.json.gz'
           AS source_object, i % 3 + 1 AS line,
       ['missing requestId', 'not JSON', 'bad token count'][i % 3 + 1] AS reason
FROM range(600) t (i);
INSERT INTO watermarks
SELECT s, s || '-zone', $end::TIMESTAMP, $end::TIMESTAMP
FROM unnest(['invocation_logs', 'metrics', 'cloudtrail', 'cost']) t (s);
INSERT INTO prices BY NAME
SELECT model, '*' AS region, DATE '2024-01-01' AS effective_from, p_in AS input_per_1m,
       p_out AS output_per_1m, p_in / 10 AS cache_read_per_1m, p_in * 1.25 AS cache_write_per_1m,
       0.0 AS geo_premium, 'bench' AS source
FROM bench_models WHERE p_in IS NOT NULL;
DROP TABLE bench_combos;
DROP TABLE bench_models
"""

# The Capacity page's rollups, one row per usage_hourly row (savings) and per hour, account,
# Region, model and LOB (busiest minutes), with figures drawn from the usage row; a quota and
# a LEGACY model so the runway and lifecycle queries have rows to join.
CAPACITY = """
INSERT INTO usage_savings_hourly BY NAME
SELECT hour, account_id, region, lob, app, model, operation, invocations, est_cost_usd,
       invocations // 3 AS prefix_calls, input_tokens // 4 AS prefix_hit5_tokens,
       input_tokens // 8 AS prefix_miss5_tokens, input_tokens // 3 AS prefix_hit60_tokens,
       input_tokens // 24 AS prefix_miss60_tokens, invocations // 5 AS geo_invocations,
       est_cost_usd / 5 AS geo_cost_usd, throttles AS retry_invocations,
       est_cost_usd / 200 AS retry_waste_usd, invocations // 50 AS cut_invocations,
       est_cost_usd / 50 AS cut_cost_usd, guardrail_interventions AS blocked_invocations,
       est_cost_usd / 100 AS blocked_cost_usd, invocations AS reserved_invocations,
       invocations * 4096 AS max_tokens_sum, output_tokens AS reserved_output_tokens
FROM usage_hourly;
INSERT INTO quota_peaks_hourly BY NAME
SELECT hour, account_id, region, model, 'logs' AS source, lob,
       hour + to_minutes((hash(hour, model) % 60)::BIGINT) AS peak_minute,
       sum(sum(input_tokens + output_tokens)) OVER (PARTITION BY hour, account_id, region, model)
           / 20.0 AS peak_tokens,
       (sum(sum(invocations)) OVER (PARTITION BY hour, account_id, region, model) // 20)::BIGINT
           AS peak_requests,
       sum(input_tokens + output_tokens) / 20.0 AS lob_tokens, sum(throttles) AS throttles,
       sum(invocations) AS invocations
FROM usage_hourly GROUP BY hour, account_id, region, model, lob;
INSERT INTO model_quotas VALUES
    (NULL, 'us-east-1', 'anthropic.claude-sonnet-4-20250514-v1:0', 'tpm', 2000000, NULL, NULL,
     'config', $end::TIMESTAMP);
INSERT INTO model_lifecycle VALUES
    ('*', 'anthropic.claude-3-5-haiku-20241022-v1:0', NULL, NULL, 'LEGACY', DATE '2025-09-01',
     DATE '2026-03-01', 'anthropic.claude-haiku-4-5-20251001-v1:0', 'config', $end::TIMESTAMP);
INSERT INTO quota_runway VALUES
    (NULL, 'us-east-1', 'anthropic.claude-sonnet-4-20250514-v1:0', 'tpm', 2000000, 'config',
     CAST($end::TIMESTAMP AS DATE), 1500000, 1600000, 1900000, NULL, NULL, 'prophet', '',
     $end::TIMESTAMP)
"""

STEPS = [
    ("dimensions", DIMENSIONS), ("usage_hourly", USAGE), ("rollups", ROLLUP_ROWS),
    ("cloudwatch", METRICS), ("invocations + cloudtrail", RAW),
    ("bill, models, bookkeeping", COST_AND_MODELS), ("capacity rollups", CAPACITY),
]  # fmt: skip


def measure(path: Path) -> dict:
    """Run in a child process: every page's queries, RUNS times, for 30 and 90 days."""
    os.environ["GENAI_LENS_WAREHOUSE"] = str(path)
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from app import data, view
    from base import clock
    from warehouse import runtime

    out: dict = {"rows": {}}
    version = data.freshness(data.ADMIN)
    with runtime.cursor() as cur:
        for table in ("usage_hourly", "usage_metrics_hourly", "invocations", "cloudtrail_events",
                      "metrics"):  # fmt: skip
            out["rows"][table] = cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    for period in ("Last 30 days", "Last 90 days"):
        w = view.window(view.Filters(*view.period_days(period, view.today())), version)
        params = w.params() | {"anomaly_id": "a3", "hours_before": 24, "batch_start": 0,
                               "batch_end": 6, "now": clock.utcnow()}  # fmt: skip
        for page, names in PAGES.items():
            totals, per_query = [], {n: [] for n in SIDEBAR + names}
            for _ in range(RUNS):
                start = time.perf_counter()
                for name in SIDEBAR + names:
                    t = time.perf_counter()
                    data.query(name, params)
                    per_query[name].append(time.perf_counter() - t)
                totals.append(time.perf_counter() - start)
            out[f"{period}|{page}"] = {
                "median_ms": statistics.median(totals) * 1000,
                "queries": {n: statistics.median(v) * 1000 for n, v in per_query.items()},
            }
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def peak_rss_mb() -> float:
    """This process's peak resident memory since its exec (VmHWM). Not ru_maxrss: Linux keeps
    that across exec, so a child would report the parent's build-time peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[5, 50], help="millions")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="each query's median too")
    parser.add_argument("--no-server", action="store_true", help="skip the browser run")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    results = {}
    for millions in args.scales:
        path = OUT / f"pages_{millions}m.duckdb"
        if args.rebuild or not path.exists():
            print(f"building {millions}M invocations -> {path}", flush=True)
            build(path, millions * 1_000_000)
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)], capture_output=True, text=True
        )  # fmt: skip
        if child.returncode:
            raise SystemExit(child.stderr)
        results[millions] = json.loads(child.stdout.strip().splitlines()[-1])
    report(results, args.verbose)
    if not args.no_server:
        biggest = max(args.scales)
        print(f"\nthe server on {biggest}M: " + serve_and_browse(OUT / f"pages_{biggest}m.duckdb"))


def serve_and_browse(path: Path) -> str:
    """`genai-lens serve` on the warehouse, every page loaded in Chromium for both periods,
    twice (cold, then cached); the server process's peak RSS, polled every 0.1 s."""
    import threading

    import psutil
    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cli = str(Path(sys.executable).parent / "genai-lens")
    cmd = [cli, "--warehouse", str(path), "serve", "--no-scheduler", "--port", str(port),
           "--address", "127.0.0.1"]  # fmt: skip
    server = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, done = [0], threading.Event()

    def poll() -> None:
        while not done.wait(0.1):
            with contextlib.suppress(psutil.Error):
                peak[0] = max(peak[0], server.memory_info().rss)

    threading.Thread(target=poll, daemon=True).start()
    url, loads, slowest = f"http://127.0.0.1:{port}", 0, 0.0
    try:
        wait_healthy(url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for _ in range(2):
                for period in ("Last+30+days", "Last+90+days"):
                    for name in PAGES:
                        t = time.perf_counter()
                        page.goto(f"{url}/{name}?period={period}", wait_until="networkidle")
                        page.wait_for_selector('[data-testid="stMain"]', timeout=60_000)
                        slowest, loads = max(slowest, time.perf_counter() - t), loads + 1
            browser.close()
    finally:
        done.set()
        server.terminate()
        server.wait(timeout=90)
    return (
        f"{loads} page loads in Chromium, peak RSS {peak[0] / 1e6:.0f} MB, "
        f"slowest load {slowest:.1f} s (browser included)"
    )


def wait_healthy(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r,
        ):
            if r.read() == b"ok":
                return
        time.sleep(0.5)
    raise SystemExit(f"the server at {url} did not come up")


def report(results: dict, verbose: bool) -> None:
    scales = sorted(results)
    for m in scales:
        rows = ", ".join(f"{t} {n:,}" for t, n in results[m]["rows"].items())
        print(f"{m}M invocations: {rows}")
    for period in ("Last 30 days", "Last 90 days"):
        print(f"\n{period}: median of all a page's queries (sidebar's included), ms")
        print(f"{'page':<14}" + "".join(f"{f'{m}M':>10}" for m in scales) + "   growth")
        for page in PAGES:
            cells = [results[m][f"{period}|{page}"]["median_ms"] for m in scales]
            growth = f"{cells[-1] / cells[0]:.2f}x" if len(cells) > 1 else ""
            print(f"{page:<14}" + "".join(f"{c:>10.0f}" for c in cells) + f"   {growth}")
            if verbose:
                for name in results[scales[-1]][f"{period}|{page}"]["queries"]:
                    q = [results[m][f"{period}|{page}"]["queries"][name] for m in scales]
                    print(f"    {name:<28}" + "".join(f"{c:>8.1f}" for c in q))
    print("\npeak RSS of the measuring process: " + ", ".join(
        f"{m}M {results[m]['peak_rss_mb']:.0f} MB" for m in scales))  # fmt: skip


if __name__ == "__main__":
    main()
