"""Overview: are we on budget, is adoption growing, is it safe? Leadership's minute, per LOB."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import charts, data
from app import format as fmt
from genai_lens.errors import LensError

URL = "query-params"
NO_DATA = (
    "**No data yet.** Load Bedrock invocation logs with `genai-lens ingest invocation-logs`, "
    "or explore a simulated estate with `make demo`."
)
TABLE = {
    "Est. spend": st.column_config.NumberColumn(format="dollar", help="Blank: nothing priced"),
    "vs previous": st.column_config.NumberColumn(format="%+.1f%%", help="Spend change"),
    "Share of spend": st.column_config.ProgressColumn(format="%.1f%%", max_value=100),
    "Invocations": st.column_config.NumberColumn(format="localized"),
    "Tokens": st.column_config.NumberColumn(format="compact"),
    "Top model": st.column_config.TextColumn(help="The model with the most estimated spend"),
    "Unpriced invocations": st.column_config.NumberColumn(format="localized"),
    "Spend per day": st.column_config.LineChartColumn(y_min=0),
}


@contextmanager
def panel(title: str, where: DeltaGenerator | None = None) -> Iterator[None]:
    """A bordered panel: its title, what the caller draws, then its source and freshness."""
    with (where or st).container(border=True):
        st.subheader(title)
        yield
        st.caption(source)


st.title("Overview")
try:
    version = data.freshness()
except LensError as exc:  # e.g. the warehouse is locked by another process
    st.error(str(exc), icon=":material/error:")
    st.stop()
if version.empty:
    st.info(NO_DATA, icon=":material/hourglass_empty:")
    st.stop()

lob_names, model_names = data.names(version, "lob"), data.names(version, "model")
with st.sidebar:  # each filter is bound to a URL parameter: a link reproduces the view
    start = data.PERIODS.index(data.DEFAULT_PERIOD)
    period = st.selectbox("Period", data.PERIODS, start, key="period", bind=URL)
    custom = ()
    if period == "Custom":
        last_30 = data.period_days(data.DEFAULT_PERIOD, data.today())
        custom = st.date_input("UTC days", last_30, key="days", bind=URL)
    lobs = st.multiselect(
        "Lines of business", lob_names, key="lob", placeholder="All LOBs", bind=URL
    )
    models = st.multiselect("Models", model_names, key="model", placeholder="All models", bind=URL)
days = data.period_days(period, data.today(), custom)
w = data.window(data.Filters(*days, tuple(lobs), tuple(models)), version)
source = f"Estimated from invocation logs · data to {fmt.hour(version.last_hour)}"
st.caption(
    f"Amazon Bedrock usage and estimated spend · {fmt.day_span(*days)} (UTC days) · "
    f"changes against {fmt.day_span(*w.prev_days)}, the same span just before"
)

daily = data.daily(w)
if daily.is_empty():
    st.info(
        f"No usage in {fmt.day_span(*days)} for these filters. The warehouse holds data "
        f"from {fmt.hour(version.first_hour)} to {fmt.hour(version.last_hour)}."
    )
    st.stop()

kpi = data.kpis(w)
trend = charts.daily_totals(daily, days).to_dict(as_series=False)
tiles = fmt.kpi_tiles(kpi.row(0, named=True), kpi.row(1, named=True), trend)
for row in (tiles[:4], tiles[4:]):
    for col, tile in zip(st.columns(4), row, strict=True):
        col.metric(**asdict(tile), border=True, chart_type="area", height="stretch")
unpriced = charts.unpriced_models(daily)
if unpriced:
    st.warning(fmt.unpriced_note(sum(unpriced.values()), list(unpriced)), icon=":material/sell:")
st.caption(source)

lob_colors = charts.lob_colors(lob_names)
with panel("Estimated spend per day, by LOB"):
    st.plotly_chart(charts.spend_per_day(daily, lob_colors, days))
left, right = st.columns(2)
with panel("Invocations per day, by model", left):
    st.plotly_chart(charts.invocations_per_day(daily, charts.model_colors(model_names), days))
with panel("Tokens per day, by LOB", right):
    st.plotly_chart(charts.tokens_per_day(daily, lob_colors, days))
with panel("Lines of business"):
    table = charts.lob_table(data.lobs(w))
    st.dataframe(table, hide_index=True, column_config=TABLE, placeholder="—")
