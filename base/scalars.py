"""Narrow polars scalars to what the code means: a Series' sum, min or max is typed as any
Python value (number, date, string, list …), so the type checker needs to be told which."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal


def as_day(value: object) -> date:
    """A Date column's min or max as a date; anything else is a bug upstream."""
    if not isinstance(value, date):
        raise ValueError(f"expected a day, got {value!r}")
    return value


def as_day_or_none(value: object) -> date | None:
    """The max or min of a Date column that may be empty or all null."""
    return None if value is None else as_day(value)


def as_time(value: object) -> datetime:
    """A Datetime column's min or max as a datetime."""
    if not isinstance(value, datetime):
        raise ValueError(f"expected a timestamp, got {value!r}")
    return value


def as_float_or_none(value: object) -> float | None:
    """A mean or median that is None for an empty or all-null column."""
    return None if value is None else as_float(value)


def as_float(value: object) -> float:
    """A numeric column's sum, min or max as a float (an empty or all-null column sums to 0)."""
    if value is None:
        return 0.0
    if not isinstance(value, int | float | Decimal):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)
