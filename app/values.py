"""The app's value types: who is reading (Scope) and what the warehouse holds (Freshness).

Plain data, no Streamlit and no warehouse: app/data.py fills them, app/view.py and the
access gate read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Scope:
    """Which LOBs the reader may see: `lobs` None = every LOB (the default, an admin)."""

    lobs: tuple[str, ...] | None = None
    user: str = "dashboard"  # who a triage change is recorded as

    @property
    def all_lobs(self) -> bool:
        return self.lobs is None

    def params(self) -> dict[str, Any]:
        return {"all_lobs": self.all_lobs, "allowed_lobs": list(self.lobs or ())}


ADMIN = Scope()


@dataclass(frozen=True)
class Freshness:
    """What the warehouse holds right now; also the cache marker (any write changes it)."""

    warehouse: str
    loaded_at: datetime | None
    objects: int
    usage_rows: int
    invocations: int
    first_hour: datetime | None
    last_hour: datetime | None
    changes: str | None = None  # watermarks, runs, model outputs, triage (see the SQL)
    scope: Scope = ADMIN

    @property
    def empty(self) -> bool:
        return self.usage_rows == 0
