"""Logging setup: human lines by default, one JSON object per line with `--log-format json`.

Job runs log one line each with their figures (`extra={"figures": {...}}`). Nothing logged
here may hold a secret or prompt text: figures are counts, times and one-line errors, and every
line passes `redact` on its way out, which masks the secrets this process knows of (the AWS
secret variables of its environment and the notification URLs of its config) wherever a
library's error message happens to quote them.

In json mode every line on stderr is a JSON object: the CLI's progress and errors (`say`), an
unexpected error (`exception`) and, under `serve`, Streamlit's own loggers too.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

LOGGER = "genai_lens"
FORMATS = ("text", "json")
_format = "text"  # what setup() chose: say() follows it
SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
MASK = "[redacted]"
_secrets: set[str] = set()  # besides the environment's: what `hide` was given


def hide(values: Iterable[str]) -> None:
    """Secrets to mask in every log line: notification URLs, their tokens and credentials."""
    for value in values:
        _secrets.update(_parts(value))


def _parts(url: str) -> set[str]:
    """A URL, and the parts of it that carry a token: what follows the host, the userinfo, or
    for apprise-style URLs (slack://TokenA/TokenB) everything after the scheme."""
    found = {url}
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    if parts.scheme in ("http", "https"):
        tail = url.split(parts.netloc, 1)[-1] if parts.netloc else ""
        found |= {tail, parts.username or "", parts.password or ""}
    elif parts.scheme:
        found.add(url.split("://", 1)[-1])
    host = parts.hostname or ""
    found |= {seg for seg in re.split(r"[/?&=:@#]", url) if len(seg) >= 16 and seg != host}
    return {s for s in found if len(s) >= 8}


def redact(text: str) -> str:
    """The text with every known secret masked, longest first (a URL before its token)."""
    known = _secrets | {v for k in SECRET_ENV if len(v := os.environ.get(k, "")) >= 8}
    for secret in sorted(known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def _figures(record: logging.LogRecord) -> dict[str, Any]:
    return {k: _clean(v) for k, v in (getattr(record, "figures", {}) or {}).items()}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        out.update(_figures(record))
        if record.exc_info and record.exc_info[0] is not None:
            # Where it failed, never the exception's text: that may quote a record.
            out["exception"] = record.exc_info[0].__name__
            out["traceback"] = "".join(traceback.format_tb(record.exc_info[2]))
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {record.levelname:<7} "
        line += redact(record.getMessage())
        figures = _figures(record)
        if figures:
            line += " " + " ".join(f"{k}={v}" for k, v in figures.items() if v is not None)
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def formatter() -> logging.Formatter:
    return JsonFormatter() if _format == "json" else TextFormatter()


def setup(fmt: str = "text", level: int = logging.INFO, *, quiet_jobs: bool = False) -> None:
    """Route the genai_lens loggers to stderr in the chosen format (idempotent)."""
    global _format
    _format = fmt
    logging.getLogger(f"{LOGGER}.jobs").setLevel(logging.CRITICAL if quiet_jobs else logging.NOTSET)
    logger = logging.getLogger(LOGGER)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter())
    logger.handlers = [handler]
    logger.setLevel(level)
    logger.propagate = False


def route_libraries() -> None:
    """In json mode, what libraries log (botocore, APScheduler) and Python's warnings reach
    stderr as JSON too. For the CLI process only: it takes over the root logger."""
    if _format != "json":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.captureWarnings(True)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)


def json_mode() -> bool:
    return _format == "json"


def get(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER}.{name}")


def say(msg: str, *, error: bool = False) -> None:
    """A CLI line for stderr (progress, a one-line error): as it is in text mode, as a JSON
    object in json mode, so a log shipper reading stderr never meets a line it cannot parse."""
    if _format != "json":
        print(redact(msg), file=sys.stderr, flush=True)
        return
    logging.getLogger(f"{LOGGER}.cli").log(logging.ERROR if error else logging.INFO, msg)


def exception(msg: str, exc: BaseException) -> None:
    """An error nobody anticipated: a traceback in text mode, one JSON object in json mode."""
    info: tuple[type[BaseException], BaseException, TracebackType | None] = (
        type(exc), exc, exc.__traceback__,
    )  # fmt: skip
    if _format == "json":
        logging.getLogger(f"{LOGGER}.cli").error(msg, exc_info=info)
    else:
        print(redact("".join(traceback.format_exception(*info))), file=sys.stderr, flush=True)
