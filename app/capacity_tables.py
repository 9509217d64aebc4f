"""Column configs and labels for the Capacity & savings page's tables (pure: no warehouse)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from base.settings import Capacity
from models.savings import OVER_RESERVED, READ_FACTOR, WRITE_FACTOR, Assumptions

USD = "$%.2f"


def _usd(label: str, help: str | None = None) -> Any:
    return st.column_config.NumberColumn(label, format=USD, help=help)


def _pct(label: str) -> Any:
    return st.column_config.NumberColumn(label, format="percent")


def _int(label: str) -> Any:
    return st.column_config.NumberColumn(label, format="localized")


BASE = {"lob": "LOB", "app": "Application"}
CACHING = {
    **BASE, "models": "Models", "prefix_calls": _int("Calls with a cacheable prefix"),
    "prefix_tokens": _int("Prefix tokens"), "hit_rate_5m": _pct("Hits, 5-min TTL"),
    "hit_rate_1h": _pct("Hits, 1-hour TTL"), "savings_5m_usd": _usd("Saving, 5-min TTL"),
    "savings_1h_usd": _usd("Saving, 1-hour TTL"), "ttl": "Better TTL",
    "savings_usd": _usd("Saving at the better TTL"),
}  # fmt: skip
BATCH = {
    **BASE, "invocations": _int("Calls"), "movable_calls": _int("Calls nobody waits on"),
    "share": _pct("Share of calls"), "basis": "Why", "cost_usd": _usd("Spend"),
    "movable_cost_usd": _usd("Spend movable"), "batch_savings_usd": _usd("Saving, batch"),
    "flex_savings_usd": _usd("Saving, flex tier"), "tagged": None,
}  # fmt: skip
SWAP = {
    **BASE, "model": "Model today", "invocations": _int("Calls"),
    "input_tokens": _int("Input tokens"), "output_tokens": _int("Output tokens"),
    "cache_read_tokens": _int("Cache read tokens"), "cache_write_tokens": _int("Cache write"),
    "est_cost_usd": _usd("Spend today"), "target_cost_usd": _usd("Spend on the other model"),
    "savings_usd": _usd("Saving (negative: costs more)"),
}  # fmt: skip
CROSS = {
    **BASE, "geo_invocations": _int("Calls through geo profiles"),
    "geo_cost_usd": _usd("Spend through geo profiles"), "premium": _pct("Geo premium"),
    "allowed": st.column_config.CheckboxColumn("Residency allows global"),
    "savings_usd": _usd("Saving with global profiles"),
}  # fmt: skip
WASTE = {
    **BASE, "retry_invocations": _int("Retries in storms"),
    "retry_waste_usd": _usd("Retry storms", "billed retries beyond each request's first answer"),
    "cut_invocations": _int("Answers cut at max_tokens"), "cut_cost_usd": _usd("Cut answers"),
    "blocked_invocations": _int("Guardrail-blocked calls"),
    "blocked_cost_usd": _usd("Blocked calls"), "waste_usd": _usd("Waste in all"),
}  # fmt: skip
RESERVED = {
    "model": "Model", "reserved_invocations": _int("Calls"),
    "mean_max_tokens": _int("Mean max_tokens"), "mean_output_tokens": _int("Mean output"),
    "ratio": st.column_config.NumberColumn("Reserved / generated", format="%.1fx"),
    "over_reserved": st.column_config.CheckboxColumn("Over-reserved"),
    "max_tokens_sum": None, "reserved_output_tokens": None,
}  # fmt: skip


def assumptions(cfg: Capacity) -> Assumptions:
    start, end = cfg.batch_hours_utc  # a pair: settings checks it
    return Assumptions(cfg.batch_discount, cfg.flex_discount, (start, end),
                       tuple(cfg.batch_apps), tuple(cfg.residency_lobs))  # fmt: skip


CACHING_NOTE = (
    "Basis: requests whose cacheable prefix (system prompt or preamble and tool definitions, "
    "hashed at ingest, never stored) is at least 1,024 tokens and that did not use the cache "
    "already. Prefix tokens = input tokens x prefix bytes / request bytes (at most one per two "
    "bytes). A hit is the same prefix from the same account, Region and model within the TTL "
    "before. Priced: a hit at "
    f"the catalog's cache-read price (about {READ_FACTOR:.0%} of input), a miss writes at "
    f"{WRITE_FACTOR['5m']}x input (5-minute TTL) or {WRITE_FACTOR['1h']:.0f}x (1-hour TTL)."
)
SWAP_NOTE = (
    "The same input, output and cache tokens priced at the other model's catalog price. "
    "**Quality is not judged**: run your own evaluation before moving."
)
WASTE_NOTE = (
    "Retry storm: calls repeating the same request (same MD5) from the same app and model, "
    "each within 10 s of the one before, with a throttle or error among them; every billed "
    "call but the request's first answer is waste. Cut: stop reason max_tokens. Blocked: a "
    "guardrail intervened. Each is the calls' own estimated cost."
)


def batch_note(a: Assumptions) -> str:
    return (
        f"Calls that do not stream, made {a.batch_hours[0]:02d}:00-{a.batch_hours[1]:02d}:00 "
        "UTC (capacity.batch_hours_utc) or from applications tagged not latency-sensitive "
        f"(capacity.batch_apps); an untagged app qualifies when most of its calls are such. "
        f"Batch inference at {a.batch_discount:.0%} off (answers within 24 h), the flex tier at "
        f"{a.flex_discount:.0%} off (an assumption: set capacity.flex_discount to your rate)."
    )


def cross_note(a: Assumptions) -> str:
    pinned = ", ".join(a.residency_lobs) or "none"
    return (
        "Geo (us., eu., apac.) cross-Region profiles cost a premium over global. profiles for "
        "the models that have one; the saving is that premium. LOBs whose data must stay in "
        f"its geography (capacity.residency_lobs: {pinned}) keep geo and save nothing."
    )


RESERVED_NOTE = (
    "The tokens-per-minute quota holds a call's max_tokens while it runs; a max_tokens "
    f"{OVER_RESERVED:.0f}x or more above what is generated throttles calls early."
)

RUNWAY = {
    "account_id": "Account", "region": "Region", "model": "Model", "kind": "Quota",
    "quota": _int("Applied quota"), "quota_source": "From",
    "as_of": st.column_config.DateColumn("Data to"),
    "peak_last_7d": _int("Busiest minute, last 7 days"), "used": _pct("Of quota"),
    "forecast_peak": _int("Forecast busiest"), "forecast_hi95": _int("Forecast p95 bound"),
    "days_until_p95": _int("Days until throttling at p95"),
    "crossing_day": st.column_config.DateColumn("Throttling from (p95)"), "method": "Forecast",
}  # fmt: skip
BACKTEST = {
    "account_id": "Account", "region": "Region", "model": "Model",
    "throttle_day": st.column_config.DateColumn("First throttled day"),
    "cutoff_day": st.column_config.DateColumn("Forecast from data to"),
    "predicted_day": st.column_config.DateColumn("It said throttling from"),
    "days_ahead": _int("Days of warning"), "quota": _int("Quota"),
}  # fmt: skip
DRIVERS = {"region": "Region", "model": "Model", "lob": "LOB", "days": _int("Days"),
           "peak_tokens": _int("Tokens in the busiest minutes"),
           "share": _pct("Share of the peak")}  # fmt: skip
LEGACY = {
    **BASE, "model": "LEGACY model", "legacy_on": st.column_config.DateColumn("Legacy since"),
    "end_of_life": st.column_config.DateColumn("Move by"), "successor": "Suggested successor",
    "invocations": _int("Calls"), "est_cost_usd": _usd("Spend"),
}  # fmt: skip
RUNWAY_NOTE = (
    "Busiest minute per day: CloudWatch's EstimatedTPMQuotaUsage (minute Sum) where loaded, "
    "else the logs' input + cache-write + output tokens x the model's burndown (5 for Claude "
    "3.7 Sonnet and later). Quota: Service Quotas (model-catalog job) or capacity.quotas. The "
    "forecast is Prophet on that daily series, its trend carried on where it rises (a rollout "
    "toward the quota) and the series held at its level where it does not; days until "
    "throttling at p95 = the first day its 95% upper bound reaches the quota, within 30 days."
)
BACKTEST_NOTE = (
    "At the first day with 5% of a model's calls throttled, the same forecast run on the data "
    "up to two days before: a warning at least a day ahead when it said throttling by then."
)
LEGACY_NOTE = (
    "Lifecycle from Bedrock's ListFoundationModels (daily model-catalog job); end-of-life "
    "dates from the API or capacity.lifecycle; successors from config, else the built-in "
    "defaults for the common families. Spend is estimated from the logs."
)
