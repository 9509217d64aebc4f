"""Projected time of a first backfill: 90 days of an organisation doing 1M invocations a day.

Writes a demo estate (invocation logs in Bedrock's many small objects, CloudTrail with one
management event per model call, Metric Streams and the bill, all in proportion to the
invocations), ingests each source in turn into one warehouse with `genai-lens ingest SOURCE`
(as a backfill runs them), and scales each source's measured seconds per invocation to the
target linearly: hours = seconds x target invocations / measured invocations / 3600.

Then shows the backfill resumes: a fresh `genai-lens ingest invocation-logs` is killed (SIGKILL)
part way through, run again, and the second run's summary says how many objects it found
already loaded (it redoes none of them).

    .venv/bin/python bench/backfill.py [--days 14] [--per-day 20000] [--kill-after SECONDS]
                                       [--chunk-days N]

--chunk-days writes the estate N days at a time (the simulator holds a whole estate in memory:
5M invocations at once took more than the machine's 24 GB) into one set of landing folders;
the bill is the last chunk's (the cost step is a few seconds either way).

The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from demo import estate as demo

CLI = str(Path(sys.executable).parent / "genai-lens")
SOURCES = ("invocation-logs", "cloudtrail", "metrics", "cost")
TARGET_DAYS, TARGET_PER_DAY = 90, 1_000_000


def ingest(config: Path, warehouse: Path, source: str) -> tuple[float, str, float]:
    """Seconds, the summary line and the peak RSS (MB) of one `genai-lens ingest SOURCE`."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [CLI, "--config", str(config), "--warehouse", str(warehouse), "ingest", source],
            stdout=out, stderr=err, text=True, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        peak = 0
        while proc.poll() is None:  # the child's own peak: its rusage would include ours at fork
            peak = max(peak, _vm_hwm_mb(proc.pid))
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"genai-lens ingest {source} failed: {err.read().strip()[-2000:]}")
        lines = out.read().strip().splitlines() or [""]
    summary = next((x for x in lines if "loaded from" in x), lines[-1])
    return seconds, summary, peak


def _vm_hwm_mb(pid: int) -> float:
    """A running process's peak resident set so far (MB). Not wait4's ru_maxrss: a child
    exec'd from this process starts with this process's peak, which, after the estate was
    written in-process, is itself ~2.4 GB: every source reported 2,400 MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) / 1024 if found else 0.0


def counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        q = {"invocations": "SELECT count(*) FROM invocations",
             "events": "SELECT count(*) FROM cloudtrail_events",
             "points": "SELECT count(*) FROM metrics"}  # fmt: skip
        out = {}
        for name, query in q.items():
            try:
                out[name] = con.execute(query).fetchone()[0]  # type: ignore[index]
            except duckdb.CatalogException:
                out[name] = 0
        return out
    finally:
        con.close()


def resume(config: Path, warehouse: Path, kill_after: float) -> str:
    """Kill a fresh invocation-log backfill after `kill_after` s; rerun; the rerun's summary.
    (A kill after the run has ended proves nothing: the default is half the uninterrupted run.)"""
    cmd = [CLI, "--config", str(config), "--warehouse", str(warehouse), "ingest",
           "invocation-logs"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return ingest(config, warehouse, "invocation-logs")[1]


END = datetime(2026, 6, 30, 12, tzinfo=UTC)  # a fixed clock, as the demo's tests use


def chunked_estate(root: Path, days: int, per_day: int, chunk: int) -> Path:
    """The estate written `chunk` days at a time into root/estate; its config (the last
    chunk's, rewritten to the merged folders and the whole window)."""
    parts = -(-days // chunk)
    last = None
    for k in range(parts):
        n = min(chunk, days - k * chunk)
        end = END - timedelta(days=days - k * chunk - n)
        last = demo.generate_estate(root / f"part-{k}", days=n, per_day=per_day, seed=7 + k,
                                    end=end)  # fmt: skip
        for folder in ("landing", "trail", "metric-stream"):
            for path in sorted((root / f"part-{k}" / folder).rglob("*")):
                if path.is_file():
                    dest = root / "estate" / folder / path.relative_to(root / f"part-{k}" / folder)
                    assert not dest.exists(), f"two chunks wrote {dest}"
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    path.rename(dest)
        print(f"  chunk {k + 1}/{parts}: {n} days to {end:%Y-%m-%d %H:%M}", flush=True)
    assert last is not None
    (root / f"part-{parts - 1}" / "bill").rename(root / "estate" / "bill")
    config = last.config_path.read_text().replace(f"part-{parts - 1}", "estate")
    config = re.sub(r"first_run_days = \d+", f"first_run_days = {days + 1}", config)
    (root / "estate" / "genai-lens.toml").write_text(config)
    return root / "estate" / "genai-lens.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--per-day", type=int, default=20_000)
    ap.add_argument(
        "--kill-after", type=float, help="seconds before the kill (default: half the first run)"
    )
    ap.add_argument("--chunk-days", type=int, default=0, help="write the estate N days at a time")
    ap.add_argument("--keep", type=Path, help="write the estate here and keep it (or reuse it)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="genai-lens-backfill-") as tmp:
        root = args.keep or Path(tmp)
        for stale in ("backfill.duckdb", "resumed.duckdb"):
            (root / stale).unlink(missing_ok=True)
        t = time.perf_counter()
        config = root / "estate" / "genai-lens.toml"
        if config.exists():
            print(f"reusing the estate in {root / 'estate'}")
        elif args.chunk_days:
            config = chunked_estate(root, args.days, args.per_day, args.chunk_days)
        else:
            config = demo.generate_estate(root / "estate", days=args.days,
                                          per_day=args.per_day).config_path  # fmt: skip
        print(f"estate of {args.days} days written in {time.perf_counter() - t:.0f}s")
        warehouse = root / "backfill.duckdb"
        seconds: dict[str, float] = {}
        rss: dict[str, float] = {}
        first_objects = 0
        for source in SOURCES:
            seconds[source], summary, rss[source] = ingest(config, warehouse, source)
            if source == "invocation-logs":
                found = re.search(r"from ([\d,]+) objects", summary)
                first_objects = int(found.group(1).replace(",", "")) if found else -1
            took = f"{seconds[source]:6.1f}s  peak RSS {rss[source]:,.0f} MB"
            print(f"{source:>16}: {took}  {summary}", flush=True)
        n = counts(warehouse)
        scale = TARGET_DAYS * TARGET_PER_DAY / n["invocations"]
        hours = {s: v * scale / 3600 for s, v in seconds.items()}
        total = sum(hours.values())
        print(f"measured: {n['invocations']:,} invocations, {n['events']:,} CloudTrail events, "
              f"{n['points']:,} metric points in {sum(seconds.values()):.0f}s")  # fmt: skip
        print(
            "projected for 90 days x 1M invocations/day: "
            + ", ".join(f"{s} {h:.2f} h" for s, h in hours.items())
            + f"; total {total:.2f} h"
        )
        # Metric points grow with series (models x accounts x regions) and minutes, not with
        # calls: scaled by days alone, the metrics share is the optimistic bound.
        by_days = seconds["metrics"] * TARGET_DAYS / args.days / 3600
        print(f"(metrics scaled by days only: total {total - hours['metrics'] + by_days:.2f} h)")
        kill_after = args.kill_after or seconds["invocation-logs"] / 2
        rerun = resume(config, root / "resumed.duckdb", kill_after)
        print(f"killed after {kill_after:.1f}s, then run again: {rerun}")
        # The rerun lists from its watermark less the overlap: objects the killed run committed
        # before that are not even listed, those inside it are skipped by key and ETag.
        redone = re.search(r"from ([\d,]+) objects", rerun)
        objects = int(redone.group(1).replace(",", "")) if redone else -1
        after = counts(root / "resumed.duckdb")["invocations"]
        print(
            f"the rerun loaded {objects:,} of the {first_objects:,} "
            f"objects; invocations after it: {after:,} (uninterrupted: {n['invocations']:,})"
        )
        load = Path("/proc/loadavg").read_text().split()[0]
        print(f"backfill invocations={n['invocations']} measured_s={sum(seconds.values()):.0f} "
              f"projected_hours={total:.2f} resumed_objects={objects} "
              f"resumed_equal={after == n['invocations']} peak_rss_mb={max(rss.values()):.0f} "
              f"loadavg={load}")  # fmt: skip


if __name__ == "__main__":
    main()
