"""The rates step of `models run`: reserved capacity's use, and the estimate-vs-bill figure."""

from __future__ import annotations

from datetime import datetime

import factories as F
import pytest

from base.settings import Settings
from base.stats import RunStats
from ingest.invocation_logs import ingester as invocation_logs
from jobs import model_rates

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
