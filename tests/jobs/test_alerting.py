"""Budget and anomaly alerts: sent once per key and channel, failures retried, never blocking."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl
import pytest

from base.settings import Settings
from base.stats import RunStats
from jobs import alerting
from jobs.model_anomalies import anomaly_id

NOW = datetime(2026, 11, 20, 12)


class Hook:
    """A local HTTP endpoint that records JSON posts, or fails with `status`, or with `hang`
    reads the post and then says nothing until the test ends."""

    def __init__(self, status: int = 200, *, hang: bool = False) -> None:
        self.status, self.posts = status, []
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.append(json.loads(body))
                if hang:
                    hook.release.wait(60)
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def hooks() -> Iterator[tuple[Hook, Hook, Hook]]:
    made = (Hook(), Hook(), Hook(status=500))
    yield made
    for h in made:
        h.close()


def landing(con, series: str, actual: float, landing_: float, budget: float) -> None:  # type: ignore[no-untyped-def]
    con.execute(
        "INSERT INTO forecast_landing VALUES (?, 'month', ?, ?, ?, ?, 0, 0, 0, 0, ?, 0.7, "
        "'at_risk', ?)",
        [series, date(2026, 11, 1), date(2026, 11, 30), actual, landing_, budget, NOW],
    )


def anomaly(con, aid: str, severity: str, series_key: str = "cost|retail|m") -> None:  # type: ignore[no-untyped-def]
    con.execute(
        "INSERT INTO anomalies (anomaly_id, series_key, metric, lob, model, start_ts, peak_ts, "
        "expected, actual, severity, score, direction, driver, detected_at) VALUES "
        "(?, ?, 'cost', 'retail', 'm', ?, ?, 10, 90, ?, 0.9, 'up', 'app=chat', ?)",
        [aid, series_key, NOW, NOW, severity, NOW],
    )


def cfg(*urls: str, webhooks: tuple[str, ...] = ()) -> Settings:
    return Settings(alerts={"urls": list(urls), "webhooks": list(webhooks), "retries": 1})


def test_thresholds_crossed_by_actual_and_forecast_send_once(warehouse, hooks):
    ok, _, _ = hooks
    landing(warehouse, "lob:retail", actual=6_000, landing_=11_000, budget=10_000)
    anomaly(warehouse, "a1", "critical")
    anomaly(warehouse, "a2", "low")
    settings = cfg(webhooks=(ok.url,))
    sent = alerting.run(warehouse, settings, NOW, RunStats())
    keys = sorted(p["key"] for p in ok.posts)
    # one budget alert: the highest threshold crossed (100%, by the forecast), not 50/80/100
    assert keys == ["anomaly|a1", "budget|lob:retail|2026-11|100"]
    (budget,) = [p for p in ok.posts if p["kind"] == "budget"]
    assert budget["basis"] == "forecast" and "is forecast to reach 100%" in budget["subject"]
    assert sent == 2
    assert alerting.run(warehouse, settings, NOW, RunStats()) == 0  # nothing twice
    assert len(ok.posts) == 2
    statuses = warehouse.execute("SELECT DISTINCT status FROM alerts").fetchall()
    assert statuses == [("sent",)]


def test_apprise_channel_delivers_through_its_json_plugin(warehouse, hooks):
    ok, _, _ = hooks
    anomaly(warehouse, "a1", "high")
    apprise_url = ok.url.replace("http://", "json://")
    assert alerting.run(warehouse, cfg(apprise_url), NOW, RunStats()) == 1
    (post,) = ok.posts
    assert "anomaly (high)" in post["title"] and "driven by app=chat" in post["message"]
    (channel,) = warehouse.execute("SELECT channel FROM alerts").fetchone()
    assert channel.startswith("apprise:json#") and "127.0.0.1" not in channel


def test_a_failing_channel_is_retried_recorded_and_does_not_block_others(warehouse, hooks):
    ok, _, broken = hooks
    anomaly(warehouse, "a1", "critical")
    stats = RunStats()
    settings = cfg(webhooks=(broken.url, ok.url))
    assert alerting.run(warehouse, settings, NOW, stats) == 1
    assert len(broken.posts) == 2  # first try + 1 retry
    assert len(ok.posts) == 1
    assert any("failed" in n for n in stats.notes)
    rows = dict(warehouse.execute("SELECT status, attempts FROM alerts").fetchall())
    assert rows == {"failed": 2, "sent": 1}
    broken.status = 200  # the channel recovers: the next run delivers the missed alert
    assert alerting.run(warehouse, settings, NOW, RunStats()) == 1
    assert len(ok.posts) == 1


def test_muted_series_and_dry_run(warehouse, hooks):
    ok, _, _ = hooks
    anomaly(warehouse, "a1", "critical", series_key="cost|x|y")
    anomaly(warehouse, "a2", "critical", series_key="cost|z|y")
    warehouse.execute("INSERT INTO anomaly_mutes VALUES ('cost|x|y', ?, 'sre', 'known')",
                      [datetime(2026, 12, 1)])  # fmt: skip
    printed: list[str] = []
    n = alerting.run(warehouse, cfg(webhooks=(ok.url,)), NOW, RunStats(), dry_run=True,
                     echo=printed.append)  # fmt: skip
    assert n == 1 and "would alert [anomaly]" in printed[0] and ok.posts == []
    assert warehouse.execute("SELECT count(*) FROM alerts").fetchone() == (0,)


def detected(con, now: datetime, start: datetime) -> None:  # type: ignore[no-untyped-def]
    """The anomaly detector storing one episode of cost|x|y, found by the run at `now`."""
    from jobs import model_anomalies

    row = {"series_key": "cost|x|y", "metric": "cost", "lob": "x", "model": "y",
           "start_ts": start, "end_ts": now, "peak_ts": start, "expected": 10.0,
           "actual": 90.0, "lower": 5.0, "upper": 15.0, "severity": "critical", "score": 0.9,
           "direction": "up", "driver": None, "driver_share": None, "explanation": {}}  # fmt: skip
    model_anomalies.store(con, [row], pl.DataFrame(), now)


def test_a_muted_series_is_quiet_until_the_mute_expires_then_alerts(warehouse, hooks):
    ok, _, _ = hooks
    until = datetime(2026, 11, 21, 12)
    warehouse.execute("INSERT INTO anomaly_mutes VALUES ('cost|x|y', ?, 'sre', 'deploy')",
                      [until])  # fmt: skip
    settings = cfg(webhooks=(ok.url,))
    for now in (NOW, until - timedelta(minutes=1)):  # the episode is ongoing, the mute holds
        detected(warehouse, now, start=NOW)
        assert alerting.run(warehouse, settings, now, RunStats()) == 0
    assert ok.posts == []
    # The mute lapses while the episode is still going: it alerts now, not never.
    detected(warehouse, until, start=NOW)
    assert alerting.run(warehouse, settings, until, RunStats()) == 1
    assert [p["key"] for p in ok.posts] == [f"anomaly|{anomaly_id('cost|x|y', NOW)}"]
    # And a new episode after the mute alerts as any other.
    later = until + timedelta(hours=5)
    detected(warehouse, later, start=later)
    assert alerting.run(warehouse, settings, later, RunStats()) == 1


@pytest.fixture
def hanging() -> Iterator[tuple[Hook, Hook]]:
    made = (Hook(hang=True), Hook(hang=True))
    yield made
    for h in made:
        h.close()


def alert_rows(con, url: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    label = next(lb for lb, u, _ in alerting.channels(cfg(webhooks=(url,))) if u == url)
    return con.execute(
        "SELECT alert_key, status, attempts, last_error FROM alerts WHERE channel = ? "
        "ORDER BY alert_key", [label]
    ).fetchall()  # fmt: skip


def test_a_hanging_channel_costs_one_timeout_per_run_and_is_recorded(
    warehouse, hooks, hanging, monkeypatch
):
    ok, _, _ = hooks
    hang, _ = hanging
    monkeypatch.setattr(alerting, "ATTEMPT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(alerting, "DELIVERY_BUDGET_S", 5.0)
    for i in range(4):
        anomaly(warehouse, f"a{i}", "critical")
    settings = Settings(alerts={"webhooks": [hang.url, ok.url], "retries": 3})
    assert alerting.run(warehouse, settings, NOW, RunStats()) == 4
    # one attempt of the hanging channel, not 4 alerts x 4 attempts x the timeout
    assert len(hang.posts) == 1 and len(ok.posts) == 4
    rows = alert_rows(warehouse, hang.url)
    assert [(r[1], r[2]) for r in rows] == [("failed", 1)] + [("failed", 0)] * 3
    assert rows[0][3].startswith("timed out")
    assert all("timed out earlier in this run" in r[3] for r in rows[1:])
    assert {r[1] for r in alert_rows(warehouse, ok.url)} == {"sent"}


def test_delivery_stops_at_the_run_cap_and_the_rest_is_sent_next_run(
    warehouse, hooks, hanging, monkeypatch
):
    ok, _, _ = hooks
    slow, slower = hanging
    monkeypatch.setattr(alerting, "ATTEMPT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(alerting, "DELIVERY_BUDGET_S", 0.8)
    anomaly(warehouse, "a1", "critical")
    settings = Settings(alerts={"webhooks": [slow.url, slower.url, ok.url], "retries": 3})
    assert alerting.run(warehouse, settings, NOW, RunStats()) == 0
    assert ok.posts == []  # the cap ran out on the two hanging channels before it
    ((_, status, attempts, error),) = alert_rows(warehouse, ok.url)
    assert (status, attempts) == ("failed", 0) and "0.8 s for delivery ran out" in error
    fixed = Settings(alerts={"webhooks": [ok.url], "retries": 3})
    assert alerting.run(warehouse, fixed, NOW, RunStats()) == 1  # next run, the channel is fine


def test_anomaly_alerts_read_as_the_pages_do(warehouse):
    """Named and formatted as the Anomalies page shows them: a throttle rate as a percentage,
    a latency in seconds, spend in dollars, never '9.019e+04' or '0.7479'."""
    rows = (("r", "throttle_rate", 0.013, 0.7479), ("l", "p95_latency_ms", 11_820.0, 90_190.0),
            ("c", "cost", 0.9, 8.02))  # fmt: skip
    for aid, metric, expected, actual in rows:
        warehouse.execute(
            "INSERT INTO anomalies (anomaly_id, series_key, metric, lob, model, start_ts, "
            "peak_ts, expected, actual, severity, score, direction, detected_at) VALUES "
            "(?, ?, ?, 'retail', 'm', ?, ?, ?, ?, 'high', 0.9, 'up', ?)",
            [aid, f"{metric}|retail|m", metric, NOW, NOW, expected, actual, NOW],
        )
    texts = {a.payload["anomaly_id"]: (a.subject, a.body)
             for a in alerting.anomaly_alerts(warehouse, "high", NOW)}  # fmt: skip
    assert texts["r"][0].startswith("Bedrock anomaly (high): Throttle rate for retail / m at ")
    assert texts["r"][1] == "actual 74.8% vs expected 1.3%"
    assert texts["l"][1] == "actual 90.2 s vs expected 11.8 s"
    assert texts["c"][1] == "actual $8.02 vs expected $0.90"
    assert texts["c"][0].startswith("Bedrock anomaly (high): Estimated spend per hour for ")


def budget_keys(con, settings: Settings) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.key for a in alerting.budget_alerts(con, settings.budgets.thresholds)]


def test_a_budget_alerts_again_only_when_a_higher_threshold_is_crossed(warehouse, hooks):
    ok, _, _ = hooks
    settings = cfg(webhooks=(ok.url,))
    landing(warehouse, "lob:legal", actual=600, landing_=700, budget=1_000)
    assert alerting.run(warehouse, settings, NOW, RunStats()) == 1  # 50%
    warehouse.execute("DELETE FROM forecast_landing")
    landing(warehouse, "lob:legal", actual=700, landing_=790, budget=1_000)
    assert alerting.run(warehouse, settings, NOW, RunStats()) == 0  # still only 50% crossed
    warehouse.execute("DELETE FROM forecast_landing")
    landing(warehouse, "lob:legal", actual=1_050, landing_=1_400, budget=1_000)
    assert alerting.run(warehouse, settings, NOW, RunStats()) == 1  # straight to 100%: one
    warehouse.execute("DELETE FROM forecast_landing")
    landing(warehouse, "lob:legal", actual=1_050, landing_=1_040, budget=1_000)
    assert budget_keys(warehouse, settings) == []  # 100% was sent: 80% is no news
    assert [p["threshold_pct"] for p in ok.posts] == [50, 100]
    assert "legal has reached 100% of $1,000" in ok.posts[1]["subject"]


def test_a_budget_alert_that_failed_everywhere_is_still_due(warehouse, hooks):
    _, _, broken = hooks
    landing(warehouse, "lob:legal", actual=900, landing_=950, budget=1_000)
    settings = cfg(webhooks=(broken.url,))
    assert alerting.run(warehouse, settings, NOW, RunStats()) == 0
    assert budget_keys(warehouse, settings) == ["budget|lob:legal|2026-11|80"]


def test_an_anomaly_alert_links_to_its_page_on_the_configured_base_url(warehouse, hooks):
    ok, _, _ = hooks
    anomaly(warehouse, "a1", "critical")
    settings = Settings(
        alerts={"webhooks": [ok.url], "retries": 1, "base_url": "https://lens.example.com/"}
    )
    assert alerting.run(warehouse, settings, NOW, RunStats()) == 1
    (post,) = ok.posts
    assert post["url"] == "https://lens.example.com/anomalies?anomaly=a1"
    assert post["text"].endswith("\nhttps://lens.example.com/anomalies?anomaly=a1")


def test_without_a_base_url_an_anomaly_alert_has_no_link(warehouse, hooks):
    ok, _, _ = hooks
    anomaly(warehouse, "a1", "critical")
    assert alerting.run(warehouse, cfg(webhooks=(ok.url,)), NOW, RunStats()) == 1
    assert ok.posts[0]["url"] is None and "http" not in ok.posts[0]["text"]


def test_a_base_url_that_is_not_http_names_the_key():
    with pytest.raises(ValueError, match="base_url"):
        Settings(alerts={"base_url": "lens.example.com"})
