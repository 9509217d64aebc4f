"""The Governance page (guardrails, the CloudTrail audit trail, logging switched off) and the
Data health page (freshness, runs, quarantine, unpriced, logging gaps, run now)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta

import pytest

import jobs
from app import view
from base import format as fmt
from warehouse import runtime


def tile(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def table_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def since() -> datetime:
    return datetime.combine(view.today() - timedelta(days=29), datetime.min.time())


@pytest.fixture
def estate(make_estate, factory):
    path, _ = make_estate(factory.estate(35, seed=17))
    return path


# --- Governance ------------------------------------------------------------------------------


def test_guardrail_coverage_and_interventions_follow_the_filters(estate, open_page):
    everyone = open_page(estate, "governance")
    with runtime.cursor() as cur:
        n, guarded, intervened = cur.execute(
            "SELECT sum(invocations), sum(guardrail_invocations), sum(guardrail_interventions) "
            "FROM usage_hourly WHERE hour >= ?", [since()]
        ).fetchall()[0]  # fmt: skip
    assert tile(everyone, "Guardrail coverage") == fmt.percent(guarded / n)
    assert tile(everyone, "Interventions") == fmt.count(intervened)
    insurance = open_page(estate, "governance", lob="insurance")  # no guardrails there
    assert tile(insurance, "Guardrail coverage") == "0.0%"
    assert any("No guardrail interventions" in i.value for i in insurance.info)
    policies = json.loads(everyone.get("plotly_chart")[2].proto.spec)
    assert {t["name"] for t in policies["data"]} <= {
        "TopicPolicy", "ContentPolicy", "SensitiveInformationPolicy", "WordPolicy",
    }  # fmt: skip
    rails = table_with(everyone, "Guardrail")
    assert set(rails["Guardrail"]) == {"q7w2e9r4t1yu"}


def test_the_audit_trail_holds_changes_not_model_calls(estate, open_page):
    at = open_page(estate, "governance")
    audit = table_with(at, "Change")
    assert set(audit["Change"]) == {
        "UpdateGuardrail", "DeleteModelInvocationLoggingConfiguration",
        "PutModelInvocationLoggingConfiguration", "CreateInferenceProfile", "DeleteGuardrail",
    }  # fmt: skip
    refused = audit[audit["Refused"] != ""]
    assert list(refused["Change"]) == ["DeleteGuardrail"]
    assert "contractor-sandbox" in " ".join(audit["Who"])  # the unexpected principal
    assert tile(at, "Configuration changes") == "5"

    wealth = open_page(estate, "governance", lob="wealth")  # changes by wealth's principals
    assert set(table_with(wealth, "Change")["Change"]) == {"CreateInferenceProfile",
                                                          "DeleteGuardrail"}  # fmt: skip


def test_logging_switched_off_is_flagged_with_who_and_how_long(estate, open_page):
    at = open_page(estate, "governance")
    gaps = table_with(at, "Switched off")
    assert len(gaps) == 1
    gap = gaps.iloc[0]
    assert gap["By"].endswith("role/marketing-bedrock")
    assert gap["Blind for"] == "5.0 h"
    assert tile(at, "Logging switched off") == "1"
    coverage = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert min(min(t["y"]) for t in coverage["data"]) < 0.9  # the day of the hour logs missed


# --- Data health -----------------------------------------------------------------------------


def test_freshness_runs_quarantine_and_gaps(estate, open_page):
    at = open_page(estate, "data-health")
    fresh = table_with(at, "Delivers within")
    assert list(fresh["Source"]) == ["Invocation logs", "Metrics", "CloudTrail", "Cost", "Models"]
    assert "last run error" in fresh.set_index("Source").loc["CloudTrail", "State"]
    runs = table_with(at, "Trigger")
    assert list(runs["Status"][:2]) == ["error", "interrupted"]  # failures first
    assert "grant s3:GetObject" in runs["Error"].iloc[0]
    held = table_with(at, "Reason")
    assert dict(zip(held["Reason"], held["Records"], strict=True)) == {
        "missing requestId": 2, "empty object: no records": 1,
    }  # fmt: skip
    unpriced = table_with(at, "Unpriced calls")
    assert list(unpriced["Model"]) == ["cohere.command-r-plus-v1:0"]
    gaps = table_with(at, "CloudWatch counted")
    assert len(gaps) == 1 and gaps.iloc[0]["Gap"] == "under half logged"


def test_unattributed_share_matches_the_overview(estate, open_page):
    health = open_page(estate, "data-health")
    share = next(m.value for m in health.metric if m.label.startswith("Share of estimated"))
    assert share == tile(open_page(estate), "Unattributed spend")
    accounts = table_with(health, "Account")
    with runtime.cursor() as cur:
        (expected,) = cur.execute(
            "SELECT sum(invocations) FROM usage_hourly WHERE lob = 'unattributed' AND hour >= ?",
            [since()],
        ).fetchall()[0]
    assert accounts["Invocations"].sum() == expected


def test_data_health_filters_narrow_the_usage_panels(estate, open_page):
    at = open_page(estate, "data-health", lob="marketing")
    assert list(table_with(at, "Unpriced calls")["Model"]) == ["cohere.command-r-plus-v1:0"]
    wealth = open_page(estate, "data-health", lob="wealth")
    assert any("Every model used in the period has a price" in s.value for s in wealth.success)


def test_run_now_asks_the_scheduler_and_shows_its_answer(estate, open_page, monkeypatch):
    from jobs import scheduler

    asked = []
    monkeypatch.setattr(
        scheduler, "run_now", lambda s: asked.append(s) or "queued after the current"
    )
    at = open_page(estate, "data-health")
    at.button(key="run_cost").click().run()
    assert asked == ["cost"]
    assert any("Cost: queued after the current" in i.value for i in at.info)


def test_run_now_without_a_scheduler_module_says_so(estate, open_page, monkeypatch):
    monkeypatch.setitem(sys.modules, "jobs.scheduler", None)
    monkeypatch.delattr(jobs, "scheduler", raising=False)
    at = open_page(estate, "data-health")
    at.button(key="run_metrics").click().run()
    assert any("Metrics: scheduler not running" in i.value for i in at.info)


def test_data_health_numbers_follow_a_filter_change_as_the_sql_does(estate, open_page, factory):
    """Changing a filter changes the usage panels' numbers, each to a direct SQL computation."""

    def total(query: str, params: list) -> float:
        with runtime.cursor() as cur:
            return cur.execute(query, params).fetchall()[0][0]

    everyone = open_page(estate, "data-health")
    marketing = open_page(estate, "data-health", lob="marketing")
    unpriced = "SELECT sum(unpriced_invocations) FROM usage_hourly WHERE hour >= ?"
    assert table_with(everyone, "Unpriced calls")["Unpriced calls"].sum() == total(
        unpriced, [since()]
    )
    assert (
        table_with(marketing, "Unpriced calls")["Unpriced calls"].sum()
        == total(unpriced + " AND lob = 'marketing'", [since()])
        > 0
    )

    haiku = open_page(estate, "data-health", model=factory.HAIKU)
    unattributed = (
        "SELECT sum(invocations) FROM usage_hourly WHERE lob = 'unattributed' AND hour >= ?"
    )
    shown_all = table_with(everyone, "Est. spend")["Invocations"].sum()
    shown_haiku = table_with(haiku, "Est. spend")["Invocations"].sum()
    assert shown_all == total(unattributed, [since()])
    assert shown_haiku == total(unattributed + " AND model = ?", [since(), factory.HAIKU])
    assert 0 < shown_haiku < shown_all
    share = "SELECT sum(est_cost_usd) FILTER (WHERE lob = 'unattributed') / sum(est_cost_usd) "
    share += "FROM usage_hourly WHERE hour >= ? AND model = ?"
    metric = next(m.value for m in haiku.metric if m.label.startswith("Share of estimated"))
    assert metric == fmt.percent(total(share, [since(), factory.HAIKU]))


def test_freshness_age_is_never_negative_and_a_day_reads_as_a_day():
    from app import tiles

    now = datetime(2026, 12, 4, 22, 13)
    sources = {
        "cost": {"newest": datetime(2026, 12, 5)},  # today's partial bill: the day ends later
        "metrics": {"newest": datetime(2026, 12, 4, 22, 14)},  # a minute ahead of this clock
        "invocation-logs": {"newest": datetime(2026, 12, 4, 22)},
    }
    rows = tiles.freshness(sources, now).to_dicts()
    by = {r["Source"]: r for r in rows}
    assert (by["Cost"]["Newest data"], by["Cost"]["Age"]) == ("4 Dec 2026 (so far)",
                                                               "day in progress")  # fmt: skip
    assert by["Metrics"]["Age"] == "0 min"
    assert by["Invocation logs"]["Newest data"] == "4 Dec 2026, 22:00 UTC"
    assert all(not r["Age"].startswith("-") for r in rows)
    later = tiles.freshness(sources, datetime(2026, 12, 6, 3)).to_dicts()
    cost = next(r for r in later if r["Source"] == "Cost")
    assert (cost["Newest data"], cost["Age"]) == ("4 Dec 2026 (whole day)", "27 h")


def test_logging_coverage_counts_throttled_calls_and_never_passes_100_percent(estate, open_page):
    """CloudWatch's Invocations leaves throttled calls out; the logs hold them. Counted alone,
    a throttling storm read as 125% coverage."""
    at = open_page(estate, "governance")
    coverage = json.loads(at.get("plotly_chart")[-1].proto.spec)
    shares = [y for t in coverage["data"] for y in t["y"]]
    assert max(shares) == 1.0 and sorted(shares)[len(shares) // 2] == 1.0
    assert coverage["layout"]["yaxis"]["range"][1] >= 1.0
    with runtime.cursor() as cur:
        (throttled,) = cur.execute(
            "SELECT sum(sum) FROM usage_metrics_hourly WHERE metric_name = 'InvocationThrottles'"
        ).fetchall()[0]
    assert throttled > 0  # the estate has throttles that the fix must add back


def test_bill_spend_the_catalog_cannot_price_is_flagged_with_its_share(estate, open_page):
    from ingest.invocation_logs import pricing
    from warehouse.db import connect

    con = connect(estate)
    try:
        pricing.load_prices(con, [])  # the catalog and its rules, as every ingest loads them
        day = view.today() - timedelta(days=3)
        lines = [  # a model the catalog lacks, and a tier no price rule knows
            ("ai21.jamba-1-5-large-v1:0", "USE1-MP:USE1_InputTokenCount-Units", "default", 7.5),
            ("anthropic.claude-3-haiku-20240307-v1:0", "USE1-MP:USE1_input_tokens_turbo-Units",
             "turbo", 2.5),
        ]  # fmt: skip
        for model, usage_type, tier, usd in lines:
            con.execute(
                "INSERT INTO cost_daily BY NAME SELECT ?::DATE AS usage_date, 'x' AS service, "
                "? AS usage_type, ? AS model, 'input' AS token_kind, 'regional' AS pricing_scope,"
                " 'us-east-1' AS region, MAP {} AS tags, 'total' AS breakdown, "
                "?::DECIMAL(18, 10) AS unblended_cost, 1000.0 AS usage_quantity, 'cur' AS source,"
                " 's3://bill/x' AS source_object, ? AS service_tier",
                [day, usage_type, model, usd, tier],
            )
        total = con.execute(
            "SELECT sum(unblended_cost)::DOUBLE FROM cost_daily WHERE breakdown = 'total' AND "
            "usage_date >= ? AND source = 'cur'", [since().date()]
        ).fetchone()[0]  # fmt: skip
    finally:
        con.close()
    at = open_page(estate, "data-health")
    billed = table_with(at, "Why")
    got = dict(zip(billed["Why"], billed["Bill spend"], strict=True))
    assert got == {"model not in the price catalog": 7.5,
                   "service tier not in the price rules": 2.5}  # fmt: skip
    share = next(m.value for m in at.metric if m.label == "Unpriced share of the bill")
    assert share == fmt.percent(10.0 / total)
