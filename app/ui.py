"""What every page draws the same way: its header, bordered panels that name their source and
freshness (and which filters they honour), the no-data messages and the KPI tiles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any, TypedDict, TypeVar

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import data, kpis, sidebar
from app.context import CONTEXT, SOURCES, Context
from app.view import Window
from base import clock
from base import format as fmt

T = TypeVar("T")


class Scope(TypedDict):
    """Which filters a panel honours and why the others do not (a page's `**SCOPE` to panel)."""

    applies: Iterable[str]
    why: str


NO_DATA = (
    "**No data yet.** Load Bedrock invocation logs with `genai-lens ingest invocation-logs`, "
    "or explore a simulated estate with `make demo`."
)
NO_MODELS = "No forecast yet — run `genai-lens models run`."
DIMENSIONS = ("lob", "app", "model", "region", "account")
ALL = frozenset(DIMENSIONS)
_DIM_NAMES = {
    "lob": "LOB", "app": "application", "model": "model", "region": "region",
    "account": "account",
}  # fmt: skip


def context() -> Context:
    """The context app/main.py's sidebar left for this run."""
    found = st.session_state.get(CONTEXT)
    if found is None:  # a page run on its own: draw the filters here
        found = sidebar.render()
    return found


def header(title: str, what: str, ctx: Context) -> None:
    st.title(title)
    st.caption(f"{what} · {ctx.span} (UTC days)")


def holds_since(w: Window, start: datetime) -> bool:
    """Whether the warehouse's data reaches back to `start`'s day: a span it covers only in
    part (data that starts days into it) is no baseline for a change. (The day, not the hour:
    the first day's traffic starts when people start work.)"""
    first = w.version.first_hour
    return first is not None and first.date() <= start.date()


def compared_with(w: Window, has_previous: bool) -> str:
    span = fmt.day_span(*w.prev_days)
    if not holds_since(w, w.prev_start):
        first = fmt.hour(w.version.first_hour)
        return f"Data starts {first}, after {span} (the same span just before): no changes shown."
    if has_previous:
        return f"Changes against {span}, the same span just before."
    return f"No usage in {span}, the same span just before: no changes shown."


def require_data(ctx: Context) -> None:
    """Stop the page with the how-to-load message when the warehouse holds no usage yet."""
    if ctx.version.empty:
        st.info(NO_DATA, icon=":material/hourglass_empty:")
        st.stop()


def caption(ctx: Context, source: str, applies: Iterable[str] = ALL, why: str = "") -> str:
    """'<source> · data to <when> · <which filters apply>' for a panel's foot."""
    label, row = SOURCES[source]
    parts = [label]
    if source == "allocation":
        logs = "estimated from invocation logs, " + _when(ctx.newest("logs"), daily=False)
        bill = ctx.newest("bill")
        parts = [f"The bill allocated to LOBs {_when(bill, daily=True)}", f"after it {logs}"]
        parts = parts if bill else [f"No bill yet: {logs}"]
    elif source == "models":
        ran = ctx.newest(source)
        parts.append(f"last run {fmt.hour(ran)}" if ran else "not run yet")
    elif row is not None:
        parts.append(_when(ctx.newest(source), daily=source == "bill"))
    ignored = [d for d in DIMENSIONS if d not in set(applies)]
    if not set(applies):
        parts.append("No filter applies" + (f": {why}" if why else ""))
    elif ignored:
        names = _join([_DIM_NAMES[d] for d in ignored])
        active = any(ctx.w.filters.dimensions[d] for d in ignored)
        plural = len(ignored) > 1
        note = f"{names} filter{'s' if plural else ''} {'do' if plural else 'does'} not apply"
        note = note[0].upper() + note[1:] + (f": {why}" if why else "")
        parts.append(f"**{note}**" if active else note)
    return " · ".join(parts)


@contextmanager
def panel(
    title: str,
    source: str,
    *,
    applies: Iterable[str] = ALL,
    why: str = "",
    where: DeltaGenerator | None = None,
    help: str | None = None,
) -> Iterator[None]:
    """A bordered panel: its title, what the caller draws, then its source and freshness.

    A panel whose rollup this warehouse lacks says so instead of failing the page.
    """
    ctx = context()
    with (where or st).container(border=True):
        st.subheader(title, help=help)
        try:
            yield
        except data.MissingRollup as exc:
            st.info(str(exc), icon=":material/construction:")
        st.caption(caption(ctx, source, applies, why))


def maybe(read: Callable[[], T]) -> T | None:
    """What `read` returns, or None when it needs a rollup this warehouse lacks (the panel that
    shows it says so; a tile outside any panel just shows a dash)."""
    try:
        return read()
    except data.MissingRollup:
        return None


def nothing(what: str, ctx: Context | None = None, hint: str = "") -> None:
    """The plain 'no data' line a panel shows instead of an empty chart."""
    ctx = ctx or context()
    text = f"No {what} in {ctx.span} for these filters."
    st.info(f"{text} {hint}".strip(), icon=":material/info:")


def table(
    frame: Any,
    config: dict[str, Any] | None = None,
    *,
    where: DeltaGenerator | None = None,
    **options: Any,
) -> None:
    """A table without its index, with a dash (not 'None') where a value is missing."""
    (where or st).dataframe(
        frame, hide_index=True, column_config=config, placeholder=fmt.MISSING, **options
    )


def tiles(row: Sequence[kpis.Tile | None]) -> None:
    """A row of KPI tiles; None keeps its column empty (rows of a page line up)."""
    for col, tile in zip(st.columns(len(row)), row, strict=True):
        if tile is not None:
            col.metric(**asdict(tile), border=True, chart_type="area", height="stretch")


def utc_now() -> datetime:
    """Now as the naive UTC timestamp the warehouse stores."""
    return clock.utcnow()


def _when(newest: datetime | date | None, *, daily: bool) -> str:
    if newest is None:
        return "no bill yet" if daily else "no data yet"
    if daily:
        last = (newest - timedelta(days=1)) if isinstance(newest, datetime) else newest
        day = last.date() if isinstance(last, datetime) else last
        return f"to {fmt.day_span(day, day)}"
    at = newest if isinstance(newest, datetime) else datetime.combine(newest, datetime.min.time())
    return f"data to {fmt.hour(at)}"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
