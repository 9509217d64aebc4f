"""Why an anomaly happened: the dimension that drove it and, for cost, the factors behind it.

Both compare the anomaly's peak hour with the same hour of the seven days before (their
median: robust to one odd day). Pure functions over the breakdown frame of one LOB x model
series: columns ts, dimension (app | region | account), value, and the additive measures
cost, tokens, invocations, errors, throttles, interventions, latency_sum.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import polars as pl

# The additive measure behind each metric: a rate moves with its numerator.
MEASURE = {
    "cost": "cost", "tokens": "tokens", "invocations": "invocations", "error_rate": "errors",
    "throttle_rate": "throttles", "guardrail_intervention_rate": "interventions",
    "p95_latency_ms": "latency_sum",
}  # fmt: skip
PREFERENCE = ("app", "region", "account")  # the most specific answer first on a tie


def _peak_vs_baseline(parts: pl.DataFrame, measure: str, peak: datetime) -> pl.DataFrame:
    """Per (dimension, value): actual at the peak, expected = median of the days before."""
    at_peak = pl.col("ts") == peak
    return (
        parts.group_by("dimension", "value")
        .agg(
            actual=pl.col(measure).filter(at_peak).sum(),
            expected=pl.col(measure).filter(~at_peak).median().fill_null(0.0),
        )
        .with_columns(delta=pl.col("actual") - pl.col("expected"))
    )


def driver(parts: pl.DataFrame, metric: str, peak: datetime) -> dict[str, Any] | None:
    """The dimension value whose change accounts for most of the deviation, with its share."""
    measure = MEASURE.get(metric)
    if measure is None or parts.is_empty():
        return None
    deltas = _peak_vs_baseline(parts, measure, peak)
    best: dict[str, Any] | None = None
    for dim in PREFERENCE:
        rows = deltas.filter(pl.col("dimension") == dim).sort(
            pl.col("delta").abs(), descending=True
        )
        total = float(rows["delta"].abs().sum())
        if rows.is_empty() or total == 0:
            continue
        top = rows.row(0, named=True)
        share = abs(top["delta"]) / total
        # one value in a dimension explains everything trivially; it says nothing new
        informative = rows.height > 1
        if (
            best is None
            or (informative and share > best["share"] + 1e-9)
            or (informative and not best["informative"])
        ):
            best = {
                "label": f"{dim}={top['value']}", "dimension": dim, "value": top["value"],
                "share": round(share, 4), "informative": informative,
                "breakdown": rows.head(5).to_dicts(),
            }  # fmt: skip
    return best


def decompose_cost(apps: pl.DataFrame, peak: datetime) -> dict[str, Any] | None:
    """cost = volume x tokens per call x model mix x price per token, peak vs baseline.

    Each factor's share of the change is its log-ratio over the cost's log-ratio (the shares
    add up to 1). Within one LOB x model series the model mix does not move: it is reported as
    a factor of 1 so a reader sees it was checked.
    """
    if apps.is_empty():
        return None
    hourly = apps.group_by("ts").agg(pl.col("cost", "tokens", "invocations").sum())
    now = hourly.filter(pl.col("ts") == peak)
    before = hourly.filter(pl.col("ts") != peak).select(pl.all().exclude("ts").median())
    if now.is_empty() or before.is_empty():
        return None
    a, e = now.row(0, named=True), before.row(0, named=True)
    try:
        factors = {
            "volume": a["invocations"] / e["invocations"],
            "tokens_per_call": (a["tokens"] / a["invocations"]) / (e["tokens"] / e["invocations"]),
            "model_mix": 1.0,
            "price_per_token": (a["cost"] / a["tokens"]) / (e["cost"] / e["tokens"]),
        }
    except (ZeroDivisionError, TypeError):
        return None
    total = math.log(a["cost"] / e["cost"]) if a["cost"] > 0 and e["cost"] > 0 else 0.0
    shares = {
        k: (round(math.log(v) / total, 4) if total and v > 0 else 0.0) for k, v in factors.items()
    }
    return {"factors": {k: round(v, 4) for k, v in factors.items()}, "shares": shares,
            "actual_cost": a["cost"], "expected_cost": e["cost"]}  # fmt: skip
