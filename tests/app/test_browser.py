"""Every page as a browser sees it: a real `genai-lens serve` and Debian's Chromium.

What only a browser shows: the router serving /<page> with its query string, the filters
writing themselves into the URL and surviving a click to another page, plotly drawing the
charts, no error box anywhere, and each page as a whole (screenshots, kept in tests/artifacts/
for a person to look at). Chromium comes from the system (`apt-get install chromium`);
Playwright never downloads a browser here.
Set GENAI_LENS_SCREENSHOTS=bench/out to keep the demo-estate screenshot for a look.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from base import format as fmt

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots to look at; ignored by git
CLI = Path(sys.executable).parent / "genai-lens"
PAGES = ("overview", "spend", "capacity", "reliability", "anomalies", "governance",
         "data-health")  # fmt: skip
ERRORS = "[data-testid=stException], [data-testid=stAlertContentError]"
CHROMIUM = Path("/usr/bin/chromium")
# Read at import: tests/conftest.py clears GENAI_LENS_* from the environment of every test.
SCREENSHOTS = os.environ.get("GENAI_LENS_SCREENSHOTS")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = proc.stdout.read() if proc.stdout else "(its output went to its log file)"
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {said}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer on {url} within {timeout}s")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Start `genai-lens serve` on a free port against a warehouse; stop it after."""
    procs: list[subprocess.Popen] = []

    def start(warehouse: Path) -> str:
        port = free_port()
        cmd = [str(CLI), "--warehouse", str(warehouse), "serve", "--port", str(port),
               "--address", "127.0.0.1", *no_jobs()]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)  # fmt: skip
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        return url

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def no_jobs() -> list[str]:
    """Serve the app only: a scheduler's jobs would rewrite the tables a test checks."""
    shown = subprocess.run([str(CLI), "serve", "--help"], capture_output=True, text=True)
    return ["--no-scheduler"] if "--no-scheduler" in shown.stdout else []


@pytest.fixture
def browser_page() -> Iterator[Page]:
    assert CHROMIUM.exists(), "install the system browser: apt-get install -y chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        yield page
        browser.close()


def open_overview(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_test_id("stMetric").first.wait_for(timeout=60_000)
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=60_000
    )
    page.wait_for_timeout(500)  # let plotly finish its transitions before any screenshot


def settle(page: Page) -> None:
    """Wait until the script run is over and plotly drew. The app root's script state is
    Streamlit's own signal (its end-to-end suite waits on it too); the short first wait lets a
    run that a click or a navigation asked for begin, the last lets plotly finish drawing."""
    page.get_by_test_id("stMain").wait_for(timeout=60_000)
    page.wait_for_timeout(250)
    page.wait_for_selector(
        "[data-testid=stApp][data-test-script-state=notRunning]", state="attached", timeout=90_000
    )
    page.wait_for_function(
        "!document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000
    )
    drawn = "[...document.querySelectorAll('.js-plotly-plot')].every(d => d.querySelector('svg'))"
    page.wait_for_function(drawn, timeout=60_000)
    page.wait_for_timeout(250)


def keep(path: Path) -> Path:
    """A screenshot path under tests/artifacts/, which ignores itself in git."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")
    return ARTIFACTS / path


def screenshot(page: Page, path: Path) -> Path:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to it."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(900, int(height) + 40)})
    page.wait_for_timeout(800)  # charts re-layout to the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)
    return path


def tiles_shown(page: Page) -> bool:
    """Whether the page shows metric tiles, given a while to draw them: on a busy machine a
    page was once seen settled with its heading but not yet its tiles (a suite run under load;
    the cause was not caught, hence the page's text in the message)."""
    try:
        page.get_by_test_id("stMetricValue").first.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        return False
    return True


def main_text(page: Page) -> str:
    return page.get_by_test_id("stMain").inner_text()[:2000]


def tile_value(page: Page, label: str) -> str:
    tile = page.get_by_test_id("stMetric").filter(has_text=label)
    return tile.get_by_test_id("stMetricValue").inner_text().strip()


def plotly_traces(page: Page) -> list[list[str]]:
    """Trace names of every plotly chart, as plotly itself holds them on the chart's div."""
    return page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')].map(d => d.data.map(t => t.name))"
    )


def test_overview_link_with_a_lob_filter(make_warehouse, serve, browser_page, factory, tmp_path):
    rows = factory.estate(45, lobs=["retail-banking", "wealth", "insurance"], scale=5, seed=11)
    url = serve(make_warehouse(rows))
    first = factory.this_hour().date().toordinal() - 29
    wealth = [r for r in rows if r["lob"] == "wealth" and r["hour"].toordinal() >= first]
    expected_spend = fmt.money(sum(r["est_cost_usd"] for r in wealth))

    open_overview(browser_page, f"{url}/overview?lob=wealth")

    assert browser_page.url.endswith("/overview?lob=wealth")  # the link kept its filter
    assert tile_value(browser_page, "Estimated spend") == expected_spend
    assert tile_value(browser_page, "Active LOBs · apps") == "1 · 1"
    spend, invocations, tokens = plotly_traces(browser_page)
    assert spend == tokens == ["wealth"]
    assert set(invocations) == {"claude-sonnet-4", "claude-opus-4-1"}
    assert browser_page.locator(".js-plotly-plot .main-svg .bars path").count() > 0
    shot = screenshot(browser_page, tmp_path / "overview-wealth.png")
    assert shot.stat().st_size > 50_000


def test_demo_estate_screenshot(make_warehouse, serve, browser_page, factory, tmp_path):
    rows = factory.estate(180, scale=40, growth=0.004, spike=("wealth", 4, 2.5), seed=42)
    url = serve(make_warehouse(rows))

    open_overview(browser_page, f"{url}/overview?period=Last+90+days")

    assert browser_page.get_by_test_id("stMetric").count() == 11
    assert "invocations unpriced" in browser_page.get_by_test_id("stAlert").inner_text()
    assert len(plotly_traces(browser_page)[0]) == 7  # six LOBs and unattributed
    assert browser_page.get_by_test_id("stException").count() == 0
    shot = screenshot(browser_page, ROOT / (SCREENSHOTS or tmp_path) / "overview.png")
    assert shot.stat().st_size > 100_000


# The tile values whose text is wider than their tile: Streamlit cuts them with an ellipsis,
# and "$0.0…" is no unit cost.
CUT_TILES = """[...document.querySelectorAll('[data-testid=stMetricValue]')].filter(e => {
  const box = e.querySelector('[data-testid=stMarkdownContainer]') || e;
  const text = document.createRange();
  text.selectNodeContents(box);
  return text.getBoundingClientRect().width > box.getBoundingClientRect().width + 1;
}).map(e => e.innerText.trim())"""


def test_every_page_renders_without_an_error_box(make_estate, serve, browser_page, factory):
    path, info = make_estate(factory.estate(60, scale=8, growth=0.01, spike=("wealth", 3, 2.2),
                                            seed=44))  # fmt: skip
    url = serve(path)
    for name in PAGES:
        browser_page.set_viewport_size({"width": 1280, "height": 900})  # a laptop
        browser_page.goto(f"{url}/{name}")
        settle(browser_page)
        assert browser_page.locator(ERRORS).count() == 0, name
        assert browser_page.get_by_test_id("stHeading").count() > 0, name
        if name in ("overview", "spend", "reliability", "governance"):  # the pages with tiles
            assert tiles_shown(browser_page), (name, main_text(browser_page))
        assert browser_page.evaluate(CUT_TILES) == [], name
        browser_page.set_viewport_size({"width": 1440, "height": 900})
        shot = screenshot(browser_page, keep(Path(f"{name}.png")))
        assert shot.stat().st_size > 40_000, name
    browser_page.goto(f"{url}/anomalies?anomaly={info['anomalies'][0]}")
    settle(browser_page)
    assert browser_page.locator(ERRORS).count() == 0
    assert browser_page.get_by_text("HIGH · Estimated spend per hour · wealth").count() > 0
    screenshot(browser_page, keep(Path("anomalies-detail.png")))


def test_filters_live_in_the_url_and_survive_navigation(make_estate, serve, browser_page,
                                                        factory):  # fmt: skip
    path, _ = make_estate(factory.estate(20, lobs=["wealth", "insurance"], seed=45))
    url = serve(path)
    browser_page.goto(f"{url}/spend?lob=wealth&period=Last+7+days")
    settle(browser_page)
    browser_page.get_by_role("link", name="Governance").click()
    browser_page.wait_for_url("**/governance?*")
    settle(browser_page)
    assert "lob=wealth" in browser_page.url and "period=Last+7+days" in browser_page.url
    lob = browser_page.get_by_test_id("stMultiSelect").filter(has_text="Lines of business")
    assert "wealth" in lob.inner_text()
    assert browser_page.locator(ERRORS).count() == 0

    # Picking a region writes it into the URL, beside the filters already there.
    browser_page.set_viewport_size({"width": 1440, "height": 1400})  # the list opens below
    region = browser_page.get_by_test_id("stMultiSelect").filter(has_text="Regions")
    region.locator("input").click()
    region.locator("input").press_sequentially("us-east", delay=50)
    browser_page.get_by_role("option", name="us-east-1").click()
    browser_page.wait_for_function("location.search.includes('region=us-east-1')")
    assert "lob=wealth" in browser_page.url and "region=us-east-1" in browser_page.url
