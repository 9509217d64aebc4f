"""The bill's own caller: CUR 2.0 `line_item_iam_principal` and the IAM principal / STS session
tags land in cost_daily with the line's payer, invoice, resource and list cost; a models run
gives each line with a caller to the LOB the attribution rules give that caller (basis
'principal', matched exactly as a log's identity), and splits the rest by estimated share."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from base.settings import Settings
from base.stats import RunStats
from ingest.cost import ingester as cost
from jobs import model_runner

ACCOUNT, PAYER = "111122223333", "999988887777"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/claims-bot"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/batch-runner/job-42"
PROFILE = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/abc123"
MAP = pa.map_(pa.string(), pa.string())


def line(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "bill_invoice_id": "INV-77", "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "bill_payer_account_id": PAYER, "bill_payer_account_name": "org-payer",
        "line_item_line_item_type": "Usage", "line_item_usage_account_id": ACCOUNT,
        "line_item_usage_account_name": "claims-prod",
        "line_item_usage_start_date": datetime(2025, 6, 3),
        "line_item_product_code": "AmazonBedrock",
        "line_item_usage_type": "USE1-NovaPro-input-tokens",
        "line_item_usage_amount": 1000.0, "line_item_unblended_cost": 0.8,
        "line_item_net_unblended_cost": 0.7760000001,
        "pricing_public_on_demand_cost": 0.8, "pricing_public_on_demand_rate": "0.0008000000",
        "product_sku": "SKU1", "pricing_rate_id": "SKU1.RATE",
        "line_item_resource_id": "", "line_item_iam_principal": None,
        "product_region_code": "us-east-1", "product": [("product_name", "Amazon Bedrock")],
        "resource_tags": [], "pricing_unit": "1K tokens",
    }  # fmt: skip
    return row | overrides


def write(root: Path, rows: list[dict[str, Any]]) -> None:
    key = "cur/bedrock-cur/data/BILLING_PERIOD=2025-06/bedrock-cur-00001.snappy.parquet"
    cols = {k: [r[k] for r in rows] for k in rows[0]}
    types = {"product": MAP, "resource_tags": MAP, "line_item_iam_principal": pa.string()}
    table = pa.table({k: pa.array(v, type=types.get(k)) for k, v in cols.items()})
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / key)


def bill_lines() -> list[dict[str, Any]]:
    return [
        # The caller's role maps by a principal rule.
        line(line_item_iam_principal=ROLE, line_item_net_unblended_cost=0.1234567891),
        # A session whose role has no rule, but whose session tag maps by a tag rule.
        line(line_item_iam_principal=SESSION, line_item_net_unblended_cost=0.2000000003,
             resource_tags=[("iamPrincipal/team", "risk"), ("user_team", "")]),
        # A caller no rule knows: its LOB is known to be none ('principal', unattributed).
        line(line_item_iam_principal=f"arn:aws:iam::{ACCOUNT}:user/someone",
             line_item_net_unblended_cost=0.0000000007),
        # No caller (identity not included): today's estimated-share split.
        line(line_item_net_unblended_cost=0.3333333333, line_item_resource_id=PROFILE),
    ]  # fmt: skip


def settings(root: Path) -> Settings:
    return Settings(
        cost={"tag_keys": ["team"], "landing_zones": [{"uri": str(root)}]},
        attribution={"rules": [
            {"lob": "claims", "principal": "arn:aws:iam::*:role/claims-bot"},
            {"lob": "risk", "profile_tag": {"team": "risk"}},
        ]},
    )  # fmt: skip


def test_cur_caller_and_its_tags_land_in_cost_daily(tmp_path: Path, warehouse: Any) -> None:
    write(tmp_path / "zone", bill_lines())
    cost.run(warehouse, settings(tmp_path / "zone"))
    rows = warehouse.execute(
        "SELECT principal_arn, principal_tags, payer_account_id, payer_account_name, "
        "account_name, invoice_id, invoice_issuer, resource_id, list_cost, list_unit_price, "
        "sku_id, sku_price_id, net_unblended_cost FROM cost_daily ORDER BY net_unblended_cost"
    ).fetchall()
    assert [r[0] for r in rows] == [f"arn:aws:iam::{ACCOUNT}:user/someone", ROLE, SESSION, None]
    assert [r[1] for r in rows] == [{}, {}, {"team": "risk"}, {}]
    assert set(r[2:8] for r in rows[:3]) == {
        (PAYER, "org-payer", "claims-prod", "INV-77", "Amazon Web Services, Inc.", None)
    }
    assert rows[3][7] == PROFILE
    assert rows[0][8:12] == (Decimal("0.8"), Decimal("0.0008"), "SKU1", "SKU1.RATE")
    assert rows[0][12] == Decimal("0.0000000007")  # ten decimals kept


def test_each_line_goes_to_its_own_callers_lob_else_the_share(
    tmp_path: Path, warehouse: Any
) -> None:
    cfg = settings(tmp_path / "zone")
    write(tmp_path / "zone", bill_lines())
    cost.run(warehouse, cfg)
    # Logged usage that day: retail and wealth, to split the line without a caller by.
    warehouse.execute(
        "DELETE FROM prices WHERE model = 'amazon.nova-pro-v1:0'; "
        "INSERT INTO prices (model, region, effective_from, input_per_1m, output_per_1m, "
        "geo_premium, source) VALUES ('amazon.nova-pro-v1:0', '*', DATE '2025-01-01', 0.8, 3.2, "
        "0, 'test')"
    )
    for lob, tokens in (("retail", 1000), ("wealth", 2000)):
        warehouse.execute(
            "INSERT INTO invocations (request_id, ts, account_id, region, model, lob, "
            "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, source_object) "
            "VALUES (?, TIMESTAMP '2025-06-03 10:00', ?, 'us-east-1', 'amazon.nova-pro-v1:0', ?, "
            "?, 0, 0, 0, 'test')",
            [f"r-{lob}", ACCOUNT, lob, tokens],
        )
    model_runner.allocate(warehouse, cfg, date(2025, 6, 1), RunStats())
    got = warehouse.execute(
        "SELECT lob, basis, allocated_cost, principal_arn FROM cost_allocated ORDER BY ALL"
    ).fetchall()
    assert got == [
        ("claims", "principal", Decimal("0.1234567891"), ROLE),
        ("retail", "share", Decimal("0.1111111111"), None),
        ("risk", "principal", Decimal("0.2000000003"), SESSION),
        ("unattributed", "principal", Decimal("0.0000000007"),
         f"arn:aws:iam::{ACCOUNT}:user/someone"),
        ("wealth", "share", Decimal("0.2222222222"), None),
    ]  # fmt: skip
    apps = dict(warehouse.execute(
        "SELECT principal_arn, app FROM cost_allocated WHERE principal_arn IS NOT NULL"
    ).fetchall())  # fmt: skip
    assert apps[ROLE] == "claims-bot"  # the caller's role name, as for a log's identity
    # Every line adds up exactly, at the bill's precision.
    per_line = warehouse.execute(
        "SELECT sum(allocated_cost) FROM cost_allocated GROUP BY principal_arn ORDER BY 1"
    ).fetchall()
    billed = warehouse.execute("SELECT net_unblended_cost FROM cost_daily ORDER BY 1").fetchall()
    assert per_line == billed
