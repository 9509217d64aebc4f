"""Every Bedrock-family usage type the bill carries gets a kind (table-driven, with usage-type
strings as AWS writes them), and the classifier still calls each one Bedrock's."""

from __future__ import annotations

import pytest

from ingest.cost.kinds import KINDS, usage_kind
from ingest.cost.usage_types import classify
from models.coverage import FIXES, LOGGED

BEDROCK, AGENTCORE = "Amazon Bedrock", "Amazon Bedrock AgentCore"
HAIKU = "Claude 3 Haiku (Amazon Bedrock Edition)"

TABLE = [
    (BEDROCK, "USE1-NovaPro-input-tokens", "tokens"),
    (BEDROCK, "APN1-NovaLite-cache-read-input-tokens", "tokens"),
    (HAIKU, "USE1-MP:USE1_InputTokenCount-Units", "tokens"),
    (HAIKU, "USE1-MP:USE1_input_tokens_global_standard-Units", "tokens"),
    (HAIKU, "USE1-MP:USE1_InputTokenCount_Global_Batch-Units", "batch"),
    (HAIKU, "USE1-MP:USE1_OutputTokenCount_Batch-Units", "batch"),
    (BEDROCK, "USE1-NovaPro-batch-input-tokens", "batch"),
    (BEDROCK, "USE1-xai.grok-4.3-mantle-input-tokens-standard", "mantle"),
    (BEDROCK, "UGW1-openai.gpt-5.6-terra-mantle-cache-read-tokens-standard", "mantle"),
    (BEDROCK, "USW2-zai.glm5-mantle-input-tokens-priority", "mantle"),
    (BEDROCK, "USE1-qwen.qwen3-next-80b-a3b-instruct-mantle-output-tokens-flex", "mantle"),
    (BEDROCK, "USE1-Nova2.0Lite-ProvisionedThroughput-NoCommit-ModelUnits", "provisioned"),
    (BEDROCK, "USE1-Nova2.0Lite-ProvisionedThroughput-1month-ModelUnits", "provisioned"),
    (BEDROCK, "USE1-Nova2.0Lite-Customization-Training", "custom_model"),
    (BEDROCK, "USE1-Nova2.0Lite-Customization-Storage", "custom_model"),
    (BEDROCK, "USE1-Nova2.0Lite-RFT-Training-Hours", "custom_model"),
    (BEDROCK, "USE1-Nova2.0Lite-input-tokens-custom-model", "custom_model"),
    (BEDROCK, "USE1-CustomModelImport-ModelCopy", "custom_model"),
    (BEDROCK, "USE1-Guardrail-ContentPolicyUnitsConsumed", "guardrails"),
    (BEDROCK, "USE1-Guardrail-SensitiveInformationPolicyPaidUnitsConsumed", "guardrails"),
    (BEDROCK, "USE1-Guardrail-AutomatedReasoningPolicyUnitsConsumed", "guardrails"),
    (BEDROCK, "USE1-Guardrails-Text-Units", "guardrails"),
    (BEDROCK, "USE1-KnowledgeBase-StructuredDataRetrieval", "knowledge_base"),
    (BEDROCK, "USE1-KnowledgeBase-Storage-Hours", "knowledge_base"),
    (AGENTCORE, "USE1-Runtime:Consumption-based:vCPU", "agentcore"),
    (AGENTCORE, "USE1-Runtime:Consumption-based:Memory", "agentcore"),
    (AGENTCORE, "USE1-Gateway:Consumption-based:API-Invocations", "agentcore"),
    (AGENTCORE, "APN1-Memory:Consumption-based:Short-Term-Memory", "agentcore"),
    (AGENTCORE, "USE1-Knowledge-Base:Consumption-based:Retrieval", "agentcore"),
    (HAIKU, "USE1-MP:USE1_SubscriptionFee", "marketplace"),
]


@pytest.mark.parametrize(("service", "usage_type", "kind"), TABLE)
def test_each_bedrock_family_usage_type_has_its_kind(service, usage_type, kind):
    assert usage_kind(service, usage_type) == kind
    assert classify(service, usage_type).bedrock  # kept by the cost ingest


def test_every_kind_has_a_fix_and_only_on_demand_tokens_are_logged():
    assert set(FIXES) == set(KINDS)
    assert {"tokens"} == LOGGED
    assert {k for _, _, k in TABLE} == set(KINDS) - {"other"}
