"""LOB attribution: config rules, first match wins, evaluated once per distinct caller key.

A key is (account, identity ARN, model id, the request-metadata keys rules look at); even
billions of invocations have few of them, so rules run in Python with the same glob
semantics everywhere, and `reattribute` re-runs them over history cheaply.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from base.settings import Attribution, Rule, glob_match

UNATTRIBUTED = "unattributed"
_ASSUMED = re.compile(r"^arn:(aws[\w-]*):sts::(\d*):assumed-role/([^/]+)/.+$")
_NAME = re.compile(r":(?:role|user)/(?:.*/)?([^/]+)$")


@dataclass(frozen=True)
class Attributed:
    lob: str
    app: str | None
    rule: int | None
    principal_arn: str | None


def principal_of(identity_arn: str | None) -> str | None:
    """An assumed-role session ARN as the role ARN it came from; other ARNs as they are."""
    if not identity_arn:
        return None
    m = _ASSUMED.match(identity_arn)
    return f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}" if m else identity_arn


def metadata_keys(cfg: Attribution) -> list[str]:
    keys = {cfg.app_metadata_key}
    for rule in cfg.rules:
        keys.update(rule.request_metadata or {})
    return sorted(keys)


def _matches(
    rule: Rule,
    account: str | None,
    identity: str | None,
    principal: str | None,
    model_id: str | None,
    md: dict[str, str],
    tags: dict[str, str],
) -> bool:
    if rule.request_metadata is not None:
        return all(glob_match(md.get(k), v) for k, v in rule.request_metadata.items())
    if rule.inference_profile is not None:
        return glob_match(model_id, rule.inference_profile)
    if rule.profile_tag is not None:
        return bool(tags) and all(glob_match(tags.get(k), v) for k, v in rule.profile_tag.items())
    if rule.principal is not None:
        return glob_match(identity, rule.principal) or glob_match(principal, rule.principal)
    return glob_match(account, rule.account or "")


def attribute(
    cfg: Attribution,
    account: str | None,
    identity: str | None,
    model_id: str | None,
    md: dict[str, str] | None,
    profile_tags: dict[str, dict[str, str]],
) -> Attributed:
    md = md or {}
    tags = profile_tags.get(model_id or "", {})
    principal = principal_of(identity)
    fallback_app = md.get(cfg.app_metadata_key) or tags.get(cfg.app_tag_key)
    if fallback_app is None and principal:
        m = _NAME.search(principal)
        fallback_app = m.group(1) if m else None
    for idx, rule in enumerate(cfg.rules):
        if _matches(rule, account, identity, principal, model_id, md, tags):
            return Attributed(rule.lob, rule.app or fallback_app, idx, principal)
    return Attributed(UNATTRIBUTED, fallback_app, None, principal)


def profile_tags(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    rows = con.execute("SELECT arn, tags FROM inference_profiles WHERE tags IS NOT NULL")
    return {arn: dict(tags) for arn, tags in rows.fetchall()}


def attribution_frame(
    cfg: Attribution, keys: list[tuple[Any, ...]], tags: dict[str, dict[str, str]]
) -> pl.DataFrame:
    """(attr_key, account, identity, model_id, metadata) rows -> attribution per key."""
    out: dict[str, list[Any]] = {
        "attr_key": [],
        "lob": [],
        "app": [],
        "rule": [],
        "principal_arn": [],
    }
    for attr_key, account, identity, model_id, md in keys:
        md_dict = dict(md) if md else None
        if isinstance(md, str):
            md_dict = json.loads(md)
        a = attribute(cfg, account, identity, model_id, md_dict, tags)
        for col, val in zip(out, (attr_key, a.lob, a.app, a.rule, a.principal_arn), strict=True):
            out[col].append(val)
    return pl.DataFrame(
        out,
        schema={
            "attr_key": pl.UInt64,
            "lob": pl.Utf8,
            "app": pl.Utf8,
            "rule": pl.Int32,
            "principal_arn": pl.Utf8,
        },
    )
