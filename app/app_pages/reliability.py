"""Reliability: what is slow, what fails, for whom, and is it the quota? SRE's page."""

import polars as pl
import streamlit as st

from app import data, figures, legend, tables, tiles, ui

CW: ui.Scope = {
    "applies": ("model", "region", "account"),
    "why": "CloudWatch has no LOB or application",
}
METRICS = {"InvocationLatency": "Latency (to last token)", "TimeToFirstToken": "First token"}

ctx = ui.context()
ui.header("Reliability", "Latency, errors and throttling of Amazon Bedrock calls", ctx)
ui.require_data(ctx)
w, days = ctx.w, ctx.w.shown_days
daily = data.reliability_daily(w)
if daily.is_empty():
    ui.nothing("invocations", ctx)
    st.stop()
ui.tiles(tiles.reliability(daily))

with ui.panel("Latency by model", "metrics", **CW):
    latency = data.model_latency(w)
    if latency.is_empty():
        ui.nothing("CloudWatch latency", ctx, tiles.cloudwatch_hint(ctx))
    else:
        left, right, _ = st.columns([2, 1, 2])
        metric = left.segmented_control("Metric", list(METRICS), default="InvocationLatency",
                                        format_func=lambda m: METRICS[m], key="metric")  # fmt: skip
        pct = right.segmented_control("Percentile", ["p50", "p90", "p99"], default="p99", key="pct")
        trend = data.latency_trend(w)
        trend = trend.filter(pl.col("metric_name") == (metric or "InvocationLatency"))
        busiest = tables.busiest(latency, "model", "samples")
        st.plotly_chart(figures.lines(
            trend.filter(pl.col("model").is_in(busiest)), "ts", pct or "p99", "model",
            ctx.model_colors, days, tick=figures.latency_tick, hover=",.0f",
            labels=legend.model_labels(busiest),
        ))  # fmt: skip
        if len(busiest) < latency["model"].n_unique():
            st.caption(f"The {len(busiest)} busiest models; pick models in the sidebar for others.")
        ui.table(tables.model_latency(latency), tables.MODEL_LATENCY)

apps = data.app_reliability(w)
with ui.panel("Latency by LOB and application", "logs"):
    st.caption(tiles.LOG_PERCENTILES)
    left, right, _ = st.columns([2, 1, 2])
    timing = (
        left.segmented_control(
            "Timing",
            list(tables.TIMINGS),
            default="latency",
            format_func=lambda t: tables.TIMINGS[t],
            key="log_timing",
        )
        or "latency"
    )
    log_pct = right.segmented_control("Percentile", list(tables.SHOWN_PERCENTILES),
                                      default="p99", key="log_pct") or "p99"  # fmt: skip
    name = tables.TIMINGS[timing]
    per_lob = tables.lob_percentiles(daily, timing)
    if per_lob.is_empty():
        ui.nothing(f"{name.lower()} logged", ctx, tiles.NO_LOGGED[timing])
    else:
        st.markdown(f"**{name} {log_pct} per day, by LOB**")
        st.plotly_chart(figures.lines(tables.lob_latency(daily, log_pct, timing), "day", log_pct,
                                      "lob", ctx.lob_colors, days, tick=figures.latency_tick,
                                      hover=",.0f"))  # fmt: skip
        st.markdown(f"**{name} per LOB** over the period")
        ui.table(per_lob, tables.LOB_LATENCY)
        st.markdown(f"**Slowest applications** ({name.lower()} {log_pct}, at least 50 timed calls)")
        ui.table(tables.apps(apps, "latency", pct=log_pct, timing=timing), tables.APPS)
    if unlogged := tables.no_latency(apps, timing):
        st.caption(tiles.unlogged_latency(unlogged, timing))

with ui.panel("Errors and throttles", "logs"):
    errors = data.errors(w)
    if errors.is_empty():
        ui.nothing("failed invocations", ctx)
    else:
        codes = legend.error_colors(errors["error_code"].unique().to_list())
        left, right = st.columns([3, 2])
        left.markdown("**Failed invocations per day, by error code**")
        per_day = figures.stacked(errors, "error_code", "errors", days, colors=codes, kind="bar",
                                 tick=figures.compact_tick, hover=",d")  # fmt: skip
        left.plotly_chart(per_day)
        by = right.segmented_control("By", ["Model", "LOB"], default="Model", key="errors_by")
        column = "lob" if by == "LOB" else "model"
        labels = legend.model_labels(errors["model"].unique().to_list())
        right.plotly_chart(figures.bars(errors, column, "errors", tick=figures.compact_tick,
                                        hover=",d", colors=codes, stack="error_code",
                                        labels=labels if column == "model" else None))  # fmt: skip
    st.markdown("**Most failing applications** (error rate, at least 50 calls)")
    ui.table(tables.apps(apps, "errors"), tables.APPS)

with ui.panel("Throttle pressure against quota", "metrics", **CW):
    quota = data.quota(w)
    if quota.filter(pl.col("quota_tpm_max").is_not_null()).is_empty():
        loaded = data.cloudwatch(w)["metric_name"].unique().sort().to_list()
        ui.nothing("EstimatedTPMQuotaUsage points", ctx, tiles.quota_hint(ctx, quota, loaded))
    else:
        st.caption(tiles.QUOTA_NOTE)
        labels = legend.model_labels(quota["model"].unique().to_list())
        st.plotly_chart(figures.quota(quota, ctx.model_colors, labels, days))
