"""Allocation: every bill line's shares add up to that line exactly at the bill's precision
(1e-10 USD), whatever the bill and the usage look like; a line with its own caller goes to
that caller's LOB."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.allocation import (
    BILL_COLUMNS,
    UNATTRIBUTED,
    USAGE_COLUMNS,
    allocate,
    pick_source,
    reconcile,
)

DAY = date(2026, 10, 1)
SONNET, HAIKU = (
    "anthropic.claude-sonnet-4-20250514-v1:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
)
KINDS = ("input", "output", "cache_read", "cache_write", "other")
LOBS = ("retail", "wealth", "risk", UNATTRIBUTED)


def bill(*rows: tuple) -> pl.DataFrame:
    """rows: (day, model, kind, tag_lob, cost[, source])."""
    full = [(*r, "cur") if len(r) == 5 else r for r in rows]
    return pl.DataFrame(full, schema=BILL_COLUMNS, orient="row")


def usage(*rows: tuple) -> pl.DataFrame:
    """rows: (day, lob, model, kind, tokens, est_cost[, tagged])."""
    full = [(*r, False) if len(r) == 6 else r for r in rows]
    return pl.DataFrame(full, schema=USAGE_COLUMNS, orient="row")


def per_day_model(frame: pl.DataFrame, col: str) -> dict[tuple, float]:
    sums = frame.group_by("usage_date", "model").agg(pl.col(col).sum())
    return {(r[0], r[1]): r[2] for r in sums.iter_rows()}


def test_split_by_share_at_the_bills_precision():
    b = bill((DAY, SONNET, "input", None, 10.00), (DAY, SONNET, "output", None, 0.05))
    u = usage(
        (DAY, "retail", SONNET, "input", 2_000, 0.006),
        (DAY, "wealth", SONNET, "input", 1_000, 0.003),
        (DAY, "retail", SONNET, "output", 1, 0.0),
        (DAY, "wealth", SONNET, "output", 1, 0.0),
        (DAY, "risk", SONNET, "output", 1, 0.0),
    )
    out = allocate(b, u)
    got = {(r["lob"], r["token_kind"]): r["allocated_cost"] for r in out.iter_rows(named=True)}
    units = {(r["lob"], r["token_kind"]): r["allocated_units"] for r in out.iter_rows(named=True)}
    # Ten decimals, not cents: $10 in thirds is 6.6666666667 + 3.3333333333
    assert units[("retail", "input")] == 66_666_666_667
    assert units[("wealth", "input")] == 33_333_333_333
    assert got[("retail", "input")] == pytest.approx(6.6666666667, abs=1e-12)
    # 5 cents over three equal LOBs: 0.0166666667 twice and 0.0166666666 once, never 0.02/0.01
    outputs = sorted(v for (lob, k), v in units.items() if k == "output")
    assert outputs == [166_666_666, 166_666_667, 166_666_667]
    assert sum(units.values()) == 100_500_000_000
    assert set(out["basis"]) == {"share"}


def test_same_model_in_dearer_region_pays_by_cost_not_tokens():
    # Equal tokens, but wealth ran in a region where the model costs three times as much.
    b = bill((DAY, SONNET, "input", None, 8.0))
    u = usage(
        (DAY, "retail", SONNET, "input", 1_000, 0.003),
        (DAY, "wealth", SONNET, "input", 1_000, 0.009),
    )
    got = dict(zip(*allocate(b, u).select("lob", "allocated_cost"), strict=True))
    assert got == {"retail": 2.0, "wealth": 6.0}  # token share would say 4.0 each


def test_unpriced_usage_splits_by_tokens():
    b = bill((DAY, SONNET, "input", None, 9.0))
    u = usage(
        (DAY, "retail", SONNET, "input", 2_000, None),
        (DAY, "wealth", SONNET, "input", 1_000, None),
    )
    got = dict(zip(*allocate(b, u).select("lob", "allocated_cost"), strict=True))
    assert got == {"retail": 6.0, "wealth": 3.0}


def test_tagged_lines_go_to_their_lob_and_only_the_rest_is_shared():
    b = bill((DAY, SONNET, "input", "wealth", 4.0), (DAY, SONNET, "input", None, 6.0))
    u = usage(
        (DAY, "wealth", SONNET, "input", 9_000, 0.027, True),  # came through the tagged profile
        (DAY, "retail", SONNET, "input", 1_000, 0.003),
        (DAY, "risk", SONNET, "input", 1_000, 0.003),
    )
    out = allocate(b, u)
    by = {(r["lob"], r["basis"]): r["allocated_cost"] for r in out.iter_rows(named=True)}
    assert by == {("wealth", "tag"): 4.0, ("retail", "share"): 3.0, ("risk", "share"): 3.0}


def test_tagged_usage_shares_when_the_bill_has_no_tag_lines():
    b = bill((DAY, SONNET, "input", None, 10.0))
    u = usage(
        (DAY, "wealth", SONNET, "input", 1_000, 0.003, True),
        (DAY, "retail", SONNET, "input", 1_000, 0.003),
    )
    out = allocate(b, u)
    assert dict(zip(out["lob"], out["allocated_cost"], strict=True)) == {
        "wealth": 5.0,
        "retail": 5.0,
    }


def test_bill_without_usage_stays_visible_as_unattributed():
    b = bill((DAY, HAIKU, "output", None, 1.23), (DAY, None, "other", None, 0.5))
    out = allocate(b, usage((DAY, "retail", SONNET, "input", 10, 0.1)))
    assert set(out["lob"]) == {UNATTRIBUTED}
    assert set(out["basis"]) == {"no_usage"}
    assert set(out["model"]) == {HAIKU, "(unknown)"}


def test_sub_cent_lines_are_kept_not_rounded_away():
    # Cents per row made many rows read 0.00 and a 14-day export short of the bill.
    for cost in (0.0000000001, 0.004, 0.005, -0.005, 0.0123456789):
        b = bill(*[(DAY, SONNET, "input", None, 0.0)] * 3, (DAY, SONNET, "input", None, cost))
        out = allocate(b, usage())
        assert out["allocated_units"].sum() == round(cost * 10**10), cost


def test_a_vanishing_token_weight_still_takes_the_whole_bill():
    # cost * 5e-324 underflows to zero; the share (5e-324 / 5e-324 = 1) does not.
    b = bill((DAY, SONNET, "input", None, 0.015))
    u = usage(
        (DAY, "retail", SONNET, "input", 0.0, 0.0), (DAY, "retail", SONNET, "input", 5e-324, 0.0)
    )
    out = allocate(b, u)
    assert out.select("lob", "basis", "allocated_cost").rows() == [("retail", "share", 0.015)]


def test_kind_without_logged_tokens_falls_back_to_cost_share():
    b = bill((DAY, SONNET, "cache_write", None, 1.0))
    u = usage(
        (DAY, "retail", SONNET, "input", 100, 3.0),
        (DAY, "wealth", SONNET, "input", 100, 1.0),
    )
    out = allocate(b, u)
    got = dict(zip(out["lob"], out["allocated_cost"], strict=True))
    assert got == {"retail": 0.75, "wealth": 0.25}


def test_one_source_per_day_cur_first():
    b = bill(
        (DAY, SONNET, "input", None, 5.0, "ce"),
        (DAY, SONNET, "input", None, 5.1, "cur"),
        (DAY + timedelta(1), SONNET, "input", None, 2.0, "ce"),
    )
    picked = pick_source(b)
    assert sorted(picked["source"].to_list()) == ["ce", "cur"]
    assert picked.filter(pl.col("usage_date") == DAY)["cost"].to_list() == [5.1]


def test_reconcile_shows_drift_and_both_one_sided_days():
    b = bill((DAY, SONNET, "input", None, 11.0), (DAY + timedelta(1), HAIKU, "input", None, 2.0))
    u = usage((DAY, "retail", SONNET, "input", 1, 10.0), (DAY, "retail", HAIKU, "input", 1, 1.0))
    rec = reconcile(b, u)
    rows = {(r["usage_date"], r["model"]): r for r in rec.iter_rows(named=True)}
    assert rows[(DAY, SONNET)]["drift_usd"] == pytest.approx(1.0)
    assert rows[(DAY, SONNET)]["drift_pct"] == pytest.approx(100 / 11)
    assert rows[(DAY, HAIKU)]["billed_cost"] is None  # logs, no bill (yet)
    assert rows[(DAY + timedelta(1), HAIKU)]["est_cost"] is None  # bill, no logs


cost = st.decimals(min_value=0, max_value=5000, places=6).map(float)
day = st.sampled_from([DAY + timedelta(d) for d in range(4)])
model = st.sampled_from([SONNET, HAIKU, None])
bill_rows = st.lists(
    st.tuples(day, model, st.sampled_from(KINDS), st.sampled_from([None, None, "wealth"]), cost),
    min_size=1,
    max_size=40,
)
usage_rows = st.lists(
    st.tuples(
        day,
        st.sampled_from(LOBS),
        st.sampled_from([SONNET, HAIKU]),
        st.sampled_from(KINDS[:4]),
        st.integers(0, 10**7).map(float),
        st.one_of(st.floats(0, 100), st.none()),
        st.booleans(),
    ),
    max_size=60,
)


BILL_ONLY, LOGS_ONLY = DAY + timedelta(10), DAY + timedelta(11)  # outside `day`'s range


@settings(max_examples=200, deadline=None)
@given(bill_rows, usage_rows, st.sampled_from(KINDS), cost, usage_rows)
def test_allocation_sums_to_every_bill_line_exactly(brows, urows, kind, bill_only_cost, logs_only):
    # Every example has a day billed with no logs and a day logged with no bill, rather
    # than leaving those shapes to chance.
    brows = [*brows, (BILL_ONLY, SONNET, kind, None, bill_only_cost)]
    urows = [*urows, (LOGS_ONLY, "retail", HAIKU, "input", 1_000.0, 0.5, False)]
    urows += [(LOGS_ONLY, *r[1:]) for r in logs_only]
    b, u = bill(*brows), usage(*urows)
    out = allocate(b, u)
    billed = per_day_model(b.with_columns(pl.col("model").fill_null("(unknown)")), "cost")
    allocated = per_day_model(out, "allocated_cost")
    assert allocated.keys() == billed.keys()
    assert (LOGS_ONLY, HAIKU) not in allocated  # usage with no bill allocates nothing
    assert set(out.filter(pl.col("usage_date") == BILL_ONLY)["lob"]) == {UNATTRIBUTED}
    # Exact, per line, in the bill's own units (Decimal: no float anywhere in the check).
    lines = out.group_by("line").agg(pl.col("allocated_units").sum())
    got = dict(lines.iter_rows())
    for line, (total,) in enumerate(b.select("cost").iter_rows()):
        want = Decimal(repr(total)).quantize(Decimal("1e-10"), ROUND_HALF_UP) * 10**10
        assert Decimal(got[line]) == want, line
    assert (out["allocated_units"] >= 0).all()


def principal_bill(*rows: tuple) -> pl.DataFrame:
    """rows: (day, model, kind, principal_lob, cost_units)."""
    return pl.DataFrame(
        [(d, m, k, None, u / 10**10, "cur", u, p) for d, m, k, p, u in rows],
        schema=BILL_COLUMNS | {"cost_units": pl.Int64, "principal_lob": pl.Utf8},
        orient="row",
    )


def test_a_line_with_its_caller_goes_to_that_callers_lob_the_rest_is_shared():
    b = principal_bill(
        (DAY, SONNET, "input", "risk", 12_345_678_901),  # the bill names the caller
        (DAY, SONNET, "input", None, 10_000_000_001),  # no caller: estimated share
    )
    u = usage(
        (DAY, "retail", SONNET, "input", 1_000, 0.003),
        (DAY, "wealth", SONNET, "input", 2_000, 0.006),
    )
    out = allocate(b, u)
    by = {(r["lob"], r["basis"]): r["allocated_units"] for r in out.iter_rows(named=True)}
    assert by == {
        ("risk", "principal"): 12_345_678_901,
        ("retail", "share"): 3_333_333_334,  # the odd unit goes to the larger remainder
        ("wealth", "share"): 6_666_666_667,
    }
    assert out.filter(pl.col("basis") == "principal")["share"].to_list() == [1.0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(day, st.sampled_from([SONNET, HAIKU]), st.sampled_from(KINDS),
                  st.sampled_from([None, None, "risk", UNATTRIBUTED]),
                  st.integers(-10**12, 10**14)),
        min_size=1, max_size=30,
    ),
    usage_rows,
)  # fmt: skip
def test_lines_with_and_without_a_caller_add_up_exactly(brows, urows):
    b = principal_bill(*brows)
    out = allocate(b, usage(*urows))
    got = dict(out.group_by("line").agg(pl.col("allocated_units").sum()).iter_rows())
    assert got == {i: r[4] for i, r in enumerate(brows)}
    mine = out.filter(pl.col("basis") == "principal")
    assert sorted(mine["line"]) == [i for i, r in enumerate(brows) if r[3] is not None]
    assert mine["lob"].to_list() == [brows[i][3] for i in mine["line"]]
