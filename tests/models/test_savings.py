"""The what-if savings are priced from their basis: hand-computed cases for each suggestion."""

from __future__ import annotations

import polars as pl
import pytest

from models import savings

FACT = {
    "lob": "eng", "app": "kb", "model": "m", "invocations": 100, "est_cost_usd": 10.0,
    "prefix_calls": 100, "hit5_tokens": 600_000, "miss5_tokens": 400_000,
    "hit60_tokens": 900_000, "miss60_tokens": 100_000, "input_per_1m": 1.0,
    "cache_read_per_1m": 0.1, "geo_premium": 0.1, "geo_invocations": 10, "geo_cost_usd": 1.1,
    "retry_invocations": 3, "retry_waste_usd": 0.5, "cut_invocations": 2, "cut_cost_usd": 0.25,
    "blocked_invocations": 1, "blocked_cost_usd": 0.0, "reserved_invocations": 100,
    "max_tokens_sum": 400_000, "reserved_output_tokens": 20_000,
}  # fmt: skip


def test_caching_picks_the_ttl_that_saves_more_from_hits_and_writes():
    out = savings.caching(pl.DataFrame([FACT])).row(0, named=True)
    # 5m: 0.6M x (1 - 0.1) - 0.4M x 0.25 x 1 = 0.54 - 0.10; 1h: 0.81 - 0.1 x 1.0
    assert out["savings_5m_usd"] == pytest.approx(0.44)
    assert out["savings_1h_usd"] == pytest.approx(0.71)
    assert (out["ttl"], out["savings_usd"]) == ("1 hour", pytest.approx(0.71))


def test_caching_leaves_out_a_saving_below_zero():
    rare = FACT | {"hit5_tokens": 0, "miss5_tokens": 1_000_000, "hit60_tokens": 0,
                   "miss60_tokens": 1_000_000}  # fmt: skip
    assert savings.caching(pl.DataFrame([rare])).is_empty()


def _mix(streamed: bool, off: bool, app: str = "a", calls: int = 10, cost: float = 1.0) -> dict:
    return {"lob": "l", "app": app, "model": "m", "streamed": streamed, "off_hours": off,
            "invocations": calls, "input_tokens": 1000 * calls, "output_tokens": 100 * calls,
            "cache_read_tokens": 0, "cache_write_tokens": 0, "est_cost_usd": cost,
            "unpriced_invocations": 0}  # fmt: skip


def test_batch_counts_non_streaming_off_hours_calls_and_tagged_apps():
    rows = [_mix(False, True, cost=4.0), _mix(False, False, calls=2),
            _mix(True, True, app="chat", calls=50), _mix(False, False, app="tag")]  # fmt: skip
    mix = pl.DataFrame(rows)
    out = savings.batch(mix, savings.Assumptions(0.5, 0.3, (0, 6), ("tag",)))
    rows = {r["app"]: r for r in out.iter_rows(named=True)}
    assert set(rows) == {"a", "tag"}  # streamed calls are someone waiting
    assert rows["a"]["batch_savings_usd"] == pytest.approx(2.0)
    assert rows["a"]["flex_savings_usd"] == pytest.approx(1.2)
    assert rows["tag"]["basis"] == "tagged not latency-sensitive"


def test_swap_reprices_the_same_tokens_on_the_target():
    prices = pl.DataFrame({"model": ["t"], "input_per_1m": [0.5], "output_per_1m": [2.0],
                           "cache_read_per_1m": [None], "cache_write_per_1m": [None]})  # fmt: skip
    out = savings.swap(pl.DataFrame([_mix(False, False, cost=0.05)]), prices, "t")
    row = out.row(0, named=True)
    assert row["target_cost_usd"] == pytest.approx((10_000 * 0.5 + 1000 * 2.0) / 1e6)
    assert row["savings_usd"] == pytest.approx(0.05 - 0.007)


def test_cross_region_saves_the_geo_premium_unless_residency_pins_the_lob():
    out = savings.cross_region(pl.DataFrame([FACT]), savings.Assumptions())
    assert out.row(0, named=True)["savings_usd"] == pytest.approx(0.1)
    pinned = savings.cross_region(
        pl.DataFrame([FACT]), savings.Assumptions(residency_lobs=("eng",))
    )
    assert pinned.row(0, named=True)["savings_usd"] == 0 and not pinned["allowed"][0]


def test_waste_adds_retries_cut_answers_and_blocked_calls_and_flags_over_reservation():
    assert savings.waste(pl.DataFrame([FACT])).row(0, named=True)["waste_usd"] == pytest.approx(
        0.75
    )
    over = savings.over_reservation(pl.DataFrame([FACT])).row(0, named=True)
    assert over["ratio"] == pytest.approx(20.0) and over["over_reserved"]
