"""`genai-lens prices refresh`: the Price List API read through botocore's Stubber, on pages
shaped as GetProducts returns them (PriceList entries are JSON strings)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from base.errors import SourceError
from base.settings import Settings
from ingest.invocation_logs import price_list, pricing

READ_ON = date(2026, 12, 6)


def product(
    service_code: str,
    usage_type: str,
    usd_per_unit: str,
    *,
    unit: str = "1K tokens",
    servicename: str = "Amazon Bedrock",
    region: str = "us-east-1",
) -> str:
    """One PriceList entry as the API returns it: a JSON string."""
    sku = f"SKU{abs(hash(usage_type)) % 10**12:012d}"
    term, rate = f"{sku}.JRTCKXETXF", f"{sku}.JRTCKXETXF.6YS6EN2CT7"
    return json.dumps({
        "product": {
            "productFamily": "Amazon Bedrock" if service_code == "AmazonBedrock" else "Marketplace",
            "attributes": {"regionCode": region, "servicecode": service_code,
                           "usagetype": usage_type, "location": "US East (N. Virginia)",
                           "locationType": "AWS Region", "operation": "Usage",
                           "servicename": servicename},
            "sku": sku,
        },
        "serviceCode": service_code,
        "terms": {"OnDemand": {term: {
            "priceDimensions": {rate: {
                "unit": unit, "endRange": "Inf", "beginRange": "0", "appliesTo": [],
                "description": f"{usage_type} per {unit}", "rateCode": rate,
                "pricePerUnit": {"USD": usd_per_unit}}},
            "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF",
            "termAttributes": {}}}},
        "version": "20261201000000", "publicationDate": "2026-12-01T00:00:00Z",
    })  # fmt: skip


def request(code: str, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ServiceCode": code, "FormatVersion": "aws_v1",
        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"}],
    }  # fmt: skip
    return params | ({"NextToken": token} if token else {})


SONNET = "Claude Sonnet 4.5 (Amazon Bedrock Edition)"
MP = "AmazonBedrockFoundationModels"


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")  # fmt: skip
    stub = Stubber(client)
    # First-party models, over two pages; the priority line is a tier, not a catalog row.
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "NextToken": "page2",
        "PriceList": [product("AmazonBedrock", "USE1-NovaPro-input-tokens", "0.0008")]},
        request("AmazonBedrock"))  # fmt: skip
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [
        product("AmazonBedrock", "USE1-NovaPro-output-tokens", "0.0032"),
        product("AmazonBedrock", "USE1-NovaPro-input-tokens-priority", "0.0014"),
        product("AmazonBedrock", "USE1-NovaPro-ProvisionedThroughput", "21.18", unit="Hours"),
    ]}, request("AmazonBedrock", "page2"))  # fmt: skip
    mp = [
        product(MP, "USE1-MP:USE1_input_tokens_global_standard-Units", "0.003", unit="Units",
                servicename=SONNET),
        product(MP, "USE1-MP:USE1_output_tokens_global_standard-Units", "0.015", unit="Units",
                servicename=SONNET),
        product(MP, "USE1-MP:USE1_input_tokens_standard-Units", "0.0033", unit="Units",
                servicename=SONNET),
        product(MP, "USE1-MP:USE1_cache_read_tokens_global_standard-Units", "0.0003",
                unit="Units", servicename=SONNET),
        product(MP, "USE1-MP:USE1_CacheWriteInputTokenCount_Global-Units", "0.00375",
                unit="Units", servicename=SONNET),
        product(MP, "USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units", "0.006",
                unit="Units", servicename=SONNET),
    ]  # fmt: skip
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": mp}, request(MP))
    return client, stub


def test_refresh_writes_a_dated_catalog_from_every_page_and_service_code(tmp_path):
    client, stub = stubbed()
    with stub:
        path, seen, rows = price_list.refresh(["us-east-1"], tmp_path, READ_ON, client=client)
    stub.assert_no_pending_responses()
    assert path == tmp_path / "bedrock_prices.2026-12-06.csv" and (seen, rows) == (10, 2)
    got = {p.model: p for p in pricing.catalog_rows(path)}
    nova, sonnet = got["amazon.nova-pro-v1:0"], got["anthropic.claude-sonnet-4-5-20250929-v1:0"]
    assert (nova.input, nova.output, nova.geo_premium) == (0.8, 3.2, 0)
    assert (sonnet.input, sonnet.output, sonnet.cache_read) == (3.0, 15.0, 0.3)
    assert (sonnet.cache_write, sonnet.cache_write_1h) == (3.75, 6.0)
    assert sonnet.geo_premium == pytest.approx(0.10)  # regional 3.30 over global 3.00
    assert sonnet.effective_from == date(2026, 11, 1) and sonnet.region == "us-east-1"
    assert sonnet.source == "AWS Price List API 2026-12-06"


def test_the_newest_refreshed_catalog_wins_over_the_shipped_one(tmp_path):
    client, stub = stubbed()
    with stub:
        price_list.refresh(["us-east-1"], tmp_path, READ_ON, client=client)
    merged = pricing.merged_prices([], folder=tmp_path)
    nova = [p for p in merged if p.model == "amazon.nova-pro-v1:0" and p.region == "us-east-1"]
    assert [p.source for p in nova] == ["AWS Price List API 2026-12-06"]
    assert any(p.model == "amazon.nova-pro-v1:0" and p.region == "*" for p in merged)


def test_access_denied_names_the_iam_action(tmp_path):
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")  # fmt: skip
    stub = Stubber(client)
    stub.add_client_error("get_products", "AccessDeniedException", "no", 400)
    with stub, pytest.raises(SourceError, match="pricing:GetProducts"):
        price_list.refresh(["us-east-1"], tmp_path, READ_ON, client=client)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_the_prices_job_reloads_what_the_ingest_prices_with(warehouse, tmp_path):
    client, stub = stubbed()
    with stub:
        stats = price_list.run(warehouse, Settings(), folder=tmp_path, client=client)
    assert stats.records == 2 and stats.objects == 10
    got = warehouse.execute(
        "SELECT input_per_1m, source FROM prices WHERE model = 'amazon.nova-pro-v1:0' "
        "AND region = 'us-east-1'"
    ).fetchall()
    assert len(got) == 1 and got[0][0] == 0.8
    assert got[0][1].startswith("AWS Price List API ")
