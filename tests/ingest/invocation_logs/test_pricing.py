"""The price catalog: provenance, effective dates, config overrides, and how cost is computed."""

from __future__ import annotations

from datetime import date

import factories as F
import pytest

from base.settings import Price, Settings
from ingest.invocation_logs import ingester as invocation_logs
from ingest.invocation_logs import pricing


def test_catalog_records_its_version_and_every_row_its_source():
    rows = pricing.catalog_rows()
    assert pricing.catalog_version() != "unknown"
    assert len(rows) >= 30 and all(r.source for r in rows)
    vendors = {r.model.split(".")[0] for r in rows}
    assert {"anthropic", "amazon", "meta", "mistral", "cohere"} <= vendors
    keys = [(r.model, r.region, r.effective_from) for r in rows]
    assert len(keys) == len(set(keys))


def test_effective_dates_pick_the_price_in_force(warehouse, tmp_path):
    model = "meta.llama3-1-70b-instruct-v1:0"  # 0.99 at launch, 0.72 from 2024-12-01
    body = F.token_counts(1_000_000)
    early = F.converse(modelId=model, timestamp="2024-09-01T00:00:00Z", **body)
    late = F.converse(modelId=model, timestamp="2025-01-05T00:00:00Z", **body)
    root = tmp_path / "landing"
    F.land(root, [early, late])
    invocation_logs.run(warehouse, Settings(), landing=str(root))
    cost = dict(warehouse.execute("SELECT request_id, est_cost_usd FROM invocations").fetchall())
    assert cost[early["requestId"]] == pytest.approx(0.99)
    assert cost[late["requestId"]] == pytest.approx(0.72)


def test_config_overrides_and_regional_rows_win(warehouse, tmp_path):
    body = F.token_counts(1_000_000)
    rec = F.converse(modelId=F.HAIKU, region="eu-west-1", **body)
    other = F.converse(modelId=F.HAIKU, region="us-east-1", **body)
    root = tmp_path / "landing"
    F.land(root, [rec, other])
    cfg = Settings(
        prices=[
            Price(
                model=F.HAIKU,
                region="eu-west-1",
                input=0.30,
                output=1.5,
                effective_from=date(2024, 1, 1),
                source="contract",
            )
        ]
    )
    invocation_logs.run(warehouse, cfg, landing=str(root))
    cost = dict(warehouse.execute("SELECT request_id, est_cost_usd FROM invocations").fetchall())
    assert cost[rec["requestId"]] == pytest.approx(0.30)  # the regional override
    assert cost[other["requestId"]] == pytest.approx(0.25)  # the catalog's '*' row
    assert warehouse.execute("SELECT source FROM prices WHERE region = 'eu-west-1'").fetchall() == [
        ("contract",)
    ]
