"""Bedrock spend: the usage-type classifier, Cost Explorer (moto, Stubber), CUR 2.0 / FOCUS."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from botocore.stub import ANY, Stubber

from genai_lens.settings import ApiSource, Settings
from ingest import cost
from ingest.cost_usage_types import classify

ACCOUNT = "111122223333"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
HAIKU_SERVICE = "Claude 3 Haiku (Amazon Bedrock Edition)"
TODAY = date(2025, 6, 20)


# --- classifier ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "usage_type", "want"),
    [
        ("Amazon Bedrock", "USE1-NovaPro-input-tokens",
         (NOVA_PRO, "input", "regional", "us-east-1")),
        ("Amazon Bedrock", "APN1-NovaLite-output-tokens",
         ("amazon.nova-lite-v1:0", "output", "regional", "ap-northeast-1")),
        ("Amazon Bedrock", "USE1-NovaMicro-cache-read-input-tokens",
         ("amazon.nova-micro-v1:0", "cache_read", "regional", "us-east-1")),
        ("Amazon Bedrock", "USW2-TitanTextExpress-batch-output-tokens",
         ("amazon.titan-text-express-v1", "output", "batch", "us-west-2")),
        (HAIKU_SERVICE, "USE1-MP:USE1_InputTokenCount-Units",
         (HAIKU, "input", "regional", "us-east-1")),
        (HAIKU_SERVICE, "USE1-MP:USE1_OutputTokenCount_Global-Units",
         (HAIKU, "output", "global", "us-east-1")),
        (HAIKU_SERVICE, "EU-MP:EU_CacheReadInputTokenCount_Batch-Units",
         (HAIKU, "cache_read", "batch", "eu-west-1")),
        (HAIKU_SERVICE, "USE1-MP:USE1_CacheWriteInputTokenCount-Units",
         (HAIKU, "cache_write", "regional", "us-east-1")),
        (HAIKU_SERVICE, "USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units",
         (HAIKU, "cache_write", "global", "us-east-1")),
        ("Claude Sonnet 4 (Amazon Bedrock Edition)", "USE1-MP:USE1_input_tokens_standard-Units",
         ("anthropic.claude-sonnet-4-20250514-v1:0", "input", "regional", "us-east-1")),
        (HAIKU_SERVICE, "USE2-MP:USE2_output_tokens_standard-Units",
         (HAIKU, "output", "regional", "us-east-2")),
        (HAIKU_SERVICE, "USE1-MP:USE1_cache_read_tokens_global_standard-Units",
         (HAIKU, "cache_read", "global", "us-east-1")),
        ("Some New Model (Amazon Bedrock Edition)", "USE1-MP:USE1_input_tokens_standard-Units",
         (None, "input", "regional", "us-east-1")),
        ("Amazon Bedrock", "USE1-ProvisionedThroughput-ModelUnits",
         (None, "other", None, "us-east-1")),
    ],
)  # fmt: skip
def test_classifier_both_generations_and_first_party(
    service: str, usage_type: str, want: tuple[Any, ...]
) -> None:
    c = classify(service, usage_type)
    assert c.bedrock
    assert (c.model, c.token_kind, c.pricing_scope, c.region) == want


@pytest.mark.parametrize(
    ("service", "usage_type", "code"),
    [
        ("Amazon Elastic Compute Cloud - Compute", "USE1-BoxUsage:t3.micro", "AmazonEC2"),
        ("Amazon Simple Storage Service", "USE1-TimedStorage-ByteHrs", "AmazonS3"),
        ("Some SaaS", "USE1-MP:USE1_Seats-Units", "abc123opaque"),
    ],
)
def test_classifier_drops_other_services(service: str, usage_type: str, code: str) -> None:
    assert not classify(service, usage_type, code).bedrock


def test_classifier_finds_bedrock_by_product_code() -> None:
    assert classify(None, "USE1-NovaPro-input-tokens", "AmazonBedrock").model == NOVA_PRO


# --- Cost Explorer factories ---------------------------------------------------------------


def group(keys: list[str], cost: str, qty: str = "1000", unit: str = "N/A") -> dict[str, Any]:
    money = {"Amount": cost, "Unit": "USD"}
    return {
        "Keys": keys,
        "Metrics": {"UnblendedCost": money, "AmortizedCost": money, "NetUnblendedCost": money,
                    "UsageQuantity": {"Amount": qty, "Unit": unit}},
    }  # fmt: skip


def by_time(day: date, groups: list[dict[str, Any]], estimated: bool = False) -> dict[str, Any]:
    end = date.fromordinal(day.toordinal() + 1)
    return {
        "TimePeriod": {"Start": day.isoformat(), "End": end.isoformat()},
        "Total": {},
        "Groups": groups,
        "Estimated": estimated,
    }


def page(results: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"ResultsByTime": results, "DimensionValueAttributes": []}
    if token:
        out["NextPageToken"] = token
    return out


D1, D2 = date(2025, 6, 18), date(2025, 6, 19)
SERVICE_PAGES = [
    page([by_time(D1, [
        group(["Amazon Bedrock", "USE1-NovaPro-input-tokens"], "1.2345678901", "1543.2"),
        group([HAIKU_SERVICE, "USE1-MP:USE1_InputTokenCount-Units"], "0.5000000001"),
        group(["Amazon Elastic Compute Cloud - Compute", "USE1-BoxUsage:t3.micro"], "9.99"),
    ])], token="p2"),
    page([by_time(D2, [
        group([HAIKU_SERVICE, "USE1-MP:USE1_output_tokens_standard-Units"], "2.25"),
    ], estimated=True)]),
]  # fmt: skip
TAG_PAGES = [
    page([by_time(D1, [
        group(["team$search", "USE1-NovaPro-input-tokens"], "1.0000000000"),
        group(["team$", "USE1-NovaPro-input-tokens"], "0.2345678901"),
        group(["team$search", "USE1-MP:USE1_InputTokenCount-Units"], "0.5000000001"),
    ]), by_time(D2, [
        group(["team$chat", "USE1-MP:USE1_output_tokens_standard-Units"], "2.25"),
    ])]),
]  # fmt: skip


def ce_settings(**cfg: Any) -> Settings:
    base = {"tag_keys": ["team"], "forecast": False, "first_run_days": 5}
    return Settings(cost=base | cfg)


def snapshot(con: Any, table: str = "cost_daily") -> list[tuple[Any, ...]]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def stubbed(pages: list[dict[str, Any]], forecasts: list[dict[str, Any]] | None = None) -> Any:
    ce = boto3.client("ce", region_name="us-east-1")
    stub = Stubber(ce)
    for p in pages:
        stub.add_response("get_cost_and_usage", p, {
            "TimePeriod": ANY, "Granularity": "DAILY", "Metrics": ANY, "GroupBy": ANY,
            **({"Filter": ANY} if p is TAG_PAGES[0] else {}),
            **({"NextPageToken": "p2"} if p is SERVICE_PAGES[1] else {}),
        })  # fmt: skip
    for f in forecasts or []:
        stub.add_response("get_cost_forecast", f, None)
    stub.activate()
    return ce


# --- Cost Explorer tests -------------------------------------------------------------------


def test_ce_follows_pages_keeps_marketplace_drops_ec2_and_splits_by_tag(warehouse: Any) -> None:
    api = ApiSource(name="ce")
    ce = stubbed([*SERVICE_PAGES, *TAG_PAGES])
    stats = cost.pull(warehouse, ce_settings(), api, client=ce, today=TODAY)
    totals = warehouse.execute(
        "SELECT usage_date, service, model, token_kind, unblended_cost, estimated FROM cost_daily "
        "WHERE breakdown = 'total' ORDER BY ALL"
    ).fetchall()
    assert totals == [
        (D1, "Amazon Bedrock", NOVA_PRO, "input", Decimal("1.2345678901"), False),
        (D1, HAIKU_SERVICE, HAIKU, "input", Decimal("0.5000000001"), False),
        (D2, HAIKU_SERVICE, HAIKU, "output", Decimal("2.2500000000"), True),
    ]
    split = warehouse.execute(
        "SELECT usage_date, service, tags, unblended_cost FROM cost_daily "
        "WHERE breakdown = 'tag:team' ORDER BY ALL"
    ).fetchall()
    assert (D1, "Amazon Bedrock", {}, Decimal("0.2345678901")) in split
    assert (D2, HAIKU_SERVICE, {"team": "chat"}, Decimal("2.2500000000")) in split
    assert stats.objects == 3 and "3 Cost Explorer requests" in stats.notes[-1]


def test_ce_forecast_for_rest_of_month_and_next(warehouse: Any) -> None:
    fc = {
        "Total": {"Amount": "30", "Unit": "USD"},
        "ForecastResultsByTime": [{
            "TimePeriod": {"Start": "2025-06-20", "End": "2025-07-01"}, "MeanValue": "30.5",
            "PredictionIntervalLowerBound": "25.1", "PredictionIntervalUpperBound": "35.9",
        }],
    }  # fmt: skip
    ce = stubbed([*SERVICE_PAGES, *TAG_PAGES], [fc, fc])
    stats = cost.pull(warehouse, ce_settings(forecast=True), ApiSource(name="ce"), client=ce,
                      today=TODAY)  # fmt: skip
    rows = warehouse.execute(
        "SELECT period_start, mean, lower, upper, metric FROM cost_forecast"
    ).fetchall()
    assert rows[0] == (date(2025, 6, 20), Decimal("30.5"), Decimal("25.1"), Decimal("35.9"),
                       "UNBLENDED_COST")  # fmt: skip
    assert stats.objects == 5


def test_ce_restated_day_replaces_and_rerun_is_idempotent(warehouse: Any) -> None:
    api = ApiSource(name="ce")
    settings = ce_settings(tag_keys=[])
    cost.pull(warehouse, settings, api, client=stubbed(SERVICE_PAGES), today=TODAY)
    first = snapshot(warehouse)
    cost.pull(warehouse, settings, api, client=stubbed(SERVICE_PAGES), today=TODAY)
    assert snapshot(warehouse) == first
    restated = [page([by_time(D2, [group([HAIKU_SERVICE, "USE1-MP:USE1_output_tokens_standard-"
                                          "Units"], "3.75")])])]  # fmt: skip
    ce = boto3.client("ce", region_name="us-east-1")
    with Stubber(ce) as stub:
        stub.add_response("get_cost_and_usage", restated[0], None)
        cost.pull(warehouse, settings, api, client=ce, today=TODAY)
    got = warehouse.execute(
        "SELECT usage_date, unblended_cost FROM cost_daily ORDER BY 1"
    ).fetchall()
    assert got == [(D2, Decimal("3.7500000000"))]  # D1 restated away (no longer billed)


def moto_queue(endpoint: str, results: list[dict[str, Any]]) -> None:
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)
    resp = requests.post(f"{endpoint}/moto-api/static/ce/cost-and-usage-results",
                         json={"results": results}, timeout=10)  # fmt: skip
    assert resp.status_code == 201


def test_ce_through_moto_server(warehouse: Any, moto_endpoint: str) -> None:
    moto_queue(moto_endpoint, [*SERVICE_PAGES, *TAG_PAGES])
    api = ApiSource(name="ce-moto", endpoint_url=moto_endpoint, region="us-east-1")
    stats = cost.pull(warehouse, ce_settings(), api, today=TODAY)
    assert stats.objects == 3
    got = warehouse.execute(
        "SELECT breakdown, count(*), sum(unblended_cost) FROM cost_daily GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert got == [("tag:team", 4, Decimal("3.9845678902")), ("total", 3, Decimal("3.9845678902"))]


# --- CUR 2.0 / FOCUS exports ---------------------------------------------------------------

MAP = pa.map_(pa.string(), pa.string())


def cur_line(**overrides: Any) -> dict[str, Any]:
    """One CUR 2.0 line item for first-party Nova Pro input tokens (override for others)."""
    line: dict[str, Any] = {
        "bill_billing_entity": "AWS",
        "bill_invoice_id": None,
        "line_item_line_item_type": "Usage",
        "line_item_usage_account_id": ACCOUNT,
        "line_item_usage_start_date": datetime(2025, 6, 3, 10),
        "line_item_product_code": "AmazonBedrock",
        "line_item_usage_type": "USE1-NovaPro-input-tokens",
        "line_item_usage_amount": 12.5,
        "line_item_unblended_cost": 0.01,
        "line_item_net_unblended_cost": 0.009,
        "product_region_code": "us-east-1",
        "product": [("product_name", "Amazon Bedrock")],
        "resource_tags": [("user_team", "search"), ("user_other", "x")],
        "pricing_unit": "1K tokens",
    }
    return line | overrides


def marketplace_line(**overrides: Any) -> dict[str, Any]:
    return cur_line(
        bill_billing_entity="AWS Marketplace", line_item_product_code="b2xq8opaque",
        line_item_usage_type="USE1-MP:USE1_OutputTokenCount-Units",
        product=[("product_name", HAIKU_SERVICE)], resource_tags=[],
        line_item_unblended_cost=0.125, line_item_usage_amount=100.0, **overrides,
    )  # fmt: skip


def ec2_line() -> dict[str, Any]:
    return cur_line(line_item_product_code="AmazonEC2", line_item_usage_type="USE1-BoxUsage:t3",
                    product=[("product_name", "Amazon Elastic Compute Cloud")],
                    line_item_unblended_cost=5.0)  # fmt: skip


def focus_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "BilledCost": 0.25, "EffectiveCost": 0.2, "ListCost": 0.25, "BillingCurrency": "USD",
        "ChargeCategory": "Usage", "ChargePeriodStart": datetime(2025, 6, 4),
        "ChargePeriodEnd": datetime(2025, 6, 4, 1), "ServiceName": HAIKU_SERVICE,
        "SubAccountId": ACCOUNT, "RegionId": "us-east-1", "ConsumedQuantity": 200.0,
        "ConsumedUnit": "1K tokens", "InvoiceId": "INV-1",
        "Tags": [("user:team", "chat")], "x_ServiceCode": "b2xq8opaque",
        "x_UsageType": "USE1-MP:USE1_cache_read_tokens_global_standard-Units",
    }  # fmt: skip
    return row | overrides


def write_parquet(path: Path, rows: list[dict[str, Any]], drop: str | None = None) -> Path:
    cols = {k: [r[k] for r in rows] for k in rows[0] if k != drop}
    types = {k: MAP for k in ("product", "resource_tags", "Tags")}
    table = pa.table({k: pa.array(v, type=types.get(k)) for k, v in cols.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")
    return path


def cur_key(period: str = "2025-06", n: int = 1, export: str = "bedrock-cur") -> str:
    return f"cur/{export}/data/BILLING_PERIOD={period}/{export}-{n:05d}.snappy.parquet"


def estate(root: Path) -> None:
    write_parquet(root / cur_key(), [cur_line(), cur_line(), marketplace_line(), ec2_line()])
    write_parquet(root / cur_key(n=2), [marketplace_line(line_item_line_item_type="Tax")])
    write_parquet(
        root / cur_key(period="2025-05"),
        [cur_line(line_item_usage_start_date=datetime(2025, 5, 31, 23), bill_invoice_id="INV-9")],
    )
    write_parquet(
        root / "focus/bedrock-focus/data/BILLING_PERIOD=2025-06/f-00001.snappy.parquet",
        [
            focus_row(),
            focus_row(
                x_ServiceCode="AmazonS3",
                ServiceName="Amazon S3",
                x_UsageType="USE1-TimedStorage-ByteHrs",
            ),
        ],
    )
    (root / "cur/bedrock-cur/metadata").mkdir(parents=True)
    (root / "cur/bedrock-cur/metadata/Manifest.json").write_text("{}")  # fmt: skip


def zone_settings(uri: str, **zone: Any) -> Settings:
    return Settings(cost={"tag_keys": ["team"], "landing_zones": [{"uri": uri, **zone}]})


def test_cur_and_focus_load_bedrock_rows_only(tmp_path: Path, warehouse: Any) -> None:
    estate(tmp_path / "zone")
    stats = cost.run(warehouse, zone_settings(str(tmp_path / "zone")))
    rows = warehouse.execute(
        "SELECT source, usage_date, service, model, token_kind, pricing_scope, region, tags, "
        "unblended_cost, amortized_cost, net_unblended_cost, usage_quantity, estimated "
        "FROM cost_daily ORDER BY ALL"
    ).fetchall()
    assert rows == [
        ("cur", date(2025, 5, 31), "Amazon Bedrock", NOVA_PRO, "input", "regional", "us-east-1",
         {"team": "search"}, Decimal("0.01"), Decimal("0.01"), Decimal("0.009"), 12.5, False),
        ("cur", date(2025, 6, 3), "Amazon Bedrock", NOVA_PRO, "input", "regional", "us-east-1",
         {"team": "search"}, Decimal("0.02"), Decimal("0.02"), Decimal("0.018"), 25.0, True),
        ("cur", date(2025, 6, 3), HAIKU_SERVICE, HAIKU, "output", "regional", "us-east-1", {},
         Decimal("0.125"), Decimal("0.125"), Decimal("0.009"), 100.0, True),
        ("focus", date(2025, 6, 4), HAIKU_SERVICE, HAIKU, "cache_read", "global", "us-east-1",
         {"team": "chat"}, Decimal("0.25"), Decimal("0.2"), None, 200.0, False),
    ]  # fmt: skip
    assert stats.objects == 4 and stats.quarantined == 0


def test_run_twice_is_idempotent_and_redelivered_period_replaces(
    tmp_path: Path, warehouse: Any
) -> None:
    root = tmp_path / "zone"
    estate(root)
    settings = zone_settings(str(root))
    cost.run(warehouse, settings)
    first = snapshot(warehouse)
    again = cost.run(warehouse, settings)
    assert snapshot(warehouse) == first and again.skipped == 4 and again.objects == 0
    # AWS rewrites June: one file now, a corrected amount; file 2 is gone.
    (root / cur_key(n=2)).unlink()
    write_parquet(root / cur_key(), [cur_line(line_item_unblended_cost=0.5)])
    cost.run(warehouse, settings)
    june = warehouse.execute(
        "SELECT sum(unblended_cost), count(*) FROM cost_daily WHERE source = 'cur' "
        "AND usage_date >= DATE '2025-06-01'"
    ).fetchone()
    assert june == (Decimal("0.5"), 1)
    keys = [r[0] for r in warehouse.execute("SELECT object_key FROM ingest_objects").fetchall()]
    assert cur_key(n=2) not in keys and len(keys) == 3


def test_file_missing_a_required_column_is_quarantined_and_rest_loads(
    tmp_path: Path, warehouse: Any
) -> None:
    root = tmp_path / "zone"
    write_parquet(root / cur_key(), [cur_line()])
    bad = write_parquet(root / cur_key(n=2), [cur_line()], drop="line_item_usage_type")
    stats = cost.run(warehouse, zone_settings(str(root)))
    q = warehouse.execute("SELECT source, source_object, line, reason FROM quarantine").fetchall()
    assert q == [("cost", str(bad), 0, "CUR 2.0 export lacks required column line_item_usage_type")]
    assert stats.records == 1 and stats.quarantined == 1
    assert warehouse.execute("SELECT count(*) FROM cost_daily").fetchone() == (1,)


def test_exports_from_moto_s3(tmp_path: Path, warehouse: Any, moto_endpoint: str,
                              aws_client: Any) -> None:  # fmt: skip
    s3 = aws_client("s3")
    s3.create_bucket(Bucket="billing")
    local = tmp_path / "local"
    estate(local)
    for path in local.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), "billing", f"exports/{path.relative_to(local).as_posix()}")
    settings = zone_settings("s3://billing/exports", endpoint_url=moto_endpoint,
                             region="us-east-1")  # fmt: skip
    stats = cost.run(warehouse, settings)
    assert stats.objects == 4
    by_source = warehouse.execute(
        "SELECT source, count(*) FROM cost_daily GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert by_source == [("cur", 3), ("focus", 1)]
    objs = warehouse.execute("SELECT DISTINCT source_object FROM cost_daily").fetchall()
    assert all(o[0].startswith("s3://billing/exports/") for o in objs)
    assert cost.run(warehouse, settings).skipped == 4
