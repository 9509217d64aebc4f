"""What a Bedrock-family bill line buys (its kind), and whether invocation logs can see it.

Pure function over (service, usage type); models/coverage.py says how to close each gap.
Usage types [obs: AWS Price List rows quoted in public code, 2025-26; "assumed" where no real
string was found]:
- tokens: `USE1-NovaPro-input-tokens`, `USE1-MP:USE1_InputTokenCount-Units` (on-demand calls,
  which model invocation logs record);
- batch: `...-batch-input-tokens`, `USE1-MP:USE1_InputTokenCount_Global_Batch-Units`;
- mantle (the bedrock-mantle endpoint, projects with their own ARNs):
  `USE1-xai.grok-4.3-mantle-input-tokens-standard`;
- provisioned (throughput / reserved tier, by the model-unit hour):
  `USE1-Nova2.0Lite-ProvisionedThroughput-NoCommit-ModelUnits`;
- custom_model (training, reinforcement fine-tuning, storage, import, custom-model tokens):
  `USE1-Nova2.0Lite-Customization-Training`, `USE1-Nova2.0Lite-RFT-Training-Hours`,
  `USE1-Nova2.0Lite-Customization-Storage`, `USE1-Nova2.0Lite-input-tokens-custom-model`,
  `USE1-CustomModelImport-...` [assumed];
- guardrails (text units): `USE1-Guardrail-ContentPolicyUnitsConsumed`,
  `USE1-Guardrail-SensitiveInformationPolicyPaidUnitsConsumed`, `USE1-Guardrails-Text-Units`;
- knowledge_base: `USE1-KnowledgeBase-Storage-Hours` (other KB meters [assumed]);
- agentcore (service "Amazon Bedrock AgentCore", vCPU-hours and GB-hours):
  `USE1-Runtime:Consumption-based:vCPU`, `USE1-Runtime:Consumption-based:Memory`;
- marketplace: a "<Model> (Amazon Bedrock Edition)" line that is not tokens (subscription,
  endpoint hours).
"""

from __future__ import annotations

import re

from ingest.cost.usage_types import EDITION, split_region

KINDS = ("tokens", "batch", "mantle", "provisioned", "custom_model", "guardrails",
         "knowledge_base", "agentcore", "marketplace", "other")  # fmt: skip
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
    if ("customization" in flat or "custom-model" in flat or "custommodel" in flat
            or "rft-training" in flat):  # fmt: skip
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
