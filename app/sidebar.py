"""The sidebar filters every page shares, drawn by the entry script before the page runs.

Each filter is a widget bound to a URL query parameter (`bind="query-params"`), so a link
reproduces the view. They are drawn by app/main.py, not by the pages: Streamlit keeps the
parameters of widgets in the entry script when the reader moves to another page, and drops
those of the page left behind.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import streamlit as st

from app import data, legend, view
from app.context import CONTEXT, Context
from base.errors import LensError

URL: Literal["query-params"] = "query-params"
DIMENSIONS = (  # (URL key, label, placeholder)
    ("lob", "Lines of business", "All LOBs"),
    ("app", "Applications", "All applications"),
    ("model", "Models", "All models"),
    ("region", "Regions", "All regions"),
    ("account", "Accounts", "All accounts"),
)


def render() -> Context:
    """Read the warehouse marker, draw the filters, and leave the page its context."""
    try:
        version = data.freshness()
    except LensError as exc:  # e.g. the warehouse is locked by another process
        st.error(str(exc), icon=":material/error:")
        st.stop()
    options: dict[str, list[str]] = {kind: [] for kind, _, _ in DIMENSIONS}
    if not version.empty:
        found = data.dimensions(version)
        for kind in options:
            options[kind] = found.filter(found["kind"] == kind)["name"].to_list()
    with st.sidebar:
        st.caption("Filters apply to every page and live in the URL: share it to share the view.")
        period = st.selectbox(
            "Period", view.PERIODS, view.PERIODS.index(view.DEFAULT_PERIOD), key="period",
            bind=URL,
        )  # fmt: skip
        custom: tuple[date, ...] = ()
        if period == "Custom":
            last_30 = view.period_days(view.DEFAULT_PERIOD, view.today())
            custom = st.date_input("UTC days", last_30, key="days", bind=URL)
        picked = {kind: _multiselect(kind, label, hint, options[kind]) for kind, label, hint in
                  DIMENSIONS}  # fmt: skip
    days = view.period_days(period, view.today(), custom)
    filters = view.Filters(
        *days, lobs=picked["lob"], models=picked["model"], apps=picked["app"],
        regions=picked["region"], accounts=picked["account"],
    )  # fmt: skip
    context = Context(
        version=version,
        w=view.window(filters, version),
        sources={} if version.empty else _sources(version),
        lob_colors=legend.lob_colors(options["lob"]),
        model_colors=legend.model_colors(options["model"]),
    )
    st.session_state[CONTEXT] = context
    return context


def _multiselect(kind: str, label: str, hint: str, names: list[str]) -> tuple[str, ...]:
    # No format_func: a bound multiselect writes its options' labels into the URL, and full
    # model ids keep a link valid when a new model would change the short labels.
    return tuple(st.multiselect(label, names, key=kind, placeholder=hint, bind=URL))


def _sources(version: data.Freshness) -> dict[str, dict]:
    frame = data.sources(version)
    return {row["source"]: row for row in frame.iter_rows(named=True)}
