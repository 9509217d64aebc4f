"""Spend: who spends what on which model, where the month lands, and a chargeback that
matches the invoice. FinOps' page."""

import polars as pl
import streamlit as st

from app import charts, data, figures, focus, tables, tiles, ui, view

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
    kinds = charts.color_map(spend["token_kind"].unique().to_list(), charts.MODEL_PALETTE)
    colors = {"lob": ctx.lob_colors, "model": ctx.model_colors}.get(by, kinds)
    labels = charts.model_labels(spend["model"].unique().to_list()) if by == "model" else None
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
    if recon.is_empty():
        st.info(tiles.no_reconciliation(ctx), icon=":material/receipt_long:")
    else:
        left, right = st.columns(2)
        left.plotly_chart(figures.reconciliation(recon, days))
        ui.table(tables.reconciliation(recon), tables.RECONCILIATION, where=right)

chargeback = data.chargeback(w)
with ui.panel("Chargeback", "bill", applies=("lob", "model"), why="it follows the invoice"):
    if chargeback.is_empty():
        ui.nothing("allocated bill", ctx, "Allocation runs with `genai-lens models run`.")
    else:
        st.markdown(tiles.chargeback_summary(chargeback))
        for column, (label, kind, suffix, payload) in zip(st.columns(3), [
            ("Chargeback CSV", "chargeback", "csv", focus.chargeback_csv(chargeback)),
            ("FOCUS 1.2 Parquet", "focus", "parquet", focus.focus_parquet(chargeback)),
            ("FOCUS 1.2 CSV", "focus", "csv", focus.focus_csv(chargeback)),
        ], strict=True):  # fmt: skip
            column.download_button(label, payload, focus.file_name(kind, w.days, suffix),
                                   icon=":material/download:", on_click="ignore")  # fmt: skip
