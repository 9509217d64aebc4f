"""The daily model-catalog job: each model's lifecycle (Bedrock `ListFoundationModels`) and the
account's applied on-demand quotas (Service Quotas `ListServiceQuotas`, service code
`bedrock`), per configured account and Region, plus what config says where the API is closed.

Both tables are replaced whole in one transaction: a re-run is harmless. A source the job
cannot read (no access, no credentials) fails the run with a one-line reason naming the IAM
action; config entries are still written by the next run that succeeds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl
from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

from base.clock import utcnow
from base.errors import CredentialsError, SourceError
from base.settings import ApiSource, Lifecycle, Settings
from base.stats import RunStats
from ingest import aws
from warehouse.db import insert_frame, transaction

SERVICE_CODE = "bedrock"
# Successors for the common families, used where config names none (config wins). The first
# matching prefix applies. Successors only: end-of-life dates come from the API or config.
DEFAULT_SUCCESSORS = (
    ("anthropic.claude-3-haiku", "anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("anthropic.claude-3-5-haiku", "anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("anthropic.claude-3-sonnet", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("anthropic.claude-3-5-sonnet", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("anthropic.claude-3-7-sonnet", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("anthropic.claude-sonnet-4-2", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("anthropic.claude-3-opus", "anthropic.claude-opus-4-1-20250805-v1:0"),
    ("anthropic.claude-v2", "anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("anthropic.claude-instant", "anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("amazon.titan-text-express", "amazon.nova-lite-v1:0"),
    ("amazon.titan-text-lite", "amazon.nova-micro-v1:0"),
    ("amazon.titan-text-premier", "amazon.nova-pro-v1:0"),
    ("meta.llama3-8b", "meta.llama3-1-8b-instruct-v1:0"),
    ("meta.llama3-70b", "meta.llama3-3-70b-instruct-v1:0"),
    ("meta.llama2", "meta.llama3-1-8b-instruct-v1:0"),
    ("mistral.mistral-large-2402", "mistral.mistral-large-2407-v1:0"),
    ("cohere.command-text", "cohere.command-r-v1:0"),
    ("cohere.command-light-text", "cohere.command-r-v1:0"),
)
_KIND = re.compile(r"\b(tokens|requests) per minute\b", re.I)
QUOTA_COLUMNS: dict[str, Any] = {
    "account_id": pl.String, "region": pl.String, "model": pl.String, "kind": pl.String,
    "value": pl.Float64, "quota_code": pl.String, "quota_name": pl.String,
    "source": pl.String, "read_at": pl.Datetime("us"),
}  # fmt: skip
LIFECYCLE_COLUMNS: dict[str, Any] = {
    "region": pl.String, "model": pl.String, "provider": pl.String, "name": pl.String,
    "status": pl.String, "legacy_on": pl.Date, "end_of_life": pl.Date, "successor": pl.String,
    "source": pl.String, "read_at": pl.Datetime("us"),
}  # fmt: skip


def successor_of(model: str, overrides: Iterable[Lifecycle] = ()) -> str | None:
    for entry in overrides:
        if entry.successor and _matches(model, entry.model):
            return entry.successor
    return next((to for prefix, to in DEFAULT_SUCCESSORS if model.startswith(prefix)), None)


def _matches(model: str, pattern: str) -> bool:
    return model.startswith(pattern[:-1]) if pattern.endswith("*") else model == pattern


def _day(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else None


def lifecycle_rows(summaries: list[dict[str, Any]], region: str, cfg: list[Lifecycle],
                   read_at: datetime) -> list[dict[str, Any]]:  # fmt: skip
    """One row per foundation model in a ListFoundationModels response; config dates win."""
    rows = []
    for m in summaries:
        life = m.get("modelLifecycle") or {}
        model = m["modelId"]
        mine = next((e for e in cfg if _matches(model, e.model)), None)
        rows.append({
            "region": region, "model": model, "provider": m.get("providerName"),
            "name": m.get("modelName"), "status": life.get("status", "ACTIVE"),
            "legacy_on": (mine.legacy_on if mine and mine.legacy_on else None)
            or _day(life.get("legacyTime")),
            "end_of_life": (mine.end_of_life if mine and mine.end_of_life else None)
            or _day(life.get("endOfLifeTime")),
            "successor": successor_of(model, cfg), "source": "bedrock-api", "read_at": read_at,
        })  # fmt: skip
    return rows


def config_lifecycle(cfg: list[Lifecycle], today: date, read_at: datetime) -> list[dict[str, Any]]:
    """Config entries as rows for models no API read covers: LEGACY from their legacy_on day."""
    return [
        {
            "region": "*",
            "model": e.model,
            "provider": None,
            "name": None,
            "status": "LEGACY" if e.legacy_on and e.legacy_on <= today else "ACTIVE",
            "legacy_on": e.legacy_on,
            "end_of_life": e.end_of_life,
            "successor": e.successor or successor_of(e.model),
            "source": "config",
            "read_at": read_at,
        }
        for e in cfg
        if not e.model.endswith("*")
    ]


def quota_rows(quotas: list[dict[str, Any]], summaries: list[dict[str, Any]], region: str,
               account: str | None, read_at: datetime) -> list[dict[str, Any]]:  # fmt: skip
    """Applied on-demand tokens/requests-per-minute quotas, matched to the model they name.

    Bedrock names them "On-demand model inference tokens per minute for Anthropic Claude 3.5
    Haiku" (older ones "On-demand InvokeModel requests per minute for ..."): the model is the
    longest "<provider> <model name>" of ListFoundationModels the name ends with. Cross-region,
    global, batch and other quotas are left out: the runway compares on-demand traffic.
    """
    names = sorted(
        ((f"{m.get('providerName', '')} {m.get('modelName', '')}".strip().lower(), m["modelId"])
         for m in summaries), key=lambda x: -len(x[0]))  # fmt: skip
    rows = []
    for q in quotas:
        name = q.get("QuotaName", "")
        kind = _KIND.search(name)
        if not kind or not name.lower().startswith("on-demand") or " for " not in name:
            continue
        target = name.rsplit(" for ", 1)[1].strip().lower()
        model = next((mid for label, mid in names if target == label), None)
        if model is None or q.get("Value") is None:
            continue
        rows.append({
            "account_id": account, "region": region, "model": model,
            "kind": "tpm" if kind.group(1).lower() == "tokens" else "rpm",
            "value": float(q["Value"]), "quota_code": q.get("QuotaCode"), "quota_name": name,
            "source": "service-quotas", "read_at": read_at,
        })  # fmt: skip
    return rows


def _models(bedrock: Any, what: str) -> list[dict[str, Any]]:
    """ListFoundationModels (one page: the operation is not paginated)."""
    try:
        return list(bedrock.list_foundation_models().get("modelSummaries", []))
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise CredentialsError(aws.no_credentials(what)) from exc
    except ClientError as exc:
        raise aws.access_error(exc, what, "bedrock:ListFoundationModels") from exc


def read_source(src: ApiSource, cfg: list[Lifecycle], read_at: datetime
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """(lifecycle rows, quota rows) of one account and Region, through the AWS API."""
    kw = {"region": src.region, "role_arn": src.role_arn, "endpoint_url": src.endpoint_url}
    bedrock = aws.client("bedrock", **kw)
    quotas = aws.client("service-quotas", **kw)
    return read_clients(bedrock, quotas, cfg, read_at)


def read_clients(bedrock: Any, quotas: Any, cfg: list[Lifecycle], read_at: datetime
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """(lifecycle rows, quota rows) from a bedrock and a service-quotas client of one Region."""
    region = bedrock.meta.region_name
    summaries = _models(bedrock, f"Bedrock models in {region}")
    pages = aws.pages(
        quotas.get_paginator("list_service_quotas").paginate(ServiceCode=SERVICE_CODE),
        f"Service Quotas for Bedrock in {region}", "servicequotas:ListServiceQuotas",
    )  # fmt: skip
    applied = [q for page in pages for q in page.get("Quotas", [])]
    account = next((q["QuotaArn"].split(":")[4] for q in applied if q.get("QuotaArn")), None)
    return (lifecycle_rows(summaries, region, cfg, read_at),
            quota_rows(applied, summaries, region, account, read_at))  # fmt: skip


def run(con: duckdb.DuckDBPyConnection, settings: Settings, **_: Any) -> RunStats:
    """Read every configured source, add config, replace both tables in one transaction."""
    cap, read_at = settings.capacity, utcnow()
    stats = RunStats()
    life: list[dict[str, Any]] = []
    quotas: list[dict[str, Any]] = []
    for src in cap.apis:
        got_life, got_quotas = read_source(src, cap.lifecycle, read_at)
        life += got_life
        quotas += got_quotas
    read = {(r["region"], r["model"], r["kind"]) for r in quotas}
    quotas += [
        {
            "account_id": q.account,
            "region": q.region,
            "model": q.model,
            "kind": kind,
            "value": value,
            "quota_code": None,
            "quota_name": None,
            "source": "config",
            "read_at": read_at,
        }
        for q in cap.quotas
        for kind, value in (("tpm", q.tpm), ("rpm", q.rpm))
        if value is not None and (q.region, q.model, kind) not in read
    ]
    known = {r["model"] for r in life}
    life += [r for r in config_lifecycle(cap.lifecycle, read_at.date(), read_at)
             if r["model"] not in known]  # fmt: skip
    with transaction(con):
        con.execute("DELETE FROM model_lifecycle")
        con.execute("DELETE FROM model_quotas")
        insert_frame(con, "model_lifecycle", pl.DataFrame(life, schema=LIFECYCLE_COLUMNS))
        insert_frame(con, "model_quotas", pl.DataFrame(quotas, schema=QUOTA_COLUMNS))
    stats.records, stats.unit = len(life) + len(quotas), "catalog rows"
    stats.notes.append(f"{len(life)} model lifecycles, {len(quotas)} quotas")
    if cap.apis and not life:
        raise SourceError("ListFoundationModels returned no models: check the Regions in "
                          "[[capacity.apis]]")  # fmt: skip
    return stats
