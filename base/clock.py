"""The one clock genai-lens reads for "now": the real UTC time, or a fixed instant.

Why a fixed instant: what the product shows is relative to now (the demo estate ends at the
current hour, forecasts start today, retention and freshness count back from now), so two runs
on different days see different data. Fixing now (GENAI_LENS_NOW, the `now` setting, or
`genai-lens demo --now`) makes a demo, a test or a benchmark the same on any day. It is
frozen, not offset: every read in the process gets the same instant, so nothing depends on
how long the work took. Durations (elapsed seconds in logs, the scheduler's gaps) are not
"now" and stay on `time.monotonic`; the scheduler's timer stays on the real clock.

Naive datetimes in UTC, as the warehouse stores them.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from functools import lru_cache

from base.errors import ConfigError

NOW_ENV = "GENAI_LENS_NOW"

_fixed: datetime | None = None  # set by `fix` (the `now` setting, `demo --now`)


def utcnow() -> datetime:
    """Now in UTC (naive): the fixed instant if one is set, else the real time."""
    if _fixed is not None:
        return _fixed
    text = os.environ.get(NOW_ENV)
    if text:
        return parse(text, NOW_ENV)
    return datetime.now(UTC).replace(tzinfo=None)


def fixed() -> datetime | None:
    """The fixed instant, if the clock is fixed (by `fix` or GENAI_LENS_NOW), else None."""
    if _fixed is not None:
        return _fixed
    text = os.environ.get(NOW_ENV)
    return parse(text, NOW_ENV) if text else None


def today() -> date:
    """Today's UTC date by the same clock."""
    return utcnow().date()


def fix(at: datetime | None) -> None:
    """Freeze the clock at `at` for this process (None: back to GENAI_LENS_NOW or real)."""
    global _fixed
    _fixed = None if at is None else _naive_utc(at)


@lru_cache(maxsize=16)
def parse(text: str, where: str = "now") -> datetime:
    """An ISO 8601 instant ('2026-06-30T12:00:00Z', '2026-06-30T14:00+02:00', '2026-06-30'),
    as naive UTC; without an offset it is read as UTC."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{where}: {text!r} is not an ISO 8601 time; write it like 2026-06-30T12:00:00Z"
        ) from None
    return _naive_utc(at)


def _naive_utc(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
