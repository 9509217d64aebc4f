"""Why an anomaly happened: the dimension that drove it and, for cost, the factors behind it.

Both compare the anomaly's peak hour with the same hour of the seven days before (their
median: robust to one odd day). Pure functions over a breakdown frame: columns ts, dimension
(app | region | account | lob | model), value, and the additive measures cost, tokens,
invocations, errors, throttles, interventions, latency_sum.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import polars as pl

# The additive measure behind each metric: a rate moves with its numerator. CloudWatch's
# per-model series are explained from the logs' counts of the same thing.
MEASURE = {
    "cost": "cost", "tokens": "tokens", "invocations": "invocations", "error_rate": "errors",
    "throttle_rate": "throttles", "guardrail_intervention_rate": "interventions",
    "p95_latency_ms": "latency_sum", "ms_per_1k_output_tokens": "latency_sum",
    "ttft_ms": "first_byte_sum", "output_tokens_per_s": "latency_sum",
    "cw_invocations": "invocations", "cw_throttle_rate": "throttles", "cw_error_rate": "errors",
}  # fmt: skip
# The most specific answer first on a tie. A dimension the series is already cut by (the LOB
# of a LOB x model series) has one value and explains nothing; it is skipped.
PREFERENCE = ("app", "model", "lob", "region", "account")
SPECIFIC_MARGIN = 0.1


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
        # group_by's order is not stable: ties in the breakdown must read the same every run
        .sort("dimension", "value")
    )


def driver(parts: pl.DataFrame, metric: str, peak: datetime) -> dict[str, Any] | None:
    """The dimension value whose change accounts for most of the deviation, with its share.

    A coarse value always accounts for at least as much as a finer one inside it (a region
    holds every app that runs there), so the most specific dimension wins unless a coarser
    one accounts for more than SPECIFIC_MARGIN of the deviation beyond it.
    """
    measure = MEASURE.get(metric)
    if measure is None or parts.is_empty():
        return None
    deltas = _peak_vs_baseline(parts, measure, peak)
    found = []
    for dim in PREFERENCE:
        rows = deltas.filter(pl.col("dimension") == dim).sort(
            pl.col("delta").abs(), descending=True
        )
        total = float(rows["delta"].abs().sum())
        if rows.is_empty() or total == 0:
            continue
        top = rows.row(0, named=True)
        found.append({
            "label": f"{dim}={top['value']}", "dimension": dim, "value": top["value"],
            "share": round(abs(top["delta"]) / total, 4),
            # one value in a dimension explains everything trivially; it says nothing new
            "informative": rows.height > 1, "breakdown": rows.head(5).to_dicts(),
        })  # fmt: skip
    candidates = [f for f in found if f["informative"]] or found[:1]
    if not candidates:
        return None
    most = max(f["share"] for f in candidates)
    return next(f for f in candidates if f["share"] >= most - SPECIFIC_MARGIN)


def decompose_cost(models: pl.DataFrame, peak: datetime) -> dict[str, Any] | None:
    """cost = volume x tokens per call x model mix x price per token, peak vs baseline.

    `models`: the breakdown by model (ts, value = model, cost, tokens, invocations). Volume is
    the ratio of calls and tokens per call that of tokens / calls. Model mix is how much the
    price of a token moved because the models' shares of tokens moved, each model held at its
    own baseline price; price per token is the rest (a model's own price per token moved:
    a dearer region, a cross-region profile, another token kind mix). The four multiply to
    the cost's ratio exactly; each factor's share of the change is its log-ratio over the
    cost's log-ratio (the shares add up to 1).
    """
    if models.is_empty():
        return None
    hourly = models.group_by("ts").agg(pl.col("cost", "tokens", "invocations").sum())
    now = hourly.filter(pl.col("ts") == peak)
    before = hourly.filter(pl.col("ts") != peak).select(pl.all().exclude("ts").median())
    if now.is_empty() or before.is_empty():
        return None
    a, e = now.row(0, named=True), before.row(0, named=True)
    try:
        factors = {
            "volume": a["invocations"] / e["invocations"],
            "tokens_per_call": (a["tokens"] / a["invocations"]) / (e["tokens"] / e["invocations"]),
            "model_mix": _mix(models, peak),
        }
        price = (a["cost"] / a["tokens"]) / (e["cost"] / e["tokens"])
        factors["price_per_token"] = price / factors["model_mix"]
    except (ZeroDivisionError, TypeError):
        return None
    total = math.log(a["cost"] / e["cost"]) if a["cost"] > 0 and e["cost"] > 0 else 0.0
    shares = {
        k: (round(math.log(v) / total, 4) if total and v > 0 else 0.0) for k, v in factors.items()
    }
    return {"factors": {k: round(v, 4) for k, v in factors.items()}, "shares": shares,
            "actual_cost": a["cost"], "expected_cost": e["cost"],
            "models": sorted(models["value"].unique().to_list())}  # fmt: skip


def _mix(models: pl.DataFrame, peak: datetime) -> float:
    """Price of a token at the peak's model shares over that at the baseline's, each model at
    its baseline price (its peak price if it had no baseline). 1.0 with one model."""
    hours = models.select("ts").unique()
    full = (
        models.select("value").unique().join(hours, how="cross")
        .join(models.group_by("value", "ts").agg(pl.col("cost", "tokens").sum()),
              on=["value", "ts"], how="left")
        .fill_null(0.0)
    )  # fmt: skip
    at_peak = pl.col("ts") == peak
    per = (
        full.group_by("value")
        .agg(
            tokens_a=pl.col("tokens").filter(at_peak).sum(),
            cost_a=pl.col("cost").filter(at_peak).sum(),
            tokens_e=pl.col("tokens").filter(~at_peak).median(),
            cost_e=pl.col("cost").filter(~at_peak).median(),
        )
        .fill_null(0.0)
    )
    price = per.select(
        pl.when(pl.col("tokens_e") > 0).then(pl.col("cost_e") / pl.col("tokens_e"))
        .when(pl.col("tokens_a") > 0).then(pl.col("cost_a") / pl.col("tokens_a"))
        .otherwise(0.0)
    ).to_series()  # fmt: skip
    peak_price = float((per["tokens_a"] * price).sum()) / float(per["tokens_a"].sum())
    base_price = float((per["tokens_e"] * price).sum()) / float(per["tokens_e"].sum())
    return peak_price / base_price
