"""Memory of a large backfill: peak RSS of `genai-lens ingest` (every source) as the backfill
grows. Batches stream; nothing holds a month in memory, so the peak should stay flat while
the data grows fourfold.

    .venv/bin/python bench/backfill_memory.py [--per-day 6000] [--days 14 56]

Each source runs in its own process, then all of them in one process on a fresh warehouse (as
`genai-lens ingest` and the server's scheduler run them); prints one line per size and run:
days, source ("all" for the one process), seconds, peak_rss_mb. DuckDB's cache is capped by
`memory_limit` (2GB by default; `--memory-limit` sets it); what grows with the backfill beyond
that is a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from demo import estate as demo

CLI = str(Path(sys.executable).parent / "genai-lens")


def peak_rss_mb(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run `cmd`; (seconds, its peak RSS in MB, polled every 0.1 s)."""
    started = time.perf_counter()
    proc = psutil.Popen(
        cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, proc.memory_info().rss)
        time.sleep(0.1)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with {proc.returncode}")
    return time.perf_counter() - started, peak / 1e6


def measure(days: int, per_day: int, root: Path, memory_limit: str | None) -> None:
    out = root / f"estate-{days}"
    summary = demo.generate_estate(out, days=days, per_day=per_day)
    base = [CLI, "--config", str(summary.config_path)]
    env = {"GENAI_LENS_MEMORY_LIMIT": memory_limit} if memory_limit else {}
    runs = [(s, [s]) for s in ("invocation-logs", "cloudtrail", "metrics", "cost")]
    for name, sources in [*runs, ("all", [])]:
        warehouse = out / f"w-{name}.duckdb"
        cmd = [*base, "--warehouse", str(warehouse), "ingest", *sources]
        seconds, peak = peak_rss_mb(cmd, env)
        print(f"days={days} source={name} seconds={seconds:.1f} peak_rss_mb={peak:.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-day", type=int, default=6000)
    parser.add_argument("--days", type=int, nargs="+", default=[14, 56])
    parser.add_argument("--memory-limit", help="DuckDB memory_limit for the runs, e.g. 1GB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for days in sorted(args.days):
            measure(days, args.per_day, Path(tmp), args.memory_limit)


if __name__ == "__main__":
    main()
