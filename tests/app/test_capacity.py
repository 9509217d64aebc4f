"""The Capacity & savings page on a demo estate that went through the production ingest and
models run: each application planted for it (demo/capacity.py) is found, its dollars
within 10% of the ground truth the simulator wrote down; the throttling storm is predicted at
least a day ahead from the data before it; the LEGACY model's callers are listed; and the page
honours the reader's LOB scope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.data import Scope
from base.settings import load_settings
from demo import estate as demo
from jobs import runner as jobs
from warehouse.db import connect

END = datetime(2026, 11, 20, 18, tzinfo=UTC)  # a fixed end: the test does not read the clock
DAYS, PER_DAY = 35, 800  # five weeks: the runway's forecast has Prophet's 28 days by the storm


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    out = tmp_path_factory.mktemp("capacity")
    summary = demo.generate_estate(out, days=DAYS, per_day=PER_DAY, end=END, bad_records=False)
    settings = load_settings(summary.config_path)
    con = connect(settings.warehouse)
    try:
        # Without metrics: the busiest minutes come from the logs (the fallback path).
        for name in ("invocation-logs", "model-catalog", "models"):
            assert jobs.run_job(con, settings, name, trigger="test").status == "ok"
    finally:
        con.close()
    yield settings.warehouse, json.loads(summary.ground_truth_path.read_text())


def _table(at: Any, column: str) -> pd.DataFrame:
    """The page's table that has `column` (each what-if table has a column of its own)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _row(frame: pd.DataFrame, app: str) -> dict[str, Any]:
    rows = frame[frame["app"] == app]
    assert len(rows) == 1, frame[["lob", "app"]].to_dict("records")
    return rows.iloc[0].to_dict()


def _open(open_page: Any, path: Path, **kw: Any) -> Any:
    # The whole estate: a custom period from its first to its last day.
    first, last = (END - timedelta(days=DAYS)).date(), END.date()
    return open_page(path, "capacity", period="Custom", days=[str(first), str(last)], **kw)


def test_the_planted_repeated_prefix_is_priced_within_10_percent(estate, open_page):
    path, truth = estate
    want = truth["savings"]["prompt_caching"]
    at = _open(open_page, path)
    got = _row(_table(at, "ttl"), want["app"])
    assert got["lob"] == want["lob"]
    assert got["ttl"] == {"5m": "5 minutes", "1h": "1 hour"}[want["best_ttl"]]
    assert got["savings_usd"] == pytest.approx(want["savings_usd"], rel=0.10)
    assert got["savings_5m_usd"] == pytest.approx(want["savings_5m_usd"], rel=0.10)


def test_the_planted_nightly_job_is_a_batch_candidate_within_10_percent(estate, open_page):
    path, truth = estate
    want = truth["savings"]["batch"]
    got = _row(_table(_open(open_page, path), "batch_savings_usd"), want["app"])
    assert got["lob"] == want["lob"]
    assert got["share"] == pytest.approx(1.0)
    assert got["batch_savings_usd"] == pytest.approx(want["savings_usd"], rel=0.10)


def test_the_planted_retry_storm_is_waste_within_10_percent(estate, open_page):
    path, truth = estate
    want = truth["savings"]["retry_storm"]
    got = _row(_table(_open(open_page, path), "retry_waste_usd"), want["app"])
    assert got["lob"] == want["lob"]
    assert got["retry_invocations"] == pytest.approx(want["retried_calls"], rel=0.10)
    assert got["retry_waste_usd"] == pytest.approx(want["waste_usd"], rel=0.10)


def test_a_reader_scoped_to_one_lob_sees_only_its_applications(estate, open_page):
    path, truth = estate
    at = _open(open_page, path, scope=Scope(("marketing",), "mkt@example.com"))
    for frame in (d.value for d in at.dataframe):
        if "lob" in frame.columns:
            assert set(frame["lob"]) <= {"marketing"}
    assert truth["savings"]["batch"]["app"] in set(_table(at, "batch_savings_usd")["app"])
    assert truth["savings"]["retry_storm"]["app"] not in set(_table(at, "retry_waste_usd")["app"])


def test_the_throttling_storm_was_predicted_at_least_a_day_ahead(estate, open_page):
    path, truth = estate
    quota = truth["quota"]
    at = _open(open_page, path)
    tests = _table(at, "days_ahead")
    mine = tests[(tests["model"] == quota["model"]) & (tests["account_id"] == quota["account"])]
    assert len(mine) == 1, tests.to_dict("records")
    row = mine.iloc[0]
    assert str(row["throttle_day"])[:10] == quota["storm_day"]
    assert row["days_ahead"] >= 1
    assert str(row["predicted_day"])[:10] <= quota["storm_day"]
    runway = _table(at, "days_until_p95")
    assert (runway["quota"] == quota["tpm"]).all() and (runway["kind"] == "tpm").all()
    assert set(runway["account_id"]) == {quota["account"]}  # the quota names its account


def test_legacy_model_callers_are_listed_with_move_by_date_and_successor(estate, open_page):
    path, truth = estate
    at = _open(open_page, path)
    legacy = _table(at, "successor")
    assert set(legacy["model"]) == {"anthropic.claude-3-haiku-20240307-v1:0"}
    digest = _row(legacy, truth["savings"]["batch"]["app"])
    assert digest["successor"] == "anthropic.claude-haiku-4-5-20251001-v1:0"
    assert str(digest["end_of_life"])[:10] == "2026-03-01"
    assert digest["invocations"] == truth["savings"]["batch"]["calls"]
    assert digest["est_cost_usd"] == pytest.approx(truth["savings"]["batch"]["cost_usd"], rel=0.01)
