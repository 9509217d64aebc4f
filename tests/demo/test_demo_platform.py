"""The demo bill carries Bedrock-family spend no log sees (a batch job, a bedrock-mantle
project, an AgentCore runtime, a provisioned model) with ground truth: each loads with its kind,
is allocated by the caller or tag the bill names (or left unattributed), and Data health's
coverage shows it uncovered with its fix."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from base.settings import load_settings
from base.stats import RunStats
from demo import platform as demo_platform
from demo.estate import generate_estate
from ingest.cost import ingester as cost
from ingest.invocation_logs import ingester as invocation_logs
from jobs import model_runner
from warehouse.db import connect

END = datetime(2026, 3, 4, 15, tzinfo=UTC)
USAGE_TYPES = [ln.usage_type for ln in demo_platform.LINES]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo-platform")
    summary = generate_estate(out, days=7, seed=5, end=END, per_day=200)
    settings = load_settings(summary.config_path)
    con = connect(out / "w.duckdb")
    invocation_logs.run(con, settings)
    cost.run(con, settings)
    model_runner.allocate(con, settings, date(2026, 1, 1), RunStats())
    return {"con": con, "truth": json.loads(summary.ground_truth_path.read_text())}


def test_every_kind_loads_with_its_ground_truth(loaded):
    truth = loaded["truth"]["bill"]["platform"]["usd_by_kind"]
    assert set(truth) == {"batch", "mantle", "agentcore", "provisioned"}
    got = dict(loaded["con"].execute(
        "SELECT usage_kind, sum(unblended_cost) FROM cost_daily WHERE source = 'cur' "
        "AND usage_kind <> 'tokens' GROUP BY 1"
    ).fetchall())  # fmt: skip
    assert got == {k: Decimal(str(v)) for k, v in truth.items()}


def test_each_is_allocated_as_the_bill_allows(loaded):
    truth = loaded["truth"]["bill"]["platform"]["usd_by_lob_basis"]
    got = (
        loaded["con"]
        .execute(
            "SELECT lob || '|' || basis, sum(allocated_cost) FROM cost_allocated "
            "WHERE usage_type IN (SELECT unnest(?)) GROUP BY 1",
            [USAGE_TYPES],
        )
        .fetchall()
    )
    assert {k: float(v) for k, v in got} == pytest.approx(truth)
    assert set(truth) == {"legal|principal", "research|principal", "insurance|tag",
                          "unattributed|no_usage"}  # fmt: skip
