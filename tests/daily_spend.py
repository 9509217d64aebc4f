"""Demo-like daily spend series for the forecast tests (models/ and jobs/ both use them)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

START = date(2025, 3, 3)  # a Monday


def spend(
    days: int,
    *,
    start: date = START,
    level: float = 400.0,
    weekend: float = 0.3,
    growth: float = 1.8,
    noise: float = 0.12,
    seed: int = 0,
) -> pl.DataFrame:
    """Demo-like daily spend: a weekday rhythm, linear growth to `growth`x, lognormal noise."""
    rng = np.random.default_rng(seed)
    dates = [start + timedelta(days=i) for i in range(days)]
    rhythm = np.array([weekend if d.weekday() >= 5 else 1.0 for d in dates])
    trend = 1 + (growth - 1) * np.arange(days) / days
    value = level * rhythm * trend * rng.lognormal(0, noise, days)
    return pl.DataFrame({"date": dates, "value": value})
