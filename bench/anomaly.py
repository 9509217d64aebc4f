"""Benchmark: the anomaly detector's frozen default set over a NAB-style dataset.

Loads every series first (CSV parsing is not the detector's cost), then times
`models.anomaly.detect` on each, one after another in this process (one core), and scores the
alerts. The issue's bar: nab-dev's 41 series (297,818 rows) in under 60 s on 2 cores.

Usage: python bench/anomaly.py [DATASET]   (default tests/data/nab-dev)
The last line is machine-readable: series=… rows=… seconds=… rows_per_second=… <figures>
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

from jobs.evaluation.anomaly import alerts, load
from models import nab_score

DEFAULT_DATASET = Path(__file__).parents[1] / "tests" / "data" / "nab-dev"


def main(dataset: Path) -> None:
    data = load(dataset)
    rows = sum(len(s.ts) for s in data)
    scores, slowest = [], (0.0, "")
    started = time.perf_counter()
    for series in data:
        t0 = time.perf_counter()
        found = alerts(series)
        slowest = max(slowest, (time.perf_counter() - t0, series.name))
        scores.append(nab_score.score_series(series.ts, found, series.windows))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"slowest series: {slowest[1]} {slowest[0]:.2f}s; peak RSS {peak_mb:.0f} MB")
    print(
        f"series={len(data)} rows={rows} seconds={seconds:.2f} "
        f"rows_per_second={rows / seconds:,.0f} {nab_score.summarise(scores).line()}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATASET)
