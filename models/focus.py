"""The chargeback files: a plain CSV, and FOCUS 1.2 rows (Parquet and CSV), one function each.

The Spend page's downloads and `genai-lens export` call the same functions on the same frame
(data.chargeback / sql/queries/spend_chargeback.sql), so the same filters give the same bytes.

FOCUS (FinOps Open Cost and Usage Specification) 1.2 column names are used exactly; every
Mandatory and Recommended column is present, and the Conditional ones that apply to AWS data
(sub accounts, regions, resources, tags, SKUs, unit prices, usage measurement, invoices).
Each row is one LOB's share of one bill line: BillingAccountId is the line's payer,
SubAccountId its usage account, InvoiceId the bill's invoice once issued; BilledCost,
EffectiveCost and ContractedCost are the share as billed (10 decimals, the bill's own), ListCost
the same share of the line's list (public on-demand) cost, so a discount is visible.
Consumed/PricingQuantity are the share of the line's quantity (tokens). ProviderName and
InvoiceIssuerName follow AWS's own FOCUS export ("AWS": FOCUS requires BilledCost 0 wherever the
two differ, i.e. a third party collects; the bill's invoicing entity, such as "Amazon Web
Services, Inc.", is kept in x_InvoicingEntity); InvoiceId is the bill's once AWS issued the
invoice, NULL while the period is open; PublisherName is "AWS" for first-party models and
the model's vendor for Marketplace ones. What genai-lens adds is in x_-prefixed columns
(x_Lob, x_Model, x_TokenKind, ...). The Parquet file states its FOCUS version in its
key-value metadata.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

FOCUS_VERSION = "1.2"
CURRENCY = "USD"
AWS = "AWS"  # how AWS's own FOCUS export names the provider, and the issuer of its invoices
PUBLISHERS = {
    "anthropic": "Anthropic", "amazon": AWS, "meta": "Meta", "cohere": "Cohere",
    "mistral": "Mistral AI", "ai21": "AI21 Labs", "deepseek": "DeepSeek", "openai": "OpenAI",
    "qwen": "Qwen", "writer": "Writer", "stability": "Stability AI",
}  # fmt: skip
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
    "ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
    "eu-west-1": "Europe (Ireland)", "eu-west-2": "Europe (London)",
    "eu-west-3": "Europe (Paris)", "eu-central-1": "Europe (Frankfurt)",
    "eu-central-2": "Europe (Zurich)", "eu-north-1": "Europe (Stockholm)",
    "eu-south-1": "Europe (Milan)", "eu-south-2": "Europe (Spain)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)", "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-south-2": "Asia Pacific (Hyderabad)", "ap-southeast-3": "Asia Pacific (Jakarta)",
    "ap-east-1": "Asia Pacific (Hong Kong)", "me-south-1": "Middle East (Bahrain)",
    "me-central-1": "Middle East (UAE)", "af-south-1": "Africa (Cape Town)",
    "il-central-1": "Israel (Tel Aviv)", "us-gov-west-1": "AWS GovCloud (US-West)",
    "us-gov-east-1": "AWS GovCloud (US-East)",
}  # fmt: skip
# ARN parts -> FOCUS ResourceType of the resources a Bedrock-family line names.
RESOURCE_TYPES = {
    ":application-inference-profile/": "Application Inference Profile",
    ":provisioned-model/": "Provisioned Model", ":runtime/": "AgentCore Runtime",
    ":project/": "Mantle Project", ":custom-model/": "Custom Model",
}  # fmt: skip
MONEY = pl.Decimal(18, 10)  # the bill's own precision; displays round, files do not
QUANTITY = pl.Decimal(28, 10)  # a day's tokens of one line can pass 10^8
UTC_TIME = pl.Datetime("us", "UTC")
CSV_TIME = "%Y-%m-%dT%H:%M:%SZ"
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Accounts:
    """What config says of accounts where the bill does not (Cost Explorer names none)."""

    payer_id: str | None = None
    payer_name: str | None = None
    names: dict[str, str] = field(default_factory=dict)


def publisher(model: str) -> str:
    """The model's vendor from its id ('us.anthropic.claude-…' -> 'Anthropic')."""
    parts = model.split(".")
    vendor = parts[1] if len(parts) > 2 and parts[0] in {"us", "eu", "apac", "global"} else parts[0]
    return PUBLISHERS.get(vendor, AWS)


def unit(bill_unit: str) -> str:
    """A bill's pricing unit in FOCUS UnitFormat: '1K tokens' -> '1000 Tokens'."""
    m = re.fullmatch(r"\s*(\d+)\s*([KkMm])?\s+(.+?)\s*", bill_unit)
    if not m:
        return bill_unit
    scale = {"k": 1_000, "m": 1_000_000}.get((m.group(2) or "").lower(), 1)
    words = " ".join(w[:1].upper() + w[1:] for w in m.group(3).split())
    return f"{int(m.group(1)) * scale} {words}"


def chargeback_csv(frame: pl.DataFrame) -> bytes:
    """The allocation as a finance team reads it: one row per day, LOB, model, token kind and
    basis, at the bill's precision (10 decimals)."""
    plain = (
        frame.group_by("day", "lob", "model", "token_kind", "basis", "bill_source")
        .agg(pl.col("allocated_cost").sum(), pl.col("est_cost").sum())
        .sort("day", "lob", "model", "token_kind", "basis")
        .select(
            pl.col("day").dt.strftime("%Y-%m").alias("Month"),
            pl.col("day").alias("Day"),
            pl.col("lob").alias("LOB"),
            pl.col("model").alias("Model"),
            pl.col("token_kind").alias("Token kind"),
            pl.col("allocated_cost").cast(MONEY).alias("Allocated cost (USD)"),
            pl.col("est_cost").cast(pl.Decimal(18, 6)).alias("Estimated cost (USD)"),
            pl.col("basis").alias("Allocation basis"),
            pl.col("bill_source").alias("Bill source"),
        )
    )
    return plain.write_csv().encode()


def _tags(frame: pl.DataFrame) -> pl.Series:
    """FOCUS Tags (a JSON object): the line's cost-allocation tags plus genai-lens' LOB and,
    where the line names it (its caller or app tag), the application."""
    out = []
    apps = frame["app"] if "app" in frame.columns else pl.Series([None] * frame.height)
    for (raw, lob), app in zip(frame.select("tags_json", "lob").iter_rows(), apps, strict=True):
        tags = json.loads(raw) if raw else {}
        tags["lob"] = lob
        if app:
            tags.setdefault("app", app)
        out.append(json.dumps(dict(sorted(tags.items())), separators=(",", ":")))
    return pl.Series("Tags", out, dtype=pl.String)


def focus_rows(frame: pl.DataFrame, accounts: Accounts | None = None) -> pl.DataFrame:
    """FOCUS 1.2 rows from the chargeback frame (data.chargeback), one per share of a line."""
    accounts = accounts or Accounts()
    day = pl.col("day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    month = pl.col("day").dt.truncate("1mo").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    cost = pl.col("allocated_cost").cast(MONEY)
    text = pl.lit(None, pl.String)
    tokens = pl.col("token_kind").is_in(TOKEN_KINDS)
    # The bill's quantity is in its pricing unit: CUR prices tokens per 1K ("1K tokens"),
    # FOCUS exports give tokens. Consumed is always tokens for token lines.
    per_k = pl.col("usage_unit").fill_null("").str.to_lowercase().str.contains("1k")
    quantity = pl.col("usage_quantity")
    consumed = pl.when(tokens & per_k).then(quantity * 1000).otherwise(quantity)
    payer = pl.coalesce(
        "payer_account_id", pl.lit(accounts.payer_id, pl.String), "account_id", pl.lit(UNKNOWN)
    )
    payer_name = pl.coalesce(
        "payer_account_name", pl.lit(accounts.payer_name, pl.String),
    )  # fmt: skip
    sub_name = pl.coalesce(
        "account_name", pl.col("account_id").replace_strict(accounts.names, default=None)
    )
    vendor = pl.col("model").map_elements(publisher, return_dtype=pl.String)
    marketplace = pl.col("service").fill_null("").str.contains("Amazon Bedrock Edition")
    resource = pl.col("resource_id").fill_null("")
    kinds = [(k, pl.lit(v)) for k, v in RESOURCE_TYPES.items()]
    resource_type: Any = pl.when(resource.str.contains(kinds[0][0])).then(kinds[0][1])
    for needle, name in kinds[1:]:
        resource_type = resource_type.when(resource.str.contains(needle)).then(name)
    list_cost = pl.coalesce(pl.col("list_cost").cast(MONEY), cost)
    unit_price = pl.col("list_unit_price").cast(MONEY)
    pricing_qty = pl.when(quantity.is_not_null()).then(quantity)
    # The line's unit price as billed: its cost over its quantity (the same for every share).
    contracted_price = (
        pl.when(quantity.is_not_null() & (quantity != 0))
        .then(pl.col("allocated_cost").cast(pl.Float64) / quantity)
        .cast(MONEY)
    )
    list_price = pl.coalesce(
        unit_price,
        pl.when(quantity.is_not_null() & (quantity != 0))
        .then(list_cost.cast(pl.Float64) / quantity).cast(MONEY),
    )  # fmt: skip
    sku = pl.col("sku_id")
    rows = frame.select(
        text.alias("AvailabilityZone"),
        cost.alias("BilledCost"),
        payer.alias("BillingAccountId"),
        payer_name.alias("BillingAccountName"),
        pl.lit("Billing Account").alias("BillingAccountType"),
        pl.lit(CURRENCY).alias("BillingCurrency"),
        month.dt.offset_by("1mo").alias("BillingPeriodEnd"),
        month.alias("BillingPeriodStart"),
        text.alias("CapacityReservationId"),
        text.alias("CapacityReservationStatus"),
        pl.lit("Usage").alias("ChargeCategory"),
        text.alias("ChargeClass"),
        pl.format(
            "{} {} for {} ({})", pl.coalesce("usage_type", "model"), "token_kind", "lob", "basis"
        ).alias("ChargeDescription"),
        pl.lit("Usage-Based").alias("ChargeFrequency"),
        day.dt.offset_by("1d").alias("ChargePeriodEnd"),
        day.alias("ChargePeriodStart"),
        text.alias("CommitmentDiscountCategory"),
        text.alias("CommitmentDiscountId"),
        text.alias("CommitmentDiscountName"),
        pl.lit(None, QUANTITY).alias("CommitmentDiscountQuantity"),
        text.alias("CommitmentDiscountStatus"),
        text.alias("CommitmentDiscountType"),
        text.alias("CommitmentDiscountUnit"),
        consumed.cast(QUANTITY).alias("ConsumedQuantity"),
        pl.when(consumed.is_null())
        .then(text)
        .when(tokens)
        .then(pl.lit("Tokens"))
        .otherwise(pl.col("usage_unit"))
        .alias("ConsumedUnit"),
        cost.alias("ContractedCost"),
        contracted_price.alias("ContractedUnitPrice"),
        cost.alias("EffectiveCost"),
        pl.col("invoice_id").alias("InvoiceId"),
        pl.lit(AWS).alias("InvoiceIssuerName"),
        list_cost.alias("ListCost"),
        list_price.alias("ListUnitPrice"),
        pl.lit("Standard").alias("PricingCategory"),
        pl.lit(CURRENCY).alias("PricingCurrency"),
        contracted_price.alias("PricingCurrencyContractedUnitPrice"),
        cost.alias("PricingCurrencyEffectiveCost"),
        list_price.alias("PricingCurrencyListUnitPrice"),
        pricing_qty.cast(QUANTITY).alias("PricingQuantity"),
        pl.when(pricing_qty.is_not_null())
        .then(pl.col("usage_unit").map_elements(unit, return_dtype=pl.String))
        .alias("PricingUnit"),
        pl.lit(AWS).alias("ProviderName"),
        pl.when(marketplace)
        .then(pl.coalesce("publisher", vendor))
        .otherwise(vendor)
        .alias("PublisherName"),
        pl.col("region").alias("RegionId"),
        pl.col("region").replace_strict(REGION_NAMES, default=None).alias("RegionName"),
        pl.col("resource_id").alias("ResourceId"),
        # A resource's name is the last part of its ARN; FOCUS wants one wherever an id is.
        pl.when(resource != "")
        .then(pl.col("resource_id").str.extract(r"[/:]([^/:]+)$"))
        .alias("ResourceName"),
        pl.when(resource != "")
        .then(resource_type.otherwise(pl.lit("Bedrock Resource")))
        .alias("ResourceType"),
        pl.lit("AI and Machine Learning").alias("ServiceCategory"),
        pl.coalesce("service", pl.lit("Amazon Bedrock")).alias("ServiceName"),
        pl.lit("Generative AI").alias("ServiceSubcategory"),
        sku.alias("SkuId"),
        pl.when(sku.is_not_null()).then(pl.col("usage_type")).alias("SkuMeter"),
        text.alias("SkuPriceDetails"),
        pl.col("sku_price_id").alias("SkuPriceId"),
        pl.col("account_id").alias("SubAccountId"),
        sub_name.alias("SubAccountName"),
        pl.when(pl.col("account_id").is_not_null())
        .then(pl.lit("AWS Account"))
        .alias("SubAccountType"),
        pl.col("lob").alias("x_Lob"),
        pl.col("model").alias("x_Model"),
        pl.col("token_kind").alias("x_TokenKind"),
        pl.col("basis").alias("x_AllocationBasis"),
        pl.col("bill_source").alias("x_BillSource"),
        pl.col("est_cost").cast(pl.Decimal(18, 6)).alias("x_EstimatedCost"),
        pl.col("usage_type").alias("x_UsageType"),
        pl.col("principal_arn").alias("x_IamPrincipal"),
        pl.col("estimated").alias("x_Estimated"),
        pl.col("invoice_issuer").alias("x_InvoicingEntity"),
    )
    tags = _tags(frame)
    return rows.insert_column(rows.columns.index("SubAccountType") + 1, tags)


def focus_csv(frame: pl.DataFrame, accounts: Accounts | None = None) -> bytes:
    return focus_rows(frame, accounts).write_csv(datetime_format=CSV_TIME).encode()


def focus_parquet(frame: pl.DataFrame, accounts: Accounts | None = None) -> bytes:
    """Parquet with the FOCUS version (and the spec's name) in the file's key-value metadata."""
    table = focus_rows(frame, accounts).to_arrow()
    meta = dict(table.schema.metadata or {})
    meta |= {b"FocusVersion": FOCUS_VERSION.encode(), b"FocusDataset": b"CostAndUsage",
             b"Generator": b"genai-lens"}  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buffer, compression="snappy")
    return buffer.getvalue()


def read_version(payload: bytes) -> str | None:
    meta = pq.read_schema(pa.BufferReader(payload)).metadata or {}
    value = meta.get(b"FocusVersion")
    return value.decode() if value else None


FORMATS = {("chargeback", "csv"), ("focus", "parquet"), ("focus", "csv")}


def render(kind: str, suffix: str, frame: pl.DataFrame, accounts: Accounts | None = None) -> bytes:
    """The bytes of one chargeback file: the page's downloads and `genai-lens export` both call
    this, so the same filters give the same file."""
    if (kind, suffix) not in FORMATS:
        raise ValueError(f"no {kind} file as {suffix}: choose one of {sorted(FORMATS)}")
    if kind == "chargeback":
        return chargeback_csv(frame)
    return focus_parquet(frame, accounts) if suffix == "parquet" else focus_csv(frame, accounts)


def accounts_of(cost: object) -> Accounts:
    """Accounts from the [cost] settings (payer_account_id, payer_account_name, account_names)."""
    return Accounts(
        getattr(cost, "payer_account_id", None), getattr(cost, "payer_account_name", None),
        dict(getattr(cost, "account_names", {}) or {}),
    )  # fmt: skip


MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def file_name(kind: str, days: tuple[date, date], suffix: str) -> str:
    return f"genai-lens-{kind}-{days[0]:%Y%m%d}-{days[1]:%Y%m%d}.{suffix}"
