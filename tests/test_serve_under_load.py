"""The server under load: the scheduler writes every few seconds while a browser loads every
page again and again for minutes. Zero errors, zero lock messages, and the data moves.

GENAI_LENS_LOAD_SECONDS sets how long the browsers keep loading (default 45: two models runs
and a dozen ingests of every source; set 600 or more for a soak),
GENAI_LENS_LOAD_CLIENTS how many load at once (default 1).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import factories as F
import pytest
from playwright.sync_api import sync_playwright

from demo import estate as demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLI = str(Path(sys.executable).parent / "genai-lens")
END = datetime(2026, 6, 30, 12, tzinfo=UTC)  # the estate's fixed clock: the same data any day
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--disable-background-networking", "--disable-component-update"]  # fmt: skip
PAGES = ("overview", "spend", "reliability", "anomalies", "governance", "data-health")
SECONDS = float(os.environ.get("GENAI_LENS_LOAD_SECONDS", "45"))
CLIENTS = int(os.environ.get("GENAI_LENS_LOAD_CLIENTS", "1"))  # browsers loading at once
# What DuckDB says when a second writer meets the file, and our own wording of it.
LOCKED = re.compile(r"conflicting lock|could not set lock|database is locked|in use by", re.I)
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'
# Every few seconds; the models every 20 seconds (a fit takes seconds).
FAST_SCHEDULE = {
    "GENAI_LENS_SCHEDULE__INVOCATION_LOGS_MINUTES": "0.05",
    "GENAI_LENS_SCHEDULE__METRICS_MINUTES": "0.07",
    "GENAI_LENS_SCHEDULE__CLOUDTRAIL_MINUTES": "0.08",
    "GENAI_LENS_SCHEDULE__COST_HOURS": "0.002",
    "GENAI_LENS_SCHEDULE__MODELS_MINUTES": "0.33",
    "GENAI_LENS_SCHEDULE__JITTER_SECONDS": "0",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


def keep_landing(landing: Path, account: str, region: str, stop: threading.Event) -> None:
    """New invocation logs every two seconds, as Bedrock delivers them, stamped on from the
    estate's fixed clock (its config's `now`), as if that clock ran."""
    started = time.monotonic()
    while not stop.wait(2.0):
        now = (END + timedelta(seconds=time.monotonic() - started)).replace(tzinfo=None)
        stamp = f"{now:%Y-%m-%dT%H:%M:%S}Z"
        recs = [F.converse(timestamp=stamp, accountId=account, region=region) for _ in range(20)]
        F.land(landing, recs, now, account=account, region=region)


def browse(url: str, client: int, loads: list[int], problems: list) -> None:
    """One browser loading every page in turn until the time is up (its own Playwright: the
    sync API belongs to the thread that started it)."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        deadline = time.monotonic() + SECONDS
        try:
            while time.monotonic() < deadline:
                for name in PAGES:
                    page.goto(f"{url}/{name}?period=Last+7+days", wait_until="networkidle")
                    page.wait_for_selector('[data-testid="stMain"]', timeout=30_000)
                    page.wait_for_timeout(300)
                    text = page.inner_text("body")
                    if page.query_selector(ERROR_SELECTOR) or LOCKED.search(text):
                        problems.append((client, name, text[:300]))
                    loads[client] += 1
        except Exception as exc:  # a client that dies must fail the test, not vanish
            problems.append((client, "crashed", repr(exc)))
        finally:
            browser.close()


def test_pages_under_a_busy_scheduler_show_no_error_and_no_lock(tmp_path):
    summary = demo.generate_estate(tmp_path / "demo", days=7, per_day=150, end=END)
    env = {**os.environ, **FAST_SCHEDULE}
    base = [CLI, "--config", str(summary.config_path)]
    first = subprocess.run([*base, "ingest"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    cmd = [*base, "serve", "--port", str(port), "--address", "127.0.0.1"]
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    stop = threading.Event()
    feeder = threading.Thread(
        target=keep_landing, args=(summary.landing, F.ACCOUNT, "us-east-1", stop), daemon=True
    )
    url = f"http://127.0.0.1:{port}"
    loads, problems = [0] * CLIENTS, []
    try:
        wait_healthy(url, server)
        feeder.start()
        clients = [
            threading.Thread(target=browse, args=(url, i, loads, problems)) for i in range(CLIENTS)
        ]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
    finally:
        stop.set()
        server.terminate()
        try:
            stopped = server.wait(timeout=90) is not None  # the job in progress may finish
        except subprocess.TimeoutExpired:
            stopped = False
            server.kill()  # never leave it behind for the rest of the suite
            server.wait()
        log.close()
    served = (tmp_path / "serve.log").read_text()
    assert stopped, "the server did not stop within 90 s of SIGTERM:\n" + served[-3000:]
    assert problems == []
    assert min(loads) >= len(PAGES) * 3, loads
    first_trace = served.find("Traceback")
    assert first_trace < 0, served[first_trace : first_trace + 8000]
    assert not LOCKED.search(served), served[-3000:]
    runs = subprocess.run(
        [*base, "status"], env=env, capture_output=True, text=True
    ).stdout  # the server is gone: status reads the warehouse itself
    job_lines = [ln for ln in served.splitlines() if "job " in ln]
    assert sum(" ok " in ln or "job invocation-logs ok" in ln for ln in job_lines) >= 10, served
    assert not [ln for ln in job_lines if " error " in ln], served
    assert sum("job models ok" in ln for ln in job_lines) >= 2, served  # the writes that take long
    assert "invocation-logs" in runs
