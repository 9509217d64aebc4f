"""What the demo estate tells genai-lens (its config) and what it planted (ground truth)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from base.scalars import as_float, as_float_or_none
from demo import world as w
from demo.bill import BILL_DIR, EXPORTS
from demo.metrics import quota_tokens
from demo.sim import incident_windows


def _q(value: object) -> str:
    """A TOML value: JSON string/number escapes are valid TOML; dicts become inline tables."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_q(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


# Monthly budgets at the default size (6,000 calls a day at the start), scaled with per_day:
# most LOBs fit theirs; engineering's runaway pushes it over.
BUDGETS = {"legal": 1000, "insurance": 800, "wealth": 650, "engineering": 700,
           "marketing": 220, "retail-banking": 180}  # fmt: skip
TOTAL_BUDGET = 4200


def config_toml(out_dir: Path, days: int, per_day: int = 6000, now: datetime | None = None) -> str:
    """A genai-lens config that reads the demo landing zone and attributes most of it.

    With `now` (the estate was written as of a fixed time), the config fixes the clock there:
    read on a later day, the estate would otherwise look stopped since it was written.
    """
    out = [
        "# genai-lens config for the demo estate, written by `demo.estate`. Safe to edit.",
        f"warehouse = {_q(str(out_dir / 'warehouse.duckdb'))}",
    ]
    if now is not None:
        at = now.astimezone(UTC) if now.tzinfo else now
        out += [f"now = {at:%Y-%m-%dT%H:%M:%S}Z  # the fixed clock the estate was written at"]
    out += [
        "# Offline: application profiles resolve only from the list below, so one stays unknown.",
        "resolve_profiles_with_api = false",
        "",
        "[invocation_logs]",
        f"first_run_days = {days + 1}  # the first run loads the whole estate",
        "",
        "[[invocation_logs.landing_zones]]",
        'name = "demo"',
        f"uri = {_q(str(out_dir / 'landing'))}",
    ]
    for p in w.PROFILES:
        if p.listed:
            out += [
                "",
                "[[inference_profiles]]",
                f"arn = {_q(p.arn)}",
                f"model = {_q(p.model)}",
                f"tags = {_q(dict(p.tags))}",
            ]
    out += [
        "",
        "[[cloudtrail.landing_zones]]",
        'name = "demo-trail"',
        f"uri = {_q(str(out_dir / 'trail'))}",
        "",
        "[[metrics.landing_zones]]",
        'name = "demo-metric-stream"',
        f"uri = {_q(str(out_dir / 'metric-stream'))}",
        "",
        "[cost]",
        "# Application inference profiles carry these cost-allocation tags on the bill.",
        'tag_keys = ["lob", "app"]',
    ]
    for folder in EXPORTS:  # the same spend twice: as a CUR 2.0 and as a FOCUS export
        out += ["", "[[cost.landing_zones]]", f'name = "demo-{folder}"',
                f"uri = {_q(str(out_dir / BILL_DIR / folder))}"]  # fmt: skip
    scale = per_day / 6000
    out += ["", "[budgets]", f"total = {round(TOTAL_BUDGET * scale, 2)}", "[budgets.lobs]"]
    out += [f"{_q(lob)} = {round(v * scale, 2)}" for lob, v in BUDGETS.items()]
    out += ["", "[attribution]", 'app_metadata_key = "app"', 'app_tag_key = "app"']
    for rule in w.RULES:
        out += ["", "[[attribution.rules]]", *(f"{k} = {_q(v)}" for k, v in rule.items())]
    return "\n".join(out) + "\n"


def _iso(t: int | datetime) -> str:
    t = t if isinstance(t, datetime) else datetime.fromtimestamp(t, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ratio(during: float | None, before: float | None) -> float | None:
    return round(during / before, 2) if during and before else None


def _effect(kind: str, spec: dict[str, Any], during: pl.DataFrame, before: pl.DataFrame,
            ) -> dict[str, Any]:  # fmt: skip
    """The incident's measurable effect: nominal, and as observed in the simulated frame."""
    ok = pl.col("error_code").is_null()
    if kind == "cost_runaway":
        tokens = pl.sum_horizontal("input_tokens", "output_tokens", "cache_read_tokens",
                                   "cache_write_tokens")  # fmt: skip
        d, b = (f.filter(ok).select(tokens.mean()).item() for f in (during, before))
        return {"metric": "tokens_per_invocation", "factor": spec["factor"],
                "observed_factor": _ratio(as_float_or_none(d), as_float_or_none(b))}  # fmt: skip
    if kind == "latency_regression":
        d, b = (as_float_or_none(f.filter(ok)["latency_ms"].median()) for f in (during, before))
        return {"metric": "latency_ms", "factor": spec["factor"], "observed_factor": _ratio(d, b)}
    if kind == "ttft_regression":
        d, b = (as_float_or_none(f.filter(ok)["first_byte_ms"].median()) for f in (during, before))
        return {"metric": "first_byte_ms", "delay_ms": spec["delay_ms"],
                "observed_factor": _ratio(d, b)}  # fmt: skip
    if kind == "throttling_storm":
        throttled = during.filter(pl.col("error_code") == "ThrottlingException")
        base = before.filter(pl.col("error_code") == "ThrottlingException").height
        return {"metric": "throttled_invocations", "during": throttled.height,
                "baseline_per_hour": round(base / 168, 3),
                "throttle_rate": round(throttled.height / max(during.height, 1), 3),
                "apps": sorted(throttled["app"].unique())}  # fmt: skip
    if kind == "guardrail_burst":
        rate = [as_float((f["guardrail_action"] == "INTERVENED").mean()) for f in (during, before)]
        return {"metric": "guardrail_intervention_rate", "during": spec["rate"],
                "baseline": w.APPS[w.APP_INDEX[spec["app"]]].guardrail,
                "observed_during": round(rate[0], 3),
                "observed_before": round(rate[1], 3)}  # fmt: skip
    return {"metric": "suppressed_invocations",
            "suppressed_invocations": during.filter(~pl.col("logged")).height}  # fmt: skip


def _incident(frame: pl.DataFrame, kind: str, t0: int, t1: int) -> dict[str, Any]:
    """One planted incident: its window, what it hit (None = not limited to one) and effect."""
    spec = w.INCIDENTS[kind]
    target = pl.lit(True)
    for col, key in (("app", "app"), ("model", "model"), ("account_id", "account"),
                     ("region", "region")):  # fmt: skip
        if key in spec:
            target &= pl.col(col) == spec[key]
    ts0, ts1, week = (datetime.fromtimestamp(t, UTC) for t in (t0, t1, t0 - 7 * 86_400))
    during = frame.filter(target & pl.col("ts").is_between(ts0, ts1, closed="left"))
    before = frame.filter(target & pl.col("ts").is_between(week, ts0, closed="left"))
    lob = w.APPS[w.APP_INDEX[spec["app"]]].lob if "app" in spec else None
    return {"kind": kind, "start": _iso(t0), "end": _iso(t1), "lob": lob, "app": spec.get("app"),
            "model": spec.get("model"), "account": spec.get("account"),
            "region": spec.get("region"), "effect": _effect(kind, spec, during, before),
            "invocations": during.height}  # fmt: skip


def ground_truth(
    frame: pl.DataFrame, start: datetime, end: datetime, *, seed: int, per_day: int
) -> dict[str, Any]:
    """What the demo planted, so tests can check the product finds it."""
    windows = incident_windows(start, end)
    incidents = [_incident(frame, kind, *windows[kind]) for kind in w.INCIDENTS]
    off = next(i for i in incidents if i["kind"] == "logging_off")
    t0, t1 = windows["logging_off"]
    off["missing_prefixes"] = [
        f"AWSLogs/{off['account']}/BedrockModelInvocationLogs/{off['region']}/"
        f"{datetime.fromtimestamp(t, UTC):%Y/%m/%d/%H}/"
        for t in range(t0, t1, 3600)
    ]
    burst = next(i for i in incidents if i["kind"] == "guardrail_burst")
    gid, version = w.GUARDRAIL_APPS[burst["app"]]
    edit_at = windows["guardrail_burst"][0] - 40 * 60
    incidents.append(
        {
            "kind": "guardrail_edit",
            "start": _iso(edit_at),
            "end": _iso(edit_at),
            "lob": burst["lob"],
            "app": burst["app"],
            "model": None,
            "account": burst["account"],
            "region": burst["region"],
            "principal_arn": w.GUARDRAIL_EDITOR,
            "guardrail_id": gid,
            "guardrail_version": version,
            "effect": {"metric": "guardrail_config_change", "expected_principal": False},
        }
    )
    logged = frame.filter("logged")
    unattributed = logged.filter(pl.col("attributed_lob") == "unattributed")
    unlisted = next(p for p in w.PROFILES if not p.listed)
    return {
        "generator": "demo.estate",
        "seed": seed,
        "per_day": per_day,
        "canary": w.DEMO_CANARY,
        "start": _iso(start),
        "end": _iso(end),
        "accounts": w.ACCOUNTS,
        "invocations": {
            "simulated": frame.height,
            "logged": logged.height,
            "suppressed": frame.height - logged.height,
        },
        "attribution": {
            "unattributed_share": round(unattributed.height / logged.height, 4),
            "unattributed_principals": sorted(unattributed["principal_arn"].unique()),
            "by_lob": dict(logged.group_by("attributed_lob").len().sort("attributed_lob").rows()),
        },
        "unpriced_model": {
            "model": w.UNPRICED_MODEL,
            "invocations": logged.filter(pl.col("model") == w.UNPRICED_MODEL).height,
        },
        "unlisted_profile": {
            "arn": unlisted.arn,
            "model": unlisted.model,
            "invocations": logged.filter(pl.col("model_id") == unlisted.arn).height,
        },
        "incidents": incidents,
    }


def _during(frame: pl.DataFrame, inc: dict[str, Any], before_days: int = 0) -> pl.DataFrame:
    """The incident's target rows in its window (or the `before_days` before it)."""
    t0, t1 = (datetime.fromisoformat(inc[k].replace("Z", "+00:00")) for k in ("start", "end"))
    if before_days:
        t0, t1 = t0 - timedelta(days=before_days), t0
    target = pl.col("ts").is_between(t0, t1, closed="left")
    for col, key in (("app", "app"), ("model", "model"), ("account_id", "account"),
                     ("region", "region")):  # fmt: skip
        if inc.get(key) is not None:
            target &= pl.col(col) == inc[key]
    return frame.filter(target)


def _event(rec: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"event_id": rec["eventID"], "event_name": rec["eventName"],
            "event_time": rec["eventTime"], "principal_arn": rec["userIdentity"]["arn"],
            "change_kind": kind}  # fmt: skip


def source_truth(truth: dict[str, Any], frame: pl.DataFrame, planted: dict[str, dict[str, Any]],
                 *, trail_files: int, metric_files: int) -> None:  # fmt: skip
    """Where each planted incident shows up in CloudTrail and in the metric stream."""
    throttled = (pl.col("error_code") == "ThrottlingException").fill_null(False)
    truth["cloudtrail"] = {"root": "trail", "files": trail_files,
                           "invocation_events": frame.height}  # fmt: skip
    truth["metrics"] = {"root": "metric-stream", "files": metric_files,
                        "stream": "bedrock-stream", "period_s": 60,
                        "invocations": frame.filter(~throttled).height,
                        "throttles": frame.filter(throttled).height}  # fmt: skip
    for inc in truth["incidents"]:
        kind = inc["kind"]
        if kind == "guardrail_edit":
            inc["cloudtrail"] = _event(planted["guardrail_edit"], "guardrail")
            continue
        during, before = _during(frame, inc), _during(frame, inc, 7)
        inc["cloudtrail"] = {"invocation_events": during.height,
                             "throttled_events": during.filter(throttled).height}  # fmt: skip
        ok, ok_before = during.filter(~throttled), before.filter(~throttled)
        m: dict[str, Any] = {"invocations": ok.height}
        if kind == "logging_off":
            inc["cloudtrail"]["off"] = _event(planted["logging_off"], "logging_config")
            inc["cloudtrail"]["on"] = _event(planted["logging_on"], "logging_config")
            # No logging configuration, no delivery attempted: successes stop, no failures.
            m |= {
                "logged_invocations": int(during["logged"].sum()),
                "ModelInvocationLogsS3DeliverySuccess": int(during["logged"].sum()),
            }
        elif kind == "throttling_storm":
            t0, t1 = (datetime.fromisoformat(inc[k]) for k in ("start", "end"))
            minutes = [(t1 - t0).total_seconds() / 60, 7 * 24 * 60]
            quota = [f.select(quota_tokens().sum()).item() for f in (during, before)]
            m |= {
                "InvocationThrottles": during.filter(throttled).height,
                "InvocationThrottles_before_per_hour": round(
                    before.filter(throttled).height / 168, 3
                ),
                # Tokens per minute against the model's quota, successful calls only.
                "EstimatedTPMQuotaUsage_per_minute": round(quota[0] / minutes[0], 1),
                "EstimatedTPMQuotaUsage_per_minute_before": round(quota[1] / minutes[1], 1),
            }
        elif kind == "ttft_regression":
            m |= {
                "TimeToFirstToken_p50": ok["first_byte_ms"].median(),
                "TimeToFirstToken_p50_before": ok_before["first_byte_ms"].median(),
            }
        elif kind == "latency_regression":
            m |= {
                "InvocationLatency_p99": ok["latency_ms"].quantile(0.99),
                "InvocationLatency_p99_before": ok_before["latency_ms"].quantile(0.99),
            }
        elif kind == "guardrail_burst":
            hit = pl.col("guardrail_action") == "INTERVENED"
            m |= {"namespace": "AWS/Bedrock/Guardrails",
                  "InvocationsIntervened": during.filter(hit).height,
                  "InvocationsIntervened_before_per_hour":
                      round(before.filter(hit).height / 168, 3)}  # fmt: skip
        elif kind == "cost_runaway":
            m |= {
                "InputTokenCount": int(ok["input_tokens"].sum()),
                "OutputTokenCount": int(ok["output_tokens"].sum()),
            }
        inc["metrics"] = m
