"""Which bill lines are Amazon Bedrock, and what model, token kind and scope each one is.

Pure functions over (service, usage type, product code): no I/O beyond the small mapping file
ingest/cost/data/bedrock_cost_models.csv, read once.

Two families of usage types [obs: AWS Price List, public CUR samples]:
- first-party models under SERVICE "Amazon Bedrock": `<REG>-<Model>-<meter>`, e.g.
  `USE1-NovaPro-input-tokens`, `APN1-NovaLite-cache-read-input-tokens`;
- Marketplace models under SERVICE "<Model> (Amazon Bedrock Edition)":
  `<REG>-MP:<REG>_<meter>-Units`, with an older CamelCase generation
  (`InputTokenCount`, `CacheReadInputTokenCount_Global`, `OutputTokenCount_Batch`) and a
  newer snake_case one (`input_tokens_standard`, `cache_read_tokens_global_standard`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODELS_CSV = Path(__file__).parent / "data" / "bedrock_cost_models.csv"
EDITION = " (Amazon Bedrock Edition)"
# Billing region prefixes (the ones AWS uses in usage types); us-east-1 may carry none.
REGIONS = {
    "USE1": "us-east-1", "USE2": "us-east-2", "USW1": "us-west-1", "USW2": "us-west-2",
    "CAN1": "ca-central-1", "SAE1": "sa-east-1", "EU": "eu-west-1", "EUW2": "eu-west-2",
    "EUW3": "eu-west-3", "EUC1": "eu-central-1", "EUC2": "eu-central-2", "EUN1": "eu-north-1",
    "EUS1": "eu-south-1", "EUS2": "eu-south-2", "APN1": "ap-northeast-1",
    "APN2": "ap-northeast-2", "APN3": "ap-northeast-3", "APS1": "ap-southeast-1",
    "APS2": "ap-southeast-2", "APS3": "ap-south-1", "APS4": "ap-southeast-3",
    "APS5": "ap-south-2", "APE1": "ap-east-1", "MES1": "me-south-1", "MEC1": "me-central-1",
    "AFS1": "af-south-1", "ILC1": "il-central-1", "UGW1": "us-gov-west-1",
    "UGE1": "us-gov-east-1",
}  # fmt: skip
_PREFIX = re.compile(r"^([A-Z]{2,4}\d?)-(.+)$")
_MARKETPLACE = re.compile(r"MP:(?:[A-Z]{2,4}\d?_)?(?P<meter>.+?)(?:-Units)?$")
# Words that start the meter part of a first-party usage type (after the model token).
_METER_WORDS = {"input", "output", "cache", "batch", "global", "cross", "priority", "flex"}


@dataclass(frozen=True)
class UsageClass:
    bedrock: bool
    model: str | None
    token_kind: str  # input | output | cache_read | cache_write | other
    pricing_scope: str | None  # regional | global | batch | None (not tokens)
    region: str | None


@cache
def _models() -> dict[tuple[str, str], str]:
    with MODELS_CSV.open() as f:
        rows = csv.DictReader(ln for ln in f if not ln.startswith("#"))
        return {(r["kind"], _norm(r["name"])): r["model"] for r in rows}


def _norm(name: str) -> str:
    # "+" is kept: "Command R+" and "Command R" are two models.
    return re.sub(r"[^a-z0-9.+]", "", name.lower())


def model_of_service(service: str | None) -> str | None:
    """'Claude 3 Haiku (Amazon Bedrock Edition)' -> anthropic.claude-3-haiku-20240307-v1:0."""
    if not service or EDITION not in service:
        return None
    return _models().get(("service", _norm(service.replace(EDITION, ""))))


def split_region(usage_type: str) -> tuple[str | None, str]:
    """('us-east-1', 'NovaPro-input-tokens') from 'USE1-NovaPro-input-tokens'."""
    m = _PREFIX.match(usage_type)
    if m and m.group(1) in REGIONS:
        return REGIONS[m.group(1)], m.group(2)
    return None, usage_type


def meter_kind(meter: str) -> tuple[str, str | None]:
    """(token kind, pricing scope) of a meter in either generation; ('other', None) if no tokens."""
    flat = re.sub(r"[^a-z0-9]", "", meter.lower())
    if "token" not in flat:
        return "other", None
    if "cacheread" in flat:
        kind = "cache_read"
    elif "cachewrite" in flat:
        kind = "cache_write"
    elif flat.startswith("input") or "inputtoken" in flat:
        kind = "input"
    elif flat.startswith("output") or "outputtoken" in flat:
        kind = "output"
    else:
        kind = "other"
    scope = "batch" if "batch" in flat else "global" if "global" in flat else "regional"
    return kind, scope


def _first_party(rest: str) -> tuple[str | None, str]:
    """(model token, meter) of 'NovaPro-input-tokens'; (None, rest) when no meter word."""
    parts = rest.split("-")
    for i in range(1, len(parts)):
        if parts[i].lower() in _METER_WORDS:
            return "-".join(parts[:i]), "-".join(parts[i:])
    return None, rest


def classify(
    service: str | None, usage_type: str | None, product_code: str | None = None
) -> UsageClass:
    """Classify one bill line; `bedrock` is False for spend that is not Bedrock's."""
    usage_type = usage_type or ""
    region, rest = split_region(usage_type)
    named_bedrock = "bedrock" in (service or "").lower() or product_code == "AmazonBedrock"
    mp = _MARKETPLACE.search(rest)
    if mp:
        kind, scope = meter_kind(mp.group("meter"))
        bedrock = named_bedrock or kind != "other"
        return UsageClass(bedrock, model_of_service(service), kind, scope, region)
    token, meter = _first_party(rest)
    kind, scope = meter_kind(meter)
    model = _models().get(("usage", _norm(token))) if token else None
    bedrock = named_bedrock or (model is not None and kind != "other")
    return UsageClass(bedrock, model or model_of_service(service), kind, scope, region)
