"""Governance: what did guardrails catch, for whom, and who changed a guardrail or switched
logging off? Risk and compliance's page."""

import polars as pl
import streamlit as st

from app import data, figures, findings, legend, tiles, ui

TRAIL: ui.Scope = {"applies": ("lob", "region", "account"), "why": "changes are made by principals"}
CW: ui.Scope = {
    "applies": ("region", "account"),
    "why": "CloudWatch has no LOB, application or model",
}

ctx = ui.context()
ui.header("Governance", "Guardrails, configuration changes and invocation logging", ctx)
ui.require_data(ctx)
w, days = ctx.w, ctx.w.shown_days
daily = data.guardrail_daily(w)
changes, gaps = ui.maybe(lambda: data.changes(w)), ui.maybe(lambda: data.logging_gaps(w))
ui.tiles(tiles.governance(daily, changes, gaps))

with ui.panel("Guardrail interventions per day, by LOB", "logs"):
    if daily["guardrail_interventions"].sum() == 0:
        ui.nothing("guardrail interventions", ctx)
    else:
        st.plotly_chart(figures.stacked(daily, "lob", "guardrail_interventions", days,
                                       colors=ctx.lob_colors, kind="bar",
                                       tick=figures.compact_tick, hover=",d"))  # fmt: skip

left, right = st.columns(2)
with ui.panel("Guardrail coverage by LOB", "logs", where=left):
    st.caption("Share of each LOB's invocations that ran under a guardrail.")
    st.plotly_chart(figures.bars(findings.coverage(daily), "lob", "coverage", colors=ctx.lob_colors,
                                 tick=figures.percent_tick, hover=".1%", top=1.0))  # fmt: skip
with ui.panel("Interventions by policy type", "logs", where=right):
    policies = data.guardrail_policies(w)
    if policies.is_empty():
        ui.nothing("guardrail interventions", ctx)
    else:
        colors = legend.color_map(policies["policy"].unique().to_list(), legend.MODEL_PALETTE)
        per_day = figures.stacked(policies, "policy", "interventions", days, colors=colors,
                                 kind="bar", tick=figures.compact_tick, hover=",d")  # fmt: skip
        st.plotly_chart(per_day)
with ui.panel("Guardrails per application", "logs"):
    ui.table(findings.interventions(daily), findings.INTERVENTIONS)
with ui.panel("Interventions by guardrail", "metrics", **CW):
    rails = data.guardrails(w)
    if rails.is_empty():
        ui.nothing("CloudWatch guardrail interventions", ctx, tiles.cloudwatch_hint(ctx))
    else:
        ui.table(findings.guardrails(rails), findings.GUARDRAILS)

with ui.panel("Audit trail: Bedrock configuration changes", "cloudtrail", **TRAIL):
    changes = data.changes(w)  # (cached) raises here, in its panel, if its rollup is missing
    if changes.is_empty():
        ui.nothing("configuration changes", ctx)
    else:
        kinds = sorted(changes["change_kind"].unique())
        left, right = st.columns([2, 1])
        picked = left.multiselect("Kinds", kinds, default=kinds, key="kinds")
        who = right.text_input("Principal contains", key="who", placeholder="role or user")
        shown = changes.filter(pl.col("change_kind").is_in(picked))
        shown = shown.filter(pl.col("principal").str.contains(who, literal=True)) if who else shown
        refused = shown.filter(pl.col("error_code").is_not_null()).height
        st.caption(f"{len(shown)} changes; {refused} refused by AWS (their error is shown).")
        ui.table(findings.audit(shown), findings.AUDIT)

with ui.panel("Invocation logging switched off", "cloudtrail", **TRAIL):
    gaps = data.logging_gaps(w)
    if gaps.is_empty():
        st.success("Invocation logging stayed on through the period.")
    else:
        st.warning(tiles.gaps_note(len(gaps)))
        ui.table(findings.gaps(gaps, ui.utc_now()), findings.GAPS)
with ui.panel("Logging coverage: calls CloudWatch counted that reached the logs", "metrics", **CW):
    covered = data.logging_coverage(w)
    if covered.is_empty():
        ui.nothing("CloudWatch invocation counts", ctx, tiles.cloudwatch_hint(ctx))
    else:
        st.plotly_chart(figures.coverage(covered, days))
