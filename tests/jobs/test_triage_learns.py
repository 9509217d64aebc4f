"""Triage that learns, replayed: four weeks of a demo estate's alerts, the anomaly step run
every day as the scheduler would, and a scripted reviewer triaging what it raised — every
alert of one noisy series marked expected or muted, every alert of a planted incident
acknowledged. Against the same four weeks without feedback (the control): fewer alerts on the
noisy series once its verdicts have widened its band, each one it kept quiet stored and
counted, every planted incident still found at its severity, and a revert that gives the base
band back from the hour it was made.

The noisy series is scripted too: the demo plants incidents, not noise, so marketing's
nova-micro traffic gets a planned load test every six days (one hour, three to fifteen times
the usual calls, growing each time as load tests do). At base sensitivity each one alerts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from app import data
from base import clock
from base.settings import load_settings
from base.stats import RunStats
from demo import estate as demo
from jobs import model_anomalies
from jobs import runner as jobs
from models import sensitivity
from warehouse import runtime

pytestmark = pytest.mark.slow  # builds and ingests a 35-day demo estate, then 29 model runs

END = datetime(2026, 6, 30, 12)  # the estate's fixed clock (demo --now)
FIRST = datetime(2026, 6, 2, 12)  # the first run: the estate's first week is the detector's warm-up
WEEKS = [(FIRST + timedelta(days=7 * k), FIRST + timedelta(days=7 * (k + 1))) for k in range(4)]
LOB, MODEL = "marketing", "amazon.nova-micro-v1:0"
NOISY = f"invocations|{LOB}|{MODEL}"
LOAD_TESTS = [(datetime(2026, 6, 2, 14) + timedelta(days=6 * i), k)
              for i, k in enumerate((3.0, 4.5, 6.75, 10.0, 15.0))]  # fmt: skip
REVERT_AT = datetime(2026, 6, 23, 12, 30)  # start of the fourth week
# Which anomaly series show each planted incident (as tests/demo/test_demo_end_to_end.py).
SHOWN_BY = {
    "latency_regression": {"ms_per_1k_output_tokens", "p95_latency_ms"},
    "ttft_regression": {"ttft_ms"},
    "guardrail_burst": {"guardrail_intervention_rate"},
    "cost_runaway": {"cost", "tokens"},
    "throttling_storm": {"throttle_rate", "cw_throttle_rate"},
    "logging_off": {"logging_gap"},
}


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """A 35-day demo estate ingested (no models yet), its load tests scripted in."""
    out = tmp_path_factory.mktemp("estate")
    clock.fix(END.replace(tzinfo=UTC))
    summary = demo.generate_estate(out, days=35, seed=7, per_day=3000, end=clock.fixed())
    settings = load_settings(summary.config_path)
    con = runtime.open_warehouse(settings.warehouse)
    # CloudTrail only explains an alert (the changes before it); nothing here reads it.
    for name in (n for n in jobs.configured(settings) if n != "cloudtrail"):
        jobs.run_job(con, settings, name, trigger="test")
    for hour, k in LOAD_TESTS:
        con.execute(
            "UPDATE usage_hourly SET invocations = round(invocations * $k), "
            "input_tokens = round(input_tokens * $k), output_tokens = round(output_tokens * $k), "
            "est_cost_usd = est_cost_usd * $k, latency_count = round(latency_count * $k) "
            "WHERE lob = $lob AND model = $model AND hour = $hour",
            {"k": k, "lob": LOB, "model": MODEL, "hour": hour},
        ).fetchall()
    runtime.close()
    clock.fix(None)
    truth = json.loads((out / "ground_truth.json").read_text())
    return settings.warehouse, truth["incidents"]


def anomalies(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    rel = con.sql("SELECT * FROM anomalies")
    return {r[0]: dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()}


def band(con: duckdb.DuckDBPyConnection) -> dict[datetime, tuple[float, float]]:
    rows = con.execute(
        "SELECT ts, lower, upper FROM anomaly_bands WHERE series_key = ?", [NOISY]
    ).fetchall()
    return {ts: (lo, hi) for ts, lo, hi in rows}


def incident_of(a: dict, incidents: list[dict]) -> str | None:
    """The planted incident an anomaly shows, if any (its series and hours)."""
    for inc in incidents:
        start = datetime.fromisoformat(inc["start"].rstrip("Z")) - timedelta(hours=2)
        end = max(datetime.fromisoformat(inc["end"].rstrip("Z")), start + timedelta(hours=8))
        target = inc.get("model") or inc.get("lob") or inc.get("account")
        if (a["metric"] in SHOWN_BY.get(inc["kind"], ()) and start <= a["start_ts"] <= end
                and target in a["series_key"]):  # fmt: skip
            return inc["kind"]
    return None


def review(con: duckdb.DuckDBPyConnection, now: datetime, incidents: list[dict]) -> None:
    """The scripted reviewer, through the page's own writes: the noisy series' alerts are a
    planned change (the second one muted for a day instead), planted incidents are real."""
    clock.fix(now.replace(tzinfo=UTC))
    for a in anomalies(con).values():
        if a["status"] != "open":
            continue
        if a["series_key"] == NOISY:
            # fetchall, not fetchone: a half-read result blocks the connection's next query
            [(marked,)] = con.execute(
                "SELECT count(*) FROM anomalies WHERE series_key = ? AND status <> 'open'",
                [NOISY],
            ).fetchall()
            if marked == 1:
                assert data.mute_anomaly(a["anomaly_id"], now + timedelta(days=1), "load test")
            else:
                assert data.set_anomaly_status(a["anomaly_id"], "expected")
        elif incident_of(a, incidents):
            assert data.set_anomaly_status(a["anomaly_id"], "acknowledged")


@pytest.fixture(scope="module")
def replay(estate) -> dict:
    """The control (one run at the end, no feedback), then four weeks of daily runs with the
    reviewer and a revert at the start of the fourth week."""
    path, incidents = estate
    con = runtime.open_warehouse(path)
    settings = load_settings(path.parent / "genai-lens.toml")
    model_anomalies.run(con, settings, END, RunStats())
    control, control_band = anomalies(con), band(con)
    con.execute("DELETE FROM anomalies").fetchall()  # (a DELETE's count is a result to finish)
    con.execute("DELETE FROM anomaly_bands").fetchall()
    notes, now, reverted = [], FIRST, False
    while now <= END:
        if now > REVERT_AT and not reverted:
            clock.fix(REVERT_AT.replace(tzinfo=UTC))
            reverted = data.revert_sensitivity(NOISY)
        stats = RunStats()
        model_anomalies.run(con, settings, now, stats)
        notes += stats.notes
        review(con, now, incidents)
        now += timedelta(days=1)
    out = {
        "control": control, "control_band": control_band, "found": anomalies(con),
        "band": band(con), "incidents": incidents, "reverted": reverted, "notes": notes,
        "history": con.sql("SELECT * FROM anomaly_series_tuning ORDER BY series_key, set_at")
        .pl(),
        "quiet": con.sql("SELECT * FROM anomaly_suppressed").pl(),
    }  # fmt: skip
    runtime.close()
    clock.fix(None)
    return out


def on_noisy(found: dict, week: tuple[datetime, datetime]) -> list[str]:
    return sorted(i for i, a in found.items()
                  if a["series_key"] == NOISY and week[0] <= a["start_ts"] < week[1])  # fmt: skip


def test_every_load_test_alerts_without_feedback(replay):
    starts = {a["start_ts"] for a in replay["control"].values() if a["series_key"] == NOISY}
    assert len(starts) >= 4, starts  # a noisy series indeed
    assert starts <= {hour for hour, _ in LOAD_TESTS}


def test_feedback_leaves_fewer_alerts_on_the_noisy_series_and_counts_the_rest(replay):
    control, found = replay["control"], replay["found"]
    before = [len(on_noisy(control, w)) for w in WEEKS]
    after = [len(on_noisy(found, w)) for w in WEEKS]
    # Weeks one and two teach it (and are judged as without feedback); week three is quieter.
    assert after[:2] == before[:2]
    assert after[2] < before[2]
    assert sum(after) < sum(before)
    # Every alert the control raised is either raised with feedback or stored as kept quiet,
    # under the id it would have had.
    quiet = replay["quiet"].filter(replay["quiet"]["series_key"] == NOISY)
    kept_quiet = set(quiet["anomaly_id"].to_list())
    assert kept_quiet and kept_quiet.isdisjoint(found)
    noisy_control = {i for i, a in control.items() if a["series_key"] == NOISY}
    noisy_found = {i for i, a in found.items() if a["series_key"] == NOISY}
    assert noisy_found | kept_quiet == noisy_control
    assert quiet["factor"].to_list() == [sensitivity.CAP] * quiet.height
    assert any("alerts kept quiet" in n for n in replay["notes"])


def test_every_planted_incident_is_still_found_at_its_severity(replay):
    control, found, incidents = replay["control"], replay["found"], replay["incidents"]
    kinds = {incident_of(a, incidents) for a in control.values()} - {None}
    assert kinds == set(SHOWN_BY)  # the control finds every planted incident ...
    for aid, a in control.items():
        if incident_of(a, incidents):  # ... and so does the replay, alert for alert
            assert aid in found, (a["series_key"], a["start_ts"])
            assert found[aid]["severity"] == a["severity"], a["series_key"]
            assert found[aid]["status"] == "acknowledged"


def test_the_noisy_series_band_widened_step_by_step_and_says_why(replay):
    noisy = replay["history"].filter(replay["history"]["series_key"] == NOISY)
    factors = noisy["factor"].to_list()
    assert factors[:3] == [1.0, 1.5, 2.0]  # one verdict, two, three (the cap)
    widened = noisy.row(2, named=True)
    assert widened["set_by"] == "automatic" and not widened["reverted"]
    assert widened["why"].startswith("band 2× wider (the cap): 3 alerts in the last 42 days")
    # A decision widens only the hours from when it was made: the control and the replay
    # judged every hour before the first widening alike.
    first = noisy.filter(noisy["factor"] > 1)["set_at"].min()
    earlier = {t: b for t, b in replay["control_band"].items() if t < first.replace(minute=0)}
    assert earlier and all(replay["band"][t] == b for t, b in earlier.items())


def test_a_series_with_acknowledged_incidents_keeps_its_base_sensitivity(replay):
    history = replay["history"]
    confirmed = history.filter(history["why"].str.contains("confirmed as a real incident"))
    assert confirmed.height >= 3
    assert set(confirmed["factor"].to_list()) == {1.0}
    widened = set(history.filter(history["factor"] > 1)["series_key"].to_list())
    assert widened == {NOISY}


def test_the_revert_restores_the_base_band_from_its_hour(replay):
    assert replay["reverted"]
    noisy = replay["history"].filter(replay["history"]["series_key"] == NOISY)
    revert = noisy.filter(noisy["reverted"]).row(0, named=True)
    assert (revert["factor"], revert["set_by"]) == (1.0, "dashboard")
    assert revert["why"] == sensitivity.revert_reason("dashboard", REVERT_AT)
    assert noisy["factor"].to_list()[-1] == 1.0  # verdicts before the revert no longer count
    since = REVERT_AT.replace(minute=0)
    after = {t: b for t, b in replay["control_band"].items() if t >= since}
    assert after and all(replay["band"][t] == b for t, b in after.items())
    # ... so the fourth week's load test alerts as it would have at base sensitivity.
    week4 = on_noisy(replay["control"], WEEKS[3])
    assert week4 and on_noisy(replay["found"], WEEKS[3]) == week4
    assert [replay["found"][i]["severity"] for i in week4] == [
        replay["control"][i]["severity"] for i in week4
    ]
