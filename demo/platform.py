"""The demo bill's Bedrock-family spend that no invocation log sees, with its ground truth: a
batch job, a bedrock-mantle project, an AgentCore runtime and a provisioned model.

Written as a second CUR 2.0 object in each billing-period folder of the demo's CUR export
(`bedrock-cur-00002.snappy.parquet`, the way a large export splits into parts), with the same
invoice rule as demo/bill.py. Usage types as the Price List writes them [obs: public code quoting
Price List rows]; the Mantle project and AgentCore runtime ARN shapes are assumed.
- batch: Claude 3 Haiku batch tokens, called by a legal team's role (CUR caller identity): the
  bill allocates it by principal to `legal`;
- mantle: a research project on the bedrock-mantle endpoint, in the research account: by
  principal to `research` (the account rule);
- agentcore: a runtime's vCPU-hours and GB-hours, tagged lob=insurance: by tag to `insurance`
  (AgentCore is not covered by principal attribution);
- provisioned: a provisioned Nova model for two hours on one day, untagged: unattributed,
  with Data health's fix ("tag the provisioned model").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from demo import bill as B
from demo import world as w

MAP = pa.map_(pa.string(), pa.string())
AGENTCORE = "Amazon Bedrock AgentCore"


@dataclass(frozen=True)
class Line:
    kind: str
    lob: str  # what the allocation should give it (ground truth)
    basis: str
    account: str
    service: str
    product_code: str
    usage_type: str
    usd_per_day: float
    unit: str
    quantity: float
    principal: str | None = None
    resource: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    every_day: bool = True  # False: one day only (the provisioned trial)


LINES = (
    Line("batch", "legal", "principal", w.ACCT_SHARED, "Claude 3 Haiku (Amazon Bedrock Edition)",
         "c3hmarketplacecode0000001", "USE1-MP:USE1_InputTokenCount_Global_Batch-Units", 4.2,
         "Units", 33_600.0,
         principal=f"arn:aws:sts::{w.ACCT_SHARED}:assumed-role/legal-batch-summarizer/job-7"),
    Line("mantle", "research", "principal", w.ACCT_RESEARCH, "Amazon Bedrock", "AmazonBedrock",
         "USE1-qwen.qwen3-next-80b-a3b-instruct-mantle-input-tokens-standard", 2.75,
         "1K tokens", 18_333.0, principal=f"arn:aws:iam::{w.ACCT_RESEARCH}:role/research-agents",
         resource=f"arn:aws:bedrock-mantle:us-east-1:{w.ACCT_RESEARCH}:project/deep-research"),
    Line("agentcore", "insurance", "tag", w.ACCT_SHARED, AGENTCORE, "AmazonBedrockAgentCore",
         "USE1-Runtime:Consumption-based:vCPU", 1.8, "vCPU-Hours", 20.0,
         resource=f"arn:aws:bedrock-agentcore:us-east-1:{w.ACCT_SHARED}:runtime/claims-agent-x1",
         tags=(("user_lob", "insurance"), ("user_app", "claims-agent"))),
    Line("agentcore", "insurance", "tag", w.ACCT_SHARED, AGENTCORE, "AmazonBedrockAgentCore",
         "USE1-Runtime:Consumption-based:Memory", 0.45, "GB-Hours", 47.0,
         resource=f"arn:aws:bedrock-agentcore:us-east-1:{w.ACCT_SHARED}:runtime/claims-agent-x1",
         tags=(("user_lob", "insurance"), ("user_app", "claims-agent"))),
    Line("provisioned", "unattributed", "no_usage", w.ACCT_RETAIL, "Amazon Bedrock",
         "AmazonBedrock", "USE1-Nova2.0Lite-ProvisionedThroughput-NoCommit-ModelUnits", 121.0,
         "Hours", 2.0, resource=f"arn:aws:bedrock:us-east-1:{w.ACCT_RETAIL}:provisioned-model/"
         "p7k2trial", every_day=False),
)  # fmt: skip


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def rows(first: date, last: date) -> list[dict[str, Any]]:
    """One line item per (day, line); the provisioned trial on the estate's first full day,
    before every forecast backtest's origin, so a one-off $121 does not decide one."""
    trial = first + timedelta(days=1)
    out = []
    for day in _days(first, last):
        for ln in LINES:
            if ln.every_day or day == trial:
                out.append({"day": day, "line": ln})
    return out


def write(root: Path, first: date, last: date, delivered: datetime) -> dict[str, Any]:
    """The second CUR object of each billing period under `root`/cur; ground truth (USD per
    kind and per expected LOB)."""
    by_period: dict[str, list[dict[str, Any]]] = {}
    for r in rows(first, last):
        by_period.setdefault(f"{r['day']:%Y-%m}", []).append(r)
    export = B.EXPORTS["cur"]
    for period, items in sorted(by_period.items()):
        closes = B._period_bounds(period)[1] + B.INVOICE_DELAY
        invoice = B._digits(period, 10) if closes <= delivered.replace(tzinfo=None) else None
        key = f"{export}/data/BILLING_PERIOD={period}/{export}-00002.snappy.parquet"
        sink = pa.BufferOutputStream()
        pq.write_table(_table(items, invoice), sink, compression="snappy")
        B._put(root / "cur" / key, sink.getvalue().to_pybytes())
    kinds: dict[str, float] = {}
    lobs: dict[str, float] = {}
    for r in rows(first, last):
        ln = r["line"]
        kinds[ln.kind] = round(kinds.get(ln.kind, 0.0) + ln.usd_per_day, 10)
        lobs[f"{ln.lob}|{ln.basis}"] = round(lobs.get(f"{ln.lob}|{ln.basis}", 0.0)
                                             + ln.usd_per_day, 10)  # fmt: skip
    return {"usd_by_kind": kinds, "usd_by_lob_basis": lobs}


def _sku(ln: Line) -> str:
    return hashlib.sha256(f"{ln.product_code}|{ln.usage_type}".encode()).hexdigest()[:16].upper()


def _table(items: list[dict[str, Any]], invoice: str | None) -> pa.Table:
    def col(f: Any) -> list[Any]:
        return [f(r["day"], r["line"]) for r in items]

    start = [datetime.combine(d, datetime.min.time()) for d in col(lambda d, _: d)]
    ids = col(lambda d, ln: hashlib.sha256(f"{d}|{ln.usage_type}".encode()).hexdigest()[:52])
    return pa.table({
        "bill_billing_entity": col(lambda _, ln: "AWS Marketplace" if "Edition" in ln.service
                                   else "AWS"),
        "bill_invoice_id": pa.array([invoice] * len(items), pa.string()),
        "bill_invoicing_entity": [B.AWS_INC] * len(items),
        "bill_payer_account_id": [B.PAYER] * len(items),
        "bill_payer_account_name": [B.PAYER_NAME] * len(items),
        "identity_line_item_id": ids,
        "line_item_currency_code": ["USD"] * len(items),
        "line_item_line_item_type": ["Usage"] * len(items),
        "line_item_net_unblended_cost": col(lambda _, ln: ln.usd_per_day),
        "line_item_unblended_cost": col(lambda _, ln: ln.usd_per_day),
        "line_item_product_code": col(lambda _, ln: ln.product_code),
        "line_item_resource_id": col(lambda _, ln: ln.resource),
        "line_item_iam_principal": pa.array(col(lambda _, ln: ln.principal), pa.string()),
        "line_item_usage_account_id": col(lambda _, ln: ln.account),
        "line_item_usage_account_name": col(lambda _, ln: w.ACCOUNTS[ln.account]),
        "line_item_usage_amount": col(lambda _, ln: ln.quantity),
        "line_item_usage_start_date": pa.array(start, pa.timestamp("ms")),
        "line_item_usage_type": col(lambda _, ln: ln.usage_type),
        "pricing_public_on_demand_cost": col(lambda _, ln: ln.usd_per_day),
        "pricing_public_on_demand_rate": col(lambda _, ln: f"{ln.usd_per_day / ln.quantity:.10f}"),
        "pricing_unit": col(lambda _, ln: ln.unit),
        "product_sku": col(lambda _, ln: _sku(ln)),
        "pricing_rate_id": col(lambda _, ln: f"{_sku(ln)}.{ln.usd_per_day / ln.quantity:.8f}"),
        "product_region_code": ["us-east-1"] * len(items),
        "product": pa.array(col(lambda _, ln: [("product_name", ln.service)]), MAP),
        "resource_tags": pa.array(col(lambda _, ln: list(ln.tags)), MAP),
    })  # fmt: skip
