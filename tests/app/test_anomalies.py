"""The Anomalies page: the triage feed, the detail opened by ?anomaly=<id>, and triage
changes (acknowledge, mute with an expiry, resolve, reopen) that persist in the warehouse."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app import data
from genai_lens import runtime


@pytest.fixture
def estate(make_estate, factory):
    path, info = make_estate(factory.estate(30, seed=5))
    return path, info["anomalies"]  # cost (high), latency (medium), CloudWatch (critical)


def stored(anomaly_id: str) -> dict:
    with runtime.cursor() as cur:
        rel = cur.sql(
            "SELECT a.status, a.status_by, m.muted_until, m.reason FROM anomalies a "
            "LEFT JOIN anomaly_mutes m USING (series_key) WHERE anomaly_id = $id",
            params={"id": anomaly_id},
        )
        return dict(zip(("status", "by", "muted_until", "reason"), rel.fetchall()[0], strict=True))


def test_the_feed_lists_open_anomalies_most_severe_first(estate, open_page):
    path, _ids = estate
    at = open_page(path, "anomalies")
    feed = at.dataframe[0].value
    assert list(feed["Severity"]) == ["CRITICAL", "HIGH", "medium"]
    assert list(feed["Metric"]) == ["InvocationThrottles", "cost", "latency_p95"]
    cost = feed[feed["Metric"] == "cost"].iloc[0]
    assert (cost["Expected"], cost["Actual"], cost["Off by"]) == ("$42.00", "$180.00",
                                                                  "4.3× expected")  # fmt: skip
    assert feed[feed["Metric"] == "latency_p95"].iloc[0]["Actual"] == "5.20 s"
    assert not at.get("plotly_chart")  # no detail until one is picked


def test_a_link_opens_the_detail_with_band_driver_changes_and_calls(estate, open_page):
    path, ids = estate
    at = open_page(path, "anomalies", anomaly=ids[0])
    titles = [s.value for s in at.subheader]
    assert titles[1].startswith("HIGH · cost · wealth")
    assert "driver: app=research (86%)" in at.markdown[0].value
    band = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in band["data"]} >= {"Expected band", "Expected", "Actual"}
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    breakdown = next(v for k, v in tables.items() if "Dimension" in k)
    assert list(breakdown["Value"]) == ["research", "advisor"]
    decomposition = next(v for k, v in tables.items() if "Factor" in k)
    assert decomposition.iloc[0]["Peak vs usual"] == "3.90×"
    changes = next(v for k, v in tables.items() if "When (UTC)" in k)
    assert set(changes["Change"]) == {"DeleteModelInvocationLoggingConfiguration",
                                      "PutModelInvocationLoggingConfiguration"}  # fmt: skip
    calls = next(v for k, v in tables.items() if "Request id" in k)
    assert len(calls) == 50
    assert calls["Est. cost"].is_monotonic_decreasing  # a cost anomaly: dearest calls first
    assert not any("body" in c.lower() or "md5" in c.lower() for c in calls.columns)


def test_acknowledge_persists_for_every_reader(estate, open_page):
    path, ids = estate
    at = open_page(path, "anomalies", anomaly=ids[0])
    at.button(key="to_acknowledged").click().run()
    assert not at.exception
    assert any("Marked acknowledged" in s.value for s in at.success)
    assert stored(ids[0])["status"] == "acknowledged"
    assert stored(ids[0])["by"] == "dashboard"
    fresh = open_page(path, "anomalies")  # another session, its own cache
    feed = fresh.dataframe[0].value
    assert feed[feed["Metric"] == "cost"].iloc[0]["Status"] == "acknowledged"


def test_mute_with_an_expiry_then_reopen(estate, open_page):
    path, ids = estate
    at = open_page(path, "anomalies", anomaly=ids[1])
    at.selectbox(key="mute_for").set_value("7 days")
    at.text_input(key="mute_reason").set_value("planned load test")
    at.button(key="mute").click().run()
    now = datetime.now(UTC).replace(tzinfo=None)
    held = stored(ids[1])
    assert held["status"] == "muted" and held["reason"] == "planned load test"
    assert abs(held["muted_until"] - (now + timedelta(days=7))) < timedelta(minutes=5)
    assert "latency_p95" not in set(at.dataframe[0].value["Metric"])  # muted: out of the feed

    at.button(key="to_open").click().run()
    held = stored(ids[1])
    assert held["status"] == "open" and held["muted_until"] is None


def test_resolve(estate, open_page):
    path, ids = estate
    at = open_page(path, "anomalies", anomaly=ids[2])
    at.button(key="to_resolved").click().run()
    assert stored(ids[2])["status"] == "resolved"
    at.pills(key="status").set_value(["resolved"]).run()
    assert list(at.dataframe[0].value["Status"]) == ["resolved"]


def test_a_scoped_reader_cannot_triage_or_open_another_lobs_anomaly(estate, open_page):
    path, ids = estate
    scope = data.Scope(lobs=("insurance",), user="ines")
    at = open_page(path, "anomalies", scope=scope, anomaly=ids[0])
    assert any("outside your LOBs" in w.value for w in at.warning)
    assert not data.set_anomaly_status(ids[0], "resolved", scope)
    assert not data.mute_anomaly(ids[0], datetime(2030, 1, 1), "no", scope)
    assert stored(ids[0])["status"] == "open"


def test_without_detection_the_feed_says_how_to_run_it(make_estate, factory, open_page):
    path, _ = make_estate(factory.estate(10, lobs=["wealth"]), models=False)
    at = open_page(path, "anomalies")
    assert any("No anomaly detection yet — run `genai-lens models run`" in i.value
               for i in at.info)  # fmt: skip
