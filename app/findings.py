"""Anomalies and governance findings as the pages show them: the triage feed, an anomaly's
explanation (driver breakdown, cost decomposition), the configuration changes around it, the
calls behind it, the audit trail, guardrail figures and logging switched off. Pure polars.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from app import legend
from app.tables import Config, col, count, in_seconds, pct, secs, short_models
from base import format as fmt

# --- Anomalies -------------------------------------------------------------------------------

SEVERITY = {"critical": "CRITICAL", "high": "HIGH", "medium": "medium", "low": "low"}
FEED: Config = {
    "Started": col.DatetimeColumn(format="D MMM, HH:mm", help="UTC"),
    "Ended": col.DatetimeColumn(format="D MMM, HH:mm", help="Blank: still going on"),
    "Expected": col.TextColumn(help="What the detector expected at the peak"),
    "Actual": col.TextColumn(help="What happened at the peak"),
    "Off by": col.TextColumn(help="Actual against expected"),
    "Driver": col.TextColumn(help="The dimension value that accounts for most of it"),
}


# The additive count models/explain.py breaks a metric down by (a rate by its numerator, a
# latency by summed milliseconds), and how that reads.
MEASURES: dict[str, tuple[str, str]] = {
    "cost": ("estimated spend", "money"), "tokens": ("tokens", "count"),
    "invocations": ("invocations", "count"), "cw_invocations": ("invocations", "count"),
    "error_rate": ("failed calls", "count"), "cw_error_rate": ("failed calls", "count"),
    "throttle_rate": ("throttled calls", "count"), "cw_throttle_rate": ("throttled calls", "count"),
    "guardrail_intervention_rate": ("interventions", "count"),
    "p95_latency_ms": ("summed latency", "latency"),
    "ms_per_1k_output_tokens": ("summed latency", "latency"),
    "ttft_ms": ("summed time to first token", "latency"),
    "output_tokens_per_s": ("summed latency", "latency"),
}  # fmt: skip


# How a detector metric reads, and its values: in base.format, shared with the alert texts.
METRICS = fmt.METRICS
metric_label, metric_value, value_in = fmt.metric_label, fmt.metric_value, fmt.value_in
unit_of = fmt.unit_of


def off_by(expected: float | None, actual: float | None) -> str:
    if expected is None or actual is None:
        return fmt.MISSING
    if expected > 0 and actual / expected >= 2:
        return f"{actual / expected:.1f}× expected"
    return fmt.change(actual, expected) or fmt.MISSING


def anomaly_label(row: dict[str, Any]) -> str:
    model = legend.model_label(row["model"]) if row.get("model") else "all models"
    who = row.get("lob") or "all LOBs"
    when = fmt.hour(row["peak_ts"])
    return f"{row['severity'].upper()} · {metric_label(row['metric'])} · {who} · {model} · {when}"


def anomaly_summary(a: dict[str, Any], why: dict[str, Any] | None = None) -> str:
    """Status, the detector's expected vs actual at the peak, and the driver with its share.

    The share is of the driver dimension's change; when the series has one value of that
    dimension (its only app), 100% is trivially true and says so.
    """
    driver = (why or {}).get("driver") or {}
    alone = isinstance(driver, dict) and driver.get("informative") is False
    share = ""
    if a["driver_share"] is not None:
        share = f" ({a['driver_share']:.0%} of the change"
        share += f"; the series' only {driver.get('dimension')})" if alone else ")"
    return (
        f"**{a['status'].capitalize()}** · expected {metric_value(a['metric'], a['expected'])}, "
        f"actual {metric_value(a['metric'], a['actual'])} "
        f"({off_by(a['expected'], a['actual'])}) · driver: {a['driver'] or '—'}{share}"
        + (f" · series muted until {fmt.hour(a['muted_until'])}" if a.get("muted_until") else "")
        + (
            f" · band {widened:g}× wider from triage feedback"
            if (widened := (why or {}).get("band_widened"))
            else ""
        )
    )


def feed(frame: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for r in frame.iter_rows(named=True):
        muted = r["muted_until"] is not None and r["status"] != "muted"
        rows.append({
            "Severity": SEVERITY.get(r["severity"], r["severity"]),
            "Status": r["status"] + (" (series muted)" if muted else ""),
            "Metric": metric_label(r["metric"]), "LOB": r["lob"] or "—",
            "Model": legend.model_label(r["model"]) if r["model"] else "—",
            "Started": r["start_ts"], "Ended": r["end_ts"],
            "Expected": metric_value(r["metric"], r["expected"]),
            "Actual": metric_value(r["metric"], r["actual"]),
            "Off by": off_by(r["expected"], r["actual"]),
            "Driver": r["driver"] or "—",
        })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


def explanation(text: str | None) -> dict[str, Any]:
    """The detector's explanation JSON (driver, cost decomposition, ...), {} when unreadable."""
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def breakdown(why: dict[str, Any], metric: str) -> pl.DataFrame | None:
    """The driver's dimension breakdown: each value at the peak hour against its usual.

    models/explain.py measures it in an additive count (a rate by its numerator, a latency by
    summed milliseconds), and its "usual" is the median of the same hour on the seven days
    before, not the detector's expected: the columns say so, so they are not read as the
    summary's expected and actual.
    """
    driver = why.get("driver")
    rows = (driver.get("breakdown") if isinstance(driver, dict) else None) or why.get("breakdown")
    if not isinstance(rows, list) or not rows:
        return None
    unit = MEASURES.get(metric, ("", unit_of(metric)))[1]
    at_peak, usual = "At the peak", "Usual"
    out = []
    for r in rows:
        out.append({
            "Dimension": r.get("dimension"), "Value": r.get("value"),
            usual: value_in(unit, r.get("expected")), at_peak: value_in(unit, r.get("actual")),
            "Difference": value_in(unit, r.get("delta")) if r.get("delta") is not None
            else None,
        })  # fmt: skip
    return pl.DataFrame(out, infer_schema_length=None)


BREAKDOWN: Config = {
    "Usual": col.TextColumn(help="The median of the same hour on the seven days before"),
    "At the peak": col.TextColumn(help="The anomaly's peak hour"),
}


def breakdown_heading(metric: str) -> str:
    """What the breakdown measures and against what (it is not the summary's expected)."""
    what = MEASURES.get(metric, (metric_label(metric).lower(), ""))[0]
    return (
        f"**What drove it**: {what} by the driver's dimension at the peak hour, against the "
        "usual (median of that hour on the 7 days before; not the expected above)"
    )


FACTORS = {"volume": "Calls", "tokens_per_call": "Tokens per call", "model_mix": "Model mix",
           "price_per_token": "Price per token"}  # fmt: skip


def decomposition(why: dict[str, Any]) -> pl.DataFrame | None:
    """cost = calls x tokens per call x model mix x price per token, peak against baseline."""
    parts = why.get("decomposition")
    if not isinstance(parts, dict) or not parts.get("factors"):
        return None
    shares = parts.get("shares") or {}
    return pl.DataFrame([
        {"Factor": FACTORS.get(k, k), "Peak vs usual": f"{v:.2f}×",
         "Share of the change": fmt.percent(shares.get(k), decimals=1)}
        for k, v in parts["factors"].items()
    ])  # fmt: skip


CHANGES: Config = {"When (UTC)": col.DatetimeColumn(format="D MMM YYYY, HH:mm:ss")}


def changes(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("event_time").alias("When (UTC)"), pl.col("event_name").alias("Change"),
        pl.col("change_kind").alias("Kind"), pl.col("principal").alias("Who"),
        pl.col("account_id").alias("Account"), pl.col("region").alias("Region"),
        pl.col("error_code").fill_null("").alias("Refused"),
        pl.coalesce("guardrail_id", "model_id").alias("Target"),
    )  # fmt: skip


SAMPLE: Config = {
    "Input tokens": count(), "Output tokens": count(), "Latency": secs(),
    "Est. cost": col.NumberColumn(format="$%.4f"),
    "When": col.DatetimeColumn(format="D MMM HH:mm:ss"),
}  # fmt: skip


def sample(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("ts").alias("When"), pl.col("request_id").alias("Request id"),
        pl.col("app").alias("Application"), short_models(frame).alias("Model"),
        pl.col("operation").alias("Operation"), pl.col("input_tokens").alias("Input tokens"),
        pl.col("output_tokens").alias("Output tokens"), in_seconds("latency_ms").alias("Latency"),
        pl.col("error_code").alias("Error"), pl.col("guardrail_action").alias("Guardrail"),
        pl.col("est_cost_usd").alias("Est. cost"), pl.col("principal_arn").alias("Principal"),
    )  # fmt: skip


TEXT: Config = {
    "Prompt": col.TextColumn(width="large"),
    "Response": col.TextColumn(width="large"),
    "Redactions": count("PII and secrets replaced by placeholders such as [EMAIL]"),
}


def text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("request_id").alias("Request id"), pl.col("prompt").alias("Prompt"),
        pl.col("response").alias("Response"), pl.col("redactions").alias("Redactions"),
    )  # fmt: skip


# --- Governance ------------------------------------------------------------------------------


def coverage(daily: pl.DataFrame) -> pl.DataFrame:
    """Per LOB: the share of its invocations that ran under a guardrail."""
    return daily.group_by("lob").agg(
        (pl.col("guardrail_invocations").sum() / pl.col("invocations").sum()).alias("coverage")
    )


INTERVENTIONS: Config = {
    "Invocations": count(), "Guarded": count("Invocations a guardrail checked"),
    "Interventions": count(), "Coverage": pct("Guarded share of invocations", 0),
    "Intervention rate": pct("Interventions per guarded invocation", 2),
}  # fmt: skip


def interventions(daily: pl.DataFrame) -> pl.DataFrame:
    per_app = daily.group_by("lob", "app").agg(
        pl.col("invocations").sum(), pl.col("guardrail_invocations").sum(),
        pl.col("guardrail_interventions").sum(),
    )  # fmt: skip
    return per_app.sort("guardrail_interventions", "invocations", descending=True).select(
        pl.col("lob").alias("LOB"), pl.col("app").alias("Application"),
        pl.col("invocations").alias("Invocations"),
        pl.col("guardrail_invocations").alias("Guarded"),
        pl.col("guardrail_interventions").alias("Interventions"),
        (pl.col("guardrail_invocations") / pl.col("invocations") * 100).alias("Coverage"),
        (pl.col("guardrail_interventions") / pl.col("guardrail_invocations") * 100)
        .alias("Intervention rate"),
    )  # fmt: skip


GUARDRAILS: Config = {"Interventions": count()}


def guardrails(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("guardrail").alias("Guardrail"), pl.col("version").alias("Version"),
        pl.col("policy").alias("Policy type"), pl.col("account_id").alias("Account"),
        pl.col("region").alias("Region"), pl.col("interventions").alias("Interventions"),
    )  # fmt: skip


AUDIT: Config = {
    "When (UTC)": col.DatetimeColumn(format="D MMM YYYY, HH:mm:ss"),
    "Refused": col.TextColumn(help="The error CloudTrail recorded: the change did not happen"),
    "Request": col.TextColumn(help="requestParameters as CloudTrail recorded them", width="large"),
}  # fmt: skip


def audit(frame: pl.DataFrame) -> pl.DataFrame:
    return changes(frame).with_columns(
        frame["source_ip"].alias("Source IP"), frame["user_agent"].alias("User agent"),
        frame["request_parameters"].alias("Request"),
    )  # fmt: skip


GAPS: Config = {
    "Switched off": col.DatetimeColumn(format="D MMM YYYY, HH:mm"),
    "Back on": col.DatetimeColumn(format="D MMM YYYY, HH:mm", help="Blank: still off"),
}  # fmt: skip


def gaps(frame: pl.DataFrame, now: Any) -> pl.DataFrame:
    end = pl.coalesce("enabled_at", pl.lit(now))
    hours = (end - pl.col("disabled_at")).dt.total_minutes() / 60
    return frame.select(
        pl.col("account_id").alias("Account"), pl.col("region").alias("Region"),
        pl.col("disabled_at").alias("Switched off"), pl.col("disabled_by").alias("By"),
        pl.col("enabled_at").alias("Back on"), pl.col("enabled_by").alias("Back on by"),
        pl.when(pl.col("enabled_at").is_null())
        .then(pl.format("still off ({} h)", hours.round(1)))
        .otherwise(pl.format("{} h", hours.round(1))).alias("Blind for"),
    )  # fmt: skip
