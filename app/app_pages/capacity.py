"""Capacity & savings: what would change the bill, priced on the organisation's own traffic.
FinOps' and SRE's page."""

import streamlit as st

from app import capacity_tables as ct
from app import data, ui
from models import savings

ctx = ui.context()
ui.header("Capacity & savings", "What-if savings on your own traffic, quota runway, lifecycle",
          ctx)  # fmt: skip
ui.require_data(ctx)
w = ctx.w
a = ct.assumptions(data.capacity_config())
facts = data.capacity_savings(w)
mix = data.capacity_mix(w, a.batch_hours)
if mix.is_empty():
    ui.nothing("invocations", ctx)
    st.stop()
st.caption("Every figure is per application over the period, with its basis beside it. "
           "Dollars are estimates from the logs (tokens x price catalog).")  # fmt: skip

with ui.panel("What-if: prompt caching", "estimate"):
    found = savings.caching(facts)
    st.caption(ct.CACHING_NOTE)
    if found.is_empty():
        ui.nothing("repeated prefixes a cache would pay for", ctx)
    else:
        ui.table(found, ct.CACHING)

with ui.panel("What-if: batch and flex", "estimate"):
    st.caption(ct.batch_note(a))
    found = savings.batch(mix, a)
    if found.is_empty():
        ui.nothing("traffic nobody waits on", ctx)
    else:
        ui.table(found, ct.BATCH)

with ui.panel("What-if: model swap", "estimate"):
    prices = data.capacity_prices(w.version)
    names = prices["model"].to_list()
    default = names.index("amazon.nova-pro-v1:0") if "amazon.nova-pro-v1:0" in names else 0
    target = st.selectbox("Re-price on", names, index=default, key="swap_target")
    st.caption(ct.SWAP_NOTE)
    if target is None:
        ui.nothing("priced models", ctx)
    else:
        ui.table(savings.swap(mix, prices, target), ct.SWAP)

with ui.panel("What-if: global cross-Region inference", "estimate"):
    st.caption(ct.cross_note(a))
    found = savings.cross_region(facts, a)
    if found.is_empty():
        ui.nothing("spend through geo profiles of models with a geo premium", ctx)
    else:
        ui.table(found, ct.CROSS)

with ui.panel("Waste: retry storms, cut answers, blocked calls", "estimate"):
    st.caption(ct.WASTE_NOTE)
    found = savings.waste(facts)
    if found.is_empty():
        ui.nothing("waste", ctx)
    else:
        ui.table(found, ct.WASTE)

CW: ui.Scope = {
    "applies": ("model", "region", "account"),
    "why": "quotas have no LOB or application",
}
with ui.panel("Quota runway: days until throttling", "models", **CW):
    st.caption(ct.RUNWAY_NOTE)
    runway = data.runway(w)
    if runway.is_empty():
        ui.nothing("applied quotas with traffic (an all-LOB reader sees them)", ctx)
    else:
        ui.table(runway, ct.RUNWAY)
        st.markdown("**Backtest: did it warn before the throttling?**")
        st.caption(ct.BACKTEST_NOTE)
        ui.table(data.runway_backtests(w), ct.BACKTEST)

with ui.panel("Who drives the busiest minutes", "logs", applies=("lob", "model", "region",
                                                                 "account")):  # fmt: skip
    ui.table(data.peak_drivers(w), ct.DRIVERS)

with ui.panel("Model lifecycle: still on LEGACY models", "estimate"):
    st.caption(ct.LEGACY_NOTE)
    legacy = data.legacy_models(w)
    if legacy.is_empty():
        ui.nothing("calls to LEGACY models", ctx)
    else:
        ui.table(legacy, ct.LEGACY)

with ui.panel("Over-reservation: max_tokens against tokens generated", "logs",
              applies=("lob", "app", "model", "region", "account")):  # fmt: skip
    st.caption(ct.RESERVED_NOTE)
    ui.table(savings.over_reservation(facts), ct.RESERVED)
