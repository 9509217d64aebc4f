"""The one clock every floor reads: naive UTC, the way the warehouse stores time."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
