"""Anomalies: a triage feed, and per anomaly (?anomaly=<id>) its series and band, what drove
it, the configuration changes before it, the calls behind it, and acknowledge / mute /
resolve. SRE's drill-down."""

import streamlit as st

from app import data, figures, findings, sensitivity, triage, ui

PER_SERIES: ui.Scope = {"applies": ("lob", "model"), "why": "anomalies are per LOB and model"}

ctx = ui.context()
ui.header("Anomalies", "What broke, when, for whom, and why", ctx)
ui.require_data(ctx)
triage.show_flash()
feed = data.anomalies(ctx.w)
shown = st.pills("Status", data.STATUSES, selection_mode="multi", key="status",
                 default=["open", "acknowledged"])  # fmt: skip
feed = feed.filter(feed["status"].is_in(shown or data.STATUSES))
with ui.panel("Triage feed", "models", **PER_SERIES):
    if feed.is_empty():
        note = triage.detection_note(ctx.sources.get("models", {}), ctx.newest("models"))
        ui.nothing("anomalies", ctx, note)
    else:
        st.session_state[triage.FEED_IDS] = feed["anomaly_id"].to_list()
        ui.table(findings.feed(feed), findings.FEED, key="feed", on_select=triage.pick,
                 selection_mode="single-row")  # fmt: skip

picked = triage.picker(feed)
detail = data.anomaly(ctx.version, picked) if picked else None
if picked and detail is None:
    st.warning(f"No anomaly {picked} within your view: it is unknown or outside your LOBs.")
if detail and picked:
    why = findings.explanation(detail["explanation"])
    with ui.panel(findings.anomaly_label(detail), "models", **PER_SERIES):
        st.markdown(findings.anomaly_summary(detail, why))
        triage.buttons(detail)
        band = data.anomaly_band(ctx.version, picked)
        if band.is_empty():
            st.info("No band stored for this series: the detector keeps one per series it models.")
        else:
            st.plotly_chart(figures.anomaly_band(band, detail, triage.tick(detail["metric"])))
        left, right = st.columns(2)
        if (parts := findings.breakdown(why, detail["metric"])) is not None:
            left.markdown(findings.breakdown_heading(detail["metric"]))
            ui.table(parts, findings.BREAKDOWN, where=left)
        if (factors := findings.decomposition(why)) is not None:
            right.markdown("**Cost decomposition** (peak against the usual hour)")
            ui.table(factors, where=right)
    with ui.panel("Configuration changes in the 24 hours before it", "cloudtrail", **PER_SERIES):
        changes = data.anomaly_changes(ctx.version, picked)
        if changes.is_empty():
            st.info("No Bedrock configuration change recorded in CloudTrail around it.")
        else:
            ui.table(findings.changes(changes), findings.CHANGES)
    capture = data.capture_text()
    title = "Invocations behind it" + ("" if capture else " (metadata only)")
    with ui.panel(title, "logs", **PER_SERIES):
        calls = data.anomaly_sample(ctx.version, picked)
        if calls.is_empty():
            st.info("No logged invocation matches this anomaly's LOB, model and hours.")
        else:
            ui.table(findings.sample(calls), findings.SAMPLE)
        if capture and not calls.is_empty():
            texts = data.anomaly_text(ctx.version, picked, calls["request_id"].to_list())
            with st.expander(f"Prompt and response text, PII-redacted ({len(texts)} captured)"):
                if texts.is_empty():
                    st.caption(triage.NO_TEXT)
                else:
                    ui.table(findings.text(texts), findings.TEXT)
with ui.panel("Sensitivity learned from triage", "models", **PER_SERIES):
    sensitivity.show(ctx.w)
