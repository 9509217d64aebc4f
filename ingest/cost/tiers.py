"""The service tier and prompt-cache TTL a Bedrock bill line's usage type names.

Bedrock names tiers and TTLs as words of the usage type's meter [obs: AWS Price List usage
types, 2025-26]: `…_input_tokens_priority-Units`, `…-output-tokens-flex`,
`…_input_tokens_standard-Units` (the standard tier, which the API calls `default`),
`…_CacheWrite1hInputTokenCount_Global-Units`, and reserved capacity as `…reserved…`. A meter
without a tier word is the standard tier. Kept apart from ingest.cost.usage_types (which says
what model, token kind and scope a line is) so either can change without the other.
"""

from __future__ import annotations

import re

TIER_WORDS = {"priority": "priority", "flex": "flex", "reserved": "reserved"}


def _words(usage_type: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", usage_type.lower()) if w]


def service_tier(usage_type: str | None) -> str:
    """priority | flex | reserved | default (standard, or no tier word)."""
    for word in _words(usage_type or ""):
        if word in TIER_WORDS:
            return TIER_WORDS[word]
        if word.startswith("reserved"):
            return "reserved"
    return "default"


def cache_ttl(usage_type: str | None, token_kind: str) -> str | None:
    """'1h' or '5m' for a cache-write line (5 minutes unless the meter says 1h); else None."""
    if token_kind != "cache_write":
        return None
    flat = re.sub(r"[^a-z0-9]", "", (usage_type or "").lower())
    return (
        "1h"
        if re.search(
            r"cachewrite1h|1hcachewrite|1hinput|ttl1h|cachewrite(?:input)?(?:token)?s?1h", flat
        )
        else "5m"
    )
