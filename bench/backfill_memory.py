"""Memory of a large backfill: peak RSS of `genai-lens ingest` (every source) as the backfill
grows. Batches stream; nothing holds a month in memory, so the peak should stay flat while
the data grows fourfold.

    .venv/bin/python bench/backfill_memory.py [--per-day 6000] [--days 14 56]

Prints one line per size: days, invocations, objects, seconds, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingest import demo

CLI = str(Path(sys.executable).parent / "genai-lens")


def measure(days: int, per_day: int, root: Path) -> str:
    out = root / f"estate-{days}"
    summary = demo.generate_estate(out, days=days, per_day=per_day)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [CLI, "--config", str(summary.config_path), "--warehouse", str(out / "w.duckdb"),
         "ingest"],
        check=True, capture_output=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    # ru_maxrss of children is the largest child so far (KiB on Linux): sizes run smallest
    # first, so each figure is this run's peak.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    objects = summary.files + summary.trail_files + summary.metric_files
    return (
        f"days={days} invocations={summary.invocations} objects={objects} "
        f"seconds={seconds:.1f} peak_rss_mb={max(peak, before) / 1024:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-day", type=int, default=6000)
    parser.add_argument("--days", type=int, nargs="+", default=[14, 56])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for days in sorted(args.days):
            print(measure(days, args.per_day, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
