"""Spend: who spends what on which model, where the month lands, and a chargeback that
matches the invoice. FinOps' page."""

from functools import partial

import polars as pl
import streamlit as st

from app import access, data, figures, legend, tables, tiles, ui, view
from base import format as fmt
from models import focus

SPLITS = {"LOB": "lob", "Model": "model", "Token kind": "token_kind"}
PER_LOB: ui.Scope = {"applies": ("lob",), "why": "forecasts are per LOB"}

ctx = ui.context()
ui.header("Spend", "Amazon Bedrock spend: the bill allocated to LOBs, forecasts, unit costs", ctx)
ui.require_data(ctx)
w, days = ctx.w, ctx.w.shown_days
spend, units = data.spend_daily(w), data.units(w)
if spend.is_empty() and units.is_empty():
    ui.nothing("spend", ctx)
    st.stop()
kpis = tiles.spend(spend, units)
# Two rows of three: six abreast cut unit costs such as "$0.0023" to "$0.0…" on a laptop.
ui.tiles(kpis[:3])  # what it cost
ui.tiles(kpis[3:])  # what a unit costs

with ui.panel("Spend per day", "allocation"):
    split = st.segmented_control("Split by", list(SPLITS), default="LOB", key="split",
                                 bind="query-params")  # fmt: skip
    by = SPLITS[split or "LOB"]
    kinds = legend.color_map(spend["token_kind"].unique().to_list(), legend.MODEL_PALETTE)
    colors = {"lob": ctx.lob_colors, "model": ctx.model_colors}.get(by, kinds)
    labels = legend.model_labels(spend["model"].unique().to_list()) if by == "model" else None
    st.plotly_chart(figures.spend_stack(spend, by, colors, days, labels))

forecast, landing = data.forecast(w), data.landing(w)
with ui.panel("Forecast", "models", **PER_LOB):
    if forecast.is_empty():
        st.info(ui.NO_MODELS, icon=":material/hourglass_empty:")
    else:
        names = forecast["series"].unique(maintain_order=True).to_list()
        pick, reach = st.columns([2, 3])
        series = pick.selectbox("Series", names, format_func=tables.series_label, key="series")
        horizon = reach.segmented_control("Forecast to", view.HORIZONS, default="Month end",
                                          key="horizon", bind="query-params")  # fmt: skip
        until = view.forecast_until(horizon, view.today())
        one = forecast.filter(pl.col("series") == series)
        ce = data.ce_forecast(w).filter(pl.col("granularity") == "DAILY")
        left, right = st.columns([3, 2])
        left.markdown("**Daily spend: actual, forecast and its 80% / 95% intervals**")
        left.plotly_chart(figures.forecast(one, view.today(), ce if series == "total" else None,
                                           until=until))  # fmt: skip
        if (tops := figures.clipped(one, until)) is not None:
            left.caption(tiles.clipped_note(tops))
        month = landing.filter((pl.col("series") == series) & (pl.col("period_kind") == "month"))
        if len(month):
            right.markdown("**This month, cumulative, against budget**")
            right.plotly_chart(figures.month_landing(one, month.row(0, named=True)))
        if note := one["note"].drop_nulls().first():
            st.caption(f"Model note: {note!s}")

with ui.panel("Month and quarter landing", "models", **PER_LOB):
    if landing.is_empty():
        st.info(ui.NO_MODELS, icon=":material/hourglass_empty:")
    else:
        ui.table(tables.landing(landing), tables.LANDING)
        st.caption(tiles.LANDING_NOTE)
with ui.panel("Forecast accuracy (backtests)", "models", **PER_LOB):
    backtests = data.backtests(w)
    if backtests.is_empty():
        st.info(ui.NO_MODELS, icon=":material/hourglass_empty:")
    else:
        ui.table(tables.backtests(backtests), tables.BACKTESTS)
    ce_all = data.ce_forecast(w)
    if len(beside := tables.ce_vs_ours(ce_all, landing)):
        st.markdown("**This month, all LOBs: ours beside Cost Explorer's**")
        ui.table(beside, tables.CE)
        if (note := tiles.ce_missing(ce_all)) is not None:
            st.caption(note)

with ui.panel("Unit economics per application", "estimate"):
    ui.table(tables.units(units), tables.UNITS)

recon = data.reconciliation(w)
with ui.panel("Estimate vs bill", "bill", applies=("model",), why="the bill has no LOB"):
    accuracy, unpriced = tiles.estimate_accuracy(data.estimate_accuracy(w)), data.unpriced_share(w)
    if accuracy:
        st.markdown(accuracy)
    st.metric("Unpriced share of the bill", fmt.percent(unpriced["bill_share"]),
              help="Bill spend on a model, usage type or tier the price catalog does not know "
              "(Data health lists them).")  # fmt: skip
    if recon.is_empty():
        st.info(tiles.no_reconciliation(ctx), icon=":material/receipt_long:")
    else:
        left, right = st.columns(2)
        left.plotly_chart(figures.reconciliation(recon, days))
        ui.table(tables.reconciliation(recon), tables.RECONCILIATION, where=right)

with ui.panel("Logs vs CloudWatch vs bill", "bill", applies=("model",),
              why="the bill has no LOB, application, region or account"):  # fmt: skip
    three = data.reconciliation_3way(w)
    if three.is_empty():
        st.info(tiles.no_reconciliation(ctx), icon=":material/receipt_long:")
    else:
        st.caption("Each difference named: logging gap (CloudWatch counted calls the logs miss), "
                   "unlogged endpoint (billed, no call seen), price drift (estimate off the bill "
                   "at CloudWatch's calls), bill not final (AWS may restate it).")  # fmt: skip
        ui.table(tables.three_way(three), tables.THREE_WAY)

if len(held := data.reserved(w)):
    with ui.panel("Reserved capacity", "models", applies=(), why="a reservation has no LOB"):
        st.caption("A fixed monthly charge per 1K tokens per minute: its calls cost nothing more.")
        ui.table(tables.reserved(held), tables.RESERVED)

chargeback = data.chargeback(w)
with ui.panel("Chargeback", "bill", applies=("lob", "model"), why="it follows the invoice"):
    if chargeback.is_empty():
        ui.nothing("allocated bill", ctx, "Allocation runs with `genai-lens models run`.")
    else:
        st.markdown(tiles.chargeback_summary(chargeback))
        accounts = data.accounts()
        # Each file is built when its button is clicked (and audited then), without a rerun:
        # a rerun would replace the file under a download still in flight.
        for column, (label, kind, suffix) in zip(st.columns(3), [
            ("Chargeback CSV", "chargeback", "csv"),
            ("FOCUS 1.2 Parquet", "focus", "parquet"),
            ("FOCUS 1.2 CSV", "focus", "csv"),
        ], strict=True):  # fmt: skip
            name = focus.file_name(kind, w.days, suffix)
            build = partial(focus.render, kind, suffix, chargeback, accounts)
            payload = access.audited_download(name, w, build, chargeback.height)
            column.download_button(label, payload, name, mime=focus.MIME[suffix],
                                   icon=":material/download:", on_click="ignore")  # fmt: skip
