"""Overview: are we on budget, is adoption growing, is it safe? Leadership's minute, per LOB."""

import streamlit as st

from app import data, figures, kpis, reduce, tables, ui, view
from base import format as fmt

# Short headers and widths (px) so all thirteen columns fit the page at 1,500 px, the sparkline
# next to the spend it draws rather than past the right edge (each header's help says it whole).
col = st.column_config
TABLE = {
    "LOB": col.TextColumn(width=100),
    "Est. spend": col.NumberColumn(format="dollar", help="Blank: nothing priced", width=80),
    "Spend per day": col.LineChartColumn(y_min=0, label="Per day", width=90,
                                         help="Estimated spend per day"),
    "vs previous": col.NumberColumn(format="%+.1f%%", label="Change", width=65,
                                    help="Spend against the same span just before"),
    "Share of spend": col.ProgressColumn(format="%.1f%%", max_value=100, label="Share",
                                         width=80, help="Share of spend"),
    "Budget status": col.TextColumn(label="Status", width=75,
                                    help="Budget status, from the newest forecast run"),
    "Month landing": col.NumberColumn(format="dollar", label="Landing", width=80,
                                      help="Forecast month end"),
    "Budget": col.NumberColumn(format="dollar", help="This month's budget", width=75),
    "P(over budget)": col.NumberColumn(format="%.0f%%", label="P(over)", width=60,
                                       help="Probability of ending the month over budget"),
    "Invocations": col.NumberColumn(format="localized", label="Calls", width=65,
                                    help="Invocations"),
    "Tokens": col.NumberColumn(format="compact", width=55),
    "Top model": col.TextColumn(help="The model with the most estimated spend", width=100),
    "Unpriced invocations": col.NumberColumn(format="localized", label="Unpriced", width=65,
                                             help="Invocations of models without a price"),
}  # fmt: skip

ctx = ui.context()
ui.header("Overview", "Amazon Bedrock usage and estimated spend", ctx)
ui.require_data(ctx)
w, days = ctx.w, ctx.w.shown_days
daily = data.daily(w)
if daily.is_empty():
    st.info(
        f"No usage in {ctx.span} for these filters. The warehouse holds data "
        f"from {fmt.hour(ctx.version.first_hour)} to {fmt.hour(ctx.version.last_hour)}."
    )
    st.stop()

kpi, month = data.kpis(w), data.month(w).row(0, named=True)
cur, prev = kpi.row(0, named=True), kpi.row(1, named=True)
st.caption(ui.compared_with(w, prev["invocations"] > 0))
compare = ui.holds_since(w, w.prev_start)  # a partly loaded span is no baseline
prev = prev if compare else dict.fromkeys(prev)
if not ui.holds_since(w, view.month_to_date(w.version)["prev_mtd_start"]):
    month = month | {"prev_mtd_cost": None}
trend = reduce.daily_totals(daily, days).to_dict(as_series=False)
spend, invocations, tokens, active, errors, guarded, unattributed, unpriced_tile = kpis.kpi_tiles(
    cur, prev, trend
)
month_tiles = kpis.month_tiles(month, f"{view.today():%B}", ctx.version.last_hour)
ui.tiles([spend, *month_tiles, unattributed])  # on budget?
ui.tiles([invocations, tokens, active, unpriced_tile])  # is adoption growing?
ui.tiles([kpis.latency_tile(cur, prev), errors, guarded, None])  # is it safe and healthy?
unpriced = reduce.unpriced_models(daily)
if unpriced:
    st.warning(kpis.unpriced_note(sum(unpriced.values()), list(unpriced)), icon=":material/sell:")
if not month["series"]:
    st.caption(f"Month-end landing: {ui.NO_MODELS}")
st.caption(ui.caption(ctx, "estimate"))

with ui.panel("Estimated spend per day, by LOB", "estimate"):
    st.plotly_chart(figures.spend_per_day(daily, ctx.lob_colors, days))
left, right = st.columns(2)
with ui.panel("Invocations per day, by model", "logs", where=left):
    st.plotly_chart(figures.invocations_per_day(daily, ctx.model_colors, days))
with ui.panel("Tokens per day, by LOB", "logs", where=right):
    st.plotly_chart(figures.tokens_per_day(daily, ctx.lob_colors, days))
with ui.panel("Lines of business", "estimate"):
    table = tables.lob_table(data.lobs(w), compare)
    ui.table(table, TABLE)
    if table["Month landing"].null_count() == len(table):
        st.caption(f"Budget status: {ui.NO_MODELS}")
