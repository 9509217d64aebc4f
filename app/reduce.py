"""Pure reductions of query frames into what the pages show: no warehouse, no Streamlit.

A page that needs the same rows summed several ways (Overview's tiles, trends and LOB table;
Reliability's per-day and per-application figures; CloudWatch latency and quota) runs one query
at the finest grain it needs and sums it here, instead of scanning the rollup once per view.
Money keeps SQL's meaning: a sum over nothing priced is unknown (null), never $0.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl

UNATTRIBUTED = "unattributed"
NO_APP = "(none)"
TOTALS = (
    "invocations", "unpriced_invocations", "tokens", "errors", "throttles",
    "guardrail_invocations", "guardrail_interventions",
)  # fmt: skip


def ratio(part: str | pl.Expr, whole: str | pl.Expr) -> pl.Expr:
    """part / whole, or null when `whole` is 0 or null: polars sums an all-null column to 0, and
    0 / 0 is NaN, which sorts above every number (an app with no latency read as the slowest)."""
    part = pl.col(part) if isinstance(part, str) else part
    whole = pl.col(whole) if isinstance(whole, str) else whole
    return pl.when(whole > 0).then(part / whole)


def money_sum(column: str) -> pl.Expr:
    """Sum, or null when nothing was priced (all null): unknown, not $0."""
    return pl.when(pl.col(column).count() > 0).then(pl.col(column).sum()).alias(column)


# --- Overview --------------------------------------------------------------------------------


def daily(usage: pl.DataFrame) -> pl.DataFrame:
    """Spend, invocations and tokens per day x LOB x model in the current period."""
    current = usage.filter(pl.col("period") == "current")
    return (
        current.group_by("day", "lob", "model")
        .agg(
            money_sum("est_cost_usd"), pl.col("invocations", "tokens", "unpriced_invocations").sum()
        )
        .sort("day", "lob", "model")
    )


def kpis(usage: pl.DataFrame) -> pl.DataFrame:
    """Two rows, period 'current' then 'previous', of the totals the KPI tiles show."""
    active = pl.col("invocations") > 0
    per_period = usage.group_by("period").agg(
        *(pl.col(c).sum() for c in TOTALS),
        money_sum("est_cost_usd"),
        pl.col("est_cost_usd").filter(pl.col("lob") == UNATTRIBUTED).sum()
        .alias("unattributed_cost_usd"),
        pl.col("lob").filter(active & (pl.col("lob") != UNATTRIBUTED)).n_unique()
        .alias("active_lobs"),
        pl.struct("lob", "app").filter(active & (pl.col("app") != NO_APP)).n_unique()
        .alias("active_apps"),
        ratio(pl.col("latency_p95_weighted").sum(), pl.col("latency_p95_count").sum())
        .alias("latency_p95_ms"),
    )  # fmt: skip
    periods = pl.DataFrame({"period": ["current", "previous"]})
    out = periods.join(per_period, on="period", how="left")
    zero = [*TOTALS, "unattributed_cost_usd", "active_lobs", "active_apps"]
    return out.with_columns(pl.col(zero).fill_null(0)).with_columns(
        pl.when(pl.col("latency_p95_ms").is_finite()).then("latency_p95_ms").alias("latency_p95_ms")
    )


def lobs(
    usage: pl.DataFrame, landing: pl.DataFrame, start: datetime, end: datetime
) -> pl.DataFrame:
    """One row per LOB with usage in the period: spend, share, change, volume, top model,
    spend per day (0 on a day without usage, null on one with only unpriced usage) and its
    month-end landing against budget."""
    current = usage.filter(pl.col("period") == "current")
    if current.is_empty():
        return _empty_lobs()
    by_model = current.group_by("lob", "model").agg(
        money_sum("est_cost_usd"), pl.col("invocations", "tokens", "unpriced_invocations").sum()
    )
    top = (
        by_model.sort(
            [pl.col("est_cost_usd").fill_null(0), "invocations", "model"],
            descending=[True, True, False],
        )
        .group_by("lob", maintain_order=True)
        .first()
    )
    previous = usage.filter(pl.col("period") == "previous").group_by("lob").agg(
        money_sum("est_cost_usd").alias("prev_est_cost_usd")
    )  # fmt: skip
    per_lob = by_model.group_by("lob").agg(
        money_sum("est_cost_usd"), pl.col("invocations", "tokens", "unpriced_invocations").sum()
    )
    total = per_lob["est_cost_usd"].sum()
    series = _daily_series(current, start, end)
    return (
        per_lob.with_columns(
            (pl.col("est_cost_usd") / total if total else pl.lit(None, pl.Float64)).alias(
                "cost_share"
            )
        )
        .join(previous, on="lob", how="left")
        .join(top.select("lob", pl.col("model").alias("top_model")), on="lob", how="left")
        .join(series, on="lob", how="left")
        .join(landing, on="lob", how="left")
        .sort(
            ["est_cost_usd", "invocations", "lob"], descending=[True, True, False], nulls_last=True
        )
    )


def _daily_series(current: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    days = [
        (start + timedelta(days=i)).date()
        for i in range(max(0, (end - datetime.combine(start.date(), time())).days + 1))
        if datetime.combine((start + timedelta(days=i)).date(), time()) < end
    ]
    per_day = current.group_by("lob", "day").agg(money_sum("est_cost_usd"))
    grid = current.select("lob").unique().join(pl.DataFrame({"day": days}), how="cross")
    filled = grid.join(per_day.with_columns(pl.lit(True).alias("used")), on=["lob", "day"],
                       how="left")  # fmt: skip
    value = pl.when(pl.col("used").is_null()).then(0.0).otherwise(pl.col("est_cost_usd"))
    return filled.sort("day").group_by("lob").agg(value.alias("daily_cost"))


def _empty_lobs() -> pl.DataFrame:
    return pl.DataFrame(schema={
        "lob": pl.String, "est_cost_usd": pl.Float64, "invocations": pl.Int64,
        "tokens": pl.Int64, "unpriced_invocations": pl.Int64, "cost_share": pl.Float64,
        "prev_est_cost_usd": pl.Float64, "top_model": pl.String,
        "daily_cost": pl.List(pl.Float64), "month_landing": pl.Float64,
        "month_budget": pl.Float64, "p_exceed": pl.Float64, "budget_status": pl.String,
    })  # fmt: skip


# --- Reliability -----------------------------------------------------------------------------


# What usage_hourly keeps per hour of each timing the logs carry: latency to the last token,
# and time to the first byte (streams through InvokeModelWithResponseStream only).
LOG_PERCENTILES = {"latency": ("p50", "p90", "p95", "p99"), "first_byte": ("p50", "p90", "p99")}


def reliability_daily(usage: pl.DataFrame) -> pl.DataFrame:
    """Per day x LOB x model: invocations, errors, throttles and latency sums."""
    sums = pl.exclude("day", "lob", "app", "model").sum()
    return usage.group_by("day", "lob", "model").agg(sums).sort("day", "lob", "model")


def app_reliability(usage: pl.DataFrame) -> pl.DataFrame:
    """Per LOB x application: volume, error rate, and the mean and percentiles of latency and
    of time to first byte (`latency_p99_ms`, `first_byte_mean_ms`, ...)."""
    per_app = usage.group_by("lob", "app").agg(pl.exclude("day", "model").sum())
    return per_app.select(
        "lob", "app", "invocations", "errors", "throttles",
        ratio("errors", "invocations").alias("error_rate"),
        *(f"{t}_count" for t in LOG_PERCENTILES),
        *(ratio(f"{t}_ms_sum", f"{t}_count").alias(f"{t}_mean_ms") for t in LOG_PERCENTILES),
        *(ratio(f"{t}_{p}_weighted", f"{t}_{p}_count").alias(f"{t}_{p}_ms")
          for t, kept in LOG_PERCENTILES.items() for p in kept),
    ).sort(["invocations", "lob", "app"], descending=[True, False, False])  # fmt: skip


LATENCY = ("InvocationLatency", "TimeToFirstToken")


def latency_trend(cloudwatch: pl.DataFrame) -> pl.DataFrame:
    return cloudwatch.filter(pl.col("metric_name").is_in(LATENCY))


def model_latency(cloudwatch: pl.DataFrame) -> pl.DataFrame:
    """Per model and latency metric: p50/p90/p99 over the period, each bucket's percentile
    weighted by its samples (as the SQL weights the hours within a bucket)."""
    weighted = [
        ratio((pl.col(p) * pl.col("samples")).sum(),
              pl.col("samples").filter(pl.col(p).is_not_null()).sum()).alias(p)
        for p in ("p50", "p90", "p99")
    ]  # fmt: skip
    trend = latency_trend(cloudwatch).group_by("model", "metric_name")
    return trend.agg(*weighted, pl.col("samples").sum()).sort("model", "metric_name")


def quota(cloudwatch: pl.DataFrame) -> pl.DataFrame:
    """Per bucket x model: EstimatedTPMQuotaUsage peak, throttles and invocations."""
    metric = pl.col("metric_name")
    per_model = cloudwatch.group_by("ts", "model").agg(
        pl.col("maximum").filter(metric == "EstimatedTPMQuotaUsage").max().alias("quota_tpm_max"),
        pl.col("sum").filter(metric == "InvocationThrottles").sum().alias("throttles"),
        pl.col("sum").filter(metric == "Invocations").sum().alias("invocations"),
    )
    pressure = pl.col("quota_tpm_max").is_not_null() | (pl.col("throttles") > 0)
    return per_model.filter(pressure).rename({"ts": "hour"}).sort("hour", "model")


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def daily_totals(daily: pl.DataFrame, days: tuple[date, date]) -> pl.DataFrame:
    """Spend, invocations and tokens per day over the whole period (0 where none)."""
    grid = pl.DataFrame({"day": pl.date_range(days[0], days[1], "1d", eager=True)})
    totals = daily.group_by("day").agg(
        pl.col("est_cost_usd").sum(), pl.col("invocations").sum(), pl.col("tokens").sum()
    )
    return grid.join(totals, on="day", how="left").fill_null(0).sort("day")


def unpriced_models(daily: pl.DataFrame) -> dict[str, int]:
    """Models with unpriced invocations in the frame, and how many, by model name."""
    found = daily.group_by("model").agg(pl.col("unpriced_invocations").sum())
    found = found.filter(pl.col("unpriced_invocations") > 0).sort("model")
    return dict(zip(found["model"], found["unpriced_invocations"], strict=True))
