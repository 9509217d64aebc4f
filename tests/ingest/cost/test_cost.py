"""Bedrock spend: the usage-type classifier, Cost Explorer (moto, Stubber), CUR 2.0 / FOCUS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from botocore.stub import Stubber
from wire import Wire

from base.settings import ApiSource, Settings
from ingest import aws
from ingest.cost import ingester as cost
from ingest.cost.tiers import cache_ttl, service_tier
from ingest.cost.usage_types import classify

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


# What every GetCostAndUsage asks for, spelled out here rather than imported from the code.
METRICS = ["UnblendedCost", "AmortizedCost", "NetUnblendedCost", "UsageQuantity"]
BY_SERVICE = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]
BY_TEAM = [{"Type": "TAG", "Key": "team"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]
# The tag split asks only for the Bedrock services the first grouping found, sorted.
BEDROCK_SERVICES = {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock", HAIKU_SERVICE]}}
FIRST_RUN = (date(2025, 6, 15), TODAY)  # first_run_days = 5 before TODAY, TODAY exclusive
RESTATED = (date(2025, 6, 6), TODAY)  # watermark TODAY less restatement_days (14)


def usage_params(
    window: tuple[date, date], group_by: list[dict[str, str]], token: str | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TimePeriod": {"Start": window[0].isoformat(), "End": window[1].isoformat()},
        "Granularity": "DAILY", "Metrics": METRICS, "GroupBy": group_by,
    }  # fmt: skip
    if group_by is BY_TEAM:
        params["Filter"] = BEDROCK_SERVICES
    if token:
        params["NextPageToken"] = token
    return params


def forecast_params(start: date, end: date) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Metric": "UNBLENDED_COST", "Granularity": "MONTHLY", "Filter": BEDROCK_SERVICES,
        "PredictionIntervalLevel": 80,
    }  # fmt: skip


# The rest of June from TODAY, then all of July.
FORECAST_PERIODS = ((TODAY, date(2025, 7, 1)), (date(2025, 7, 1), date(2025, 8, 1)))


def forecast(period: tuple[date, date], mean: str, lower: str, upper: str) -> dict[str, Any]:
    """A GetCostForecast answer for one month (or its rest)."""
    time_period = {"Start": period[0].isoformat(), "End": period[1].isoformat()}
    return {
        "Total": {"Amount": mean, "Unit": "USD"},
        "ForecastResultsByTime": [{"TimePeriod": time_period, "MeanValue": mean,
                                   "PredictionIntervalLowerBound": lower,
                                   "PredictionIntervalUpperBound": upper}],
    }  # fmt: skip


def stubbed(
    pages: list[dict[str, Any]],
    forecasts: list[dict[str, Any]] | None = None,
    window: tuple[date, date] = FIRST_RUN,
    periods: tuple[tuple[date, date], ...] = FORECAST_PERIODS,
) -> tuple[Any, Stubber]:
    """A Cost Explorer client answering `pages` then `forecasts`, each only to the exact
    request the code must send (Stubber raises on any other, or on one too many)."""
    ce = boto3.client("ce", region_name="us-east-1")
    stub = Stubber(ce)
    for p in pages:
        by = BY_TEAM if p is TAG_PAGES[0] else BY_SERVICE
        token = "p2" if p is SERVICE_PAGES[1] else None
        stub.add_response("get_cost_and_usage", p, usage_params(window, by, token))
    for f, period in zip(forecasts, periods, strict=True) if forecasts else ():
        stub.add_response("get_cost_forecast", f, forecast_params(*period))
    stub.activate()
    return ce, stub


# --- Cost Explorer tests -------------------------------------------------------------------


def test_ce_follows_pages_keeps_marketplace_drops_ec2_and_splits_by_tag(warehouse: Any) -> None:
    api = ApiSource(name="ce")
    ce, stub = stubbed([*SERVICE_PAGES, *TAG_PAGES])
    stats = cost.pull(warehouse, ce_settings(), api, client=ce, today=TODAY)
    stub.assert_no_pending_responses()
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
    rest, july = FORECAST_PERIODS
    answers = [forecast(rest, "30.5", "25.1", "35.9"), forecast(july, "61.25", "48", "74.5")]
    ce, stub = stubbed([*SERVICE_PAGES, *TAG_PAGES], answers)
    stats = cost.pull(warehouse, ce_settings(forecast=True), ApiSource(name="ce"), client=ce,
                      today=TODAY)  # fmt: skip
    stub.assert_no_pending_responses()
    rows = warehouse.execute(
        "SELECT period_start, period_end, granularity, mean, lower, upper, metric, source_zone, "
        "CAST(created_at AS DATE) FROM cost_forecast ORDER BY period_start"
    ).fetchall()
    assert rows == [
        (TODAY, date(2025, 7, 1), "MONTHLY", Decimal("30.5"), Decimal("25.1"), Decimal("35.9"),
         "UNBLENDED_COST", "ce", TODAY),
        (date(2025, 7, 1), date(2025, 8, 1), "MONTHLY", Decimal("61.25"), Decimal("48"),
         Decimal("74.5"), "UNBLENDED_COST", "ce", TODAY),
    ]  # fmt: skip
    assert stats.objects == 5


def test_ce_forecast_is_asked_once_a_day(warehouse: Any) -> None:
    api, settings = ApiSource(name="ce"), ce_settings(forecast=True)
    pages = [*SERVICE_PAGES, *TAG_PAGES]
    ce, stub = stubbed(pages, [forecast(p, "30", "20", "40") for p in FORECAST_PERIODS])
    first = cost.pull(warehouse, settings, api, client=ce, today=TODAY)
    stub.assert_no_pending_responses()
    stored = snapshot(warehouse, "cost_forecast")
    # Same day: no forecast is stubbed, so a GetCostForecast request would fail the run.
    ce, stub = stubbed(pages, window=RESTATED)
    second = cost.pull(warehouse, settings, api, client=ce, today=TODAY)
    stub.assert_no_pending_responses()
    assert (first.objects, second.objects) == (5, 3)
    assert "3 Cost Explorer requests" in second.notes[-1]
    assert any("forecast is already stored" in n for n in second.notes)
    assert snapshot(warehouse, "cost_forecast") == stored
    # The next day asks again; that day's forecast sits beside the first day's.
    tomorrow = date(2025, 6, 21)
    periods = ((tomorrow, date(2025, 7, 1)), FORECAST_PERIODS[1])
    ce, stub = stubbed(pages, [forecast(p, "29", "20", "40") for p in periods],
                       window=(RESTATED[0], tomorrow), periods=periods)  # fmt: skip
    third = cost.pull(warehouse, settings, api, client=ce, today=tomorrow)
    stub.assert_no_pending_responses()
    assert third.objects == 5
    days = warehouse.execute(
        "SELECT CAST(created_at AS DATE), count(*) FROM cost_forecast GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert days == [(TODAY, 2), (tomorrow, 2)]


def test_ce_restated_day_replaces_and_rerun_is_idempotent(warehouse: Any) -> None:
    api = ApiSource(name="ce")
    settings = ce_settings(tag_keys=[])
    ce, stub = stubbed(SERVICE_PAGES)
    cost.pull(warehouse, settings, api, client=ce, today=TODAY)
    stub.assert_no_pending_responses()
    first = snapshot(warehouse)
    # Later runs re-read the restatement window: the watermark (TODAY) less 14 days.
    ce, stub = stubbed(SERVICE_PAGES, window=RESTATED)
    cost.pull(warehouse, settings, api, client=ce, today=TODAY)
    stub.assert_no_pending_responses()
    assert snapshot(warehouse) == first
    restated = [page([by_time(D2, [group([HAIKU_SERVICE, "USE1-MP:USE1_output_tokens_standard-"
                                          "Units"], "3.75")])])]  # fmt: skip
    ce = boto3.client("ce", region_name="us-east-1")
    with Stubber(ce) as stub:
        stub.add_response("get_cost_and_usage", restated[0], usage_params(RESTATED, BY_SERVICE))
        cost.pull(warehouse, settings, api, client=ce, today=TODAY)
        stub.assert_no_pending_responses()
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


def test_throttled_requests_are_retried_by_botocore_and_every_row_loads(
    warehouse: Any, moto_endpoint: str
) -> None:
    # The product's own client (adaptive retry) against moto, throttled at the HTTP layer on
    # the first attempt of each operation. moto serves GetCostAndUsage once the 429 is past;
    # it lacks GetCostForecast, which tests/wire.py answers after its 429.
    moto_queue(moto_endpoint, [*SERVICE_PAGES, *TAG_PAGES])
    ce = aws.client("ce", region="us-east-1", endpoint_url=moto_endpoint)
    wire = Wire(ce).throttle("GetCostAndUsage").throttle("GetCostForecast")
    for period, mean in zip(FORECAST_PERIODS, ("30.5", "61.25"), strict=True):
        wire.answer("GetCostForecast", forecast(period, mean, "1", "99"))
    sent_before = aws.requests_sent()
    stats = cost.pull(warehouse, ce_settings(forecast=True), ApiSource(name="ce"), client=ce,
                      today=TODAY)  # fmt: skip
    assert wire.sent("GetCostAndUsage") == [429, 0, 0, 0]  # 0: went on to moto
    assert wire.sent("GetCostForecast") == [429, 200, 200] and not wire.pending()
    assert aws.requests_sent() - sent_before == 7  # every HTTP attempt
    assert [p for op, p in wire.calls if op == "GetCostForecast"] == [
        forecast_params(*period) for period in FORECAST_PERIODS
    ]
    assert stats.objects == 5  # API calls, not HTTP attempts
    got = warehouse.execute(
        "SELECT breakdown, count(*), sum(unblended_cost) FROM cost_daily GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert got == [("tag:team", 4, Decimal("3.9845678902")), ("total", 3, Decimal("3.9845678902"))]
    means = warehouse.execute("SELECT mean FROM cost_forecast ORDER BY period_start").fetchall()
    assert means == [(Decimal("30.5"),), (Decimal("61.25"),)]


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


def focus_key(export: str, period: str, n: int = 1) -> str:
    return f"focus/{export}/data/BILLING_PERIOD={period}/{export}-{n:05d}.snappy.parquet"


def test_focus_without_invoice_id_is_final_once_its_billing_period_has_closed(
    tmp_path: Path, warehouse: Any, clock_at: Callable[[datetime], None]
) -> None:
    root = tmp_path / "zone"
    # Whether a period has closed is judged by the clock: a fixed one, in December, so the
    # open period's end is in the next year.
    clock_at(datetime(2026, 12, 8, 1, 30))
    this_month, next_month = datetime(2026, 12, 1), datetime(2027, 1, 1)
    # FOCUS 1.0 (no InvoiceId column): June 2025 has closed, with or without BillingPeriodEnd
    # (then the charge's calendar month stands in); this month's period is still open.
    write_parquet(
        root / focus_key("f10", "2025-06"),
        [focus_row(BillingPeriodEnd=datetime(2025, 7, 1))],
        drop="InvoiceId",
    )
    write_parquet(
        root / focus_key("f10", "2025-06", 2),
        [focus_row(ChargePeriodStart=datetime(2025, 6, 30))],
        drop="InvoiceId",
    )
    write_parquet(
        root / focus_key("f10", f"{this_month:%Y-%m}"),
        [focus_row(ChargePeriodStart=this_month, BillingPeriodEnd=next_month)],
        drop="InvoiceId",
    )
    # FOCUS 1.2 names the invoice: a closed period not invoiced yet is still an estimate.
    may = {"BillingPeriodEnd": datetime(2025, 6, 1)}
    write_parquet(root / focus_key("f12", "2025-05"), [
        focus_row(ChargePeriodStart=datetime(2025, 5, 30), InvoiceId=None, **may),
        focus_row(ChargePeriodStart=datetime(2025, 5, 31), InvoiceId="INV-7", **may),
    ])  # fmt: skip
    stats = cost.run(warehouse, zone_settings(str(root)))
    assert stats.quarantined == 0
    got = warehouse.execute(
        "SELECT usage_date, estimated FROM cost_daily WHERE source = 'focus' ORDER BY 1"
    ).fetchall()
    assert got == [
        (date(2025, 5, 30), True),
        (date(2025, 5, 31), False),
        (date(2025, 6, 4), False),
        (date(2025, 6, 30), False),
        (this_month.date(), True),
    ]


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


# --- Service tiers and cache TTLs of bill lines (issue 13) ---------------------------------


@pytest.mark.parametrize(
    ("usage_type", "tier"),
    [
        ("USE1-MP:USE1_input_tokens_standard-Units", "default"),
        ("USE1-MP:USE1_input_tokens_priority-Units", "priority"),
        ("USE1-MP:USE1_output_tokens_global_flex-Units", "flex"),
        ("USE1-NovaPro-input-tokens-priority", "priority"),
        ("USE1-NovaPro-output-tokens-flex", "flex"),
        ("USE1-NovaPro-input-tokens", "default"),
        ("USE1-MP:USE1_InputTokenCount-Units", "default"),
        ("USE1-MP:USE1_ReservedCapacity-1KTPM-Units", "reserved"),
    ],
)
def test_the_tier_suffix_of_a_usage_type_names_its_service_tier(usage_type, tier):
    assert service_tier(usage_type) == tier


def test_cache_write_lines_carry_their_ttl():
    assert cache_ttl("USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units", "cache_write") == "1h"
    assert cache_ttl("USE1-MP:USE1_CacheWriteInputTokenCount-Units", "cache_write") == "5m"
    assert cache_ttl("USE1-NovaPro-cache-write-input-token-count", "cache_write") == "5m"
    assert cache_ttl("USE1-MP:USE1_cache_write_1h_tokens_standard-Units", "cache_write") == "1h"
    assert cache_ttl("USE1-MP:USE1_InputTokenCount-Units", "input") is None
