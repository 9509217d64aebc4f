"""Scheduled exports: every models run writes each configured chargeback/FOCUS file per billing
period, to a local folder or an S3 prefix (moto in server mode), whole, and a re-run rewrites
the same bytes. month_close waits for the period's bill to be final."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from base.settings import Settings
from jobs import exports

NOW = datetime(2026, 11, 5, 6)  # the models run's clock, pinned


def allocate(con: Any, rows: list[tuple[date, str, str, bool]]) -> None:
    """cost_allocated rows: (day, lob, amount, estimated)."""
    for day, lob, amount, estimated in rows:
        con.execute(
            "INSERT INTO cost_allocated (usage_date, lob, model, token_kind, basis, "
            "allocated_cost, bill_source, account_id, payer_account_id, region, estimated, "
            "invoice_id) VALUES (?, ?, 'amazon.nova-pro-v1:0', 'input', 'share', ?, 'cur', "
            "'111122223333', '999988887777', 'us-east-1', ?, ?)",
            [day, lob, amount, estimated, None if estimated else "INV-1"],
        )


def settings(destination: str, **job: Any) -> Settings:
    return Settings(exports=[{"destination": destination, **job}])


def test_daily_writes_last_and_this_month_by_billing_period(warehouse, tmp_path):
    allocate(warehouse, [(date(2026, 10, 30), "risk", "1.0000000001", False),
                         (date(2026, 11, 2), "risk", "0.25", True),
                         (date(2026, 11, 3), "wealth", "0.5", True)])  # fmt: skip
    dest = tmp_path / "out"
    done = exports.scheduled(warehouse, settings(str(dest)), NOW)
    assert sorted(Path(w.target).relative_to(dest).as_posix() for w in done) == [
        "billing_period=2026-10/genai-lens-focus-202610.parquet",
        "billing_period=2026-11/genai-lens-focus-202611.parquet",
    ]
    october = pl.read_parquet(dest / "billing_period=2026-10/genai-lens-focus-202610.parquet")
    assert [str(c) for c in october["BilledCost"]] == ["1.0000000001"]
    before = {p: p.read_bytes() for p in dest.rglob("*.parquet")}
    again = exports.scheduled(warehouse, settings(str(dest)), NOW)
    assert len(again) == 2 and {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()} == before
    assert not [p for p in dest.rglob("*.part")]  # written beside, renamed over


def test_month_close_waits_for_the_final_bill(warehouse, tmp_path):
    dest = tmp_path / "out"
    cfg = settings(str(dest), every="month_close", kind="chargeback", format="csv")
    allocate(warehouse, [(date(2026, 10, 30), "risk", "2.5", True)])
    assert exports.scheduled(warehouse, cfg, NOW) == []  # October not invoiced yet
    warehouse.execute("UPDATE cost_allocated SET estimated = false").fetchall()
    (done,) = exports.scheduled(warehouse, cfg, NOW)
    assert done.target.endswith("billing_period=2026-10/genai-lens-chargeback-202610.csv")
    plain = pl.read_csv(io.BytesIO(Path(done.target).read_bytes()))
    assert plain["Allocated cost (USD)"].to_list() == [2.5]


def test_to_an_s3_prefix(warehouse, moto_endpoint, aws_client):
    s3 = aws_client("s3")
    s3.create_bucket(Bucket="finops")
    allocate(warehouse, [(date(2026, 11, 2), "risk", "0.25", True)])
    cfg = settings("s3://finops/genai-lens/focus", endpoint_url=moto_endpoint,
                   region="us-east-1")  # fmt: skip
    (done,) = exports.scheduled(warehouse, cfg, NOW)
    key = "genai-lens/focus/billing_period=2026-11/genai-lens-focus-202611.parquet"
    assert done.target == f"s3://finops/{key}"
    body = s3.get_object(Bucket="finops", Key=key)["Body"].read()
    assert pl.read_parquet(io.BytesIO(body))["x_Lob"].to_list() == ["risk"]
    exports.scheduled(warehouse, cfg, NOW)
    assert s3.get_object(Bucket="finops", Key=key)["Body"].read() == body


def test_a_chargeback_export_is_csv_only():
    with pytest.raises(ValidationError, match="chargeback file is CSV only"):
        settings("/tmp/x", kind="chargeback", format="parquet")
