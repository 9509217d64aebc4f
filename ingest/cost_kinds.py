"""What a Bedrock-family bill line buys (its kind), and whether invocation logs can see it.

Pure function over (service, usage type); the kinds and the fix for each gap in coverage.
Usage types [obs: AWS Price List rows quoted in public code, 2025-26; "assumed" where no real
string was found]:
- tokens: `USE1-NovaPro-input-tokens`, `USE1-MP:USE1_InputTokenCount-Units` (on-demand calls,
  which model invocation logs record);
- batch: `...-batch-input-tokens`, `USE1-MP:USE1_InputTokenCount_Global_Batch-Units`;
- mantle (the bedrock-mantle endpoint, projects with their own ARNs):
  `USE1-xai.grok-4.3-mantle-input-tokens-standard`;
- provisioned (throughput / reserved tier, by the model-unit hour):
  `USE1-Nova2.0Lite-ProvisionedThroughput-NoCommit-ModelUnits`;
- custom_model (training, storage, import, custom-model tokens):
  `USE1-Nova2.0Lite-Customization-Training`, `USE1-Nova2.0Lite-Customization-Storage`,
  `USE1-Nova2.0Lite-input-tokens-custom-model`, `USE1-CustomModelImport-...` [assumed];
- guardrails (text units): `USE1-Guardrail-ContentPolicyUnitsConsumed`,
  `USE1-Guardrail-SensitiveInformationPolicyPaidUnitsConsumed`;
- knowledge_base: `USE1-KnowledgeBase-...` [assumed];
- agentcore (service "Amazon Bedrock AgentCore", vCPU-hours and GB-hours):
  `USE1-Runtime:Consumption-based:vCPU`, `USE1-Runtime:Consumption-based:Memory`;
- marketplace: a "<Model> (Amazon Bedrock Edition)" line that is not tokens (subscription,
  endpoint hours).
"""

from __future__ import annotations

import re

from ingest.cost_usage_types import EDITION, split_region

KINDS = ("tokens", "batch", "mantle", "provisioned", "custom_model", "guardrails",
         "knowledge_base", "agentcore", "marketplace", "other")  # fmt: skip
# Only on-demand token calls reach model invocation logs (and CloudWatch AWS/Bedrock).
LOGGED = {"tokens"}
FIXES = {
    "tokens": "turn on model invocation logging in {regions} (Bedrock settings, per region)",
    "batch": "batch inference writes no invocation logs: tag the batch jobs' role (IAM "
             "principal tags) and include caller identity in the CUR 2.0 export",
    "mantle": "bedrock-mantle calls are not in invocation logs: tag each Mantle project and "
              "read its metrics from AWS/BedrockMantle",
    "provisioned": "provisioned throughput bills by the model-unit hour, not per call: tag the "
                   "provisioned model so its hours go to its LOB",
    "custom_model": "custom-model training, storage and import bill outside any call: tag the "
                    "custom model and its customization jobs",
    "guardrails": "guardrail text units bill per policy, not per model call: tag the guardrail "
                  "or the calling role",
    "knowledge_base": "knowledge-base retrieval bills outside model calls: tag the knowledge base",
    "agentcore": "AgentCore bills vCPU-hours and GB-hours under its own service: tag each "
                 "runtime (its execution role's principal tags also work)",
    "marketplace": "Marketplace edition charges that are not tokens (subscriptions, endpoint "
                   "hours): tag the endpoint",
    "other": "an unrecognised Bedrock usage type: map it in ingest/cost_kinds.py",
}  # fmt: skip
_GUARDRAIL = re.compile(r"guardrail", re.I)


def usage_kind(service: str | None, usage_type: str | None) -> str:
    """The kind of a Bedrock-family line; 'other' when nothing matches."""
    service = service or ""
    _, rest = split_region(usage_type or "")
    flat = rest.lower()
    if "agentcore" in service.lower() or flat.startswith("runtime:") or "agentcore" in flat:
        return "agentcore"
    if "-mantle-" in flat:
        return "mantle"
    if "provisionedthroughput" in flat or "modelunit" in flat:
        return "provisioned"
    if "customization" in flat or "custom-model" in flat or "custommodel" in flat:
        return "custom_model"
    if _GUARDRAIL.search(flat):
        return "guardrails"
    if "knowledgebase" in flat.replace("-", "").replace("_", ""):
        return "knowledge_base"
    if "token" in flat:
        return "batch" if "batch" in flat else "tokens"
    if EDITION in service:
        return "marketplace"
    return "other"
