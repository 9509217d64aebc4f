"""Benchmark: spend forecasts for 50 synthetic series with forecast_many on 2 workers.

Each series is ~180 days of demo-like daily spend: a weekday rhythm (weekends at 10-100% of
a weekday), linear growth (1x-3x over the span), lognormal day-to-day noise (8-20%). Timed:

- fits:           forecast_many, each worker a fresh interpreter (its Prophet import included)
- fits+backtests: each series forecast and backtested (3 origins, 7- and 30-day horizons)
- serial:         the fits in this process, one after another, Prophet already imported

Usage: python bench/forecast.py [--series 50] [--days 180] [--workers 2]
The last line is machine-readable: series=… seconds=… per_series_ms=… workers=…
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date, timedelta

import numpy as np
import polars as pl

from jobs.forecast_pool import forecast_many
from models.forecast import forecast_series


def synthetic(n: int, days: int, seed: int = 0) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n):
        length = days + int(rng.integers(-10, 11))
        start = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 7)))
        dates = [start + timedelta(days=d) for d in range(length)]
        weekend = np.array([d.weekday() >= 5 for d in dates])
        rhythm = np.where(weekend, rng.uniform(0.1, 1.0), 1.0)
        trend = 1 + (rng.uniform(1.0, 3.0) - 1) * np.arange(length) / length
        noise = rng.lognormal(0, rng.uniform(0.08, 0.2), length)
        value = rng.uniform(20, 5000) * rhythm * trend * noise
        out[f"lob:{i:02d}"] = pl.DataFrame({"date": dates, "value": value})
    return out


def timed(label: str, n: int, workers: int, fn) -> tuple[float, object]:
    """Run fn; print wall seconds, and CPU seconds of this process and its finished workers.

    The CPU figure does not move when other jobs share the machine; the wall time does.
    """
    wall, cpu = time.perf_counter(), _cpu()
    result = fn()
    seconds, cpu_seconds = time.perf_counter() - wall, _cpu() - cpu
    print(
        f"{label}: series={n} seconds={seconds:.2f} per_series_ms={1000 * seconds / n:.0f} "
        f"workers={workers} cpu_seconds={cpu_seconds:.1f}",
        flush=True,
    )
    return seconds, result


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    series = synthetic(args.series, args.days)
    n, w = args.series, args.workers

    def fits() -> object:
        return forecast_many(series, workers=w)

    seconds, _ = timed("fits", n, w, fits)
    _, results = timed(
        "fits+backtests", n, w, lambda: forecast_many(series, workers=w, backtest=True)
    )
    reports = pl.concat(
        [r.backtest.with_columns(series=pl.lit(k)) for k, r in results.items()]  # type: ignore[union-attr]
    )
    summary = reports.group_by("horizon_days").agg(
        pl.col("mape", "naive_mape", "coverage80", "coverage95").mean(),
        beats_naive=(pl.col("mape") < pl.col("naive_mape")).mean(),
    )
    for row in summary.sort("horizon_days").iter_rows(named=True):
        print("backtest " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in row.items()))  # fmt: skip
    timed("serial, in process", n, 1, lambda: [forecast_series(s) for s in series.values()])
    load = ",".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"series={n} seconds={seconds:.2f} per_series_ms={1000 * seconds / n:.0f} workers={w} "
          f"load={load}")  # fmt: skip


if __name__ == "__main__":
    main()
