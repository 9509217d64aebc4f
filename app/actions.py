"""What a page asks the jobs to do: the data health page's "run now" buttons."""

from __future__ import annotations

import streamlit as st

from app.tiles import SOURCES
from base.errors import LensError

RUN_FLASH = "_run_now_flash"


def run_now(source: str) -> None:
    """Ask the scheduler (jobs.scheduler, imported only when asked) to run a job now."""
    try:
        from jobs import scheduler
    except ModuleNotFoundError as exc:
        if exc.name not in ("jobs.scheduler", "jobs"):
            raise
        message = "scheduler not running"
    else:
        try:
            message = scheduler.run_now(source)
        except LensError as exc:
            message = str(exc)
    st.session_state[RUN_FLASH] = f"{SOURCES.get(source, source)}: {message}"
