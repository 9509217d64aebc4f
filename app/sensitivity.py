"""The Anomalies page's "Sensitivity learned from triage" panel: per series whose alerts got a
verdict, how much wider its band is now and why, how many alerts that kept quiet, and a button
that puts a widened series back at base sensitivity. Writes go through app/data.py, which
checks the reader's LOBs in the SQL."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from app import data, findings, legend, triage, ui
from app.tables import Config, col
from app.view import Window
from base import format as fmt
from base.errors import LensError

COLUMNS: Config = {
    "Band": col.TextColumn(help="How much wider than the detector's own band; 1× is base"),
    "Why": col.TextColumn(help="The verdicts that set it (models/sensitivity.py)", width="large"),
    "Alerts kept quiet": col.NumberColumn(
        help="Alerts the base band would have raised that the wider band did not"
    ),
    "Set": col.TextColumn(help="When and by whom (automatic: by `genai-lens models run`)"),
}
NONE_YET = (
    "No series has triage feedback yet. Marking a series' alerts *Expected — planned change* "
    "or muting them widens its band; acknowledging or resolving one keeps it at base."
)


def series_label(r: dict[str, Any]) -> str:
    model = legend.model_label(r["model"]) if r.get("model") else "all models"
    return f"{findings.metric_label(r['metric'])} · {r.get('lob') or 'all LOBs'} · {model}"


def table(frame: pl.DataFrame) -> pl.DataFrame:
    rows = [{
        "Series": series_label(r),
        "Band": f"{r['factor']:g}× wider" if r["factor"] > 1 else "base (1×)",
        "Why": r["why"], "Alerts kept quiet": r["suppressed"],
        "Set": f"{fmt.hour(r['set_at'])} · {r['set_by']}",
    } for r in frame.iter_rows(named=True)]  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


def show(w: Window) -> None:
    """The table, then a revert button per widened series."""
    found = data.sensitivities(w)
    if found.is_empty():
        st.caption(NONE_YET)
        return
    ui.table(table(found), COLUMNS)
    for r in found.filter(pl.col("factor") > 1).iter_rows(named=True):
        st.button(
            f"Revert {series_label(r)} to base sensitivity", key=f"revert|{r['series_key']}",
            on_click=revert, args=(r["series_key"],),
            help="From the next hour on; the hours judged while it was wider stay as judged",
        )  # fmt: skip


def revert(series_key: str) -> None:
    """Callback: write the revert, and say what happened on the next draw."""
    try:
        ok = data.revert_sensitivity(series_key)
    except LensError as exc:
        st.session_state[triage.FLASH] = ("error", str(exc))
        return
    message = "Back at base sensitivity." if ok else "Not changed: it is outside your LOBs."
    st.session_state[triage.FLASH] = ("success" if ok else "warning", message)
