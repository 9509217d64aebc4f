"""Start the Streamlit server on app/main.py in this process (`genai-lens serve`, `demo`).

Streamlit is imported here, in the app, so no floor below it needs it.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from streamlit import cli_util
from streamlit import logger as st_logger
from streamlit.web import bootstrap

from base import logs

MAIN = Path(__file__).parent / "main.py"


def run(flags: dict[str, Any]) -> None:
    """Serve the app with these config options (the command line's over the shipped ones)."""
    route_logs()
    preload()
    bootstrap.load_config_options(flag_options=flags)
    bootstrap.run(str(MAIN), False, [], flags)


def preload() -> None:
    """Import, before any session runs, what the pages' first runs would import in threads.

    Sessions run in threads of their own. Plotly's validators take pandas and numpy from
    sys.modules as they are (`_plotly_utils.optional_imports.get_module(should_load=False)`),
    so while one session was still importing pandas another got the half-made module and
    its chart failed ("partially initialized module 'pandas' has no attribute 'Series'":
    the Overview under tests/test_serve_under_load.py's four browsers)."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401


def route_logs() -> None:
    """In json mode, Streamlit's loggers write JSON too: each has its own handler (its
    `logger.messageFormat`), made when the logger is first asked for, so the handlers made so
    far get our formatter and the ones made later are set up the same way."""
    if not logs.json_mode():
        return

    def ours(log: logging.Logger) -> None:
        for handler in log.handlers:
            handler.setFormatter(logs.JsonFormatter())

    made = st_logger.setup_formatter

    def setup_formatter(logger: logging.Logger) -> None:
        made(logger)
        ours(logger)

    st_logger.setup_formatter = setup_formatter
    for log in list(st_logger._loggers.values()):
        ours(log)
    _route_banner()


def _route_banner() -> None:
    """Streamlit prints its banner ("You can now view…", the URL) and "Stopping..." with
    click, coloured, to stdout: in json mode they become log records of `streamlit.banner`,
    a line each (fragments printed with nl=False are joined), blank lines dropped."""
    banner = logging.getLogger("streamlit.banner")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logs.JsonFormatter())
    banner.handlers, banner.propagate = [handler], False
    banner.setLevel(logging.INFO)
    pending: list[str] = []

    def print_to_cli(message: str, **kwargs: Any) -> None:
        pending.append(str(message))
        if kwargs.get("nl", True):
            line = " ".join("".join(pending).split())
            pending.clear()
            if line:
                banner.info(line)

    cli_util.print_to_cli = print_to_cli
