"""Benchmark: is the demo's planted throttling storm predicted a day ahead, on any day?

The end-to-end test and the Capacity page judge one demo (seed 7, one fixed clock). Whether the
quota runway sees the storm coming is a claim about the forecaster and the plant, so it is
measured here over seeds and demo end dates (fixed clocks): for each, the simulator's frame at
the demo's size, the storm pool's daily busiest minute in quota tokens (served calls: input +
cache write + output, as `quota_peaks_hourly` counts them from the logs), the quota the demo
config gets (`demo.capacity.quota_truth`), and `models.quota.backtest` from two days before the
storm. Also, for contrast, the same backtest with the spend forecast's settings.

The series here come from the frame, not through the ingest: the logs-based peak is a sum over
the minute's served calls, which the frame holds exactly (the end-to-end test checks the
warehouse's backtest on the seed-7 demo through the real path).

Usage: python bench/quota_backtest.py [--seeds 7 8] [--ends N] [--step DAYS]
Prints one line per estate and a last machine-readable line:
quota_backtest estates=… warned=… warned_spend_settings=… min_ratio=… median_ratio=…
(ratio: the forecast's highest hi95 up to the storm day over the quota; >= 1 is a warning).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from demo import capacity, estate, sim
from models import quota as q

FIRST_END = datetime(2026, 6, 30, 12, tzinfo=UTC)  # the end-to-end test's clock


def peaks(frame: pl.DataFrame) -> pl.DataFrame:
    """(date, value): the storm pool's daily busiest minute in quota tokens."""
    return (
        capacity.pool_minutes(frame)
        .group_by(date=pl.col("minute").dt.date())
        .agg(value=pl.col("tokens").max())
        .sort("date")
    )


def one(seed: int, end: datetime) -> tuple[bool, bool, float, dict]:
    frame = estate.simulate(days=90, seed=seed, end=end)
    truth = capacity.quota_truth(frame, *sim.estate_window(90, end))
    daily, quota = peaks(frame), truth["tpm"]
    storm = date.fromisoformat(truth["storm_day"])
    warned = [
        (test := q.backtest(daily, quota, storm, params=p)) is not None
        and test["days_ahead"] is not None
        and test["days_ahead"] >= 1
        for p in (q.PEAK_PARAMS, q.SPEND_SETTINGS)
    ]
    cut = storm - timedelta(days=q.BACKTEST_LEAD_DAYS)
    ahead = q.forecast_peaks(daily.filter(pl.col("date") <= cut), horizon_end=storm,
                            params=q.PEAK_PARAMS)  # fmt: skip
    return warned[0], warned[1], float(ahead.frame["hi95"].max()) / quota, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8])
    parser.add_argument("--ends", type=int, default=6, help="end dates per seed")
    parser.add_argument("--step", type=int, default=5, help="days between end dates")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for seed in args.seeds:
        for k in range(args.ends):
            end = FIRST_END + timedelta(days=k * args.step)
            warned, old, ratio, truth = one(seed, end)
            rows.append((warned, old, ratio))
            print(f"seed {seed} end {end:%Y-%m-%d} storm {truth['storm_day']} quota "
                  f"{truth['tpm']:,} warned {warned} (spend settings {old}) "
                  f"hi95/quota {ratio:.3f}", flush=True)  # fmt: skip
    ratios = [r for _, _, r in rows]
    print(f"{len(rows)} estates in {time.perf_counter() - started:.0f} s")
    print(f"quota_backtest estates={len(rows)} warned={sum(w for w, _, _ in rows)} "
          f"warned_spend_settings={sum(o for _, o, _ in rows)} min_ratio={min(ratios):.3f} "
          f"median_ratio={float(np.median(ratios)):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
