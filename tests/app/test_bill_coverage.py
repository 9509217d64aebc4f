"""Data health shows how much of the Bedrock-family bill has usage-level records, per kind of
spend, with the fix for each gap; only a reader of every LOB sees the bill."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from base import format as fmt
from models.coverage import FIXES, coverage


def test_coverage_names_the_fix_for_each_gap():
    frame = pl.DataFrame({
        "kind": ["tokens", "batch", "agentcore"], "billed": [100.0, 20.0, 5.0],
        "with_records": [75.0, 0.0, 0.0], "gap_regions": [["eu-west-1"], [], []],
    })  # fmt: skip
    out = {r["kind"]: r for r in coverage(frame).iter_rows(named=True)}
    assert out["tokens"]["coverage"] == 0.75
    assert out["tokens"]["fix"] == FIXES["tokens"].format(regions="eu-west-1")
    assert "turn on model invocation logging in eu-west-1" in out["tokens"]["fix"]
    assert out["batch"]["coverage"] == 0.0 and "tag the batch jobs' role" in out["batch"]["fix"]
    full = coverage(frame.with_columns(with_records=pl.col("billed")))
    assert full["fix"].null_count() == 3  # nothing to fix where logs cover it all


@pytest.fixture
def estate(make_estate, factory):
    path, info = make_estate(factory.estate(20, seed=4))
    con = duckdb.connect(str(path))
    day = info["bill_end"]
    for kind, usage_type, service, cost in (
        (
            "batch",
            "USE1-MP:USE1_InputTokenCount_Global_Batch-Units",
            "Claude 3 Haiku (Amazon Bedrock Edition)",
            12.5,
        ),
        ("agentcore", "USE1-Runtime:Consumption-based:vCPU", "Amazon Bedrock AgentCore", 3.25),
        ("tokens", "EU-NovaPro-input-tokens", "Amazon Bedrock", 7.0),  # no logs in eu-west-1
    ):
        region = "eu-west-1" if usage_type.startswith("EU-") else "us-east-1"
        con.execute(
            "INSERT INTO cost_daily (usage_date, account_id, service, usage_type, model, "
            "token_kind, region, tags, breakdown, unblended_cost, net_unblended_cost, source, "
            "source_object, usage_kind) VALUES (?, '111122223333', ?, ?, "
            "'amazon.nova-pro-v1:0', 'other', ?, MAP {}, 'total', ?, ?, 'cur', 's3://x', ?)",
            [day, service, usage_type, region, cost, cost, kind],
        )
    con.close()
    return path


def test_data_health_shows_bill_coverage_per_kind(estate, open_page):
    at = open_page(estate, "data-health")
    table = next(d.value for d in at.dataframe if "To cover the rest" in d.value.columns)
    rows = {r["Spend"]: r for r in table.to_dict("records")}
    assert rows["Batch inference"]["Billed"] == pytest.approx(12.5)
    assert rows["Batch inference"]["Coverage"] == 0
    assert "AWS/BedrockMantle" not in rows["AgentCore"]["To cover the rest"]
    assert "vCPU-hours" in rows["AgentCore"]["To cover the rest"]
    tokens = rows["On-demand tokens"]
    assert 0 < tokens["Coverage"] < 1  # the eu-west-1 line has no logs
    assert "turn on model invocation logging in eu-west-1" in tokens["To cover the rest"]
    share = sum(r["With usage records"] for r in rows.values()) / sum(
        r["Billed"] for r in rows.values()
    )
    metric = next(m.value for m in at.metric if "usage-level records" in m.label)
    assert metric == fmt.percent(share)


def test_spend_names_each_difference_between_logs_cloudwatch_and_bill(estate, open_page):
    con = duckdb.connect(str(estate))
    day, model = con.execute(
        "SELECT usage_date, model FROM cost_reconciliation WHERE billed_cost IS NOT NULL "
        "ORDER BY usage_date DESC, model LIMIT 1"
    ).fetchone()
    # That day's bill doubles: more than the logs or CloudWatch explain.
    con.execute(
        "UPDATE cost_reconciliation SET billed_cost = billed_cost * 2 "
        "WHERE usage_date = ? AND model = ?",
        [day, model],
    )
    con.close()
    at = open_page(estate, "spend")
    table = next(d.value for d in at.dataframe if "Finding" in d.value.columns)
    found = {(r["Day"].date() if hasattr(r["Day"], "date") else r["Day"], r["Model"]): r["Finding"]
             for r in table.to_dict("records")}  # fmt: skip
    assert "price drift" in found[(day, model)]
    assert "matches" in set(found.values())  # the factory bill runs 3% over: within tolerance
    assert all(
        f
        in {
            "matches",
            "price drift",
            "logging gap",
            "unlogged endpoint",
            "bill not final",
            "no bill yet",
        }
        or "," in f
        for f in found.values()
    )
