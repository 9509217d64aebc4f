"""Every way Bedrock prices a call differently, as the catalog's data: service tiers, cache
TTLs (in both body shapes), scopes, latency-optimised and long-context calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import factories as F
import pytest

from base.settings import PriceRule, Settings
from ingest.invocation_logs import ingester as invocation_logs
from ingest.invocation_logs import pricing

SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"  # 3 / 15, cache 0.30 / 3.75, geo +10%
HAIKU35 = "anthropic.claude-3-5-haiku-20241022-v1:0"  # 0.80 / 4.00; optimized 1.25x
WHEN = "2025-12-01T08:00:00Z"


def load(warehouse: Any, tmp_path: Path, records: list[Any], **settings: Any) -> dict[str, dict]:
    root = tmp_path / "landing"
    F.land(root, records)
    cfg = Settings(resolve_profiles_with_api=False, **settings)
    invocation_logs.run(warehouse, cfg, landing=str(root))
    cur = warehouse.execute("SELECT * FROM invocations")
    cols = [d[0] for d in cur.description]
    return {row[0]: dict(zip(cols, row, strict=True)) for row in cur.fetchall()}


def tokens(n_in: int, n_out: int = 0, **extra: Any) -> dict[str, Any]:
    return F.deep_merge(F.token_counts(n_in, n_out), {"timestamp": WHEN, **extra})


def test_the_tier_is_read_from_the_response_then_the_request_and_absent_is_default(
    warehouse, tmp_path
):
    served = F.converse(modelId=SONNET45, **tokens(1000, output={"outputBodyJson": {
        "serviceTier": {"type": "flex"}}}))  # fmt: skip
    asked = F.converse(modelId=SONNET45, **tokens(1000, input={"inputBodyJson": {
        "serviceTier": {"type": "priority"}}}))  # fmt: skip
    header = F.invoke_model(modelId=SONNET45, serviceTier="priority", **tokens(1000))
    plain = F.converse(modelId=SONNET45, **tokens(1000))
    rows = load(warehouse, tmp_path, [served, asked, header, plain])
    tier = {k: r["service_tier"] for k, r in rows.items()}
    assert tier[served["requestId"]] == "flex"
    assert tier[asked["requestId"]] == "priority"
    assert tier[header["requestId"]] == "priority"
    assert tier[plain["requestId"]] == "default"


def test_each_tier_is_priced_by_its_rule_and_reserved_calls_are_not_priced_again(
    warehouse, tmp_path
):
    recs = {
        t: F.converse(modelId="global." + SONNET45, **tokens(100_000, 10_000,
                      output={"outputBodyJson": {"serviceTier": {"type": t}}}))
        for t in ("default", "priority", "flex", "reserved")
    }  # fmt: skip
    rows = load(warehouse, tmp_path, list(recs.values()))
    cost = {t: rows[r["requestId"]]["est_cost_usd"] for t, r in recs.items()}
    standard = (100_000 * 3 + 10_000 * 15) / 1e6
    assert cost["default"] == pytest.approx(standard)
    assert cost["priority"] == pytest.approx(standard * 1.75)
    assert cost["flex"] == pytest.approx(standard * 0.5)
    assert cost["reserved"] == 0  # the reservation's monthly charge pays for it
    assert rows[recs["reserved"]["requestId"]]["price_basis"] == "reserved"


def test_an_unknown_tier_is_unpriced_not_free(warehouse, tmp_path):
    rec = F.converse(modelId=SONNET45, **tokens(1000,
                     output={"outputBodyJson": {"serviceTier": {"type": "turbo"}}}))  # fmt: skip
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert row["service_tier"] == "turbo"
    assert row["est_cost_usd"] is None and row["price_basis"] is None


def converse_cached(total: int, one_hour: int) -> dict[str, Any]:
    body = {
        "usage": {
            "cacheWriteInputTokens": total,
            "cacheDetails": [
                {"ttl": "5m", "inputTokens": total - one_hour},
                {"ttl": "1h", "inputTokens": one_hour},
            ],
        }
    }
    return F.converse(modelId="global." + SONNET45, timestamp=WHEN,
                      input={"inputTokenCount": 0, "cacheReadInputTokenCount": 0,
                             "cacheWriteInputTokenCount": total},
                      output={"outputTokenCount": 0, "outputBodyJson": body})  # fmt: skip


def anthropic_cached(total: int, one_hour: int, stream: bool) -> dict[str, Any]:
    usage = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": total,
             "cache_creation": {"ephemeral_5m_input_tokens": total - one_hour,
                                "ephemeral_1h_input_tokens": one_hour}}  # fmt: skip
    counts = {"inputTokenCount": 0, "cacheWriteInputTokenCount": total}
    if stream:
        rec = F.invoke_stream(modelId="global." + SONNET45, timestamp=WHEN, input=counts,
                              output={"outputTokenCount": 0})  # fmt: skip
        rec["output"]["outputBodyJson"][0]["message"]["usage"] = usage
        return rec
    return F.invoke_model(
        modelId="global." + SONNET45,
        timestamp=WHEN,
        input=counts,
        output={"outputTokenCount": 0, "outputBodyJson": {"usage": usage}},
    )


@pytest.mark.parametrize("shape", ["converse", "anthropic", "anthropic-stream"])
def test_cache_writes_are_split_by_ttl_and_each_priced(warehouse, tmp_path, shape):
    # The 225,913-token cache write of the issue: 200,000 of it for an hour.
    rec = {
        "converse": lambda: converse_cached(225_913, 200_000),
        "anthropic": lambda: anthropic_cached(225_913, 200_000, stream=False),
        "anthropic-stream": lambda: anthropic_cached(225_913, 200_000, stream=True),
    }[shape]()
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert (row["cache_write_5m_tokens"], row["cache_write_1h_tokens"]) == (25_913, 200_000)
    assert row["cache_write_tokens"] == 225_913
    # 5m at 1.25x input (3.75), 1h at 2x input (6.00); 225,913 tokens are long context for
    # Sonnet 4.5 (>= 200K), whose input side costs 2x.
    assert row["est_cost_usd"] == pytest.approx((25_913 * 3.75 + 200_000 * 6.00) * 2 / 1e6)


def test_without_a_body_every_cache_write_is_five_minutes(warehouse, tmp_path):
    rec = F.converse(modelId="global." + SONNET45, timestamp=WHEN,
                     input={"inputTokenCount": 0, "cacheReadInputTokenCount": 0,
                            "cacheWriteInputTokenCount": 1000, "inputBodyJson": ...},
                     output={"outputTokenCount": 0, "outputBodyJson": ...})  # fmt: skip
    row = load(warehouse, tmp_path, [rec])[rec["requestId"]]
    assert (row["cache_write_5m_tokens"], row["cache_write_1h_tokens"]) == (1000, 0)
    assert row["est_cost_usd"] == pytest.approx(1000 * 3.75 / 1e6)


def test_bodies_stay_out_of_the_warehouse_while_their_usage_is_kept(warehouse, tmp_path):
    rec = converse_cached(5000, 3000)
    load(warehouse, tmp_path, [rec])
    texts = warehouse.execute("SELECT count(*) FROM invocation_text").fetchone()[0]
    assert texts == 0  # capture is off: no prompt or response text is stored
    dump = str(warehouse.execute("SELECT * FROM invocations").fetchall())
    assert "Summarise this" not in dump and "cacheDetails" not in dump


def test_scope_geo_and_in_region_pay_the_premium_global_does_not(warehouse, tmp_path):
    made = {
        scope: F.converse(modelId=prefix + SONNET45, **tokens(100_000))
        for scope, prefix in (("global", "global."), ("us", "us."), ("eu", "eu."),
                              ("apac", "apac."), ("jp", "jp."), ("au", "au."), ("in-region", ""))
    }  # fmt: skip
    rows = load(warehouse, tmp_path, list(made.values()))
    cost = {s: rows[r["requestId"]]["est_cost_usd"] for s, r in made.items()}
    assert cost.pop("global") == pytest.approx(0.30)
    assert all(c == pytest.approx(0.33) for c in cost.values()), cost


def test_latency_optimised_calls_cost_the_models_optimised_rate(warehouse, tmp_path):
    fast = F.converse(
        modelId=HAIKU35,
        **tokens(
            1_000_000,
            1_000_000,
            input={"inputBodyJson": {"performanceConfig": {"latency": "optimized"}}},
        ),
    )
    top = F.invoke_model(modelId=HAIKU35, performanceConfig={"latency": "optimized"},
                         **tokens(1_000_000, 1_000_000))  # fmt: skip
    slow = F.converse(modelId=HAIKU35, **tokens(1_000_000, 1_000_000))
    rows = load(warehouse, tmp_path, [fast, top, slow])
    assert rows[fast["requestId"]]["latency_mode"] == "optimized"
    assert rows[fast["requestId"]]["est_cost_usd"] == pytest.approx(1.00 + 5.00)
    assert rows[top["requestId"]]["est_cost_usd"] == pytest.approx(1.00 + 5.00)
    assert rows[slow["requestId"]]["est_cost_usd"] == pytest.approx(0.80 + 4.00)


def test_long_context_rates_apply_from_the_models_threshold(warehouse, tmp_path):
    short = F.converse(modelId="global." + SONNET45, **tokens(199_999, 1000))
    long_ = F.converse(modelId="global." + SONNET45, **tokens(200_000, 1000))
    haiku = F.converse(modelId=HAIKU35, **tokens(200_000, 1000))  # no long-context rate
    rows = load(warehouse, tmp_path, [short, long_, haiku])
    assert rows[short["requestId"]]["est_cost_usd"] == pytest.approx(
        (199_999 * 3 + 1000 * 15) / 1e6
    )
    assert rows[long_["requestId"]]["est_cost_usd"] == pytest.approx(
        (200_000 * 6 + 1000 * 22.5) / 1e6
    )
    assert rows[haiku["requestId"]]["est_cost_usd"] == pytest.approx(
        (200_000 * 0.8 + 1000 * 4) / 1e6
    )


def test_batch_is_half_of_on_demand_in_the_rules_data():
    rules = {(r.rule, r.value, r.model): r for r, _ in pricing.rule_rows()}
    batch = rules[("mode", "batch", "*")]
    assert (batch.input_factor, batch.output_factor) == (0.5, 0.5)


def test_a_configured_rule_wins_over_the_shipped_one(warehouse, tmp_path):
    rec = F.converse(
        modelId="global." + SONNET45,
        **tokens(100_000, output={"outputBodyJson": {"serviceTier": {"type": "priority"}}}),
    )
    rule = PriceRule(rule="tier", value="priority", input_factor=1.5, output_factor=1.5)
    row = load(warehouse, tmp_path, [rec], price_rules=[rule])[rec["requestId"]]
    assert row["est_cost_usd"] == pytest.approx(0.30 * 1.5)


def test_current_and_legacy_models_of_real_logs_are_priced(warehouse, tmp_path):
    recent = {"timestamp": "2026-11-02T09:00:00Z"}
    recs = [F.converse(modelId=m, **tokens(1000, 100, **recent)) for m in (
        "us.anthropic.claude-opus-4-6-v1", "global.anthropic.claude-opus-4-7",
        "anthropic.claude-v2:1", "global.anthropic.claude-sonnet-4-6")]  # fmt: skip
    rows = load(warehouse, tmp_path, recs)
    assert all(r["est_cost_usd"] and r["est_cost_usd"] > 0 for r in rows.values()), rows


def test_fresh_invocations_are_priced_at_the_rate_learned_from_the_bill(warehouse, tmp_path):
    # What `models run` learned: this organisation pays 2.70 per 1M input tokens of Sonnet 4.5
    # on global profiles in us-east-1 (a discount the catalog does not know); no output line.
    warehouse.execute(
        "INSERT INTO effective_rates VALUES (?, 'input', '', 'default', 'global', 'us-east-1', "
        "2.70, 'net', DATE '2025-11-20', DATE '2025-11-26', 7, 1e9, 2700, now()::TIMESTAMP)",
        [SONNET45],
    )
    both = F.converse(modelId="global." + SONNET45, **tokens(100_000, 10_000))
    only_in = F.converse(modelId="global." + SONNET45, **tokens(100_000))
    geo = F.converse(modelId="us." + SONNET45, **tokens(100_000))  # regional: no learned rate
    rows = load(warehouse, tmp_path, [both, only_in, geo])
    assert rows[only_in["requestId"]]["est_cost_usd"] == pytest.approx(0.27)
    assert rows[only_in["requestId"]]["price_basis"] == "bill"
    assert rows[both["requestId"]]["est_cost_usd"] == pytest.approx(0.27 + 10_000 * 15 / 1e6)
    assert rows[both["requestId"]]["price_basis"] == "bill+list"
    assert rows[geo["requestId"]]["est_cost_usd"] == pytest.approx(0.33)
    assert rows[geo["requestId"]]["price_basis"] == "list"


def test_a_call_without_tokens_of_an_unknown_model_or_tier_is_still_unpriced(warehouse, tmp_path):
    none = {"input": {"inputTokenCount": 0}, "timestamp": WHEN}
    throttled = F.error_record(modelId="ai21.jamba-1-5-large-v1:0", **none)
    odd_tier = F.converse(modelId=SONNET45, **tokens(0, output={"outputTokenCount": 0,
                          "outputBodyJson": {"serviceTier": {"type": "turbo"}}}))  # fmt: skip
    known = F.error_record(modelId=SONNET45, **none)
    rows = load(warehouse, tmp_path, [throttled, odd_tier, known])
    assert rows[throttled["requestId"]]["est_cost_usd"] is None
    assert rows[odd_tier["requestId"]]["est_cost_usd"] is None
    assert rows[known["requestId"]]["est_cost_usd"] == 0  # a known price of no tokens
