"""What every page shares: it renders on a whole estate, says plainly when there is no data,
keeps the sidebar filters in the URL across pages, honours the reader's LOB scope, names its
source and freshness, and runs only bound, scoped SQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import data, ui
from warehouse.db import SQL_DIR

PAGES = ("overview", "spend", "capacity", "reliability", "anomalies", "governance",
         "data-health")  # fmt: skip
PANELS = {  # a few panel titles each page must show on a whole estate
    "overview": ["Estimated spend per day, by LOB", "Lines of business"],
    "spend": ["Spend per day", "Forecast", "Month and quarter landing",
              "Forecast accuracy (backtests)", "Unit economics per application",
              "Estimate vs bill", "Chargeback"],
    "capacity": ["What-if: prompt caching", "What-if: batch and flex", "What-if: model swap",
                 "What-if: global cross-Region inference",
                 "Waste: retry storms, cut answers, blocked calls",
                 "Quota runway: days until throttling", "Model lifecycle: still on LEGACY models"],
    "reliability": ["Latency by model", "Latency by LOB and application", "Errors and throttles",
                    "Throttle pressure against quota"],
    "anomalies": ["Triage feed"],
    "governance": ["Guardrail interventions per day, by LOB", "Guardrail coverage by LOB",
                   "Interventions by policy type", "Audit trail: Bedrock configuration changes",
                   "Invocation logging switched off"],
    "data-health": ["Freshness per source", "Job runs, failures first", "Quarantined records",
                    "Unpriced models", "Hours with invocations but no logs"],
}  # fmt: skip


SOURCE_LABELS = (*(label for label, _ in ui.SOURCES.values()), "The bill allocated to LOBs",
                 "No bill yet:")  # fmt: skip
JOBS = ui.SOURCES["jobs"][0]
# "data to 4 Dec 2026 22:00 UTC", "last run 4 Dec 2026 22:09 UTC", "to 3 Dec 2026" (the bill)
DATED = re.compile(r"(data to|last run|to) \d{1,2} [A-Z][a-z]{2} \d{4}")


@pytest.fixture
def estate_path(make_estate, factory) -> Path:
    path, _ = make_estate(factory.estate(45, seed=21))
    return path


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_its_panels_on_a_whole_estate(page, estate_path, open_page):
    at = open_page(estate_path, page)
    titles = [s.value for s in at.subheader]
    assert set(PANELS[page]) <= set(titles), titles
    assert not at.error
    # Every panel ends with its source and how fresh it is: one source caption per panel, each
    # dated (job bookkeeping has no date of its own and says which filters apply instead).
    feet = [c.value for c in at.caption if c.value.startswith(SOURCE_LABELS)]
    assert len(feet) >= len(titles), (titles, feet)  # (the Overview tiles have one too)
    for foot in feet:
        if foot.startswith(JOBS):
            assert "No filter applies" in foot, foot
        else:
            assert DATED.search(foot), foot


@pytest.mark.parametrize("page", PAGES)
def test_an_empty_warehouse_says_no_data_on_every_page(page, make_warehouse, open_page):
    at = open_page(make_warehouse([]), page)
    assert any("No data yet" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_filters_round_trip_through_the_url_and_survive_page_switches(
    estate_path, open_page, url_of
):
    at = open_page(estate_path, "spend", lob=["wealth", "insurance"], period="Last 7 days")
    assert at.multiselect(key="lob").value == ["wealth", "insurance"]
    assert at.selectbox(key="period").value == "Last 7 days"

    model = at.multiselect(key="model").options[0]
    at.multiselect(key="model").set_value([model]).run()  # (the browser test sees the URL)

    for page in ("app_pages/governance.py", "app_pages/reliability.py", "app_pages/overview.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert at.multiselect(key="lob").value == ["wealth", "insurance"]
        assert at.multiselect(key="model").value == [model]
        assert at.selectbox(key="period").value == "Last 7 days"
        held = url_of(at)  # the parameters stay in the URL of the page switched to
        assert held["lob"] == ["wealth", "insurance"] and held["period"] == ["Last 7 days"]


def test_custom_days_and_quarter_presets_come_from_the_url(estate_path, open_page, factory):
    at = open_page(estate_path, "reliability", period="Custom", days=["2026-01-01", "2026-01-05"])
    assert any("1 – 5 Jan 2026" in c.value for c in at.caption)
    assert any("No invocations" in i.value for i in at.info)  # nothing then: said plainly
    at = open_page(estate_path, "reliability", period="Quarter to date")
    assert at.selectbox(key="period").value == "Quarter to date"


@pytest.mark.parametrize("page", PAGES)
def test_a_panel_whose_rollup_is_missing_says_so_and_the_page_goes_on(
    page, make_warehouse, open_page, factory
):
    path = make_warehouse(factory.estate(10, lobs=["wealth"]), rollups=False)
    at = open_page(path, page)  # no exception anywhere on the page
    missing = " ".join(i.value for i in at.info if "rollup" in i.value)
    expected = {
        "reliability": ["usage_metrics_hourly", "usage_errors_hourly"],
        "governance": ["usage_guardrails_hourly", "usage_metrics_hourly", "usage_changes"],
        "data-health": ["usage_metrics_hourly"],
    }.get(page, [])
    assert all(table in missing for table in expected), missing
    if page == "reliability":
        assert "Latency by LOB and application" in [s.value for s in at.subheader]


# --- scope -----------------------------------------------------------------------------------


def test_a_lob_scoped_reader_sees_only_its_lobs_everywhere(estate_path, open_page):
    scope = data.Scope(lobs=("wealth",), user="ann")
    overview = open_page(estate_path, "overview", scope=scope)
    assert overview.dataframe[0].value["LOB"].tolist() == ["wealth"]
    assert overview.multiselect(key="lob").options == ["wealth"]

    spend = open_page(estate_path, "spend", scope=scope)
    assert set(spend.dataframe[-1].value["LOB"]) <= {"wealth"}  # unit economics
    assert "Estimate vs bill" in [s.value for s in spend.subheader]
    assert any("readers of every LOB" in i.value for i in spend.info)  # the bill has no LOB

    reliability = open_page(estate_path, "reliability", scope=scope)
    assert any("readers of every LOB" in i.value for i in reliability.info)  # metrics: no LOB

    anomalies = open_page(estate_path, "anomalies", scope=scope)
    feed = anomalies.dataframe[0].value
    assert set(feed["LOB"]) == {"wealth"}  # the CloudWatch anomaly (no LOB) is not shown

    governance = open_page(estate_path, "governance", scope=scope)
    audit = next(d.value for d in governance.dataframe if "Change" in d.value.columns)
    assert set(audit["Who"]) == {"arn:aws:iam::111122223333:role/wealth-bedrock"}


def test_every_query_receives_the_scope(estate_path, use_warehouse, monkeypatch):
    """Each query a page runs gets $all_lobs/$allowed_lobs from the session's Scope."""
    use_warehouse(estate_path)
    seen: list[tuple[str, dict]] = []
    real = data.query
    monkeypatch.setattr(data, "query", lambda n, p: seen.append((n, p)) or real(n, p))
    from conftest import MAIN
    from conftest import PAGES as FILES
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(MAIN), default_timeout=90)
    at.session_state["scope"] = data.Scope(lobs=("insurance",))
    at.run()
    for page in FILES.values():
        if page:
            at.switch_page(page).run()
            assert not at.exception
    assert len({name for name, _ in seen}) >= 25
    for name, params in seen:
        assert params["all_lobs"] is False, name
        assert params.get("allowed_lobs", ["insurance"]) == ["insurance"], name


# --- SQL conventions -------------------------------------------------------------------------

QUERIES = sorted((SQL_DIR / "queries").glob("*.sql"))
PAGE_OF = {"overview": "Overview", "shared": "Every page", "spend": "Spend",
           "capacity": "Capacity & savings",
           "reliability": "Reliability", "anomalies": "Anomalies", "governance": "Governance",
           "health": "Data health"}  # fmt: skip


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_each_query_file_states_its_page_and_grain_binds_and_scopes(path):
    text = path.read_text()
    page = PAGE_OF[path.stem.split("_")[0]]
    assert text.startswith(f"-- {page}") or (page == "Every page" and text.startswith("-- ")), (
        path.name
    )
    assert "Grain:" in text, path.name
    assert "{" not in text.replace("{}", "") and "%s" not in text, "parameters must be bound"
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    assert "$all_lobs" in code, f"{path.name} must receive the reader's scope"
    if "$allowed_lobs" not in code:  # tables without a LOB: an all-LOB reader only
        assert re.search(r"WHERE\s+\$all_lobs", code), path.name


def test_pages_read_the_warehouse_only_through_data():
    app = Path(data.__file__).parent
    for path in app.rglob("*.py"):
        if path.name == "data.py":
            continue
        text = path.read_text()
        for reach in ("cursor(", "import duckdb", "warehouse.db", "open_warehouse"):
            assert reach not in text, f"{path.name}: {reach} (read through app/data.py)"
