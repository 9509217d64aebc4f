"""`models run` on a real warehouse: forecasts for LOBs that went quiet long ago, and steps
that run on when one of them fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
import pytest

from base.clock import utcnow
from base.settings import Settings
from base.stats import RunStats
from jobs import model_anomalies, model_forecasts, model_runner
from jobs import runner as jobs
from models import anomaly as detector
from models import forecast as fc
from warehouse.db import sql

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:prophet")

SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"
NOW = datetime(2026, 11, 20, 9, 30)


@pytest.fixture(autouse=True)
def _fixed_clock(clock_at: Callable[[datetime], None]) -> None:
    """The steps run by `run_job` read now from the clock: the same instant on any day."""
    clock_at(NOW)


def spend(con: duckdb.DuckDBPyConnection, lob: str, first: date, days: int, cost: float) -> None:
    """One usage_hourly row a day at noon, `cost` dollars on weekdays and a third at weekends."""
    for i in range(days):
        day = first + timedelta(days=i)
        dollars = cost if day.weekday() < 5 else cost / 3
        con.execute(
            "INSERT INTO usage_hourly (hour, lob, app, model, invocations, errors, throttles, "
            "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, est_cost_usd, "
            "unpriced_invocations, guardrail_invocations, guardrail_interventions, "
            "latency_count) VALUES (?, ?, 'chat', ?, 100, 0, 0, 1000, 100, 0, 0, ?, 0, 0, 0, 0)",
            [datetime.combine(day, datetime.min.time()) + timedelta(hours=12), lob, SONNET,
             dollars],
        )  # fmt: skip


def test_a_lob_that_went_quiet_long_ago_is_forecast_as_zero_and_still_landed(warehouse):
    today = NOW.date()
    spend(warehouse, "live", today - timedelta(days=120), 120, 50.0)  # through yesterday
    spend(warehouse, "legacy", today - timedelta(days=260), 60, 80.0)  # stopped 200 days ago
    settings = Settings(budgets={"lobs": {"legacy": 100.0, "live": 2_000.0}})
    stats = RunStats(unit="model rows")
    # Before the fix: the legacy history ended in May, its forecast at the end of September,
    # and landing November raised ValueError, so no LOB got a forecast at all.
    assert model_forecasts.run(warehouse, settings, NOW, stats) > 0
    rows = warehouse.execute(
        "SELECT series, min(day) FILTER (WHERE actual IS NULL), max(day), "
        "max(day) FILTER (WHERE actual IS NOT NULL), max(yhat), any_value(method), "
        "any_value(note) FROM forecasts GROUP BY series"
    ).fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert set(got) == {"total", "lob:live", "lob:legacy"}
    for first_future, last, last_actual, *_ in got.values():
        assert first_future == today and last_actual == today - timedelta(days=1)
        assert last == fc.end_of_next_quarter(today) == date(2027, 3, 31)  # from today
    *_, peak, method, note = got["lob:legacy"]
    assert (peak, method) == (0.0, "zero") and "no spend for the last 200 days" in note
    assert got["lob:live"][4] == "prophet" and got["lob:live"][3] > 0
    landing = warehouse.execute(
        "SELECT period_kind, period_start, actual_to_date, landing, hi95, status "
        "FROM forecast_landing WHERE series = 'lob:legacy' ORDER BY period_kind"
    ).fetchall()
    assert landing == [
        ("month", date(2026, 11, 1), 0.0, 0.0, 0.0, "on_track"),
        ("quarter", date(2026, 10, 1), 0.0, 0.0, 0.0, "on_track"),
    ]


def test_a_failing_step_is_journalled_and_the_other_steps_still_run(warehouse, monkeypatch):
    spend(warehouse, "live", utcnow().date() - timedelta(days=40), 40, 50.0)
    ran: list[str] = []

    def broken_landing(*args: object, **kwargs: object) -> fc.Landing:
        raise ValueError("the forecast stops before the month ends")

    def watched(name: str, real):  # type: ignore[no-untyped-def]
        def step(*args: object, **kwargs: object) -> int:
            ran.append(name)
            return real(*args, **kwargs)  # type: ignore[no-any-return]

        return step

    monkeypatch.setattr(fc, "landing", broken_landing)
    monkeypatch.setattr(model_anomalies, "run", watched("anomalies", model_anomalies.run))
    from jobs import alerting

    monkeypatch.setattr(alerting, "run", watched("alerts", alerting.run))
    with pytest.raises(model_runner.ModelStepsFailed) as caught:
        jobs.run_job(warehouse, Settings(), "models", trigger="cli")
    assert ran == ["anomalies", "alerts"]  # the steps after the broken one ran
    message = str(caught.value)
    assert "1 of 7 model steps failed: forecasts (ValueError: the forecast stops" in message
    assert "rates, allocation, anomalies, quota, alerts, exports ran" in message
    status, error = warehouse.execute(
        "SELECT status, error FROM ingest_runs WHERE source = 'models'"
    ).fetchone()
    assert status == "error" and error.startswith("1 of 7 model steps failed: forecasts")
    # the failed step's transaction was rolled back, the connection is usable
    assert warehouse.execute("SELECT count(*) FROM forecasts").fetchone() == (0,)
    assert warehouse.execute("SELECT count(*) FROM anomalies").fetchone() == (0,)


def test_when_every_step_succeeds_the_run_is_ok(warehouse):
    spend(warehouse, "live", utcnow().date() - timedelta(days=20), 20, 50.0)
    run = jobs.run_job(warehouse, Settings(), "models", trigger="cli")
    assert run.status == "ok" and run.stats is not None and run.stats.records > 0
    assert warehouse.execute("SELECT count(DISTINCT series) FROM forecasts").fetchone() == (2,)


def calls(con: duckdb.DuckDBPyConnection, hour: datetime, lob: str, app: str, n: int,
          throttles: int = 0, model: str = SONNET, cost: float = 1.0) -> None:  # fmt: skip
    con.execute(
        "INSERT INTO usage_hourly (hour, account_id, region, lob, app, model, invocations, "
        "errors, throttles, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
        "est_cost_usd, unpriced_invocations, guardrail_invocations, guardrail_interventions, "
        "latency_count) VALUES (?, '111122223333', 'us-east-1', ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, "
        "0, 0, 0, 0)",
        [hour, lob, app, model, n, throttles, throttles, n * 1000, cost],
    )


def test_a_cloudwatch_series_is_explained_by_the_lobs_that_called_the_model(warehouse):
    peak = datetime(2026, 11, 27, 14)
    for day in range(8):
        hour = peak - timedelta(days=day)
        storm = 400 if day == 0 else 2
        calls(warehouse, hour, "retail", "chat", 500, throttles=storm)
        calls(warehouse, hour, "wealth", "advisor", 300, throttles=1)
        calls(warehouse, hour, "wealth", "research", 200, throttles=1)
    cw = model_anomalies.Series(f"cw_throttle_rate|*|{SONNET}", "cw_throttle_rate", None, SONNET,
                                np.array([]), np.array([]))  # fmt: skip
    episode = {"start": peak, "peak": peak, "expected": 0.004, "actual": 0.4}
    why = model_anomalies.explain(warehouse, cw, episode)
    assert why["driver"]["label"] == "app=chat" and why["driver"]["share"] == 1.0
    assert {r["value"] for r in why["driver"]["breakdown"]} == {"chat", "advisor", "research"}


def test_a_cost_spike_is_decomposed_across_the_lobs_models(warehouse):
    peak = datetime(2026, 11, 27, 14)
    haiku = "anthropic.claude-3-5-haiku-20241022-v1:0"
    for day in range(8):
        hour = peak - timedelta(days=day)
        moved = day == 0  # at the peak half of the haiku calls went to sonnet instead
        calls(warehouse, hour, "retail", "chat", 150 if moved else 100, cost=15 if moved else 10)
        calls(warehouse, hour, "retail", "chat", 50 if moved else 100, model=haiku,
              cost=0.5 if moved else 1.0)  # fmt: skip
    cost = model_anomalies.Series(f"cost|retail|{SONNET}", "cost", "retail", SONNET,
                                  np.array([]), np.array([]))  # fmt: skip
    episode = {"start": peak, "peak": peak, "expected": 11.0, "actual": 15.5}
    found = model_anomalies.explain(warehouse, cost, episode)["decomposition"]
    assert found["scope"] == "lob=retail, all its models"
    assert found["factors"]["volume"] == 1.0 and found["factors"]["tokens_per_call"] == 1.0
    assert found["factors"]["model_mix"] == pytest.approx(15.5 / 11.0, abs=1e-3)
    assert found["factors"]["price_per_token"] == pytest.approx(1.0, abs=1e-3)


def test_cloudwatch_throttle_rate_is_of_the_calls_attempted():
    """CloudWatch's Invocations leaves throttled calls out: in a storm InvocationThrottles is
    larger than Invocations, and throttles / Invocations read 250% in the triage feed."""
    end = datetime(2026, 11, 27, 15)
    hours = [end - timedelta(hours=h) for h in range(48, 0, -1)]
    rows = []
    for hour in hours:
        storm = hour == end - timedelta(hours=1)
        for metric, value in (("Invocations", 100.0), ("InvocationThrottles", 250.0 if storm
                              else 1.0), ("InvocationClientErrors", 2.0)):  # fmt: skip
            rows.append({"ts": hour, "model": SONNET, "metric": metric, "value": value})
    series = {s.metric: s for s in model_anomalies.cloudwatch_series(pl.DataFrame(rows), end)}
    throttles = series["cw_throttle_rate"].values
    assert throttles[-1] == pytest.approx(250 / 350)
    assert throttles[0] == pytest.approx(1 / 101)
    assert (throttles <= 1).all()
    # errors are counted within Invocations (failed requests are included)
    assert series["cw_error_rate"].values[0] == pytest.approx(2 / 100)


def test_a_storm_is_stored_at_its_worst_hour_not_at_its_recovery():
    """The detector's peak of a throttling storm is the hour the rate fell back to zero (the
    least expected hour once 70% had become the level): the runner dropped it as a 'recovery'
    and a cost runaway read "critical, expected $12.44, actual $12.05". An episode is judged
    by how it starts and shown at its hour furthest from the expected value on that side."""
    rng = np.random.default_rng(5)
    start = datetime(2026, 10, 1)
    ts = np.array([np.datetime64(start + timedelta(hours=h)) for h in range(30 * 24)])
    rate = np.clip(rng.normal(0.01, 0.004, ts.size), 0, None)
    storm = 25 * 24 + 14
    rate[storm : storm + 3] = 0.7
    rate[storm + 1] = np.nan  # an hour without enough calls to judge: never the peak
    rate[storm + 3 : storm + 6] = 0.0
    s = model_anomalies.Series("throttle_rate|wealth|m", "throttle_rate", "wealth", "m", ts,
                               rate, {"calls": np.full(ts.size, 1000.0)})  # fmt: skip
    params = model_anomalies.params_for(s)
    own = detector.episodes(detector.detect(ts, rate, params=params))  # judged as a rate alone
    own = own.filter(pl.col("label") != "low")
    assert own["direction"].to_list() == ["down"]  # the detector's peak: the recovery
    [(_, _, eps)] = model_anomalies.detect_all([s])
    ep = eps.row(0, named=True)
    assert ep["direction"] == "up" and ep["actual"] == 0.7 and ep["expected"] < 0.05
    assert (
        ep["start"] == datetime(2026, 10, 26, 14) <= ep["peak"] < ep["start"] + timedelta(hours=3)
    )
    # the episode's own severity (its events counted too, as the runner judges a rate)
    counted = detector.detect(ts, rate, params=params, calls=s.extra["calls"])
    assert ep["label"] == detector.episodes(counted)["label"].max() in ("high", "critical")


def test_a_burst_is_sized_in_events_at_its_worst_hour_not_its_least_expected_one():
    """A guardrail burst: its first hour has 20 checked calls (5 interventions, +0.22 against
    the usual 3%), its next hours 80 (24 each, +0.27). Sized at the hour of the largest gap in
    percent alone, a burst whose first hour was its least expected read as 4 events, under
    the 5 that make a rate episode worth a look; its worst hour has 22 beyond the expected."""
    rng = np.random.default_rng(9)
    start = datetime(2026, 10, 1)
    ts = np.array([np.datetime64(start + timedelta(hours=h)) for h in range(30 * 24)])
    calls = np.full(ts.size, 25.0)
    hits = rng.binomial(25, 0.03, ts.size).astype(float)
    burst = 25 * 24 + 14
    calls[burst : burst + 4] = [20.0, 80.0, 80.0, 80.0]
    hits[burst : burst + 4] = [5.0, 24.0, 24.0, 24.0]
    s = model_anomalies.Series("guardrail_intervention_rate|retail|m",
                               "guardrail_intervention_rate", "retail", "m", ts, hits / calls,
                               {"calls": calls})  # fmt: skip
    frame, eps = model_anomalies.judge(s)
    [ep] = eps.filter(pl.col("start") >= datetime(2026, 10, 26, 12)).iter_rows(named=True)
    assert ep["start"] <= datetime(2026, 10, 26, 15) and ep["label"] in ("high", "critical")
    sized = model_anomalies.excess_events(s, frame, eps.filter(pl.col("start") == ep["start"]))
    assert sized[0] >= 20


def test_a_logging_gap_counts_the_throttled_calls_cloudwatch_saw(warehouse):
    """The logs record throttled calls; CloudWatch's Invocations leaves them out. An hour of
    30 successful and 40 throttled calls with 30 logged is a gap (under half of 70 logged);
    counting Invocations alone it was not (30 of 30)."""
    hour, quiet = datetime(2026, 11, 27, 14), datetime(2026, 11, 27, 15)
    for at, ok, throttled, logged in ((hour, 30, 40, 30), (quiet, 30, 40, 60)):
        for metric, value in (("Invocations", ok), ("InvocationThrottles", throttled)):
            warehouse.execute(
                "INSERT INTO usage_metrics_hourly (hour, account_id, region, namespace, "
                "metric_name, dimensions, model_id, model, sum) VALUES (?, '111122223333', "
                "'us-east-1', 'AWS/Bedrock', ?, MAP {'ModelId': ?}, ?, ?, ?)",
                [at, metric, SONNET, SONNET, SONNET, value],
            )
        calls(warehouse, at, "retail", "chat", logged)
    window = {"start": hour - timedelta(days=1), "end": quiet + timedelta(hours=1)}
    gaps = warehouse.sql(
        sql("models/anomaly_logging_gap"),
        params={**window, "min_calls": model_anomalies.MIN_CALLS, "share": 0.5},
    ).fetchall()
    assert gaps == [(hour, "111122223333", "us-east-1", 70.0, 30)]


def ttft_hours(days: int = 30, seed: int = 2, base: float = 650) -> tuple[np.ndarray, np.ndarray]:
    """An hourly median time to first token: ~650 ms, a bit slower in busy hours, noisy."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 10, 1)
    ts = np.array([np.datetime64(start + timedelta(hours=h)) for h in range(days * 24)])
    busy = 1 + 0.1 * np.sin(2 * np.pi * (np.arange(ts.size) % 24 - 8) / 24)
    return ts, base * busy * rng.lognormal(0, 0.08, ts.size)


def ttft_series(values: np.ndarray, ts: np.ndarray) -> model_anomalies.Series:
    return model_anomalies.Series(f"ttft_ms|*|{SONNET}", "ttft_ms", None, SONNET, ts, values)


def test_a_queue_in_front_of_a_model_is_a_ttft_anomaly_at_high_or_critical():
    ts, ttft = ttft_hours()
    queue = 24 * 24 + 9
    ttft[queue : queue + 10] += 2500  # every answer starts 2.5 s late for ten hours
    [(_, _, eps)] = model_anomalies.detect_all([ttft_series(ttft, ts)])
    ep = eps.row(0, named=True)
    assert ep["start"] == datetime(2026, 10, 25, 9) and ep["direction"] == "up"
    assert ep["label"] in ("high", "critical") and ep["actual"] - ep["expected"] > 2000


def test_a_ttft_wobble_a_user_would_not_feel_is_not_stored():
    ts, ttft = ttft_hours(base=250)  # a small fast model
    wobble = 24 * 24 + 9
    ttft[wobble : wobble + 10] += 300  # unusual for the series, but a third of a second
    series = ttft_series(ttft, ts)
    own = detector.episodes(detector.detect(ts, ttft, params=model_anomalies.params_for(series)))
    assert (own["start"] == datetime(2026, 10, 25, 9)).any()  # the detector sees it ...
    assert model_anomalies.detect_all([series]) == []  # ... and it is not worth a look


def test_output_speed_is_judged_when_it_falls_not_when_it_rises():
    ts, ttft = ttft_hours(seed=4)
    speed = 40_000 / ttft  # tokens a second, as steady as the TTFT above
    slower, faster = speed.copy(), speed.copy()
    at = 24 * 24 + 9
    slower[at : at + 8] /= 4
    faster[at : at + 8] *= 4

    def found(values: np.ndarray) -> list:
        s = model_anomalies.Series(f"output_tokens_per_s|*|{SONNET}", "output_tokens_per_s",
                                   None, SONNET, ts, values)  # fmt: skip
        return model_anomalies.detect_all([s])

    [(_, _, eps)] = found(slower)
    assert eps["direction"].to_list() == ["down"] and eps["actual"][0] < eps["expected"][0] / 2
    assert found(faster) == []
