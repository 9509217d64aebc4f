"""List prices from the AWS Price List API into a dated catalog beside the shipped one.

`GetProducts` (endpoint in us-east-1) for the service codes `AmazonBedrock` (first-party
models) and `AmazonBedrockFoundationModels` (Marketplace models), filtered to each configured
region, read with boto3's paginator. Each `PriceList` entry is a JSON *string*:
`{"product": {"attributes": {"usagetype", "regionCode", "servicename", ...}}, "terms":
{"OnDemand": {"<sku>.<term>": {"effectiveDate", "priceDimensions": {"<rate>": {"unit",
"pricePerUnit": {"USD": "0.0008"}}}}}}}`. The usage type says model, token kind, scope, tier
and cache TTL (ingest.cost.usage_types, ingest.cost.tiers), the same way the bill names it.

Only standard-tier token prices become catalog rows (tiers, batch and the rest are the price
rules' multipliers); a global price, where a model has one, is the base and the regional one
becomes its geo premium.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from base.clock import utcnow
from base.errors import SourceError
from base.settings import Settings
from base.stats import RunStats
from ingest import aws
from ingest.cost.tiers import cache_ttl, service_tier
from ingest.cost.usage_types import classify
from ingest.invocation_logs import pricing

SERVICE_CODES = ("AmazonBedrock", "AmazonBedrockFoundationModels")
ENDPOINT_REGION = "us-east-1"  # the Price List API answers in us-east-1 (and two others)
PER_1M = {"1k tokens": 1000.0, "units": 1000.0, "1m tokens": 1.0, "tokens": 1e6}
COLUMNS = [
    "model", "region", "effective_from", "input_per_1m", "output_per_1m", "cache_read_per_1m",
    "cache_write_per_1m", "cache_write_1h_per_1m", "geo_premium", "confirmed", "source",
]  # fmt: skip


@dataclass(frozen=True)
class ListPrice:
    model: str
    region: str
    kind: str  # input | output | cache_read | cache_write | cache_write_1h
    scope: str  # regional | global | batch
    tier: str
    per_1m: float
    effective_from: date
    sku: str


def products(client: Any, service_code: str, region: str) -> Iterator[dict[str, Any]]:
    """Every product of `service_code` in `region`, parsed from its JSON string."""
    pager = client.get_paginator("get_products").paginate(
        ServiceCode=service_code, FormatVersion="aws_v1",
        Filters=[{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
    )  # fmt: skip
    for page in aws.pages(pager, f"Price List {service_code} {region}", "pricing:GetProducts"):
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item


def list_prices(product: dict[str, Any]) -> list[ListPrice]:
    """The token prices one product carries (none for a product that is not tokens)."""
    attrs = product.get("product", {}).get("attributes", {})
    usage_type = attrs.get("usagetype", "")
    service = attrs.get("servicename") or attrs.get("productName")
    c = classify(service, usage_type, product.get("serviceCode"))
    if not c.bedrock or c.model is None or c.token_kind == "other":
        return []
    kind = c.token_kind
    if kind == "cache_write" and cache_ttl(usage_type, kind) == "1h":
        kind = "cache_write_1h"
    out = []
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        effective = date.fromisoformat(str(term.get("effectiveDate", "2000-01-01"))[:10])
        for dim in term.get("priceDimensions", {}).values():
            factor = PER_1M.get(str(dim.get("unit", "")).lower())
            usd = dim.get("pricePerUnit", {}).get("USD")
            if factor is None or usd is None:
                continue
            out.append(ListPrice(
                c.model, attrs.get("regionCode") or c.region or "", kind, c.pricing_scope or "",
                service_tier(usage_type), float(usd) * factor, effective,
                product.get("product", {}).get("sku", ""),
            ))  # fmt: skip
    return out


def catalog(prices: list[ListPrice], read_on: date) -> list[dict[str, str]]:
    """Catalog rows (per model, region, effective date) from standard-tier list prices."""
    cells: dict[tuple[str, str, date], dict[tuple[str, str], float]] = defaultdict(dict)
    for p in prices:
        if p.tier == "default" and p.scope in ("regional", "global"):
            cells[(p.model, p.region, p.effective_from)][(p.kind, p.scope)] = p.per_1m
    rows = []
    for (model, region, day), got in sorted(cells.items()):
        base = "global" if ("input", "global") in got else "regional"
        price = {k: got.get((k, base)) for k in
                 ("input", "output", "cache_read", "cache_write", "cache_write_1h")}  # fmt: skip
        if price["input"] is None or price["output"] is None:
            continue  # an embedding or a model priced on one side only: not a text row
        regional = got.get(("input", "regional"))
        premium = regional / price["input"] - 1 if base == "global" and regional else 0.0
        fmt = lambda v: "" if v is None else f"{v:.6g}"  # noqa: E731
        rows.append({
            "model": model, "region": region, "effective_from": day.isoformat(),
            "input_per_1m": fmt(price["input"]), "output_per_1m": fmt(price["output"]),
            "cache_read_per_1m": fmt(price["cache_read"]),
            "cache_write_per_1m": fmt(price["cache_write"]),
            "cache_write_1h_per_1m": fmt(price["cache_write_1h"]),
            "geo_premium": f"{premium:.4f}", "confirmed": "yes",
            "source": f"AWS Price List API {read_on.isoformat()}",
        })  # fmt: skip
    return rows


def write_catalog(rows: list[dict[str, str]], folder: Path, read_on: date) -> Path:
    """`bedrock_prices.YYYY-MM-DD.csv` in `folder`, written whole then renamed into place."""
    buf = io.StringIO()
    buf.write(
        "# genai-lens price catalog read from the AWS Price List API (pricing:GetProducts).\n"
        f"# catalog_version: {read_on.isoformat()}.api\n"
        "# Standard-tier on-demand prices, USD per 1M tokens; rules file has the multipliers.\n"
    )
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = folder / f"bedrock_prices.{read_on.isoformat()}.csv"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(buf.getvalue())
    tmp.replace(path)
    return path


def refresh(
    regions: list[str], folder: Path, read_on: date, client: Any | None = None
) -> tuple[Path | None, int, int]:
    """Read every service code in every region; (catalog path or None, products, rows)."""
    client = client or aws.client("pricing", region=ENDPOINT_REGION)
    prices: list[ListPrice] = []
    seen = 0
    for code in SERVICE_CODES:
        for region in regions:
            for product in products(client, code, region):
                seen += 1
                prices += list_prices(product)
    rows = catalog(prices, read_on)
    if not rows:
        return None, seen, 0
    return write_catalog(rows, folder, read_on), seen, len(rows)


def run(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    folder: Path = pricing.DATA,
    client: Any | None = None,
    **_: Any,
) -> RunStats:
    """The `prices` job: refresh the dated catalog, then reload the prices the ingest uses."""
    read_on = utcnow().date()
    stats = RunStats(zones=["pricing"], unit="catalog rows")
    path, seen, rows = refresh(settings.pricing.regions, folder, read_on, client=client)
    if path is None:
        raise SourceError(
            f"the Price List API returned {seen} products for {settings.pricing.regions} but no "
            "token prices: check pricing.regions names Bedrock regions"
        )
    pricing.load_prices(con, settings.prices, settings.price_rules, folder)
    stats.records, stats.objects = rows, seen
    stats.notes.append(f"{rows} catalog rows from {seen} Price List products -> {path}")
    return stats
