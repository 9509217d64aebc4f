"""The audit trail: who signed in and with what role, who was refused (a role, a page, an
expired session) and every download (who, what, which filters, how many rows). One structured
log line each on the `genai_lens.audit` logger: `key=value` figures in text mode, one JSON
object under `--log-format json`, for the log shipper to keep as long as policy asks.

No claim beyond the reader's name and groups is logged: tokens and the rest of the profile stay
out of the log.
"""

from __future__ import annotations

from typing import Any

from base import logs

EVENTS = ("sign-in", "role", "denied", "page-denied", "session-expired", "download")


def record(event: str, user: str, **figures: Any) -> None:
    """One audit line: `audit <event> <user>` and its figures."""
    if event not in EVENTS:
        raise ValueError(f"audit event {event!r}: use one of {', '.join(EVENTS)}")
    logs.get("audit").info(
        f"audit {event} {user}", extra={"figures": {"event": event, "user": user, **figures}}
    )
