"""The demo estate's bill: CUR 2.0 and FOCUS 1.2 data exports (Parquet) of the same invocations.

AWS Data Exports write each billing period (month) to
`<export>/data/BILLING_PERIOD=YYYY-MM/<export>-00001.snappy.parquet` and overwrite it with every
delivery while the month is open; `write_bill` writes one delivery, as of a moment.

How the bill relates to the invocations (what tests and the product can rely on):
- Every invocation that used tokens is billed, logged or not: during the planted logging gap the
  bill has spend that no log explains.
- Line items are daily, per (day, usage account, region, usage type, resource): calls through
  an application inference profile carry its ARN and its cost-allocation tags (`user_<key>` in
  CUR, `user:<key>` in FOCUS); other calls have no resource id and no tags.
- CUR `line_item_unblended_cost` = tokens x the catalog's list price (ingest/invocation_logs/
  data/bedrock_prices.csv, in force that day, with its geo premium for every call but global ones),
  rounded to 1e-10 USD per line: per (day, model, token kind) it equals the list estimate up to
  that rounding, except where PRICE_CHANGE applies. FOCUS `ListCost` is the same figure.
- An enterprise discount (EDP_DISCOUNT, 3%) lowers what AWS itself bills (first-party models):
  CUR `line_item_net_unblended_cost` and FOCUS `BilledCost`/`EffectiveCost`/`ContractedCost` are
  3% under list on those lines. Marketplace lines are not discounted. So FOCUS billed cost sits
  0-3% under the estimate: the drift the product must show, not hide.
- Service tiers and cache TTLs bill under their own usage types: a tier word after the meter
  (`…-input-tokens-priority`, `…_input_tokens_flex-Units`; the standard tier none, or
  `standard`), the 1-hour cache write as `…CacheWrite1hInputTokenCount…`; priced at the
  catalog's price rules (tier factor, 1-hour write = input x the 1h rule where no price is set).
- A mid-estate price cut the catalog does not know (PRICE_CHANGE: Nova Lite -20% from 40% of
  the estate on) is on every export: only rates learned from the bill can follow it.
- Token kinds the catalog does not price (Nova cache writes) are not charged; the model the
  catalog lacks (AI21 Jamba) is billed at EXTRA_PRICES, so the bill has spend with no estimate.
- Usage reaches the bill late (a per-call metering lag, LAG_MEAN_H on average, at most
  LAG_MAX_H): a delivery as of T holds partial figures for the last day or two, restated by
  later deliveries. A period's rows carry an invoice id once the month is INVOICE_DELAY past
  its end; before that they are estimated. Without `as_of`, the delivery is the settled one
  (LAG_MAX_H after the estate's end): every invocation is billed.

Naming: first-party models bill under "Amazon Bedrock" as `<REG>-<Model>-input-tokens` and
`…-output-tokens` [obs: Price List], `…-cache-read-input-token-count` and
`…-cache-write-input-token-count` [doc: Bedrock's CUR guide]; Marketplace models under
"<Model> (Amazon Bedrock Edition)" as `<REG>-MP:<REG>_InputTokenCount[_Global]-Units` or
`<REG>-MP:<REG>_input_tokens[_global]_standard-Units` [obs]. Assumed, not seen in a real bill:
the Meta/Mistral model tokens, Cohere and AI21 billing through Marketplace, the newer
generation for models released from 2025-09 on, pricing units, and CUR 2.0 folding '-' to '_'
in tag keys.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from demo import world as w
from ingest.cost.usage_types import EDITION, REGIONS
from ingest.invocation_logs.pricing import catalog_rows, rule_rows

BILL_DIR = "bill"
EXPORTS = {"cur": "bedrock-cur", "focus": "bedrock-focus"}  # zone folder -> export name
PAYER, PAYER_NAME = "903718264550", "demo-org-management"
EDP_DISCOUNT = 0.03
LAG_MEAN_H, LAG_MAX_H = 3.0, 30.0
INVOICE_DELAY = timedelta(days=3)
DECIMALS = 10
KINDS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
TIERS = ("default", "priority", "flex")
# A price cut AWS made mid-estate that the catalog has not caught: the bill has it from this
# fraction of the estate on, the list price (and so the estimate at list) does not.
PRICE_CHANGE: dict[str, Any] = {"model": w.NLITE, "at": 0.4, "factor": 0.8}
# Models the catalog does not price, at the rate AWS bills them [3p: public rate-card copies].
EXTRA_PRICES = {w.JAMBA: {"input": 2.0, "output": 8.0}}
PREFIX = {region: code for code, region in REGIONS.items()}
REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "us-west-2": "US West (Oregon)",
                "eu-west-1": "Europe (Ireland)"}  # fmt: skip
AWS_INC = "Amazon Web Services, Inc."


@dataclass(frozen=True)
class Sku:
    """How the bill names a model: Marketplace product name, or the first-party usage token."""

    name: str
    publisher: str = AWS_INC
    marketplace: bool = False
    snake: bool = False  # Marketplace usage types of the newer (snake_case) generation

    @property
    def service(self) -> str:
        return f"{self.name}{EDITION}" if self.marketplace else "Amazon Bedrock"

    @property
    def product_code(self) -> str:
        """Marketplace product codes are opaque 25-character strings."""
        if not self.marketplace:
            return "AmazonBedrock"
        return hashlib.sha256(self.name.encode()).hexdigest()[:25]


# fmt: off
SKUS = {
    w.C3H: Sku("Claude 3 Haiku", "Anthropic", True),
    w.C35H: Sku("Claude 3.5 Haiku", "Anthropic", True),
    w.C37S: Sku("Claude 3.7 Sonnet", "Anthropic", True),
    w.CS4: Sku("Claude Sonnet 4", "Anthropic", True),
    w.CS45: Sku("Claude Sonnet 4.5", "Anthropic", True, snake=True),
    w.CH45: Sku("Claude Haiku 4.5", "Anthropic", True, snake=True),
    w.CO41: Sku("Claude Opus 4.1", "Anthropic", True),
    w.NMICRO: Sku("NovaMicro"), w.NLITE: Sku("NovaLite"), w.NPRO: Sku("NovaPro"),
    w.TITAN: Sku("TitanTextExpress"),
    w.L8B: Sku("Llama3-1-8B-Instruct"), w.L70B: Sku("Llama3-3-70B-Instruct"),
    w.MLARGE: Sku("MistralLarge-2407"), w.MIXTRAL: Sku("Mixtral-8x7B-Instruct"),
    w.CRPLUS: Sku("Command R+", "Cohere", True), w.CR: Sku("Command R", "Cohere", True),
    w.JAMBA: Sku("Jamba 1.5 Large", "AI21 Labs", True),
}
# Token kind -> meter: first-party, older Marketplace generation, newer Marketplace generation.
_METERS = {
    "input": ("input-tokens", "InputTokenCount", "input_tokens"),
    "output": ("output-tokens", "OutputTokenCount", "output_tokens"),
    "cache_read": ("cache-read-input-token-count", "CacheReadInputTokenCount", "cache_read_tokens"),
    "cache_write": ("cache-write-input-token-count", "CacheWriteInputTokenCount",
                    "cache_write_tokens"),
    "cache_write_1h": ("cache-write-1h-input-token-count", "CacheWrite1hInputTokenCount",
                       "cache_write_1h_tokens"),
}
_WORDS = {"input": "Input Tokens", "output": "Output Tokens",
          "cache_read": "Cache Read Input Tokens", "cache_write": "Cache Write Input Tokens",
          "cache_write_1h": "Cache Write 1h Input Tokens"}
# fmt: on


@dataclass(frozen=True)
class Bill:
    root: Path  # holds cur/ and focus/, one landing zone each
    files: int  # Parquet objects of this delivery, both exports
    periods: tuple[str, ...]
    delivered: datetime  # the moment this delivery reflects
    lines: int  # line items per export
    list_usd: float  # what the delivery bills at list price (CUR unblended)


def usage_type(model: str, region: str, kind: str, scope: str, tier: str = "default") -> str:
    """The usage type a model's tokens of `kind` bill under in `region` (scope: regional|global)
    on a service tier (a tier word after the meter; the standard tier has none, or `standard`
    in the newer Marketplace generation)."""
    sku, reg, glob = SKUS[model], PREFIX[region], scope == "global"
    first_party, camel, snake = _METERS[kind]
    if not sku.marketplace:
        suffix = "" if tier == "default" else f"-{tier}"
        return f"{reg}-{sku.name}-{'global-' if glob else ''}{first_party}{suffix}"
    word = "standard" if tier == "default" else tier
    meter = (
        f"{snake}_{'global_' if glob else ''}{word}" if sku.snake
        else camel + "_Global" * glob + ("" if tier == "default" else f"_{tier.capitalize()}")
    )  # fmt: skip
    return f"{reg}-MP:{reg}_{meter}-Units"


def sku_table() -> pl.DataFrame:
    """(service, usage_type) -> demo model, for every name the bill can use."""
    rows = [
        (SKUS[m].service, usage_type(m, region, kind, scope, tier), m)
        for m in SKUS
        for region in PREFIX
        for kind in KINDS
        for scope in ("regional", "global")
        for tier in TIERS
    ]
    return pl.DataFrame(rows, schema=["service", "usage_type", "model"], orient="row").unique()


def _rates(pairs: pl.DataFrame) -> pl.DataFrame:
    """USD per 1M tokens per (model, day) and token kind: the catalog row in force that day
    (else its earliest), or EXTRA_PRICES. Kinds without a price are null (not charged)."""
    catalog = sorted((p for p in catalog_rows() if p.region == "*"), key=lambda p: p.effective_from)
    out = []
    for model, day in pairs.iter_rows():
        rows = [p for p in catalog if p.model == model]
        if rows:
            p = ([r for r in rows if r.effective_from <= day] or rows[:1])[-1]
            price = {k: getattr(p, k) for k in (*KINDS, "geo_premium")}
            if price["cache_write_1h"] is None and p.cache_write is not None:
                price["cache_write_1h"] = p.input * _rule("cache_ttl", "1h")[0]
        else:
            price = {k: EXTRA_PRICES.get(model, {}).get(k) for k in KINDS} | {"geo_premium": 0.0}
        out.append({"model": model, "day": day, **price})
    schema = {"model": pl.String, "day": pl.Date} | dict.fromkeys(
        (*KINDS, "geo_premium"), pl.Float64
    )
    return pl.DataFrame(out, schema=schema).unpivot(
        index=["model", "day", "geo_premium"], variable_name="kind", value_name="per_1m"
    )


def _rule(rule: str, value: str) -> tuple[float, float]:
    """(input, output) factor of a '*' price rule of the catalog."""
    for r, _ in rule_rows():
        if (r.rule, r.value, r.model) == (rule, value, "*"):
            return r.input_factor, r.output_factor
    raise KeyError((rule, value))


def change_day(frame: pl.DataFrame) -> date | None:
    """The day PRICE_CHANGE takes effect: its fraction of the way through the estate."""
    if frame.is_empty():
        return None
    first, last = frame["ts"].min(), frame["ts"].max()
    assert isinstance(first, datetime) and isinstance(last, datetime)
    return (first + (last - first) * float(PRICE_CHANGE["at"])).date()


def _price_change(day: date | None) -> pl.Expr:
    if day is None:
        return pl.lit(1.0)
    hit = (pl.col("model") == PRICE_CHANGE["model"]) & (pl.col("day") >= day)
    return pl.when(hit).then(pl.lit(float(PRICE_CHANGE["factor"]))).otherwise(pl.lit(1.0))


def billable(frame: pl.DataFrame, delivered: datetime, change: date | None = None) -> pl.DataFrame:
    """Token usage metered by `delivered`, priced: one row per (day, account, region, model,
    scope, resource, tier, kind) with tokens and billed cost before discounts (USD): list
    price, tier and geo premium, and PRICE_CHANGE from `change` (default: `frame`'s own
    change_day; pass the whole estate's when `frame` is a part of it)."""
    change = change or change_day(frame)
    delivered = delivered if delivered.tzinfo else delivered.replace(tzinfo=UTC)
    # Each call's metering lag comes from its requestId (random hex): the same call gets the
    # same lag in any subset of the frame, and no generator state is involved.
    u = pl.col("request_id").str.slice(0, 8).str.to_integer(base=16) / 2**32
    lag = (-LAG_MEAN_H * 3600 * (1 - u).log()).clip(upper_bound=LAG_MAX_H * 3600)
    form = pl.col("model_id_form")
    calls = frame.select(
        "account_id", "region", "model", "input_tokens", "output_tokens", "cache_read_tokens",
        "cache_write_1h_tokens", "service_tier",
        cache_write_tokens=pl.col("cache_write_tokens") - pl.col("cache_write_1h_tokens"),
        day=pl.col("ts").dt.date(),
        metered=pl.col("ts").dt.epoch("s") + lag.cast(pl.Int64),
        scope=pl.when(form == "global_profile").then(pl.lit("global"))
        .otherwise(pl.lit("regional")),
        # Geo profiles and in-region calls both pay the premium over global ones.
        geo=form != "global_profile",
        resource=pl.when(form == "application_profile").then("model_id").otherwise(pl.lit("")),
    ).filter(pl.col("metered") <= int(delivered.timestamp()))  # fmt: skip
    keys = ["day", "account_id", "region", "model", "scope", "geo", "resource", "service_tier"]
    used = (
        calls.drop("metered")
        .unpivot(index=keys, variable_name="kind", value_name="tokens")
        .filter(pl.col("tokens") > 0)
        .with_columns(pl.col("kind").str.strip_suffix("_tokens"))
        .group_by(*keys, "kind")
        .agg(pl.col("tokens").sum())
    )
    rates = _rates(used.select("model", "day").unique().sort("model", "day"))
    premium = pl.when("geo").then(1 + pl.col("geo_premium")).otherwise(1.0)
    tier = pl.col("service_tier").replace_strict({t: _rule("tier", t)[0] for t in TIERS})
    return (
        used.join(rates, on=["model", "day", "kind"])
        .filter(pl.col("per_1m").is_not_null())
        .with_columns(
            cost=pl.col("tokens") * pl.col("per_1m") * premium * tier / 1e6 * _price_change(change)
        )
        .group_by(*(k for k in keys if k != "geo"), "kind")
        .agg(pl.col("tokens").sum(), pl.col("cost").sum())
    )


def line_items(usage: pl.DataFrame) -> pl.DataFrame:
    """`billable` rows named as the bill names them, one per line item, in a stable order."""
    names = usage.select("model", "region", "kind", "scope", "service_tier").unique()
    named = names.with_columns(
        usage_type=pl.Series([usage_type(*r) for r in names.iter_rows()], dtype=pl.String),
        service=pl.col("model").replace_strict({m: s.service for m, s in SKUS.items()}),
        product_code=pl.col("model").replace_strict({m: s.product_code for m, s in SKUS.items()}),
        marketplace=pl.col("model").replace_strict({m: s.marketplace for m, s in SKUS.items()}),
    )
    net = pl.when("marketplace").then(1.0).otherwise(1 - EDP_DISCOUNT)
    return (
        usage.join(named, on=["model", "region", "kind", "scope", "service_tier"])
        .with_columns(
            list_cost=pl.col("cost").round(DECIMALS),
            net_cost=(pl.col("cost") * net).round(DECIMALS),
            per_1k=(pl.col("cost") / pl.col("tokens") * 1000).round(DECIMALS),
            period=pl.col("day").dt.strftime("%Y-%m"),
        )
        .sort("day", "account_id", "region", "service", "usage_type", "resource")
    )


def _digits(text: str, n: int) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:n]


def _period_bounds(period: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(period, "%Y-%m")
    return start, (start + timedelta(days=32)).replace(day=1)


def _tags(resource: str, sep: str) -> list[tuple[str, str]]:
    """Cost-allocation tags of an application profile (CUR 2.0 folds '-' into '_')."""
    profile = next((p for p in w.PROFILES if p.arn == resource), None)
    if profile is None:
        return []
    fold = (lambda k: k.replace("-", "_")) if sep == "_" else (lambda k: k)
    return [(f"user{sep}{fold(k)}", v) for k, v in profile.tags]


MAP = pa.map_(pa.string(), pa.string())
MS = pl.Datetime("ms")


def _fmt(e: pl.Expr) -> pl.Expr:
    """A rate as CUR writes it: a decimal string."""
    return e.map_elements(lambda x: f"{x:.10f}", return_dtype=pl.String)


def _common(lines: pl.DataFrame) -> pl.DataFrame:
    """Per-line values both exports use."""
    mp = pl.col("marketplace")
    words = pl.col("kind").replace_strict(_WORDS) + pl.when(pl.col("scope") == "global").then(
        pl.lit(" Global")).otherwise(pl.lit(" Regional"))  # fmt: skip
    region_name = pl.col("region").replace_strict(REGION_NAMES)
    return lines.with_columns(
        day0=pl.col("day").cast(MS),
        day1=pl.col("day").cast(MS) + pl.duration(days=1),
        publisher=pl.col("model").replace_strict({m: s.publisher for m, s in SKUS.items()}),
        account_name=pl.col("account_id").replace_strict(w.ACCOUNTS),
        net_per_1k=pl.col("net_cost") / pl.col("tokens") * 1000,
        description=pl.when(mp)
        .then(pl.concat_str(pl.lit("AWS Marketplace software usage|"), "region",
                            pl.lit("|thousand "), words))
        .otherwise(pl.concat_str(pl.lit("$"), _fmt(pl.col("per_1k")), pl.lit(" per 1K "),
                                 words.str.to_lowercase(), pl.lit(" in "), region_name)),
    )  # fmt: skip


def _maps(lines: pl.DataFrame, sep: str) -> tuple[pa.Array, pa.Array]:
    """(product, tags) map columns."""
    rows = lines.select("service", "region", "resource").rows()
    product = pa.array([[("product_name", s), ("region", r)] for s, r, _ in rows], MAP)
    return product, pa.array([_tags(res, sep) for _, _, res in rows], MAP)


def cur_table(lines: pl.DataFrame, invoice: str | None) -> pa.Table:
    """One billing period's CUR 2.0 line items: the columns a Bedrock usage line fills."""
    start, end = _period_bounds(lines["period"][0])
    mp, lit = pl.col("marketplace"), pl.lit
    frame = _common(lines).select(
        bill_bill_type=lit("Anniversary"),
        bill_billing_entity=pl.when(mp).then(lit("AWS Marketplace")).otherwise(lit("AWS")),
        bill_billing_period_end_date=lit(end).cast(MS),
        bill_billing_period_start_date=lit(start).cast(MS),
        bill_invoice_id=lit(invoice, pl.String),
        bill_invoicing_entity=lit(AWS_INC),
        bill_payer_account_id=lit(PAYER),
        bill_payer_account_name=lit(PAYER_NAME),
        identity_line_item_id=pl.concat_str("day", "account_id", "region", "usage_type",
                                            "resource", separator="|")
        .map_elements(lambda k: hashlib.sha256(k.encode()).hexdigest()[:52], pl.String),
        identity_time_interval=pl.concat_str(pl.col("day0").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                             pl.col("day1").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                             separator="/"),
        line_item_currency_code=lit("USD"),
        line_item_legal_entity="publisher",
        line_item_line_item_description="description",
        line_item_line_item_type=lit("Usage"),
        line_item_net_unblended_cost="net_cost",
        line_item_net_unblended_rate=_fmt(pl.col("net_per_1k")),
        line_item_operation=lit("Usage"),
        line_item_product_code="product_code",
        line_item_resource_id="resource",
        line_item_unblended_cost="list_cost",
        line_item_unblended_rate=_fmt(pl.col("per_1k")),
        line_item_usage_account_id="account_id",
        line_item_usage_account_name="account_name",
        line_item_usage_amount=pl.col("tokens") / 1000,
        line_item_usage_end_date="day1",
        line_item_usage_start_date="day0",
        line_item_usage_type="usage_type",
        pricing_public_on_demand_cost="list_cost",
        pricing_public_on_demand_rate=_fmt(pl.col("per_1k")),
        pricing_term=lit("OnDemand"),
        pricing_unit=pl.when(mp).then(lit("Units")).otherwise(lit("1K tokens")),
        product_product_family=pl.when(mp).then(lit("Marketplace"))
        .otherwise(lit("Amazon Bedrock")),
        product_region_code="region",
        product_servicecode=pl.when(mp).then(lit("AmazonBedrockFoundationModels"))
        .otherwise(lit("AmazonBedrock")),
    ).to_arrow()  # fmt: skip
    product, tags = _maps(lines, "_")
    extra = {"product": product, "resource_tags": tags,
             "cost_category": pa.array([[]] * lines.height, MAP)}  # fmt: skip
    for name, values in extra.items():
        frame = frame.append_column(name, values)
    return _with_sku(frame, lines)


def _sku_ids(lines: pl.DataFrame) -> pl.DataFrame:
    """(sku, sku price id) per line: the Price List SKU of (product, usage type) and its rate
    [assumed shape: opaque 16-character SKU, '<sku>.<rate>' price id]. FOCUS SkuId/SkuPriceId
    use the same values."""
    sku = pl.concat_str("product_code", "usage_type", separator="|").map_elements(
        lambda k: hashlib.sha256(k.encode()).hexdigest()[:16].upper(), pl.String)  # fmt: skip
    return lines.select(
        sku=sku, price_id=pl.concat_str(sku, pl.lit("."), pl.col("per_1k").round(8).cast(pl.String))
    )


def _with_sku(frame: pa.Table, lines: pl.DataFrame) -> pa.Table:
    """CUR 2.0's product_sku and pricing_rate_id beside the other columns of a line."""
    ids = _sku_ids(lines)
    frame = frame.append_column("product_sku", ids["sku"].to_arrow())
    return frame.append_column("pricing_rate_id", ids["price_id"].to_arrow())


def focus_table(lines: pl.DataFrame, invoice: str | None) -> pa.Table:
    """One billing period's FOCUS 1.2 rows with AWS's x_ columns."""
    start, end = _period_bounds(lines["period"][0])
    lit, none, utc = pl.lit, pl.lit(None, pl.String), "UTC"
    profile = {p.arn: p.key for p in w.PROFILES}
    has = pl.col("resource") != ""
    sku = pl.concat_str("product_code", "usage_type", separator="|").map_elements(
        lambda k: hashlib.sha256(k.encode()).hexdigest()[:16].upper(), pl.String)  # fmt: skip
    frame = _common(lines).select(
        AvailabilityZone=none, BilledCost="net_cost", BillingAccountId=lit(PAYER),
        BillingAccountName=lit(PAYER_NAME), BillingAccountType=lit("Billing Account"),
        BillingCurrency=lit("USD"),
        BillingPeriodEnd=lit(end).cast(MS).dt.replace_time_zone(utc),
        BillingPeriodStart=lit(start).cast(MS).dt.replace_time_zone(utc),
        CapacityReservationId=none, CapacityReservationStatus=none,
        ChargeCategory=lit("Usage"), ChargeClass=none, ChargeDescription="description",
        ChargeFrequency=lit("Usage-Based"),
        ChargePeriodEnd=pl.col("day1").dt.replace_time_zone(utc),
        ChargePeriodStart=pl.col("day0").dt.replace_time_zone(utc),
        CommitmentDiscountCategory=none, CommitmentDiscountId=none, CommitmentDiscountName=none,
        CommitmentDiscountQuantity=lit(None, pl.Float64), CommitmentDiscountStatus=none,
        CommitmentDiscountType=none, CommitmentDiscountUnit=none,
        ConsumedQuantity=pl.col("tokens").cast(pl.Float64), ConsumedUnit=lit("Tokens"),
        ContractedCost="net_cost", ContractedUnitPrice="net_per_1k",
        EffectiveCost="net_cost", InvoiceId=lit(invoice, pl.String),
        InvoiceIssuerName=lit(AWS_INC), ListCost="list_cost", ListUnitPrice="per_1k",
        PricingCategory=lit("Standard"), PricingCurrency=lit("USD"),
        PricingCurrencyContractedUnitPrice="net_per_1k", PricingCurrencyEffectiveCost="net_cost",
        PricingCurrencyListUnitPrice="per_1k", PricingQuantity=pl.col("tokens") / 1000,
        PricingUnit=lit("1K Tokens"), ProviderName=lit("AWS"), PublisherName="publisher",
        RegionId="region", RegionName=pl.col("region").replace_strict(REGION_NAMES),
        ResourceId=pl.when(has).then("resource"),
        ResourceName=pl.when(has).then(pl.col("resource").replace_strict(profile, default=None)),
        ResourceType=pl.when(has).then(lit("Application Inference Profile")),
        ServiceCategory=lit("AI and Machine Learning"), ServiceName="service",
        ServiceSubcategory=lit("Generative AI"), SkuId=sku,
        SkuMeter=pl.col("kind").replace_strict(_WORDS), SkuPriceDetails=none,
        SkuPriceId=pl.concat_str(sku, lit("."), pl.col("per_1k").round(8).cast(pl.String)),
        SubAccountId="account_id", SubAccountName="account_name", SubAccountType=lit("AWS Account"),
        x_Operation=lit("Usage"), x_ServiceCode="product_code", x_UsageType="usage_type",
    ).to_arrow()  # fmt: skip
    _, tags = _maps(lines, ":")
    discounts = [
        [] if mp else [("EdpDiscount", round(n - c, DECIMALS))]
        for mp, n, c in lines.select("marketplace", "net_cost", "list_cost").rows()
    ]
    frame = frame.append_column("Tags", tags)
    frame = frame.append_column("x_CostCategories", pa.array([[]] * lines.height, MAP))
    return frame.append_column(
        "x_Discounts", pa.array(discounts, pa.map_(pa.string(), pa.float64()))
    )


def _put(path: Path, data: bytes) -> bool:
    """Write `data` unless the object already holds it (AWS rewrites open periods only)."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue().to_pybytes()


def _manifest(export: str, period: str, key: str, delivered: datetime) -> bytes:
    start, end = _period_bounds(period)
    return json.dumps({
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{PAYER}:export/{export}-"
                     f"{_digits(export, 8)}",
        "billingPeriod": {"start": f"{start:%Y-%m-%dT%H:%M:%SZ}",
                          "end": f"{end:%Y-%m-%dT%H:%M:%SZ}"},
        "executionId": hashlib.sha256(f"{export}{delivered}".encode()).hexdigest()[:36],
        "dataFiles": [key],
    }, indent=2).encode()  # fmt: skip


def write_bill(
    frame: pl.DataFrame, root: Path, *, end: datetime, as_of: datetime | None = None
) -> Bill:
    """Write the delivery as of `as_of` (default: settled after `end`) of both exports under
    `root`/cur and `root`/focus: one object per export and billing period, overwritten."""
    delivered = as_of or end + timedelta(hours=LAG_MAX_H)
    delivered = delivered if delivered.tzinfo else delivered.replace(tzinfo=UTC)
    lines = line_items(billable(frame, delivered, change_day(frame)))
    files = 0
    periods = sorted(set(lines["period"]))
    for period in periods:
        part = lines.filter(pl.col("period") == period)
        closes = _period_bounds(period)[1] + INVOICE_DELAY
        invoice = _digits(period, 10) if closes <= delivered.replace(tzinfo=None) else None
        for folder, build in (("cur", cur_table), ("focus", focus_table)):
            export = EXPORTS[folder]
            key = f"{export}/data/BILLING_PERIOD={period}/{export}-00001.snappy.parquet"
            if _put(root / folder / key, _parquet(build(part, invoice))):
                meta = f"{export}/metadata/BILLING_PERIOD={period}/{export}-Manifest.json"
                _put(root / folder / meta, _manifest(export, period, key, delivered))
            files += 1
    total = float(lines["list_cost"].sum())
    return Bill(root, files, tuple(periods), delivered, lines.height, total)


def truth(bill: Bill, frame: pl.DataFrame) -> dict[str, Any]:
    """What the bill holds, for tests: where, and the list cost of what no log shows."""
    change = change_day(frame)
    gap = billable(frame.filter(~pl.col("logged")), bill.delivered, change)
    unpriced = billable(frame.filter(pl.col("model") == w.JAMBA), bill.delivered, change)
    return {
        "root": BILL_DIR,
        "exports": {f"{BILL_DIR}/{folder}": name for folder, name in EXPORTS.items()},
        "files": bill.files,
        "periods": list(bill.periods),
        "delivered": f"{bill.delivered:%Y-%m-%dT%H:%M:%SZ}",
        "line_items": bill.lines,
        "edp_discount": EDP_DISCOUNT,
        "price_change": {
            "model": PRICE_CHANGE["model"],
            "from": str(change),
            "factor": PRICE_CHANGE["factor"],
        },
        "list_usd": round(bill.list_usd, 6),
        "logging_gap_list_usd": round(gap["cost"].sum(), 6),
        "unpriced_model_list_usd": round(unpriced["cost"].sum(), 6),
    }
