"""Tables as the pages show them: pure polars reshaping (readable column names, shares in
percent, short model names) and the column formats that go with them (money as money, counts
with separators, latency in seconds).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from app import kpis, legend, reduce
from base import format as fmt

Config = dict[str, Any]
col = st.column_config


def money(help: str | None = None) -> Any:
    return col.NumberColumn(format="dollar", help=help)


def count(help: str | None = None) -> Any:
    return col.NumberColumn(format="localized", help=help)


def pct(help: str | None = None, decimals: int = 1) -> Any:
    return col.NumberColumn(format=f"%.{decimals}f%%", help=help)


def secs(help: str | None = None) -> Any:
    """Latency shown in seconds (the frames hold ms: `in_seconds` converts them)."""
    return col.NumberColumn(format="%.2f s", help=help)


def in_seconds(column: str | pl.Expr) -> pl.Expr:
    return (pl.col(column) if isinstance(column, str) else column) / 1000


def series_label(series: str) -> str:
    return "All LOBs (total)" if series == "total" else series.removeprefix("lob:")


def busiest(frame: pl.DataFrame, key: str, weight: str, top: int = 10) -> list[str]:
    """The `top` values of `key` with the most `weight`: what a readable chart can show."""
    totals = frame.group_by(key).agg(pl.col(weight).sum())
    totals = totals.sort([weight, key], descending=[True, False])
    return totals[key].head(top).to_list()


def short_models(frame: pl.DataFrame, column: str = "model") -> pl.Expr:
    labels = legend.model_labels(frame[column].drop_nulls().unique().to_list())
    return pl.col(column).replace_strict(labels, default=pl.col(column))


# --- Spend -----------------------------------------------------------------------------------

LANDING: Config = {
    "To date": money("The forecast's actuals: the bill allocated to LOBs (the estimate for days "
                      "not billed yet), whole days to 'Actuals to'"),
    "Actuals to": col.DateColumn(format="D MMM", help="The last day the forecast run had"),
    "Landing": money("Forecast of the period's total"),
    "80% low": money(), "80% high": money(),
    "Budget": money(), "vs budget": pct("Landing against budget"),
    "P(over budget)": pct("Chance the period ends over budget", 0),
}  # fmt: skip


def landing(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("series").map_elements(series_label, return_dtype=pl.String).alias("Series"),
        pl.col("period_kind").str.to_titlecase().alias("Period"),
        pl.format(
            "{} – {}",
            pl.col("period_start").dt.strftime("%d %b"),
            pl.col("period_end").dt.strftime("%d %b %Y"),
        ).alias("Span"),
        pl.col("actual_to_date").alias("To date"),
        pl.col("actuals_through").alias("Actuals to"),
        pl.col("landing").alias("Landing"),
        pl.col("lo80").alias("80% low"),
        pl.col("hi80").alias("80% high"),
        pl.col("budget").alias("Budget"),
        ((pl.col("landing") / pl.col("budget") - 1) * 100).alias("vs budget"),
        (pl.col("p_exceed") * 100).alias("P(over budget)"),
        pl.col("status")
        .replace_strict(kpis.BUDGET_STATUS, default=pl.col("status"))
        .alias("Status"),
    )


BACKTESTS: Config = {
    "MAPE": pct("Mean absolute % error of the forecast on rolling origins"),
    "Naive MAPE": pct("The seasonal-naive baseline on the same origins"),
    "80% coverage": pct("Share of actuals inside the 80% interval (0.80 is calibrated)", 0),
    "95% coverage": pct("Share of actuals inside the 95% interval (0.95 is calibrated)", 0),
}


def backtests(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("series").map_elements(series_label, return_dtype=pl.String).alias("Series"),
        pl.format("{} days", "horizon_days").alias("Horizon"),
        pl.col("origins").alias("Origins"),
        (pl.col("mape") * 100).alias("MAPE"),
        (pl.col("naive_mape") * 100).alias("Naive MAPE"),
        # No origin (too little history) is no verdict, not "no".
        pl.when(pl.col("mape").is_null() | pl.col("naive_mape").is_null())
        .then(pl.lit(fmt.MISSING))
        .when(pl.col("mape") < pl.col("naive_mape"))
        .then(pl.lit("yes"))
        .otherwise(pl.lit("no"))
        .alias("Beats naive"),
        (pl.col("coverage80") * 100).alias("80% coverage"),
        (pl.col("coverage95") * 100).alias("95% coverage"),
        pl.col("method").alias("Method"),
    )


UNITS: Config = {
    "Est. spend": money(),
    "Requests": count(),
    "Tokens": col.NumberColumn(format="compact"),
    "Per request": col.NumberColumn(format="$%.4f", help="Estimated cost per priced request"),
    "Per 1K tokens": col.NumberColumn(format="$%.4f"),
    "Cache read tokens": col.NumberColumn(format="compact"),
    "Cache savings": money("cache_read_tokens × (input price − cache read price)"),
    "Unpriced": count("Requests of models without a price: left out of the costs"),
}


def units(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("lob").alias("LOB"), pl.col("app").alias("Application"),
        pl.col("est_cost_usd").alias("Est. spend"), pl.col("invocations").alias("Requests"),
        pl.col("tokens").alias("Tokens"), pl.col("cost_per_request").alias("Per request"),
        pl.col("cost_per_1k_tokens").alias("Per 1K tokens"),
        pl.col("cache_read_tokens").alias("Cache read tokens"),
        pl.col("cache_savings_usd").alias("Cache savings"),
        pl.col("unpriced_invocations").alias("Unpriced"),
    )  # fmt: skip


RECONCILIATION: Config = {
    "Estimate": money(), "Bill": money("Blank: not billed yet"),
    "Drift": money("Bill − estimate"), "Drift %": pct("Drift as a share of the bill"),
}  # fmt: skip


def reconciliation(frame: pl.DataFrame) -> pl.DataFrame:
    by_model = frame.group_by("model").agg(
        pl.col("est_cost").sum(), _sum_or_null("billed_cost"),
        _sum_or_null("drift_usd"),
    )  # fmt: skip
    return by_model.sort("billed_cost", descending=True, nulls_last=True).select(
        short_models(by_model).alias("Model"),
        pl.col("est_cost").alias("Estimate"),
        pl.col("billed_cost").alias("Bill"),
        pl.col("drift_usd").alias("Drift"),
        (pl.col("drift_usd") / pl.col("billed_cost") * 100).alias("Drift %"),
    )


def ce_vs_ours(ce: pl.DataFrame, ours: pl.DataFrame) -> pl.DataFrame:
    """Cost Explorer's monthly forecast beside our month landing for the total."""
    month = ours.filter((pl.col("series") == "total") & (pl.col("period_kind") == "month"))
    ce_month = ce.filter(pl.col("granularity") == "MONTHLY").head(1)
    rows = []
    if len(month):
        m = month.row(0, named=True)
        rows.append({"Forecast": "genai-lens (Prophet)", "Month end": m["landing"],
                     "Low": m["lo80"], "High": m["hi80"], "Interval": "80%"})  # fmt: skip
    if len(ce_month):
        c = ce_month.row(0, named=True)
        rows.append({"Forecast": "AWS Cost Explorer", "Month end": c["mean"], "Low": c["lower"],
                     "High": c["upper"], "Interval": "Cost Explorer's"})  # fmt: skip
    return pl.DataFrame(rows)


CE: Config = {"Month end": money(), "Low": money(), "High": money()}


# --- Reliability -----------------------------------------------------------------------------

MODEL_LATENCY: Config = {
    "Latency p50": secs(), "Latency p90": secs(), "Latency p99": secs(),
    "TTFT p50": secs("Time to first token (streaming calls)"), "TTFT p90": secs(),
    "TTFT p99": secs(),
    "Samples": count("CloudWatch samples behind the latency figures"),
}  # fmt: skip


def model_latency(frame: pl.DataFrame) -> pl.DataFrame:
    wide = frame.pivot(on="metric_name", index="model", values=["p50", "p90", "p99", "samples"])
    out = wide.select(short_models(wide).alias("Model"))
    for metric, short in (("InvocationLatency", "Latency"), ("TimeToFirstToken", "TTFT")):
        for p in ("p50", "p90", "p99"):
            name = f"{p}_{metric}"
            value = pl.col(name) / 1000 if name in wide.columns else pl.lit(None, pl.Float64)
            out = out.with_columns(wide.select(value.alias(f"{short} {p}")).to_series())
    samples = "samples_InvocationLatency"
    return out.with_columns(
        (wide[samples] if samples in wide.columns else pl.Series([None] * len(wide))).alias(
            "Samples"
        )
    ).sort("Latency p99", descending=True, nulls_last=True)


SHOWN_PERCENTILES = ("p50", "p90", "p99")
# The logs' timings: to the last token (Converse, streams), and to the first byte (only
# InvokeModelWithResponseStream records carry it).
TIMINGS = {"latency": "Latency", "first_byte": "First byte"}
APPS: Config = {
    "Invocations": count(), "Errors": count(), "Throttles": count(), "Timed calls": count(),
    "Error rate": pct(decimals=2), "Mean": secs("Exact mean from the logs"),
    **{p: secs(f"Hourly {p}s averaged with calls as weight (approximate)")
       for p in SHOWN_PERCENTILES},
}  # fmt: skip
LOB_LATENCY: Config = {k: APPS[k] for k in ("Timed calls", "Mean", *SHOWN_PERCENTILES)}


def apps(
    frame: pl.DataFrame,
    by: str,
    limit: int = 10,
    min_calls: int = 50,
    pct: str = "p99",
    timing: str = "latency",
) -> pl.DataFrame:
    """The `limit` applications worst by `by` ("latency": `timing` at `pct` among apps with
    `min_calls` timed calls; "errors": error rate among apps with `min_calls` calls); an
    application without that figure is not ranked (`no_latency` names them)."""
    if by == "latency":
        key, enough = f"{timing}_{pct}_ms", pl.col(f"{timing}_count") >= min_calls
    else:
        key, enough = "error_rate", pl.col("invocations") >= min_calls
    ranked = frame.filter(enough)
    worst = (
        ranked.with_columns(pl.col(key).fill_nan(None)).drop_nulls(key).sort(key, descending=True)
    )
    figures = (
        [pl.col(f"{timing}_count").alias("Timed calls"),
         in_seconds(f"{timing}_mean_ms").alias("Mean"),
         *(in_seconds(f"{timing}_{p}_ms").alias(p) for p in SHOWN_PERCENTILES)]
        if by == "latency" else
        [in_seconds("latency_mean_ms").alias("Mean"),
         *(in_seconds(f"latency_{p}_ms").alias(p) for p in SHOWN_PERCENTILES)]
    )  # fmt: skip
    return worst.head(limit).select(
        pl.col("lob").alias("LOB"), pl.col("app").alias("Application"),
        pl.col("invocations").alias("Invocations"), pl.col("errors").alias("Errors"),
        pl.col("throttles").alias("Throttles"), (pl.col("error_rate") * 100).alias("Error rate"),
        *figures,
    )  # fmt: skip


def no_latency(frame: pl.DataFrame, timing: str = "latency") -> list[str]:
    """The applications whose logged calls carry none of `timing` at all, busiest first."""
    found = frame.filter(pl.col(f"{timing}_count").fill_null(0) == 0)
    return found.sort("invocations", descending=True)["app"].to_list()


def lob_latency(daily: pl.DataFrame, pct: str = "p99", timing: str = "latency") -> pl.DataFrame:
    """`timing` at `pct` per day and LOB from reliability_daily's weighted sums (a day or LOB
    whose calls logged none of it has no point, not a zero)."""
    value = reduce.ratio(
        pl.col(f"{timing}_{pct}_weighted").sum(), pl.col(f"{timing}_{pct}_count").sum()
    )
    return daily.group_by("day", "lob").agg(value.alias(pct)).drop_nulls(pct)


def lob_percentiles(daily: pl.DataFrame, timing: str = "latency") -> pl.DataFrame:
    """Per LOB over the whole period: timed calls, exact mean and p50 / p90 / p99 of `timing`
    (hourly values weighted by calls), slowest p99 first; LOBs without it are left out."""
    sums = pl.exclude("day", "lob", "model").sum()
    per_lob = daily.group_by("lob").agg(sums).filter(pl.col(f"{timing}_count") > 0)
    return per_lob.select(
        pl.col("lob").alias("LOB"), pl.col(f"{timing}_count").alias("Timed calls"),
        in_seconds(reduce.ratio(f"{timing}_ms_sum", f"{timing}_count")).alias("Mean"),
        *(in_seconds(reduce.ratio(f"{timing}_{p}_weighted", f"{timing}_{p}_count")).alias(p)
          for p in SHOWN_PERCENTILES),
    ).sort("p99", descending=True, nulls_last=True)  # fmt: skip


# --- Data health -----------------------------------------------------------------------------

FRESHNESS: Config = {
    "Newest data": col.TextColumn(help="UTC; the bill's newest point is a whole day"),
    "Age": col.TextColumn(help="Since the newest data (a day's data: since the day ended)"),
    "Ingest read to": col.DatetimeColumn(format="D MMM YYYY, HH:mm", help="The watermark"),
    "Last run": col.DatetimeColumn(format="D MMM, HH:mm"),
    "Last ok run": col.DatetimeColumn(format="D MMM, HH:mm"),
    "Failed runs (24h)": count(),
}
RUNS: Config = {
    "Started": col.DatetimeColumn(format="D MMM YYYY, HH:mm:ss"),
    "Seconds": col.NumberColumn(format="%.1f"),
    "Objects": count(), "Rows in": count(), "Quarantined": count(),
    "Error": col.TextColumn(width="large"),
}  # fmt: skip


def runs(frame: pl.DataFrame) -> pl.DataFrame:
    failed = pl.col("status").is_in(["error", "interrupted"])
    return frame.sort(failed, "started_at", descending=True).select(
        pl.col("source").alias("Source"), pl.col("trigger").alias("Trigger"),
        pl.col("started_at").alias("Started"), pl.col("seconds").alias("Seconds"),
        pl.col("status").alias("Status"), pl.col("objects").alias("Objects"),
        pl.col("rows_inserted").alias("Rows in"), pl.col("rows_quarantined").alias("Quarantined"),
        pl.col("error").alias("Error"),
    )  # fmt: skip


QUARANTINE: Config = {"Records": count(), "Objects": count(), "Line": count()}


def quarantine(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("source").alias("Source"), pl.col("reason").alias("Reason"),
        pl.col("records").alias("Records"), pl.col("objects").alias("Objects"),
        pl.col("example_object").alias("Example object"), pl.col("example_line").alias("Line"),
    )  # fmt: skip


THREE_WAY: Config = {
    "Logged calls": count(), "CloudWatch calls": count(), "Estimate": money(),
    "Estimate at CloudWatch's calls": money(), "Bill": money(),
}  # fmt: skip


def three_way(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("day").alias("Day"), pl.col("model").alias("Model"),
        pl.col("logged_calls").alias("Logged calls"), pl.col("cw_calls").alias("CloudWatch calls"),
        pl.col("est_cost").alias("Estimate"),
        pl.col("explained").alias("Estimate at CloudWatch's calls"),
        pl.col("billed_cost").alias("Bill"), pl.col("finding").alias("Finding"),
    ).sort("Day", "Model", descending=[True, False])  # fmt: skip


COVERAGE: Config = {
    "Billed": money(), "With usage records": money(),
    "Coverage": col.ProgressColumn(format="percent", min_value=0, max_value=1),
}  # fmt: skip
KIND_NAMES = {
    "tokens": "On-demand tokens", "batch": "Batch inference", "mantle": "bedrock-mantle",
    "provisioned": "Provisioned throughput", "custom_model": "Custom models",
    "guardrails": "Guardrails", "knowledge_base": "Knowledge bases", "agentcore": "AgentCore",
    "marketplace": "Marketplace editions", "other": "Other",
}  # fmt: skip


def bill_coverage(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("kind").replace_strict(KIND_NAMES, default=pl.col("kind")).alias("Spend"),
        pl.col("billed").alias("Billed"), pl.col("with_records").alias("With usage records"),
        pl.col("coverage").alias("Coverage"), pl.col("fix").alias("To cover the rest"),
    )  # fmt: skip


UNPRICED: Config = {
    "Unpriced calls": count(), "Tokens": col.NumberColumn(format="compact"),
    "Last seen": col.DatetimeColumn(format="D MMM YYYY, HH:mm"),
}  # fmt: skip


def unpriced(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("model").alias("Model"), pl.col("region").alias("Region"),
        pl.col("unpriced_invocations").alias("Unpriced calls"),
        pl.col("unpriced_tokens").alias("Tokens"), pl.col("lobs").alias("LOBs"),
        pl.col("last_seen").alias("Last seen"),
    )  # fmt: skip


UNATTRIBUTED: Config = {"Invocations": count(), "Est. spend": money()}


def unattributed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("account_id").alias("Account"), pl.col("region").alias("Region"),
        short_models(frame).alias("Model"), pl.col("invocations").alias("Invocations"),
        pl.col("est_cost_usd").alias("Est. spend"),
    )  # fmt: skip


MISSING_LOGS: Config = {
    "Hour": col.DatetimeColumn(format="D MMM YYYY, HH:00", help="UTC"),
    "CloudWatch counted": count(), "Logged": count(),
}  # fmt: skip


def missing_logs(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("hour").alias("Hour"), pl.col("account_id").alias("Account"),
        pl.col("region").alias("Region"), pl.col("cw_invocations").alias("CloudWatch counted"),
        pl.col("logged_invocations").alias("Logged"),
        pl.when(pl.col("logged_invocations") == 0).then(pl.lit("no logs"))
        .otherwise(pl.lit("under half logged")).alias("Gap"),
    )  # fmt: skip


def _sum_or_null(column: str) -> pl.Expr:
    """The sum, or null when every value is null (not billed yet is not $0)."""
    return pl.when(pl.col(column).count() > 0).then(pl.col(column).sum()).alias(column)


UNPRICED_BILL: Config = {"Bill spend": money(), "Share of bill": col.NumberColumn(format="percent"),
                         "Log tokens": col.NumberColumn(format="compact")}  # fmt: skip


def unpriced_bill(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("item").alias("Model or usage type"), pl.col("why").alias("Why"),
        pl.col("region").alias("Region"), pl.col("bill_usd").alias("Bill spend"),
        pl.col("share").alias("Share of bill"), pl.col("log_tokens").alias("Log tokens"),
    )  # fmt: skip


RESERVED: Config = {
    "Monthly charge": money(), "Reserved TPM": col.NumberColumn(format="compact"),
    "Mean use": col.NumberColumn(format="percent"), "Peak use": col.NumberColumn(format="percent"),
    "Calls": count(),
}  # fmt: skip


def reserved(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("model").alias("Model"), pl.col("region").alias("Region"),
        pl.col("reserved_tpm").alias("Reserved TPM"), pl.col("monthly_usd").alias("Monthly charge"),
        pl.col("calls").alias("Calls"), pl.col("mean_use").alias("Mean use"),
        pl.col("peak_use").alias("Peak use"),
    )  # fmt: skip


def lob_table(lobs: pl.DataFrame, compare: bool = True) -> pl.DataFrame:
    """The per-LOB table as displayed: change and share in percent, short model names; no
    change where the previous span is no baseline (`compare` False)."""
    if not compare:
        lobs = lobs.with_columns(pl.lit(None, pl.Float64).alias("prev_est_cost_usd"))
    labels = legend.model_labels(lobs["top_model"].drop_nulls().to_list())
    change = (pl.col("est_cost_usd") / pl.col("prev_est_cost_usd") - 1) * 100
    status = pl.col("budget_status")
    return lobs.select(
        pl.col("lob").alias("LOB"),
        pl.col("est_cost_usd").alias("Est. spend"),
        pl.col("daily_cost").alias("Spend per day"),
        pl.when(pl.col("prev_est_cost_usd") > 0).then(change).alias("vs previous"),
        (pl.col("cost_share") * 100).alias("Share of spend"),
        status.replace_strict(kpis.BUDGET_STATUS, default=status).alias("Budget status"),
        pl.col("month_landing").alias("Month landing"),
        pl.col("month_budget").alias("Budget"),
        (pl.col("p_exceed") * 100).alias("P(over budget)"),
        pl.col("invocations").alias("Invocations"),
        pl.col("tokens").alias("Tokens"),
        pl.col("top_model").replace(labels).alias("Top model"),
        pl.col("unpriced_invocations").alias("Unpriced invocations"),
    )
