"""Everything else an estate leaves in the warehouse, derived from its usage_hourly rows.

`fill(con, usage)` adds, consistently with the usage: the page rollups (migration 0008),
CloudWatch points, CloudTrail events, the price catalog, the bill (cost_daily, Cost Explorer's
forecast), what `genai-lens models run` writes (allocation, reconciliation, forecasts,
landing, backtests, anomalies with their bands) and the job bookkeeping (runs, watermarks,
quarantine). Each part can be left out, to test a page without it. Figures are seeded.

Reached through the `factory` fixture (conftest.py), like the usage rows.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

ACCOUNT = "111122223333"
# (input, output, cache read) USD per 1M tokens: the factory's catalog, with cache prices.
CACHE_READ = {"anthropic.claude-sonnet-4-20250514-v1:0": 0.30,
              "anthropic.claude-3-5-haiku-20241022-v1:0": 0.08,
              "anthropic.claude-opus-4-1-20250805-v1:0": 1.50}  # fmt: skip
POLICIES = ("TopicPolicy", "ContentPolicy", "SensitiveInformationPolicy", "WordPolicy")
GUARDRAIL = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/q7w2e9r4t1yu"
SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"
HOUR = timedelta(hours=1)
EXPLANATION = json.dumps({  # the shape jobs.model_anomalies writes
    "expected": 42.0, "actual": 180.0,
    "driver": {
        "label": "app=research", "dimension": "app", "value": "research", "share": 0.86,
        "informative": True,
        "breakdown": [
            {"dimension": "app", "value": "research", "actual": 150.0, "expected": 31.0,
             "delta": 119.0},
            {"dimension": "app", "value": "advisor", "actual": 30.0, "expected": 11.0,
             "delta": 19.0},
        ],
    },
    "decomposition": {
        "factors": {"volume": 3.9, "tokens_per_call": 1.1, "model_mix": 1.0,
                    "price_per_token": 1.0},
        "shares": {"volume": 0.93, "tokens_per_call": 0.07, "model_mix": 0.0,
                   "price_per_token": 0.0},
    },
    "cloudtrail_changes": [],
})  # fmt: skip
CHANGE_COLUMNS = {
    "event_id", "event_time", "event_name", "change_kind", "principal_arn", "principal_type",
    "session_issuer_arn", "source_ip", "user_agent", "aws_region", "recipient_account_id",
    "error_code", "error_message", "guardrail_id", "model_id", "request_parameters",
}  # fmt: skip
BILL_MARKUP = 1.03  # the bill runs 3% over the estimate (rounding, tiers): visible drift


def principal(lob: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{lob}-bedrock"


ROLLUPS = ("usage_errors_hourly", "usage_guardrails_hourly", "usage_principals_hourly",
           "usage_metrics_hourly", "usage_changes")  # fmt: skip


def drop_rollups(con: Any) -> None:
    """A warehouse from before migration 0008: the page rollups are missing."""
    for table in ROLLUPS:
        con.execute(f"DROP TABLE {table}")


def fill(
    con: Any,
    usage: list[dict[str, Any]],
    prices: dict[str, tuple[float, float] | None],
    *,
    now: datetime,
    bill: bool = True,
    models: bool = True,
    metrics: bool = True,
    trail: bool = True,
    jobs: bool = True,
    seed: int = 1,
) -> dict[str, Any]:
    """Insert the rest of an estate; returns what tests need to check against (ids, days)."""
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    _insert(con, "prices", _prices(prices))
    _insert(con, "usage_errors_hourly", _errors(usage))
    _insert(con, "usage_guardrails_hourly", _policies(usage))
    _insert(con, "usage_principals_hourly", _principals(usage))
    if metrics:
        _insert(con, "usage_metrics_hourly", _metrics(usage, rng, gap=now - timedelta(hours=30)))
        _insert(con, "metrics", [_metric_point(now - timedelta(hours=1))])
    if trail:
        events = _trail(now)
        _insert(con, "cloudtrail_events", events)
        _insert(con, "usage_changes", [
            {k: v for k, v in e.items() if k in CHANGE_COLUMNS}
            for e in events if e["change_kind"] not in ("invocation", "read")
        ])  # fmt: skip
    daily = _daily(usage)
    if bill:
        bill_end = now.date() - timedelta(days=1)
        _insert(con, "cost_daily", _cost_daily(daily, bill_end))
        _insert(con, "cost_forecast", [_ce_forecast(now)])
        if models:
            _insert(con, "cost_allocated", _allocated(daily, bill_end))
            _insert(con, "cost_reconciliation", _reconciliation(daily, bill_end))
        out["bill_end"] = bill_end
    if models:
        _insert(con, "forecasts", _forecasts(daily, now, rng))
        _insert(con, "forecast_landing", _landing(daily, now))
        _insert(con, "forecast_backtests", _backtests(daily, now))
        anomalies, bands, sample = _anomalies(usage, now)
        _insert(con, "anomalies", anomalies)
        _insert(con, "anomaly_bands", bands)
        _insert(con, "invocations", sample)
        out["anomalies"] = [a["anomaly_id"] for a in anomalies]
    if jobs:
        _insert(con, "ingest_runs", _runs(now))
        _insert(con, "quarantine", _quarantine())
        _insert(con, "watermarks", _watermarks(now))
    return out


def _insert(con: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Append rows by column name; dict values go into MAP columns."""
    if not rows:
        return
    maps = sorted({k for r in rows for k, v in r.items() if isinstance(v, dict)})
    rows = [
        r | {k: [{"key": a, "value": b} for a, b in r[k].items()] for k in maps if k in r}
        for r in rows
    ]
    frame = pl.DataFrame(rows, infer_schema_length=None)  # noqa: F841 - read by DuckDB
    replace = ", ".join(f"map_from_entries({k}) AS {k}" for k in maps)
    select = f"SELECT * REPLACE ({replace}) FROM frame" if maps else "SELECT * FROM frame"
    con.execute(f"INSERT INTO {table} BY NAME {select}")


def _key(*parts: object) -> int:
    return int(hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


# --- rollups ----------------------------------------------------------------------------------


def _errors(usage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for r in usage:
        dims = {k: r[k] for k in ("hour", "account_id", "region", "lob", "app", "model")}
        if r["throttles"]:
            rows.append(dims | {"error_code": "ThrottlingException", "errors": r["throttles"]})
        if other := r["errors"] - r["throttles"]:
            code = ("ValidationException", "ModelErrorException")[_key(r["hour"], r["lob"]) % 2]
            rows.append(dims | {"error_code": code, "errors": other})
    return rows


def _policies(usage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for r in usage:
        if r["guardrail_interventions"]:
            policy = POLICIES[_key(r["hour"], r["app"]) % len(POLICIES)]
            dims = {k: r[k] for k in ("hour", "account_id", "region", "lob", "app", "model")}
            rows.append(dims | {"policy": policy, "interventions": r["guardrail_interventions"]})
    return rows


def _principals(usage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"hour": r["hour"], "account_id": r["account_id"], "principal_arn": principal(r["lob"]),
         "lob": r["lob"], "app": r["app"], "invocations": r["invocations"]}
        for r in usage
    ]  # fmt: skip


def _metrics(
    usage: list[dict[str, Any]], rng: random.Random, gap: datetime
) -> list[dict[str, Any]]:
    """Per hour and model the AWS/Bedrock series; per hour the all-models Invocations.

    CloudWatch counts what the logs hold (Invocations plus InvocationThrottles), except in the
    hour `gap` (its day's first usage hour
    from then on), where logging was off: CloudWatch saw calls that no log holds.
    """
    per_model: dict[tuple[datetime, str, str, str], int] = defaultdict(int)
    for r in usage:
        per_model[(r["hour"], r["account_id"], r["region"], r["model"])] += r["invocations"]
    gap_hour = min((h for h, *_ in per_model if h >= gap), default=None)
    rows, totals = [], defaultdict(int)
    for (hour, account, region, model), n in sorted(per_model.items()):
        base = 400 + _key(model) % 2000
        common = {"hour": hour, "account_id": account, "region": region,
                  "namespace": "AWS/Bedrock", "model_id": model, "model": model,
                  "dimensions": {"ModelId": model}}  # fmt: skip
        for metric, scale in (("InvocationLatency", 1.0), ("TimeToFirstToken", 0.18)):
            p50 = base * scale * rng.uniform(0.9, 1.1)
            rows.append(common | {"metric_name": metric, "samples": float(n), "sum": p50 * n,
                                  "maximum": p50 * 4, "p50": p50, "p90": p50 * 1.8,
                                  "p99": p50 * 3.1})  # fmt: skip
        # As Bedrock counts: a throttled call is in InvocationThrottles, not in Invocations
        # (the logs hold both).
        throttles = n // 40
        rows.append(common | {"metric_name": "Invocations", "sum": float(n - throttles),
                              "samples": float(n - throttles)})  # fmt: skip
        rows.append(common | {"metric_name": "InvocationThrottles", "sum": float(throttles)})
        rows.append(common | {"metric_name": "EstimatedTPMQuotaUsage",
                              "maximum": 20_000.0 + n * 150, "samples": 60.0})  # fmt: skip
        totals[(hour, account, region)] += n - throttles + (n * 3 if hour == gap_hour else 0)
    for (hour, account, region), n in totals.items():
        rows.append({"hour": hour, "account_id": account, "region": region,
                     "namespace": "AWS/Bedrock", "metric_name": "Invocations", "dimensions": {},
                     "sum": float(n), "samples": float(n)})  # fmt: skip
        if hour.hour == 13:
            rows.append({"hour": hour, "account_id": account, "region": region,
                         "namespace": "AWS/Bedrock/Guardrails",
                         "metric_name": "InvocationsIntervened",
                         "dimensions": {"GuardrailArn": GUARDRAIL, "GuardrailVersion": "3",
                                        "GuardrailPolicyType": POLICIES[hour.day % 4]},
                         "sum": float(1 + hour.day % 5)})  # fmt: skip
    return rows


def _metric_point(ts: datetime) -> dict[str, Any]:
    return {"namespace": "AWS/Bedrock", "metric_name": "Invocations", "dimensions": {},
            "ts": ts, "period_s": 60, "stat": "Sum", "value": 12.0, "unit": "Count",
            "account_id": ACCOUNT, "region": "us-east-1", "source": "stream",
            "source_object": "s3://metric-stream/2026/01/01/00/x.gz"}  # fmt: skip


# --- CloudTrail -------------------------------------------------------------------------------


def _trail(now: datetime) -> list[dict[str, Any]]:
    """Configuration changes (a guardrail edit by an unexpected principal, logging switched off
    then on) and a few model calls, which the audit trail must leave out."""
    intruder = f"arn:aws:iam::{ACCOUNT}:role/contractor-sandbox"
    events = [
        ("UpdateGuardrail", "guardrail", intruder, now - timedelta(days=3, hours=4), None),
        ("DeleteModelInvocationLoggingConfiguration", "logging_config", principal("marketing"),
         now - timedelta(hours=31), None),
        ("PutModelInvocationLoggingConfiguration", "logging_config", principal("marketing"),
         now - timedelta(hours=26), None),
        ("CreateInferenceProfile", "inference_profile", principal("wealth"),
         now - timedelta(days=5), None),
        ("DeleteGuardrail", "guardrail", principal("wealth"), now - timedelta(days=2),
         "AccessDenied"),
    ]  # fmt: skip
    rows = []
    for i, (name, kind, who, ts, error) in enumerate(events):
        rows.append(_event(f"evt-{i}", name, kind, who, ts, error))
    for i in range(5):  # model calls: management events, one per invocation
        rows.append(_event(f"call-{i}", "Converse", "invocation", principal("wealth"),
                           now - timedelta(hours=i + 2), None))  # fmt: skip
    return rows


def _event(
    event_id: str, name: str, kind: str, who: str, ts: datetime, error: str | None
) -> dict[str, Any]:
    session = who.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + "/session"
    return {
        "event_id": event_id, "event_time": ts, "event_source": "bedrock.amazonaws.com",
        "event_name": name, "event_category": "Management", "event_type": "AwsApiCall",
        "read_only": kind == "invocation", "change_kind": kind, "principal_arn": session,
        "principal_type": "AssumedRole", "principal_account_id": ACCOUNT,
        "session_issuer_arn": who, "source_ip": "10.0.0.8", "user_agent": "aws-cli/2.17",
        "aws_region": "us-east-1", "recipient_account_id": ACCOUNT,
        "request_id": f"req-{event_id}", "error_code": error,
        "error_message": "not authorized" if error else None,
        "guardrail_id": "q7w2e9r4t1yu" if kind == "guardrail" else None,
        "request_parameters": '{"guardrailIdentifier": "q7w2e9r4t1yu"}' if kind == "guardrail"
        else None,
        "source_object": f"s3://trail/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{event_id}.json.gz",
    }  # fmt: skip


# --- cost -------------------------------------------------------------------------------------


def _prices(prices: dict[str, tuple[float, float] | None]) -> list[dict[str, Any]]:
    return [
        {"model": m, "region": "*", "effective_from": date(2024, 1, 1), "input_per_1m": p[0],
         "output_per_1m": p[1], "cache_read_per_1m": CACHE_READ.get(m),
         "cache_write_per_1m": p[0] * 1.25, "geo_premium": 0.0, "source": "test catalog"}
        for m, p in prices.items() if p is not None
    ]  # fmt: skip


def _daily(usage: list[dict[str, Any]]) -> dict[tuple[date, str, str], float]:
    """Priced estimated cost per (day, LOB, model)."""
    out: dict[tuple[date, str, str], float] = defaultdict(float)
    for r in usage:
        if r["est_cost_usd"] is not None:
            out[(r["hour"].date(), r["lob"], r["model"])] += r["est_cost_usd"]
    return out


def _by(daily: dict[tuple[date, str, str], float], *idx: int) -> dict[tuple, float]:
    out: dict[tuple, float] = defaultdict(float)
    for key, cost in daily.items():
        out[tuple(key[i] for i in idx)] += cost
    return out


def _cost_daily(daily: dict, bill_end: date) -> list[dict[str, Any]]:
    rows = []
    for (day, model), cost in sorted(_by(daily, 0, 2).items()):
        if day <= bill_end:
            for kind, share in (("input", 0.4), ("output", 0.6)):
                rows.append({
                    "usage_date": day, "account_id": ACCOUNT, "service": "Amazon Bedrock",
                    "usage_type": f"USE1-{model}-{kind}-tokens", "model": model,
                    "token_kind": kind, "pricing_scope": "regional", "region": "us-east-1",
                    "tags": {}, "breakdown": "total",
                    "unblended_cost": round(cost * share * BILL_MARKUP, 6),
                    "amortized_cost": round(cost * share * BILL_MARKUP, 6),
                    "net_unblended_cost": round(cost * share * BILL_MARKUP, 6),
                    "usage_quantity": 1.0, "usage_unit": "tokens", "estimated": False,
                    "source": "cur", "source_object": "s3://cur/2026/data.parquet",
                })  # fmt: skip
    return rows


def _allocated(daily: dict, bill_end: date) -> list[dict[str, Any]]:
    rows = []
    for (day, lob, model), cost in sorted(daily.items()):
        if day <= bill_end:
            for kind, share in (("input", 0.4), ("output", 0.6)):
                rows.append({
                    "usage_date": day, "lob": lob, "model": model, "token_kind": kind,
                    "basis": "share", "est_cost": round(cost * share, 6),
                    "allocated_cost": round(cost * share * BILL_MARKUP, 2), "bill_source": "cur",
                })  # fmt: skip
    return rows


def _reconciliation(daily: dict, bill_end: date) -> list[dict[str, Any]]:
    rows = []
    for (day, model), cost in sorted(_by(daily, 0, 2).items()):
        billed = cost * BILL_MARKUP if day <= bill_end else None
        rows.append({
            "usage_date": day, "model": model, "est_cost": cost, "billed_cost": billed,
            "drift_usd": None if billed is None else billed - cost,
            "drift_pct": None if billed is None else (billed - cost) / billed,
            "bill_source": "cur" if billed is not None else None,
        })  # fmt: skip
    return rows


def _ce_forecast(now: datetime) -> dict[str, Any]:
    month = now.date().replace(day=1)
    nxt = (month + timedelta(days=32)).replace(day=1)
    return {"created_at": now, "period_start": month, "period_end": nxt, "granularity": "MONTHLY",
            "mean": 1000.0, "lower": 900.0, "upper": 1100.0, "metric": "UNBLENDED_COST",
            "source_zone": "ce"}  # fmt: skip


# --- models -----------------------------------------------------------------------------------


def series_daily(daily: dict) -> dict[str, dict[date, float]]:
    """Daily estimated spend per forecast series: 'total' and 'lob:<name>'."""
    out: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for (day, lob, _), cost in daily.items():
        out["total"][day] += cost
        out[f"lob:{lob}"][day] += cost
    return out


def _forecasts(daily: dict, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for series, days in series_daily(daily).items():
        level = sum(list(days.values())[-7:]) / 7
        for day in sorted(days):
            rows.append({"series": series, "day": day, "actual": days[day], "yhat": days[day],
                         "method": "prophet", "run_at": now})  # fmt: skip
        for ahead in range(1, 46):
            day = now.date() + timedelta(days=ahead)
            yhat = level * (1 + 0.004 * ahead) * rng.uniform(0.97, 1.03)
            spread = yhat * (0.08 + 0.004 * ahead)
            rows.append({"series": series, "day": day, "actual": None, "yhat": yhat,
                         "lo80": yhat - spread, "hi80": yhat + spread,
                         "lo95": yhat - 1.6 * spread, "hi95": yhat + 1.6 * spread,
                         "method": "prophet", "run_at": now})  # fmt: skip
    return rows


def _landing(daily: dict, now: datetime) -> list[dict[str, Any]]:
    rows = []
    today = now.date()
    month = today.replace(day=1)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarter_end = (quarter + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    for i, (series, days) in enumerate(sorted(series_daily(daily).items())):
        level = sum(list(days.values())[-7:]) / 7
        for kind, start, end in (("month", month, month_end), ("quarter", quarter, quarter_end)):
            to_date = sum(c for d, c in days.items() if start <= d <= today)
            landing = to_date + level * (end - today).days
            budget = None if series == "lob:unattributed" else landing * (0.92 + 0.1 * (i % 3))
            p = None if budget is None else min(0.97, max(0.02, 0.5 + (landing - budget) / landing))
            status = ("no_budget" if budget is None else "over" if p > 0.8 else "at_risk"
                      if p > 0.4 else "on_track")  # fmt: skip
            rows.append({"series": series, "period_kind": kind, "period_start": start,
                         "period_end": end, "actual_to_date": to_date, "landing": landing,
                         "lo80": landing * 0.93, "hi80": landing * 1.07, "lo95": landing * 0.89,
                         "hi95": landing * 1.11, "budget": budget, "p_exceed": p,
                         "status": status, "run_at": now})  # fmt: skip
    return rows


def _backtests(daily: dict, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for series in sorted(series_daily(daily)):
        for horizon, mape in ((7, 0.06), (30, 0.11)):
            rows.append({"series": series, "horizon_days": horizon, "origins": 8,
                         "mape": mape + _key(series) % 5 / 100, "coverage80": 0.78,
                         "coverage95": 0.93, "naive_mape": mape * 1.6, "method": "prophet",
                         "run_at": now})  # fmt: skip
    return rows


def anomaly_id(series_key: str, start: datetime) -> str:
    return hashlib.sha1(f"{series_key}|{start:%Y-%m-%dT%H}".encode()).hexdigest()[:16]


def _anomalies(usage: list[dict[str, Any]], now: datetime) -> tuple[list, list, list]:
    """A cost runaway (high, open), a latency regression (medium) and a CloudWatch throttling
    storm without a LOB (critical): with bands around each and invocations behind the first."""
    lobs = sorted({r["lob"] for r in usage if r["lob"] != "unattributed"})
    lob = "wealth" if "wealth" in lobs else (lobs[0] if lobs else "retail-banking")
    model = next((r["model"] for r in usage if r["lob"] == lob), SONNET)
    day = timedelta(days=1)
    specs = [  # metric, LOB, start, severity, expected, actual, driver, its share
        ("cost", lob, now - timedelta(hours=20), "high", 42.0, 180.0, "app=research", 0.86),
        ("p95_latency_ms", lob, now - 4 * day, "medium", 2400.0, 5200.0, "region=us-east-1", 0.64),
        ("cw_throttle_rate", None, now - day * 1.25, "critical", 0.02, 0.45, None, None),
    ]
    anomalies, bands = [], []
    for metric, a_lob, start, severity, expected, actual, driver, share in specs:
        key = f"{metric}|{a_lob or '*'}|{model}"  # as model_anomalies keys a series
        aid = anomaly_id(key, start)
        anomalies.append({
            "anomaly_id": aid, "series_key": key, "metric": metric,
            "lob": a_lob, "model": model, "start_ts": start, "end_ts": start + 3 * HOUR,
            "peak_ts": start + HOUR, "expected": expected, "actual": actual,
            "lower": expected * 0.7, "upper": expected * 1.3, "severity": severity,
            "score": actual / expected, "direction": "up", "driver": driver,
            "driver_share": share, "explanation": EXPLANATION, "status": "open",
            "detected_at": start + 2 * HOUR,
        })  # fmt: skip
        for step in range(-72, 25):
            wobble = expected * (1 + 0.05 * ((step % 5) - 2))
            bands.append({
                "series_key": key, "ts": start + step * HOUR,
                "actual": actual if 0 <= step < 3 else wobble, "expected": expected,
                "lower": expected * 0.7, "upper": expected * 1.3,
            })  # fmt: skip
    first = anomalies[0]
    sample = [
        {"request_id": f"req-{i:04d}", "ts": first["start_ts"] + timedelta(minutes=3 * i),
         "account_id": ACCOUNT, "region": "us-east-1", "operation": "Converse",
         "model_id": first["model"], "model": first["model"], "lob": first["lob"],
         "app": "research-assistant", "principal_arn": principal(first["lob"]),
         "input_tokens": 4000 + 37 * i, "output_tokens": 900 + 11 * i, "cache_read_tokens": 0,
         "cache_write_tokens": 0, "latency_ms": 1500.0 + 20 * i,
         "est_cost_usd": (4000 + 37 * i) * 3e-6 + (900 + 11 * i) * 15e-6,
         "error_code": "ThrottlingException" if i % 17 == 0 else None,
         "guardrail_action": "NONE", "input_body_md5": "d41d8cd98f00b204e9800998ecf8427e",
         "source_object": "s3://logs/x.json.gz"}
        for i in range(60)
    ]  # fmt: skip
    return anomalies, bands, sample


# --- jobs -------------------------------------------------------------------------------------


def _runs(now: datetime) -> list[dict[str, Any]]:
    runs = []
    for i, (source, status, error) in enumerate([
        ("invocation-logs", "ok", None), ("metrics", "ok", None),
        ("cloudtrail", "error", "AccessDenied on s3://trail: grant s3:GetObject"),
        ("cost", "ok", None), ("models", "ok", None), ("invocation-logs", "interrupted", None),
    ]):  # fmt: skip
        started = now - timedelta(minutes=5 + 40 * i)
        runs.append({"run_id": f"run-{i}", "source": source, "trigger": "schedule",
                     "started_at": started, "finished_at": started + timedelta(seconds=42),
                     "status": status, "objects": 12, "api_calls": 3, "rows_inserted": 1200,
                     "rows_updated": 0, "rows_quarantined": 2 if source == "invocation-logs" else 0,
                     "error": error, "pid": 4242})  # fmt: skip
    return runs


def _quarantine() -> list[dict[str, Any]]:
    prefix = f"s3://logs/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/us-east-1/2026/01/02/03"
    return [
        {"source": "invocation_logs", "source_object": f"{prefix}/a.json.gz", "line": 46,
         "reason": "missing requestId", "request_id": None},
        {"source": "invocation_logs", "source_object": f"{prefix}/b.json.gz", "line": 12,
         "reason": "missing requestId", "request_id": None},
        {"source": "invocation_logs", "source_object": f"{prefix}/c.json.gz", "line": 0,
         "reason": "empty object: no records", "request_id": None},
    ]  # fmt: skip


def _watermarks(now: datetime) -> list[dict[str, Any]]:
    return [
        {"source": s, "zone": f"{s}-zone", "covered_until": now - lag, "updated_at": now}
        for s, lag in (("invocation_logs", timedelta(hours=1)), ("metrics", timedelta(hours=1)),
                       ("cloudtrail", timedelta(hours=2)), ("cost", timedelta(days=1)))
    ]  # fmt: skip


def names(rows: Iterable[dict[str, Any]], key: str) -> list[str]:
    return sorted({r[key] for r in rows if r[key] is not None})
