"""Effective rates learned from the bill: the estimate converges on it."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import effective_rates as R

D0 = date(2026, 11, 1)


def line(day: int, cost: float, tokens: float, **key: str) -> dict:
    base = {"model": "m", "token_kind": "input", "cache_ttl": "", "service_tier": "default",
            "pricing_scope": "regional", "region": "us-east-1", "account_id": "1"}  # fmt: skip
    return {"usage_date": D0 + timedelta(days=day), **base, **key, "cost": cost, "tokens": tokens}


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=R.BILL_COLUMNS)


def usage_of(bill: pl.DataFrame) -> pl.DataFrame:
    """Logs that saw exactly the bill's tokens."""
    return bill.with_columns(list_cost=pl.lit(None, pl.Float64)).select(list(R.USAGE_COLUMNS))


def test_the_rate_is_cost_over_tokens_net_of_what_the_bill_carries():
    bill = frame([line(d, 0.97 * 3e-6 * 1000, 1000) for d in range(7)])  # 3% under list
    rates = R.learn(bill, until=D0 + timedelta(days=7), days=7)
    assert rates.height == 1 and rates["per_1m"][0] == pytest.approx(2.91)
    assert (rates["learned_from"][0], rates["learned_to"][0], rates["days"][0]) == (
        D0, D0 + timedelta(days=6), 7)  # fmt: skip


def test_a_price_change_is_learned_from_the_days_since_it():
    bill = frame([line(d, (3.0 if d < 5 else 2.4) * 1e-3, 1000) for d in range(8)])
    rates = R.learn(bill, until=D0 + timedelta(days=8), days=7)
    assert rates["per_1m"][0] == pytest.approx(2400.0 / 1000)
    assert rates["learned_from"][0] == D0 + timedelta(days=5) and rates["days"][0] == 3


def test_tiers_scopes_and_ttls_are_rates_of_their_own():
    bill = frame([
        line(0, 3.0, 1e6), line(0, 5.25, 1e6, service_tier="priority"),
        line(0, 2.7, 1e6, pricing_scope="global"),
        line(0, 6.0, 1e6, token_kind="cache_write", cache_ttl="1h"),
        line(0, 3.75, 1e6, token_kind="cache_write", cache_ttl="5m"),
    ])  # fmt: skip
    rates = R.learn(bill, until=D0 + timedelta(days=1), days=1)
    assert sorted(rates["per_1m"].to_list()) == pytest.approx([2.7, 3.0, 3.75, 5.25, 6.0])


def test_a_key_the_bill_does_not_have_falls_back_to_list_and_says_so():
    rates = R.learn(frame([line(0, 3.0, 1e6)]), until=D0 + timedelta(days=1), days=1)
    usage = pl.DataFrame([line(1, 0, 2e6) | {"list_cost": 6.0},
                          line(1, 0, 1e6, model="new") | {"list_cost": 1.0}],
                         schema=R.USAGE_COLUMNS)  # fmt: skip
    got = R.estimate(usage, rates).sort("model")
    assert got["basis"].to_list() == ["bill", "list"]
    assert got["cost"].to_list() == pytest.approx([6.0, 1.0])


def test_the_backtest_compares_held_out_days_per_model_and_in_total_without_gap_cells():
    bill = frame(
        [line(d, 3.0, 1e6) for d in range(10)]
        + [line(d, 1.0, 1e6, model="n") for d in range(10)]
        + [line(9, 5.0, 1e6, account_id="2")]  # billed, but logging was off
    )
    usage = usage_of(bill.filter(pl.col("account_id") == "1"))
    gap = pl.DataFrame({"usage_date": [D0 + timedelta(days=9)], "account_id": ["2"],
                        "region": ["us-east-1"]})  # fmt: skip
    test = R.backtest(bill, usage, held_from=D0 + timedelta(days=7), held_to=D0 + timedelta(days=9),
                      learn_days=5, settle_days=1, excluded=gap)  # fmt: skip
    assert test["model"].to_list() == ["m", "n", "(total)"]
    assert test["pct"].to_list() == pytest.approx([0.0, 0.0, 0.0])
    assert test["bill_usd"].to_list() == pytest.approx([9.0, 3.0, 12.0])


keys = st.sampled_from(
    [
        ("m1", "input", "", "default"),
        ("m1", "output", "", "default"),
        ("m2", "cache_write", "1h", "flex"),
        ("m2", "input", "", "priority"),
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(keys, st.integers(0, 9), st.floats(0.01, 50), st.floats(1, 1e7)),
        min_size=1, max_size=40,
    ),
    st.integers(1, 10), st.integers(1, 10),
)  # fmt: skip
def test_the_learned_rate_estimate_equals_the_bill_on_the_days_it_was_learned_from(
    lines, until, days
):
    bill = frame([line(d, cost, tokens, model=m, token_kind=k, cache_ttl=t, service_tier=tier)
                  for (m, k, t, tier), d, cost, tokens in lines])  # fmt: skip
    rates = R.learn(bill, until=D0 + timedelta(days=until), days=days)
    for r in rates.iter_rows(named=True):
        key = [pl.col(k) == r[k] for k in R.KEY]
        on = pl.col("usage_date").is_between(r["learned_from"], r["learned_to"])
        billed = bill.filter(*key, on)
        est = R.estimate(usage_of(billed), rates)
        assert est["basis"].unique().to_list() == ["bill"]
        assert est["cost"].sum() == pytest.approx(billed["cost"].sum(), rel=1e-9)
