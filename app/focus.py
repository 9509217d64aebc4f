"""The chargeback downloads: a plain CSV, and FOCUS 1.2 rows (Parquet and CSV).

FOCUS (FinOps Open Cost and Usage Specification) 1.2 column names are used exactly; every
Mandatory and Recommended column is present, plus the Conditional ones the allocation can fill
(RegionId, SubAccountId). What genai-lens adds is in x_-prefixed columns (x_Lob, x_Model,
x_TokenKind, ...). The allocation splits billed cost as it was invoiced, so BilledCost,
EffectiveCost, ListCost and ContractedCost carry the same allocated amount: discounts and
commitments are not visible at this grain. BillingAccountId is the usage account when the bill
names exactly one for the day and model (CUR/FOCUS), else "unknown" (Cost Explorer gives none).
"""

from __future__ import annotations

import io
from datetime import date

import polars as pl

CURRENCY = "USD"
AWS = "Amazon Web Services"
PUBLISHERS = {
    "anthropic": "Anthropic", "amazon": "Amazon Web Services", "meta": "Meta",
    "cohere": "Cohere", "mistral": "Mistral AI", "ai21": "AI21 Labs", "deepseek": "DeepSeek",
    "openai": "OpenAI", "qwen": "Qwen", "writer": "Writer", "stability": "Stability AI",
}  # fmt: skip
MONEY = pl.Decimal(18, 2)
UTC_TIME = pl.Datetime("us", "UTC")
CSV_TIME = "%Y-%m-%dT%H:%M:%SZ"


def publisher(model: str) -> str:
    """The model's vendor from its id ('us.anthropic.claude-…' -> 'Anthropic')."""
    parts = model.split(".")
    vendor = parts[1] if len(parts) > 2 and parts[0] in {"us", "eu", "apac", "global"} else parts[0]
    return PUBLISHERS.get(vendor, AWS)


def chargeback_csv(frame: pl.DataFrame) -> bytes:
    """The allocation as a finance team reads it: one row per day, LOB, model and token kind."""
    plain = frame.select(
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
    return plain.write_csv().encode()


def focus_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """FOCUS 1.2 rows from the chargeback frame (data.chargeback)."""
    day = pl.col("day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    month = pl.col("day").dt.truncate("1mo").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    cost = pl.col("allocated_cost").cast(MONEY)
    text = pl.lit(None, pl.String)
    return frame.select(
        text.alias("AvailabilityZone"),
        cost.alias("BilledCost"),
        pl.col("account_id").fill_null("unknown").alias("BillingAccountId"),
        text.alias("BillingAccountName"),
        pl.lit(CURRENCY).alias("BillingCurrency"),
        month.dt.offset_by("1mo").alias("BillingPeriodEnd"),
        month.alias("BillingPeriodStart"),
        pl.lit("Usage").alias("ChargeCategory"),
        text.alias("ChargeClass"),
        pl.format(
            "Amazon Bedrock {} {} tokens for {} ({})", "model", "token_kind", "lob", "basis"
        ).alias("ChargeDescription"),
        pl.lit("Usage-Based").alias("ChargeFrequency"),
        day.dt.offset_by("1d").alias("ChargePeriodEnd"),
        day.alias("ChargePeriodStart"),
        cost.alias("ContractedCost"),
        cost.alias("EffectiveCost"),
        text.alias("InvoiceId"),
        pl.lit(AWS).alias("InvoiceIssuerName"),
        cost.alias("ListCost"),
        pl.lit(None, MONEY).alias("PricingQuantity"),
        text.alias("PricingUnit"),
        pl.lit(AWS).alias("ProviderName"),
        pl.col("model").map_elements(publisher, return_dtype=pl.String).alias("PublisherName"),
        pl.col("region").alias("RegionId"),
        pl.lit("AI and Machine Learning").alias("ServiceCategory"),
        pl.lit("Amazon Bedrock").alias("ServiceName"),
        pl.lit("Generative AI").alias("ServiceSubcategory"),
        pl.col("account_id").alias("SubAccountId"),
        pl.col("lob").alias("x_Lob"),
        pl.col("model").alias("x_Model"),
        pl.col("token_kind").alias("x_TokenKind"),
        pl.col("basis").alias("x_AllocationBasis"),
        pl.col("bill_source").alias("x_BillSource"),
        pl.col("est_cost").cast(pl.Decimal(18, 6)).alias("x_EstimatedCost"),
    )


def focus_csv(frame: pl.DataFrame) -> bytes:
    return focus_rows(frame).write_csv(datetime_format=CSV_TIME).encode()


def focus_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    focus_rows(frame).write_parquet(buffer)
    return buffer.getvalue()


MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def file_name(kind: str, days: tuple[date, date], suffix: str) -> str:
    return f"genai-lens-{kind}-{days[0]:%Y%m%d}-{days[1]:%Y%m%d}.{suffix}"
