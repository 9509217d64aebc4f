"""Application inference profiles: which foundation model (and tags) an ARN stands for.

Config entries win; unknown ARNs are asked of Bedrock (GetInferenceProfile and
ListTagsForResource) when allowed, and a failure is recorded as the reason the model is NULL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import duckdb
from botocore.exceptions import BotoCoreError, ClientError

from base.settings import Settings
from ingest import aws

_ARN = re.compile(r"^arn:aws[\w-]*:bedrock:([\w-]+):(\d*):")
ClientFactory = Callable[[str], Any]


def load_configured(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Config entries replace earlier ones, a Bedrock answer or an unresolved row included.

    Unresolved rows stay until something resolves them: the ARN behind one may appear in no
    later batch, and a row deleted here was never written again (the reason its model is NULL
    was lost, and a re-run differed from the first). Each is asked of Bedrock again once per
    run, in the first batch that names it (`resolve_new`).
    """
    con.execute("DELETE FROM inference_profiles WHERE resolved_by = 'config'")
    for p in settings.inference_profiles:
        con.execute(
            "INSERT OR REPLACE INTO inference_profiles VALUES (?, ?, ?, 'config', NULL)",
            [p.arn, _foundation_id(p.model), p.tags],
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE profiles_retry AS "
        "SELECT arn FROM inference_profiles WHERE resolved_by = 'unresolved'"
    )


def resolve_new(
    con: duckdb.DuckDBPyConnection,
    arns: list[str],
    settings: Settings,
    client_for: ClientFactory | None = None,
) -> int:
    """Record every ARN not yet known (resolved through Bedrock, or the reason it is not), and
    ask again for the unresolved ones this run has not retried yet."""
    known = {r[0] for r in con.execute("SELECT arn FROM inference_profiles").fetchall()}
    con.execute("CREATE TEMP TABLE IF NOT EXISTS profiles_retry (arn VARCHAR)")
    retry = {r[0] for r in con.execute("SELECT arn FROM profiles_retry").fetchall()}
    todo = [
        a for a in arns if a not in known or (a in retry and settings.resolve_profiles_with_api)
    ]
    for arn in todo:
        if not settings.resolve_profiles_with_api:
            con.execute(
                "INSERT INTO inference_profiles VALUES (?, NULL, NULL, 'unresolved', ?)",
                [
                    arn,
                    "application inference profile not in [[inference_profiles]] and "
                    "resolve_profiles_with_api = false",
                ],
            )
            continue
        model, tags, error = _ask_bedrock(arn, client_for or client_factory(None))
        con.execute(
            "INSERT OR REPLACE INTO inference_profiles VALUES (?, ?, ?, ?, ?)",
            [arn, model, tags, "bedrock-api" if model else "unresolved", error],
        )
    con.execute("DELETE FROM profiles_retry WHERE arn IN (SELECT unnest(?::VARCHAR[]))", [todo])
    return len(todo)


def client_factory(role_arn: str | None) -> ClientFactory:
    """Bedrock clients as the source's role: its profiles live in the account it reads."""
    return lambda region: aws.client("bedrock", region=region, role_arn=role_arn)


def _ask_bedrock(arn: str, client_for: ClientFactory) -> tuple[str | None, dict | None, str | None]:
    m = _ARN.match(arn)
    if not m:
        return None, None, f"{arn} is not a Bedrock ARN"
    try:
        bedrock = client_for(m.group(1))
        prof = bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
        models = [_foundation_id(x["modelArn"]) for x in prof.get("models", [])]
        tags_resp = bedrock.list_tags_for_resource(resourceARN=arn)
        tags = {t["key"]: t["value"] for t in tags_resp.get("tags", [])}
    except ClientError as exc:
        return (
            None,
            None,
            (
                f"Bedrock GetInferenceProfile failed ({aws.error_code(exc)}); "
                "grant bedrock:GetInferenceProfile or list the profile under "
                "[[inference_profiles]]"
            ),
        )
    except BotoCoreError as exc:
        return None, None, f"Bedrock GetInferenceProfile failed: {exc}"
    if not models:
        return None, tags, "the inference profile lists no models"
    return models[0], tags, None


def _foundation_id(model: str) -> str:
    """`arn:…:foundation-model/x` or a geo-prefixed profile id -> the foundation model id."""
    model = model.rsplit("/", 1)[-1] if model.startswith("arn:") else model
    return re.sub(r"^(us|eu|apac|global|us-gov|jp|au|ca|ap)\.", "", model)
