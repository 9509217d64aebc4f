"""The rates step of `models run`: reserved capacity's use, and the estimate-vs-bill figure."""

from __future__ import annotations

from datetime import date, datetime

import factories as F
import pytest

from base.settings import Settings
from base.stats import RunStats
from ingest.invocation_logs import ingester as invocation_logs
from jobs import model_rates
from warehouse.db import sql

SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_reserved_capacity_shows_its_use_and_its_calls_cost_nothing_more(warehouse, tmp_path):
    reserved = {"outputBodyJson": {"serviceTier": {"type": "reserved"}}}
    recs = [
        F.converse(modelId="us." + SONNET45, timestamp=f"2025-12-01T10:0{m}:10Z",
                   **F.deep_merge(F.token_counts(30_000, 10_000), {"output": reserved}))
        for m in (0, 0, 1)
    ]  # fmt: skip
    root = tmp_path / "landing"
    F.land(root, recs)
    cfg = Settings(resolve_profiles_with_api=False, pricing={"reservations": [
        {"model": SONNET45, "region": "us-east-1", "tpm_thousands": 100,
         "monthly_usd_per_1k_tpm": 30.0}]})  # fmt: skip
    invocation_logs.run(warehouse, cfg, landing=str(root))
    costs = warehouse.execute("SELECT DISTINCT est_cost_usd FROM invocations").fetchall()
    assert costs == [(0.0,)]  # the monthly charge pays for them: never priced twice
    stats = RunStats()
    assert model_rates.reserved(warehouse, cfg, datetime(2025, 12, 2), stats) == 1
    row = warehouse.execute(
        "SELECT reserved_tpm, monthly_usd, calls, tokens, peak_tpm, mean_tpm "
        "FROM reserved_utilisation"
    ).fetchone()
    assert row[:5] == (100_000, 3000.0, 3, 120_000, 80_000)  # two calls in the busiest minute
    assert row[5] == pytest.approx(120_000 / (30 * 24 * 60))
    assert stats.notes == [
        f"reserved {SONNET45} us-east-1: 0.0% of 100,000 TPM used on average, 80.0% at the "
        "busiest minute"
    ]


def test_the_summary_line_names_the_total_and_the_furthest_model():
    from datetime import date

    import polars as pl

    test = pl.DataFrame({"model": ["a", "b", "(total)"], "estimate_usd": [1.0, 2.0, 3.0],
                         "bill_usd": [1.0, 2.02, 3.02], "pct": [0.0, -0.0099, -0.0066],
                         "held_from": [date(2026, 1, 1)] * 3,
                         "held_to": [date(2026, 1, 14)] * 3})  # fmt: skip
    line = model_rates.summary(test, excluded=1)
    assert line == ("estimate vs bill: -0.66% over the last 14 days (worst model b: -0.99%); "
                    "1 account-region-days with a logging gap left out")  # fmt: skip


def test_only_logged_kinds_of_the_bill_learn_rates_and_meet_the_estimate(warehouse):
    """A batch job's token lines (no invocation log exists for them) neither set the on-demand
    rate nor count as bill the log-based estimate missed: on the 90-day demo they made Claude 3
    Haiku's estimate read 83% under its bill."""
    haiku = "anthropic.claude-3-haiku-20240307-v1:0"
    rows = [  # (usage type, kind, cost, 1K tokens)
        ("USE1-MP:USE1_InputTokenCount-Units", "tokens", 0.25, 1000.0),
        ("USE1-MP:USE1_InputTokenCount_Global_Batch-Units", "batch", 67.2, 537_600.0),
    ]
    for usage_type, kind, cost, qty in rows:
        warehouse.execute(
            "INSERT INTO cost_daily BY NAME SELECT DATE '2026-11-30' AS usage_date, "
            "'123456789012' AS account_id, ? AS model, 'input' AS token_kind, MAP() AS tags, "
            "'total' AS breakdown, 'cur' AS source, 'o' AS source_object, ? AS usage_type, "
            "? AS usage_kind, ? AS unblended_cost, ? AS usage_quantity, '1K tokens' AS usage_unit, "
            "'us-east-1' AS region",
            [haiku, usage_type, kind, cost, qty],
        )
    params = {"start": date(2026, 11, 1), "basis": "unblended"}
    bill = warehouse.sql(sql("models/rates_bill"), params=params).fetchall()
    assert [(r[2], r[-2], r[-1]) for r in bill] == [(haiku, 0.25, 1_000_000.0)]
