"""The Anomalies page: the triage feed, the detail opened by ?anomaly=<id>, and triage
changes (acknowledge, mute with an expiry, resolve, reopen) that persist in the warehouse."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb
import pytest

from app import data, triage
from base import clock
from warehouse import runtime


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
    # Readable names, not the detector's ids (p95_latency_ms, cw_throttle_rate)
    assert list(feed["Metric"]) == ["Throttle rate (CloudWatch)", "Estimated spend per hour",
                                    "p95 latency"]  # fmt: skip
    cost = feed[feed["Metric"] == "Estimated spend per hour"].iloc[0]
    assert (cost["Expected"], cost["Actual"], cost["Off by"]) == ("$42.00", "$180.00",
                                                                  "4.3× expected")  # fmt: skip
    assert feed[feed["Metric"] == "p95 latency"].iloc[0]["Actual"] == "5.20 s"
    throttles = feed[feed["Severity"] == "CRITICAL"].iloc[0]
    assert (throttles["Expected"], throttles["Actual"]) == ("2.0%", "45.0%")
    assert not at.get("plotly_chart")  # no detail until one is picked


def test_a_link_opens_the_detail_with_band_driver_changes_and_calls(estate, open_page):
    path, ids = estate
    at = open_page(path, "anomalies", anomaly=ids[0])
    titles = [s.value for s in at.subheader]
    assert titles[1].startswith("HIGH · Estimated spend per hour · wealth")
    assert "driver: app=research (86% of the change)" in at.markdown[0].value
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
    assert feed[feed["Metric"] == "Estimated spend per hour"].iloc[0]["Status"] == "acknowledged"


def test_mute_with_an_expiry_then_reopen(estate, open_page):
    path, ids = estate
    at = open_page(path, "anomalies", anomaly=ids[1])
    at.selectbox(key="mute_for").set_value("7 days")
    at.text_input(key="mute_reason").set_value("planned load test")
    at.button(key="mute").click().run()
    now = clock.utcnow()  # the app's clock: the tests fix it (conftest's NOW)
    held = stored(ids[1])
    assert held["status"] == "muted" and held["reason"] == "planned load test"
    assert abs(held["muted_until"] - (now + timedelta(days=7))) < timedelta(minutes=5)
    assert "p95 latency" not in set(at.dataframe[0].value["Metric"])  # muted: out of the feed

    at.button(key="to_open").click().run()
    held = stored(ids[1])
    assert held["status"] == "open" and held["muted_until"] is None


def test_expected_planned_change_is_a_label_of_its_own(estate, open_page):
    path, ids = estate
    at = open_page(path, "anomalies", anomaly=ids[2])
    at.button(key="to_expected").click().run()
    assert not at.exception and stored(ids[2])["status"] == "expected"
    assert ids[2] not in set(at.session_state[triage.FEED_IDS])  # out of the default feed
    at.pills(key="status").set_value(["expected"]).run()
    assert list(at.dataframe[0].value["Status"]) == ["expected"]


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


# --- what the detail says ----------------------------------------------------------------


def test_the_feed_follows_the_lob_and_model_filters_as_the_sql_does(estate, open_page):
    """Changing a filter changes the feed, to exactly what a direct query of anomalies holds."""
    path, _ids = estate
    everyone = open_page(path, "anomalies")
    wealth = open_page(path, "anomalies", lob="wealth")
    with runtime.cursor() as cur:
        (n_wealth,) = cur.execute(
            "SELECT count(*) FROM anomalies "
            "WHERE lob = 'wealth' AND status IN ('open', 'acknowledged')"
        ).fetchall()[0]
        (n_all,) = cur.execute(
            "SELECT count(*) FROM anomalies WHERE status IN ('open', 'acknowledged')"
        ).fetchall()[0]
    assert len(wealth.dataframe[0].value) == n_wealth == 2
    assert len(everyone.dataframe[0].value) == n_all == 3
    assert set(wealth.dataframe[0].value["LOB"]) == {"wealth"}
    other = open_page(path, "anomalies", lob="insurance")
    assert not any(d for d in other.dataframe if "Severity" in d.value.columns)
    assert any("No anomalies" in i.value for i in other.info)


def test_a_rate_anomaly_breaks_down_in_counts_against_its_own_baseline(
    make_estate, factory, open_page, use_warehouse
):
    """The breakdown is in the measure models/explain.py sums (interventions, not a rate) and
    against the median of the same hour the week before: labelled so, it is not read as the
    summary's expected; a lone app's 100% says it is the only one."""
    path, info = make_estate(factory.estate(20, seed=5))
    why = {
        "expected": 0.0385, "actual": 0.3333,
        "driver": {"label": "app=chat-assist", "dimension": "app", "value": "chat-assist",
                   "share": 1.0, "informative": False,
                   "breakdown": [{"dimension": "app", "value": "chat-assist", "actual": 7.0,
                                  "expected": 0.0, "delta": 7.0}]},
    }  # fmt: skip
    use_warehouse(path)
    with runtime.cursor() as cur:
        cur.execute(
            "UPDATE anomalies SET metric = 'guardrail_intervention_rate', expected = 0.0385, "
            "actual = 0.3333, driver = 'app=chat-assist', driver_share = 1.0, explanation = ? "
            "WHERE anomaly_id = ?",
            [json.dumps(why), info["anomalies"][0]],
        )
    runtime.close()
    at = open_page(path, "anomalies", anomaly=info["anomalies"][0])
    summary = at.markdown[0].value
    assert "expected 3.9%, actual 33.3%" in summary
    assert "(100% of the change; the series' only app)" in summary
    parts = next(d.value for d in at.dataframe if "Dimension" in d.value.columns)
    assert list(parts.columns[2:4]) == ["Usual", "At the peak"]
    assert parts.iloc[0]["At the peak"] == "7"  # a count of interventions, not "700.0%"
    heading = " ".join(m.value for m in at.markdown)
    assert "**What drove it**: interventions by the driver's dimension" in heading
    assert "median of that hour on the 7 days before; not the expected above" in heading
    assert at.subheader[1].value.startswith("HIGH · Guardrail intervention rate · ")


# --- captured text (capture_text = true) -------------------------------------------------


def capture_some_text(ids: list[str]) -> list[str]:
    """Redacted text for five of the sampled calls behind the first anomaly, as ingest keeps it."""
    with runtime.cursor() as cur:
        found = cur.execute(
            "SELECT request_id, ts FROM invocations ORDER BY est_cost_usd DESC LIMIT 5"
        ).fetchall()
        for request_id, ts in found:
            cur.execute(
                "INSERT INTO invocation_text VALUES (?, ?, ?, ?, 1, 's3://logs/x.json.gz')",
                [request_id, ts, f"Summarise the account of [EMAIL] ({request_id})",
                 "The client holds two funds."],
            )  # fmt: skip
    runtime.close()
    return [r for r, _ in found]


def test_captured_text_shows_in_the_drill_down_for_the_lobs_readers_only(
    estate, open_page, use_warehouse, monkeypatch
):
    from base.settings import load_settings

    path, ids = estate
    use_warehouse(path)
    captured = capture_some_text(ids)
    monkeypatch.setattr(runtime, "_settings", load_settings(capture_text=True))

    at = open_page(path, "anomalies", anomaly=ids[0])
    assert "Invocations behind it" in [s.value for s in at.subheader]
    text = next(d.value for d in at.dataframe if "Prompt" in d.value.columns)
    assert set(text["Request id"]) == set(captured)
    assert all("[EMAIL]" in p for p in text["Prompt"])

    other = data.Scope(lobs=("insurance",), user="ines")
    seen = open_page(path, "anomalies", scope=other, anomaly=ids[0])
    assert not any("Prompt" in d.value.columns for d in seen.dataframe)
    rendered = " ".join(str(d.value.to_dict()) for d in seen.dataframe)
    assert "Summarise the account" not in rendered
    # The data layer itself refuses, even handed the request ids.
    version = data.freshness(other)
    assert data.anomaly_text(version, ids[0], captured).is_empty()


def test_with_capture_off_no_text_is_read_or_shown(estate, open_page, use_warehouse, monkeypatch):
    from base.settings import load_settings

    path, ids = estate
    use_warehouse(path)
    captured = capture_some_text(ids)  # left from before capture was switched off
    monkeypatch.setattr(runtime, "_settings", load_settings(capture_text=False))
    at = open_page(path, "anomalies", anomaly=ids[0])
    assert "Invocations behind it (metadata only)" in [s.value for s in at.subheader]
    assert not any("Prompt" in d.value.columns for d in at.dataframe)
    assert not at.expander
    assert data.anomaly_text(data.freshness(), ids[0], captured).is_empty()


def test_a_viewer_without_anomalies_in_their_lobs_is_told_detection_ran(estate, open_page):
    """The models ran; the viewer's LOB just had no anomaly: that is not 'run the models'."""
    path, _ids = estate
    at = open_page(path, "anomalies", scope=data.Scope(lobs=("marketing",), user="mia"))
    shown = " ".join(i.value for i in at.info)
    assert "No anomaly detection yet" not in shown
    assert "No anomalies" in shown and "Anomaly detection last ran" in shown


def test_a_viewer_is_told_when_detection_never_ran(make_estate, factory, open_page):
    path, _ = make_estate(factory.estate(10, lobs=["wealth"]), models=False)
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM ingest_runs WHERE source = 'models'")  # never ran, not even once
    con.close()
    at = open_page(path, "anomalies", scope=data.Scope(lobs=("wealth",), user="wes"))
    assert any("No anomaly detection yet" in i.value for i in at.info)


def test_a_viewer_is_told_when_the_last_models_run_failed(estate, open_page):
    path, _ids = estate
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO ingest_runs (run_id, source, trigger, started_at, finished_at, status, "
        "error) SELECT 'run-failed', 'models', 'schedule', now()::TIMESTAMP, "
        "now()::TIMESTAMP, 'error', 'Prophet: /srv/genai-lens/x.py line 3'"
    )
    con.close()
    at = open_page(path, "anomalies", scope=data.Scope(lobs=("marketing",), user="mia"))
    shown = " ".join(i.value for i in [*at.info, *at.warning])
    assert "last models run failed" in shown
    assert "/srv/genai-lens" not in shown  # the error's details are for Data health, not readers


def widen(series_key: str, lob: str, factor: float, quiet: int) -> None:
    """A decision of the learning rule as `models run` stores it, and two alerts it kept
    quiet (what the page reads; the rule and the step are tested in tests/models and
    tests/jobs)."""
    at = datetime(2026, 6, 20, 9)
    with runtime.cursor() as cur:
        cur.execute(
            "INSERT INTO anomaly_series_tuning VALUES (?, ?, 'invocations', ?, "
            "'amazon.nova-micro-v1:0', ?, ?, 0, ?, 'automatic', false)",
            [series_key, at, lob, factor, quiet,
             f"band {factor:g}× wider: {quiet} alerts in the last 42 days were marked expected"],
        )  # fmt: skip
        for i in range(2):
            cur.execute(
                "INSERT INTO anomaly_suppressed VALUES (?, ?, 'invocations', ?, "
                "'amazon.nova-micro-v1:0', ?, NULL, ?, 10, 60, 30, 0, 'high', ?, ?)",
                [f"{series_key}-q{i}", series_key, lob, at + timedelta(days=i + 1),
                 at + timedelta(days=i + 1), factor, at + timedelta(days=i + 1)],
            )  # fmt: skip


def test_learned_sensitivity_is_shown_and_reverted_on_the_page(estate, open_page):
    """A widened series is listed with its widening, why and the alerts it kept quiet, and its
    button puts it back at base sensitivity (a new decision in the log, by the reader)."""
    path, _ids = estate
    key = "invocations|wealth|amazon.nova-micro-v1:0"
    at = open_page(path, "anomalies")  # migrates the warehouse
    widen(key, "wealth", 2.0, 3)
    at = open_page(path, "anomalies")
    panel = next(d.value for d in at.dataframe if "Alerts kept quiet" in d.value.columns)
    row = panel.iloc[0]
    assert (row["Band"], row["Alerts kept quiet"]) == ("2× wider", 2)
    assert row["Why"].startswith("band 2× wider: 3 alerts")
    revert = next(b for b in at.button if b.key == f"revert|{key}")
    revert.click().run()
    assert not at.exception
    assert any("Back at base sensitivity" in s.value for s in at.success)
    with runtime.cursor() as cur:
        log = cur.execute(
            "SELECT factor, set_by, reverted FROM anomaly_series_tuning WHERE series_key = ? "
            "ORDER BY set_at",
            [key],
        ).fetchall()
    assert log == [(2.0, "automatic", False), (1.0, "dashboard", True)]
    panel = next(d.value for d in at.dataframe if "Alerts kept quiet" in d.value.columns)
    assert panel.iloc[0]["Band"] == "base (1×)" and panel.iloc[0]["Alerts kept quiet"] == 2
    assert not any(b.key == f"revert|{key}" for b in at.button)  # nothing left to revert


def test_a_viewer_neither_sees_nor_reverts_another_lobs_sensitivity(estate, open_page):
    path, _ids = estate
    key = "invocations|wealth|amazon.nova-micro-v1:0"
    open_page(path, "anomalies")
    widen(key, "wealth", 1.5, 2)
    retail = data.Scope(("retail-banking",), user="viewer")
    at = open_page(path, "anomalies", scope=retail)
    assert not any("Alerts kept quiet" in d.value.columns for d in at.dataframe)
    assert not any(b.key == f"revert|{key}" for b in at.button)
    assert not data.revert_sensitivity(key, retail)  # refused in the SQL, not only unseen
    assert data.revert_sensitivity(key, data.Scope(("wealth",), user="wealth-lead"))
    with runtime.cursor() as cur:
        assert cur.execute(
            "SELECT list(set_by ORDER BY set_at) FROM anomaly_series_tuning WHERE series_key = ?",
            [key],
        ).fetchone() == (["automatic", "wealth-lead"],)
