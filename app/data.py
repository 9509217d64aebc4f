"""The one module of the app that reads the warehouse.

Each function runs a named file from ``sql/queries/`` with bound parameters through
``genai_lens.runtime.cursor()`` and returns a polars frame. Results are cached with
``st.cache_data`` keyed on the query, its parameters and a ``Freshness`` marker read on every
rerun (the newest loaded object, object and rollup row counts, the newest hour): a finished
ingest changes the marker, so new data shows at once instead of after a TTL. The TTL is only a
backstop for rewrites the marker cannot see (a re-attribution that keeps every count).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
import streamlit as st

from genai_lens import runtime
from genai_lens.warehouse import sql

DEFAULT_PERIOD = "Last 30 days"
PERIODS = ("Last 7 days", "Last 30 days", "Last 90 days", "Month to date", "Last month", "Custom")
_ROLLING = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}


@dataclass(frozen=True)
class Freshness:
    """What the warehouse holds right now; also the cache marker (any ingest changes it)."""

    warehouse: str
    loaded_at: datetime | None
    objects: int
    usage_rows: int
    invocations: int
    first_hour: datetime | None
    last_hour: datetime | None

    @property
    def empty(self) -> bool:
        return self.usage_rows == 0


@dataclass(frozen=True)
class Filters:
    """What the reader asked for: UTC days (both inclusive), LOBs and models (empty = all)."""

    first_day: date
    last_day: date
    lobs: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


@dataclass(frozen=True)
class Window:
    """The hours a period covers and the equally long span before it (ends exclusive)."""

    filters: Filters
    version: Freshness
    start: datetime
    end: datetime
    prev_start: datetime
    prev_end: datetime

    @property
    def prev_days(self) -> tuple[date, date]:
        last = self.prev_end - timedelta(microseconds=1)
        return self.prev_start.date(), max(self.prev_start.date(), last.date())

    def params(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "prev_start": self.prev_start,
            "prev_end": self.prev_end,
            "lobs": list(self.filters.lobs),
            "models": list(self.filters.models),
        }


def today() -> date:
    return datetime.now(UTC).date()


def period_days(period: str, on: date, custom: Sequence[date] = ()) -> tuple[date, date]:
    """First and last UTC day of a period preset as seen on day `on` (both inclusive)."""
    if period in _ROLLING:
        return on - timedelta(days=_ROLLING[period] - 1), on
    if period == "Month to date":
        return on.replace(day=1), on
    if period == "Last month":
        last = on.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if period == "Custom" and custom:
        first, last = custom[0], custom[-1]  # a half-picked range is its first day
        return min(first, last), max(first, last)
    return period_days(DEFAULT_PERIOD, on)


def window(filters: Filters, version: Freshness) -> Window:
    """The period's hours, and the previous period's: same length, right before it.

    The current period stops at the newest loaded hour, and the previous one is cut to the
    same elapsed span, so a half-finished today is compared with half of a day, not a whole one.
    """
    start = datetime.combine(filters.first_day, time())
    end = datetime.combine(filters.last_day + timedelta(days=1), time())
    if version.last_hour is not None:
        end = max(start, min(end, version.last_hour + timedelta(hours=1)))
    prev_start = start - timedelta(days=(filters.last_day - filters.first_day).days + 1)
    return Window(filters, version, start, end, prev_start, prev_start + (end - start))


def freshness() -> Freshness:
    """Read on every rerun, never cached: it is what invalidates everything else."""
    with runtime.cursor() as cur:
        (row,) = cur.sql(sql("queries/overview_freshness")).fetchall()
    return Freshness(str(runtime.warehouse_path()), *row)


def dimensions(version: Freshness) -> pl.DataFrame:
    """Every LOB and model ever seen (kind, name, invocations): filter options and colours."""
    return _frame("overview_dimensions", {}, version)


def names(version: Freshness, kind: str) -> list[str]:
    frame = dimensions(version)
    return frame.filter(pl.col("kind") == kind)["name"].to_list()


def kpis(w: Window) -> pl.DataFrame:
    """Two rows, period 'current' then 'previous', of the totals the KPI tiles show."""
    return _frame("overview_kpis", w.params(), w.version)


def daily(w: Window) -> pl.DataFrame:
    """Spend, invocations and tokens per UTC day x LOB x model in the period."""
    params = {k: v for k, v in w.params().items() if not k.startswith("prev_")}
    return _frame("overview_daily", params, w.version)


def lobs(w: Window) -> pl.DataFrame:
    """One row per LOB: spend, its share and change, invocations, tokens, top model, trend."""
    return _frame("overview_lobs", w.params(), w.version)


@st.cache_data(ttl=timedelta(minutes=10), max_entries=256, show_spinner=False)
def _frame(name: str, params: dict[str, Any], version: Freshness) -> pl.DataFrame:
    # `version` is unused in the body on purpose: it is part of the cache key.
    with runtime.cursor() as cur:
        return cur.sql(sql(f"queries/{name}"), params=params).pl()
