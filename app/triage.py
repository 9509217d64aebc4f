"""The Anomalies page's triage controls: picking an anomaly (from the feed or ?anomaly=<id>)
and acknowledging, muting, resolving or reopening it. Writes go through app/data.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from app import data, findings
from base.errors import LensError

FEED_IDS = "_anomaly_feed_ids"
FLASH = "_anomaly_flash"
NO_TEXT = (
    "No captured text for these calls: they came before capture_text was switched on, or "
    "their text is past retention.text_days."
)
NO_DETECTION = "No anomaly detection yet — run `genai-lens models run`."
MUTES = {
    "1 hour": timedelta(hours=1), "1 day": timedelta(days=1), "7 days": timedelta(days=7),
    "30 days": timedelta(days=30),
}  # fmt: skip
# "Expected" says the change was planned (a launch, a load test): not an incident, and feedback
# that the series' band is too narrow for such changes.
ACTIONS = (("acknowledged", "Acknowledge"), ("expected", "Expected — planned change"),
           ("resolved", "Resolve"), ("open", "Reopen"))  # fmt: skip


def pick(*_: Any) -> None:
    """A row picked in the feed opens its detail: its id goes into the URL (?anomaly=<id>)."""
    rows = st.session_state["feed"].selection.rows
    if rows:
        st.query_params["anomaly"] = st.session_state[FEED_IDS][rows[0]]


def chosen(*_: Any) -> None:
    if found := st.session_state.get("anomaly_pick"):
        st.query_params["anomaly"] = found
    else:
        st.query_params.pop("anomaly", None)


def picker(feed: pl.DataFrame) -> str | None:
    """The anomaly to detail: ?anomaly=<id> (so a link opens it), or one picked here.

    Not a bound widget: a bound selectbox writes its option's label into the URL, and a link
    must carry the anomaly's id.
    """
    wanted = st.query_params.get("anomaly") or None
    ids = feed["anomaly_id"].to_list()
    ids += [wanted] if wanted and wanted not in ids else []  # a link to one the filters hide
    labels = {r["anomaly_id"]: findings.anomaly_label(r) for r in feed.iter_rows(named=True)}
    st.session_state["anomaly_pick"] = wanted
    st.selectbox(
        "Anomaly", ids, index=None, key="anomaly_pick", on_change=chosen,
        format_func=lambda i: labels.get(i, i), placeholder="Pick one in the feed",
    )  # fmt: skip
    return wanted


def buttons(anomaly: dict[str, Any]) -> None:
    """Acknowledge / resolve / reopen, and mute the series for a while with a reason."""
    act, span, reason, mute = st.columns([3, 1, 2, 1], vertical_alignment="bottom")
    with act, st.container(horizontal=True):
        for status, label in ACTIONS:
            if anomaly["status"] != status:
                st.button(label, key=f"to_{status}", on_click=change,
                          args=(anomaly["anomaly_id"], status))  # fmt: skip
    span.selectbox("Mute for", list(MUTES), index=1, key="mute_for")
    reason.text_input("Reason", key="mute_reason", placeholder="optional")
    mute.button("Mute series", key="mute", on_click=change, args=(anomaly["anomaly_id"], "muted"))


def change(anomaly_id: str, status: str) -> None:
    """Write the triage change (a callback: it runs before the page redraws, and reads the
    mute's span and reason as they are now, not as they were when the button was drawn)."""
    try:
        if status == "muted":
            span = MUTES[st.session_state.get("mute_for") or "1 day"]
            until = datetime.now(UTC).replace(tzinfo=None) + span
            ok = data.mute_anomaly(anomaly_id, until, st.session_state.get("mute_reason") or "")
        else:
            ok = data.set_anomaly_status(anomaly_id, status)
    except LensError as exc:
        st.session_state[FLASH] = ("error", str(exc))
        return
    message = f"Marked {status}." if ok else "Not changed: it is outside your LOBs."
    st.session_state[FLASH] = ("success" if ok else "warning", message)


def show_flash() -> None:
    if found := st.session_state.pop(FLASH, None):
        getattr(st, found[0])(found[1])


def tick(metric: str) -> Callable[[float], str]:
    def label(value: float) -> str:
        return findings.metric_value(metric, value)

    return label
