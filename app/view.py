"""What the reader asked to see: period presets, filters, and the hours they cover.

Pure date arithmetic: no Streamlit and no warehouse here (app/data.py runs the queries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.values import Freshness, Scope

DEFAULT_PERIOD = "Last 30 days"
PERIODS = (
    "Last 7 days", "Last 30 days", "Last 90 days", "Month to date", "Last month",
    "Quarter to date", "Last quarter", "Custom",
)  # fmt: skip
_ROLLING = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}


def today() -> date:
    return datetime.now(UTC).date()


def quarter_start(on: date) -> date:
    return date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)


def month_end(on: date) -> date:
    return (on.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def quarter_end(on: date) -> date:
    return month_end(quarter_start(on) + timedelta(days=62))


HORIZONS = ("Month end", "Quarter end", "Whole forecast")


def forecast_until(horizon: str | None, on: date) -> date | None:
    """The last day the forecast chart shows (None: all of it); at least a week ahead, so the
    last days of a month still show a forecast."""
    if horizon == "Whole forecast":
        return None
    end = quarter_end(on) if horizon == "Quarter end" else month_end(on)
    return max(end, on + timedelta(days=7))


def period_days(period: str, on: date, custom: Sequence[date] = ()) -> tuple[date, date]:
    """First and last UTC day of a period preset as seen on day `on` (both inclusive)."""
    if period in _ROLLING:
        return on - timedelta(days=_ROLLING[period] - 1), on
    if period == "Month to date":
        return on.replace(day=1), on
    if period == "Last month":
        last = on.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if period == "Quarter to date":
        return quarter_start(on), on
    if period == "Last quarter":
        last = quarter_start(on) - timedelta(days=1)
        return quarter_start(last), last
    if period == "Custom" and custom:
        first, last = custom[0], custom[-1]  # a half-picked range is its first day
        return min(first, last), max(first, last)
    return period_days(DEFAULT_PERIOD, on)


@dataclass(frozen=True)
class Filters:
    """What the reader asked for: UTC days (both inclusive) and dimensions (empty = all)."""

    first_day: date
    last_day: date
    lobs: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()

    @property
    def dimensions(self) -> dict[str, tuple[str, ...]]:
        return {
            "lob": self.lobs, "app": self.apps, "model": self.models, "region": self.regions,
            "account": self.accounts,
        }  # fmt: skip


@dataclass(frozen=True)
class Window:
    """The hours a period covers and the equally long span before it (ends exclusive)."""

    filters: Filters
    version: Freshness
    start: datetime
    end: datetime
    prev_start: datetime
    prev_end: datetime
    scope: Scope

    @property
    def days(self) -> tuple[date, date]:
        return self.filters.first_day, self.filters.last_day

    @property
    def shown_days(self) -> tuple[date, date]:
        """The days a chart spans: the period, cut at the newest loaded hour's day, so a day
        with no data yet does not read as a day without usage."""
        last = (self.end - timedelta(microseconds=1)).date()
        return self.filters.first_day, max(self.filters.first_day, min(self.filters.last_day, last))

    @property
    def prev_days(self) -> tuple[date, date]:
        last = self.prev_end - timedelta(microseconds=1)
        return self.prev_start.date(), max(self.prev_start.date(), last.date())

    @property
    def bucket(self) -> str:
        """The step of a time series: hours up to a week, days beyond."""
        return "hour" if self.end - self.start <= timedelta(days=7) else "day"

    def params(self) -> dict[str, Any]:
        f = self.filters
        mtd = month_to_date(self.version)
        return {
            "start": self.start, "end": self.end,
            "prev_start": self.prev_start, "prev_end": self.prev_end,
            "first_day": f.first_day, "last_day": f.last_day, "today": today(),
            "bucket": self.bucket, "lobs": list(f.lobs), "apps": list(f.apps),
            "models": list(f.models), "regions": list(f.regions), "accounts": list(f.accounts),
            **mtd, **self.scope.params(),
        }  # fmt: skip


def window(filters: Filters, version: Freshness, reader: Scope | None = None) -> Window:
    """The period's hours, and the previous period's: same length, right before it.

    The current period stops at the newest loaded hour, and the previous one is cut to the
    same elapsed span, so a half-finished today is compared with half of a day, not a whole one.
    """
    start = datetime.combine(filters.first_day, time())
    end = datetime.combine(filters.last_day + timedelta(days=1), time())
    if version.last_hour is not None:
        end = max(start, min(end, version.last_hour + timedelta(hours=1)))
    prev_start = start - timedelta(days=(filters.last_day - filters.first_day).days + 1)
    reader = reader or version.scope
    return Window(filters, version, start, end, prev_start, prev_start + (end - start), reader)


def month_to_date(version: Freshness) -> dict[str, datetime]:
    """This UTC month up to the newest loaded hour, and the same elapsed span of last month."""
    month = datetime.combine(today().replace(day=1), time())
    end = datetime.combine(today() + timedelta(days=1), time())
    if version.last_hour is not None:
        end = max(month, min(end, version.last_hour + timedelta(hours=1)))
    prev = datetime.combine((month.date() - timedelta(days=1)).replace(day=1), time())
    return {
        "mtd_start": month, "mtd_end": end,
        "prev_mtd_start": prev, "prev_mtd_end": min(month, prev + (end - month)),
    }  # fmt: skip
