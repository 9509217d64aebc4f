"""`genai-lens demo --no-serve`, end to end: the estate goes through the production ingest and
the models, and the warehouse tells the truth the simulator wrote down — the planted incidents
found, the bill allocated exactly, to its tenth decimal — without a byte of prompt text.

The suite builds 60 days at `make demo`'s 6000 calls a day. The simulator places its incidents
at fractions of the span, so a 60-day estate has every one of them, and its checks are the same
as at `make demo`'s 90 days (both pass on 2026-12-07), for ~100 CPU-seconds less in the suite's
longest file. `DEMO_E2E_DAYS=90 pytest tests/demo/test_demo_end_to_end.py` runs them at
`make demo`'s size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest

from demo import estate as demo

pytestmark = pytest.mark.slow  # builds a 60-day demo estate

CLI = str(Path(sys.executable).parent / "genai-lens")
DAYS = int(os.environ.get("DEMO_E2E_DAYS", "60"))  # `genai-lens demo`'s default: 90
PER_DAY = 6000  # `genai-lens demo`'s default
NOW = "2026-06-30T12:00:00Z"  # a fixed clock: the same demo, and the same checks, any day


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    cwd = tmp_path_factory.mktemp("demo")
    res = subprocess.run(
        [CLI, "demo", "--no-serve", "--now", NOW, "--days", str(DAYS), "--per-day", str(PER_DAY)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert res.returncode == 0, res.stderr
    return cwd / "data" / "demo", res


def test_every_logged_invocation_loads_and_bad_records_are_quarantined(demo_run):
    out, res = demo_run
    truth = json.loads((out / "ground_truth.json").read_text())
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    assert con.execute(
        "SELECT count(*), count(DISTINCT request_id) FROM invocations"
    ).fetchone() == (truth["invocations"]["logged"], truth["invocations"]["logged"])
    quarantined = {
        (Path(o).name, line)
        for o, line in con.execute("SELECT source_object, line FROM quarantine").fetchall()
    }
    planted = {(Path(b["file"]).name, b["line"]) for b in truth["bad_records"]}
    assert {name for name, _ in quarantined} == {name for name, _ in planted}
    assert "quarantined" in res.stdout or "quarantined" in res.stderr


def test_attribution_matches_the_simulated_truth(demo_run):
    out, _ = demo_run
    frame = demo.simulate(days=DAYS, seed=7, per_day=PER_DAY, end=_end_of(out)).filter(
        pl.col("logged")
    )
    expected = Counter(frame["attributed_lob"].to_list())
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    got = dict(con.execute("SELECT lob, count(*) FROM invocations GROUP BY lob").fetchall())
    assert got == dict(expected)
    rollup = dict(
        con.execute("SELECT lob, sum(invocations) FROM usage_hourly GROUP BY lob").fetchall()
    )
    assert rollup == got


def test_logging_off_window_is_a_gap_in_the_warehouse(demo_run):
    out, _ = demo_run
    truth = json.loads((out / "ground_truth.json").read_text())
    off = next(i for i in truth["incidents"] if i["kind"] == "logging_off")
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    inside = con.execute(
        "SELECT count(*) FROM invocations WHERE account_id = ? AND region = ? "
        "AND ts >= ?::TIMESTAMPTZ AND ts < ?::TIMESTAMPTZ",
        [off["account"], off["region"], off["start"], off["end"]],
    ).fetchone()[0]
    assert inside == 0 and off["effect"]["suppressed_invocations"] > 0


def test_unpriced_and_unresolved_are_counted_not_zero(demo_run):
    out, res = demo_run
    truth = json.loads((out / "ground_truth.json").read_text())
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    unpriced_model = truth["unpriced_model"]["model"]
    # Never at a list price it does not have, never $0: unpriced until the bill has its line,
    # then at the rate learned from the bill (calls ingested after `models run`).
    row = con.execute(
        "SELECT count(*), count(est_cost_usd) FILTER (WHERE price_basis IS DISTINCT FROM 'bill'),"
        " count(*) FILTER (WHERE est_cost_usd = 0 AND input_tokens + output_tokens > 0)"
        " FROM invocations WHERE model = ?",
        [unpriced_model],
    ).fetchone()
    assert row[0] > 0 and row[1] == 0 and row[2] == 0
    # The profile no config lists (and Bedrock is not asked): unresolved at ingest, then named
    # by the bill (its lines' resource id) in `models run`, and its calls resolved and priced.
    unlisted = truth["unlisted_profile"]
    assert con.execute(
        "SELECT model, resolved_by FROM inference_profiles WHERE arn = ?", [unlisted["arn"]]
    ).fetchall() == [(unlisted["model"], "bill")]
    calls = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE model = ? AND model_unresolved IS NULL), "
        "count(est_cost_usd) FROM invocations WHERE model_id = ?",
        [unlisted["model"], unlisted["arn"]],
    ).fetchone()
    assert calls == (unlisted["invocations"],) * 3
    assert con.execute("SELECT count(*) FROM invocations WHERE model IS NULL").fetchone() == (0,)
    assert "1 application inference profile named by the bill" in res.stdout


def test_the_canary_never_reaches_the_warehouse(demo_run):
    out, _ = demo_run
    landing_hits = sum(
        demo.DEMO_CANARY.encode() in _gunzip(p)
        for p in list((out / "landing").rglob("*.json.gz"))[:200]
    )
    assert landing_hits > 0  # it really is in the prompts
    for path in out.glob("warehouse.duckdb*"):
        assert demo.DEMO_CANARY.encode() not in path.read_bytes()


def _gunzip(path: Path) -> bytes:
    import gzip

    try:
        return gzip.decompress(path.read_bytes())
    except (EOFError, OSError):
        return b""


def _end_of(out: Path):
    from datetime import datetime

    truth = json.loads((out / "ground_truth.json").read_text())
    return datetime.fromisoformat(truth["end"].replace("Z", "+00:00")).replace(tzinfo=None)


def _incidents(out: Path) -> list[dict]:
    return json.loads((out / "ground_truth.json").read_text())["incidents"]


def _ts(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def _anomalies(out: Path) -> list[dict]:
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    rel = con.sql("SELECT * FROM anomalies ORDER BY start_ts")
    cols = rel.columns
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


def _during(a: dict, inc: dict, lead_hours: int = 2) -> bool:
    from datetime import timedelta

    start = _ts(inc["start"]) - timedelta(hours=lead_hours)
    return start <= a["start_ts"] <= max(_ts(inc["end"]), _ts(inc["start"]) + timedelta(hours=6))


def _on_the_rollout(a: dict, quota: dict) -> bool:
    """Whether an anomaly is fraud-scoring's planted rollout (demo/capacity.py) in its own
    series, while it ramps: 5x its calls and 15x its tokens on the storm's model. `quota`:
    the ground truth's quota section."""
    ramp = quota["rollout"]
    return (a["metric"] in ("tokens", "cost", "invocations") and a["lob"] == ramp["lob"]
            and a["model"] == quota["model"]
            and _ts(ramp["start"]) <= a["start_ts"] <= _ts(ramp["end"]))  # fmt: skip


# Which anomaly series show each kind of planted incident.
EXPECTED = {
    "latency_regression": ({"ms_per_1k_output_tokens", "p95_latency_ms"}, "model"),
    "ttft_regression": ({"ttft_ms"}, "model"),  # only time to first token shows a queue
    "guardrail_burst": ({"guardrail_intervention_rate"}, "lob"),
    "cost_runaway": ({"cost", "tokens"}, "lob"),
    "throttling_storm": ({"throttle_rate", "cw_throttle_rate"}, "model"),
    "logging_off": ({"logging_gap"}, "account"),
}


def test_every_planted_incident_is_found_and_alarms_are_few(demo_run):
    out, _ = demo_run
    found = _anomalies(out)
    truth = json.loads((out / "ground_truth.json").read_text())
    incidents = truth["incidents"]
    for inc in incidents:
        if inc["kind"] not in EXPECTED:
            continue
        metrics, key = EXPECTED[inc["kind"]]
        hits = [
            a for a in found
            if a["metric"] in metrics and _during(a, inc)
            and (inc[key] in (a["lob"], a["model"]) or inc[key] in a["series_key"])
        ]  # fmt: skip
        assert hits, f"{inc['kind']} at {inc['start']} not found"
        # ... loud enough to notify at the default alerts.min_severity (high)
        loudest = [a["severity"] for a in hits]
        assert {"high", "critical"} & set(loudest), (inc["kind"], loudest)
    # Outside every incident: a handful of entries in the triage feed over the estate, whatever
    # their severity (a medium one is still a row someone has to look at), and fewer alarms.
    windows = [inc for inc in incidents if inc["kind"] in EXPECTED]
    outside = [a for a in found if not any(_during(a, inc, lead_hours=24) for inc in windows)]
    outside = [a for a in outside if not _on_the_rollout(a, truth["quota"])]
    assert len(outside) <= 5, [(a["series_key"], a["start_ts"], a["severity"]) for a in outside]
    loud = [a for a in found if a["severity"] in ("high", "critical")]
    false = [a for a in outside if a in loud]
    assert len(false) <= 3, [(a["series_key"], a["start_ts"]) for a in false]
    assert len(loud) - len(false) >= 5


def test_anomalies_are_explained_by_driver_decomposition_and_cloudtrail(demo_run):
    out, _ = demo_run
    incidents = {inc["kind"]: inc for inc in _incidents(out)}
    found = _anomalies(out)
    runaway = incidents["cost_runaway"]
    cost = next(a for a in found if a["metric"] == "cost" and a["lob"] == runaway["lob"]
                and _during(a, runaway))  # fmt: skip
    assert cost["driver"] == f"app={runaway['app']}"
    why = json.loads(cost["explanation"])
    shares = why["decomposition"]["shares"]
    assert max(shares, key=shares.get) == "tokens_per_call"  # 9x tokens, same volume
    burst = incidents["guardrail_burst"]
    guard = next(a for a in found if a["metric"] == "guardrail_intervention_rate"
                 and _during(a, burst))  # fmt: skip
    edit = incidents["guardrail_edit"]["cloudtrail"]["event_id"]
    changes = json.loads(guard["explanation"])["cloudtrail_changes"]
    assert edit in json.dumps(changes)  # the unexpected edit, in the hours before


def test_allocation_sums_to_the_bill_exactly_and_forecasts_beat_naive(demo_run):
    out, _ = demo_run
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    off = con.execute(
        """WITH bill AS (
            SELECT usage_date, coalesce(model, '(unknown)') AS model,
                sum(coalesce(net_unblended_cost, unblended_cost)) AS billed
            FROM cost_daily WHERE source = 'cur' GROUP BY ALL
        ), alloc AS (
            SELECT usage_date, model, sum(allocated_cost) AS allocated
            FROM cost_allocated GROUP BY ALL
        )
        SELECT count(*), count(*) FILTER (WHERE billed <> allocated)
        FROM bill FULL JOIN alloc USING (usage_date, model)"""
    ).fetchone()
    assert off[0] > 500 and off[1] == 0
    lobs = {r[0] for r in con.execute("SELECT DISTINCT lob FROM cost_allocated").fetchall()}
    assert {"engineering", "legal", "unattributed"} <= lobs
    # Every series, both horizons: the forecast beats last week's same weekday. The total alone
    # would hide a LOB the forecast serves worse than the naive guess its owner could make.
    scores = con.execute(
        "SELECT series, horizon_days, origins, mape, naive_mape FROM forecast_backtests "
        "ORDER BY series, horizon_days"
    ).fetchall()
    series = {r[0] for r in scores}
    assert "total" in series and len(series) >= 7
    assert {(s, h) for s, h, *_ in scores} == {(s, h) for s in series for h in (7, 30)}
    worse = [(s, h, round(m, 3), round(n, 3)) for s, h, o, m, n in scores
             if not (o > 0 and m < n)]  # fmt: skip
    assert not worse, worse
    landing = dict(con.execute(
        "SELECT series, status FROM forecast_landing WHERE period_kind = 'month' "
        "AND budget IS NOT NULL AND p_exceed BETWEEN 0 AND 1"
    ).fetchall())  # fmt: skip
    # every budgeted LOB (the demo config budgets six) and the total get a verdict
    assert len(landing) == 7 and set(landing.values()) <= {"on_track", "at_risk", "over"}


def test_the_demo_reads_its_quotas_so_the_capacity_page_has_a_runway(demo_run):
    """`genai-lens demo` runs the model catalog before the models (the demo's quota and legacy
    model come from its config's [capacity] section), so the warehouse it serves has the
    runway of the storm's quota, the backtest at the storm's first throttled day, which saw
    the storm coming at least a day ahead from the data before it, and the legacy model.
    (Other seeds and days: bench/quota_backtest.py.)"""
    out, res = demo_run
    assert "demo: model-catalog:" in res.stdout
    quota = json.loads((out / "ground_truth.json").read_text())["quota"]
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    runway = con.execute(
        "SELECT account_id, region, model, kind, quota FROM quota_runway"
    ).fetchall()
    assert runway == [(quota["account"], quota["region"], quota["model"], "tpm", quota["tpm"])]
    tested = con.execute(
        "SELECT throttle_day, cutoff_day, predicted_day, days_ahead FROM quota_backtests "
        "WHERE model = ? AND account_id = ?",
        [quota["model"], quota["account"]],
    ).fetchall()
    assert [str(row[0]) for row in tested] == [quota["storm_day"]]
    [(throttled, cutoff, predicted, ahead)] = tested
    assert (throttled - cutoff).days == 2 and cutoff < predicted <= throttled and ahead >= 1
    legacy = con.execute("SELECT model FROM model_lifecycle WHERE status = 'LEGACY'").fetchall()
    assert legacy == [("anthropic.claude-3-haiku-20240307-v1:0",)]


def test_the_estimate_for_held_out_days_is_within_1_percent_of_the_final_bill(demo_run):
    """`models run` learns rates from the bill and estimates the held-out days: in total and per
    model within 1%, the model of the planted profile no config names included (its calls are
    logged under the profile's ARN only; the bill names the model)."""
    out, res = demo_run
    truth = json.loads((out / "ground_truth.json").read_text())
    assert "estimate vs bill:" in res.stdout
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    test = dict(con.execute("SELECT model, pct FROM estimate_backtest").fetchall())
    assert abs(test.pop("(total)")) < 0.01, test
    off = {m for m, p in test.items() if p is not None and abs(p) >= 0.01}
    assert off == set(), off
    assert truth["unlisted_profile"]["model"] in test
    assert len([p for p in test.values() if p is not None]) >= 10
