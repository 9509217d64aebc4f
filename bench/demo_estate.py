"""Benchmark: how fast the demo estate simulator writes invocation logs.

Usage: python bench/demo_estate.py [--days 90] [--per-day 9000]
Prints invocations, files, seconds and peak RSS; the last line is machine-readable.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from demo import estate as demo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--per-day", type=int, default=9000)
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="genai-lens-demo-bench-"))
    try:
        started = time.perf_counter()
        summary = demo.generate_estate(out, days=args.days, per_day=args.per_day)
        seconds = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
        print(
            f"{summary.invocations:,} invocations in {summary.files:,} files "
            f"({size:,.0f} MB) in {seconds:.1f}s, peak RSS {rss:,.0f} MB"
        )
        print(
            f"invocations={summary.invocations} seconds={seconds:.1f} "
            f"per_second={summary.invocations / seconds:.0f} peak_rss_mb={rss:.0f}"
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
