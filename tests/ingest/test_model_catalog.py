"""The model-catalog job reads ListFoundationModels and ListServiceQuotas in their real
response shapes (botocore's Stubber validates every response against the service model),
matches quotas to models, and keeps config where the API is closed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import boto3
import pytest
from botocore.stub import Stubber

from base.errors import SourceError
from base.settings import Lifecycle, Settings
from ingest import model_catalog

READ_AT = datetime(2026, 12, 1, 6)
ACCOUNT = "111122223333"
HAIKU3, HAIKU35 = (
    "anthropic.claude-3-haiku-20240307-v1:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
)


def summary(model_id: str, provider: str, name: str, status: str = "ACTIVE", **life: datetime):
    return {
        "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
        "modelId": model_id, "modelName": name, "providerName": provider,
        "inputModalities": ["TEXT"], "outputModalities": ["TEXT"],
        "responseStreamingSupported": True, "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND"],
        "modelLifecycle": {"status": status, **life},
    }  # fmt: skip


def quota(code: str, name: str, value: float) -> dict:
    return {
        "ServiceCode": "bedrock", "ServiceName": "Amazon Bedrock",
        "QuotaArn": f"arn:aws:servicequotas:us-east-1:{ACCOUNT}:bedrock/{code}",
        "QuotaCode": code, "QuotaName": name, "Value": value, "Unit": "None",
        "Adjustable": True, "GlobalQuota": False,
    }  # fmt: skip


MODELS = [
    summary(HAIKU3, "Anthropic", "Claude 3 Haiku", "LEGACY",
            legacyTime=datetime(2025, 9, 1, tzinfo=UTC),
            endOfLifeTime=datetime(2026, 3, 1, tzinfo=UTC)),
    summary(HAIKU35, "Anthropic", "Claude 3.5 Haiku"),
]  # fmt: skip
PAGE_1 = [
    quota("L-A1", "On-demand model inference tokens per minute for Anthropic Claude 3.5 Haiku",
          400_000.0),
    quota("L-A2", "Cross-region model inference tokens per minute for Anthropic Claude 3.5 Haiku",
          800_000.0),
]  # fmt: skip
PAGE_2 = [
    quota("L-B1", "On-demand model inference requests per minute for Anthropic Claude 3 Haiku",
          1000.0),
    quota("L-B2", "Batch inference job size (in GB) for Claude 3 Haiku", 5.0),
]  # fmt: skip


@pytest.fixture
def stubbed():
    bedrock = boto3.client("bedrock", region_name="us-east-1")
    quotas = boto3.client("service-quotas", region_name="us-east-1")
    with Stubber(bedrock) as b, Stubber(quotas) as q:
        yield bedrock, quotas, b, q


def test_lifecycle_and_applied_quotas_from_the_real_response_shapes(stubbed):
    bedrock, quotas, b, q = stubbed
    b.add_response("list_foundation_models", {"modelSummaries": MODELS})
    q.add_response("list_service_quotas", {"Quotas": PAGE_1, "NextToken": "t1"},
                   {"ServiceCode": "bedrock"})  # fmt: skip
    q.add_response("list_service_quotas", {"Quotas": PAGE_2},
                   {"ServiceCode": "bedrock", "NextToken": "t1"})  # fmt: skip
    life, applied = model_catalog.read_clients(bedrock, quotas, [], READ_AT)
    by_model = {r["model"]: r for r in life}
    assert by_model[HAIKU3]["status"] == "LEGACY"
    assert by_model[HAIKU3]["legacy_on"] == date(2025, 9, 1)
    assert by_model[HAIKU3]["end_of_life"] == date(2026, 3, 1)
    assert by_model[HAIKU3]["successor"] == "anthropic.claude-haiku-4-5-20251001-v1:0"
    assert by_model[HAIKU35]["status"] == "ACTIVE" and by_model[HAIKU35]["end_of_life"] is None
    got = {(r["model"], r["kind"]): r["value"] for r in applied}
    # both pages read; cross-region and batch quotas left out
    assert got == {(HAIKU35, "tpm"): 400_000.0, (HAIKU3, "rpm"): 1000.0}
    assert {r["account_id"] for r in applied} == {ACCOUNT}
    b.assert_no_pending_responses()
    q.assert_no_pending_responses()


def test_config_dates_and_successor_win_over_the_api(stubbed):
    bedrock, quotas, b, q = stubbed
    b.add_response("list_foundation_models", {"modelSummaries": MODELS})
    q.add_response("list_service_quotas", {"Quotas": []}, {"ServiceCode": "bedrock"})
    cfg = [Lifecycle(model="anthropic.claude-3-*", end_of_life=date(2026, 1, 15),
                     successor="amazon.nova-lite-v1:0")]  # fmt: skip
    life, _ = model_catalog.read_clients(bedrock, quotas, cfg, READ_AT)
    haiku = next(r for r in life if r["model"] == HAIKU3)
    assert (haiku["end_of_life"], haiku["successor"]) == (
        date(2026, 1, 15),
        "amazon.nova-lite-v1:0",
    )


def test_access_denied_names_the_iam_action(stubbed):
    bedrock, quotas, b, q = stubbed
    b.add_client_error("list_foundation_models", "AccessDeniedException", http_status_code=403)
    with pytest.raises(SourceError, match="bedrock:ListFoundationModels"):
        model_catalog.read_clients(bedrock, quotas, [], READ_AT)
    b.add_response("list_foundation_models", {"modelSummaries": MODELS})
    q.add_client_error("list_service_quotas", "AccessDeniedException", http_status_code=403)
    with pytest.raises(SourceError, match="servicequotas:ListServiceQuotas"):
        model_catalog.read_clients(bedrock, quotas, [], READ_AT)


def test_without_api_access_the_job_writes_config_quotas_and_lifecycle(warehouse):
    settings = Settings(capacity={
        "quotas": [{"model": HAIKU35, "region": "us-east-1", "account": ACCOUNT, "tpm": 400000,
                    "rpm": 400}],
        "lifecycle": [{"model": HAIKU3, "legacy_on": "2025-09-01", "end_of_life": "2026-03-01"}],
    })  # fmt: skip
    stats = model_catalog.run(warehouse, settings)
    assert stats.records == 3
    assert warehouse.execute(
        "SELECT account_id, model, kind, value, source FROM model_quotas ORDER BY kind"
    ).fetchall() == [
        (ACCOUNT, HAIKU35, "rpm", 400.0, "config"),
        (ACCOUNT, HAIKU35, "tpm", 400000.0, "config"),
    ]
    row = warehouse.execute("SELECT status, end_of_life, successor FROM model_lifecycle").fetchone()
    assert row == ("LEGACY", date(2026, 3, 1), "anthropic.claude-haiku-4-5-20251001-v1:0")
    model_catalog.run(warehouse, settings)  # a re-run replaces, never duplicates
    assert warehouse.execute("SELECT count(*) FROM model_quotas").fetchone()[0] == 2
