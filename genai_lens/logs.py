"""Logging setup: human lines by default, one JSON object per line with `--log-format json`.

Job runs log one line each with their figures (`extra={"figures": {...}}`). Nothing logged
here may hold a secret or prompt text: figures are counts, times and one-line errors.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

LOGGER = "genai_lens"
FORMATS = ("text", "json")
_format = "text"  # what setup() chose: say() follows it


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(getattr(record, "figures", {}) or {})
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {record.levelname:<7} "
        line += record.getMessage()
        figures = getattr(record, "figures", None)
        if figures:
            line += " " + " ".join(f"{k}={v}" for k, v in figures.items() if v is not None)
        return line


def setup(fmt: str = "text", level: int = logging.INFO, *, quiet_jobs: bool = False) -> None:
    """Route the genai_lens loggers to stderr in the chosen format (idempotent)."""
    global _format
    _format = fmt
    logging.getLogger(f"{LOGGER}.jobs").setLevel(logging.CRITICAL if quiet_jobs else logging.NOTSET)
    logger = logging.getLogger(LOGGER)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger.handlers = [handler]
    logger.setLevel(level)
    logger.propagate = False


def get(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER}.{name}")


def say(msg: str, *, error: bool = False) -> None:
    """A CLI line for stderr (progress, a one-line error): as it is in text mode, as a JSON
    object in json mode, so a log shipper reading stderr never meets a line it cannot parse."""
    if _format != "json":
        print(msg, file=sys.stderr, flush=True)
        return
    logging.getLogger(f"{LOGGER}.cli").log(logging.ERROR if error else logging.INFO, msg)
