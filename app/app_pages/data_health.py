"""Data health: is every source fresh and complete, and what did ingest refuse? The platform
team's page, with a "run now" per source."""

import streamlit as st

from app import actions, data, tables, tiles, ui
from base import format as fmt
from base.scalars import as_float

NONE_APPLIES: ui.Scope = {"applies": (), "why": "job bookkeeping has no LOB and no period"}
CW: ui.Scope = {
    "applies": ("region", "account"),
    "why": "CloudWatch has no LOB, application or model",
}

ctx = ui.context()
ui.header("Data health", "Freshness and completeness of every source", ctx)
if ctx.version.empty:
    st.info(ui.NO_DATA, icon=":material/hourglass_empty:")
if flash := st.session_state.pop(actions.RUN_FLASH, None):
    st.info(flash, icon=":material/play_circle:")
w, admin = ctx.w, ctx.version.scope.all_lobs

with ui.panel("Freshness per source", "jobs", **NONE_APPLIES):
    ui.table(tiles.freshness(ctx.sources, ui.utc_now()), tables.FRESHNESS)
    st.caption("Run now (asks the scheduler to run that job at once):")
    for column, (source, label) in zip(st.columns(5), tiles.SOURCES.items(), strict=True):
        column.button(label, key=f"run_{source}", on_click=actions.run_now, args=(source,),
                      icon=":material/play_arrow:", disabled=not admin)  # fmt: skip

with ui.panel("Job runs, failures first", "jobs", **NONE_APPLIES):
    runs = data.runs(ctx.version)
    if runs.is_empty():
        st.info("No job has run yet." if admin else tiles.ADMIN_ONLY)
    else:
        ui.table(tables.runs(runs), tables.RUNS)
with ui.panel("Quarantined records", "jobs", **NONE_APPLIES):
    held = data.quarantine(ctx.version)
    if held.is_empty():
        st.info(tiles.ADMIN_ONLY) if not admin else st.success("Nothing quarantined.")
    else:
        st.caption(tiles.quarantine_note(int(as_float(held["records"].sum()))))
        ui.table(tables.quarantine(held), tables.QUARANTINE)

with ui.panel("Bill coverage by usage records", "bill", applies=(), why="the bill has no LOB"):
    covered = data.bill_coverage(w)
    if covered.is_empty():
        st.info("No Bedrock bill in this period yet." if admin else tiles.ADMIN_ONLY)
    else:
        total = as_float(covered["billed"].sum())
        share = as_float(covered["with_records"].sum()) / total if total else None
        st.metric("Billed Bedrock-family spend with usage-level records", fmt.percent(share))
        ui.table(tables.bill_coverage(covered), tables.COVERAGE)

with ui.panel("Unpriced models", "logs"):
    unpriced, shares = data.unpriced(w), data.unpriced_share(w)
    st.metric("Unpriced share of logged calls", fmt.percent(shares["call_share"]))
    if unpriced.is_empty():
        st.success("Every model used in the period has a price.")
    else:
        st.caption("Their cost is unknown, not $0: add a price to genai-lens.toml [[prices]] "
                   "(an unknown service tier: [[price_rules]]).")  # fmt: skip
        ui.table(tables.unpriced(unpriced), tables.UNPRICED)
with ui.panel("Unpriced bill spend", "bill", applies=(), why="the bill has no LOB"):
    billed = data.unpriced_bill(w)
    st.metric("Unpriced share of the bill", fmt.percent(shares["bill_share"]))
    if billed.is_empty():
        st.success("The catalog prices every token line of the bill." if admin
                   else tiles.ADMIN_ONLY)  # fmt: skip
    else:
        st.warning("The bill charges for these; the catalog cannot price their calls.")
        ui.table(tables.unpriced_bill(billed), tables.UNPRICED_BILL)
with ui.panel("Unattributed usage", "logs"):
    share, found = data.unattributed(w)
    st.metric("Share of estimated spend no rule claimed", fmt.percent(share))
    if not found.is_empty():
        ui.table(tables.unattributed(found), tables.UNATTRIBUTED)

with ui.panel("Hours with invocations but no logs", "metrics", **CW):
    missing = data.missing_logs(w)
    if missing.is_empty():
        st.success("CloudWatch counted no call the logs missed." if admin else tiles.ADMIN_ONLY)
    else:
        st.warning(tiles.missing_logs_note(len(missing)))
        ui.table(tables.missing_logs(missing), tables.MISSING_LOGS)
