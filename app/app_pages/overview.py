"""Overview: are we on budget, is adoption growing, is it safe? Leadership's minute, per LOB."""

import streamlit as st

from app import charts, data, ui, view
from app import format as fmt

# Widths (px) so all thirteen columns fit the page at 1,500 px, the sparkline next to the
# spend it draws rather than past the right edge.
TABLE = {
    "LOB": st.column_config.TextColumn(width=120),
    "Est. spend": st.column_config.NumberColumn(format="dollar", help="Blank: nothing priced",
                                                width=85),
    "Spend per day": st.column_config.LineChartColumn(y_min=0, width=110),
    "vs previous": st.column_config.NumberColumn(format="%+.1f%%", help="Spend change",
                                                 width=75),
    "Share of spend": st.column_config.ProgressColumn(format="%.1f%%", max_value=100, width=110),
    "Budget status": st.column_config.TextColumn(help="From the newest forecast run", width=85),
    "Month landing": st.column_config.NumberColumn(format="dollar", help="Forecast month end",
                                                   width=85),
    "Budget": st.column_config.NumberColumn(format="dollar", help="This month's budget",
                                            width=75),
    "P(over budget)": st.column_config.NumberColumn(format="%.0f%%", width=70),
    "Invocations": st.column_config.NumberColumn(format="localized", width=80),
    "Tokens": st.column_config.NumberColumn(format="compact", width=60),
    "Top model": st.column_config.TextColumn(help="The model with the most estimated spend",
                                             width=120),
    "Unpriced invocations": st.column_config.NumberColumn(
        format="localized", label="Unpriced", help="Invocations without a price", width=70
    ),
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
trend = charts.daily_totals(daily, days).to_dict(as_series=False)
spend, invocations, tokens, active, errors, guarded, unattributed, unpriced_tile = fmt.kpi_tiles(
    cur, prev, trend
)
ui.tiles([spend, *fmt.month_tiles(month, f"{view.today():%B}", ctx.version.last_hour), unattributed])  # on budget?
ui.tiles([invocations, tokens, active, unpriced_tile])  # is adoption growing?
ui.tiles([fmt.latency_tile(cur, prev), errors, guarded, None])  # is it safe and healthy?
unpriced = charts.unpriced_models(daily)
if unpriced:
    st.warning(fmt.unpriced_note(sum(unpriced.values()), list(unpriced)), icon=":material/sell:")
if not month["series"]:
    st.caption(f"Month-end landing: {ui.NO_MODELS}")
st.caption(ui.caption(ctx, "estimate"))

with ui.panel("Estimated spend per day, by LOB", "estimate"):
    st.plotly_chart(charts.spend_per_day(daily, ctx.lob_colors, days))
left, right = st.columns(2)
with ui.panel("Invocations per day, by model", "logs", where=left):
    st.plotly_chart(charts.invocations_per_day(daily, ctx.model_colors, days))
with ui.panel("Tokens per day, by LOB", "logs", where=right):
    st.plotly_chart(charts.tokens_per_day(daily, ctx.lob_colors, days))
with ui.panel("Lines of business", "estimate"):
    table = charts.lob_table(data.lobs(w))
    ui.table(table, TABLE)
    if table["Month landing"].null_count() == len(table):
        st.caption(f"Budget status: {ui.NO_MODELS}")
