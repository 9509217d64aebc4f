"""Chargeback that matches the invoice: the bill split across LOBs, to the cent.

Grain of the split: (day, model, token kind). Where the bill itself names the LOB (line items
of application inference profiles carry cost-allocation tags that an attribution rule maps to
a LOB), that cost goes to that LOB as billed ("tag"). The rest is split by each LOB's share of
the usage behind it that day: its share of the estimated cost of that token kind of that
model ("share"). Cost, not tokens: one model's price per token differs by region, so equal
tokens can be unequal dollars. Where that usage is unpriced (no catalog price, so no
estimate), the split falls back to token share, which stays defined. A bill line with no
logged usage to split by (logging off, a model called outside the logged accounts) stays
visible under the unattributed LOB ("no_usage").

Rounding: each (day, model)'s allocations are rounded to cents by largest remainder, so they
add up to that (day, model)'s bill rounded to the cent, exactly. Pure functions, no I/O.
"""

from __future__ import annotations

import polars as pl

UNATTRIBUTED = "unattributed"
SOURCE_PRIORITY = ("cur", "focus", "ce")  # per day, the first source that has the day wins
BILL_COLUMNS = {
    "usage_date": pl.Date,
    "model": pl.Utf8,
    "token_kind": pl.Utf8,
    "tag_lob": pl.Utf8,
    "cost": pl.Float64,
    "source": pl.Utf8,
}
USAGE_COLUMNS = {
    "usage_date": pl.Date,
    "lob": pl.Utf8,
    "model": pl.Utf8,
    "token_kind": pl.Utf8,
    "tokens": pl.Float64,
    "est_cost": pl.Float64,
    "tagged": pl.Boolean,
}
KEY = ["usage_date", "model"]


def pick_source(bill: pl.DataFrame) -> pl.DataFrame:
    """Keep, per day, the rows of the best source that has that day (never two sources)."""
    rank = {s: i for i, s in enumerate(SOURCE_PRIORITY)}
    ranked = bill.with_columns(rank=pl.col("source").replace_strict(rank, default=len(rank)))
    best = ranked.group_by("usage_date").agg(pl.col("rank").min().alias("best"))
    return (
        ranked.join(best, on="usage_date")
        .filter(pl.col("rank") == pl.col("best"))
        .drop("rank", "best")
    )


def allocate(bill: pl.DataFrame, usage: pl.DataFrame) -> pl.DataFrame:
    """(usage_date, lob, model, token_kind, basis, est_cost, allocated_cost, bill_source).

    `bill`: BILL_COLUMNS, one source per day already (see `pick_source`); `tag_lob` is the
    LOB a tagged line maps to, null when untagged. `usage`: USAGE_COLUMNS, logged usage per
    (day, LOB, model, token kind); `tagged` marks usage whose LOB came from an application
    profile tag: where that day's bill has tagged lines for the model, they pay for it, and
    sharing the untagged rest with it too would charge those LOBs twice.
    allocated_cost is in dollars with cent precision.
    """
    bill = bill.with_columns(pl.col("model").fill_null("(unknown)"))
    tagged = (
        bill.filter(pl.col("tag_lob").is_not_null())
        .group_by([*KEY, "token_kind", "tag_lob", "source"])
        .agg(raw=pl.col("cost").sum())
        .rename({"tag_lob": "lob"})
        .with_columns(basis=pl.lit("tag"), est_cost=pl.lit(None, pl.Float64))
    )
    rest = (
        bill.filter(pl.col("tag_lob").is_null())
        .group_by([*KEY, "token_kind", "source"])
        .agg(cost=pl.col("cost").sum())
    )
    # Usage through a tagged profile is paid by the tagged lines, where the bill has them.
    has_tags = tagged.select(KEY).unique().with_columns(billed_tags=pl.lit(True))
    shareable = usage.join(has_tags, on=KEY, how="left").filter(
        ~(pl.col("tagged") & pl.col("billed_tags").fill_null(False))
    )
    split = _split(rest, shareable.drop("billed_tags"))
    cells = pl.concat([tagged.select(split.columns), split], how="vertical")
    return _round_to_cents(cells, bill)


def _split(rest: pl.DataFrame, usage: pl.DataFrame) -> pl.DataFrame:
    """Untagged bill lines split by share of estimated cost (tokens where unpriced)."""
    group = [*KEY, "token_kind"]
    by_kind = usage.group_by([*group, "lob"]).agg(
        tokens=pl.col("tokens").sum(),
        est_cost=pl.col("est_cost").sum(),
        priced=pl.col("est_cost").is_not_null().all(),
    )
    # Dollars, not tokens: the same model costs more in some regions (and cross-region
    # profiles), so a LOB's token share understates what its usage cost. Tokens only where
    # the usage has no price (an estimate of 0 for every LOB, or a LOB with none at all).
    by_cost = pl.col("priced").all().over(group) & (pl.col("est_cost").sum().over(group) > 0)
    by_kind = by_kind.with_columns(
        weight=pl.when(by_cost).then(pl.col("est_cost")).otherwise(pl.col("tokens"))
    ).drop("tokens", "priced")
    # Weights for a bill line whose kind has no logged tokens ('other', or cache lines the
    # logs do not show): the LOB's estimated cost of that model that day, else its tokens.
    by_model = usage.group_by([*KEY, "lob"]).agg(
        cost_w=pl.col("est_cost").sum(), tok_w=pl.col("tokens").sum()
    )
    exact = rest.join(by_kind, on=[*KEY, "token_kind"], how="inner").filter(pl.col("weight") > 0)
    covered = exact.select([*KEY, "token_kind"]).unique()
    loose = rest.join(covered, on=[*KEY, "token_kind"], how="anti")
    fallback = (
        loose.join(by_model, on=KEY, how="inner")
        .with_columns(
            weight=pl.when(pl.col("cost_w").sum().over([*KEY, "token_kind"]) > 0)
            .then(pl.col("cost_w"))
            .otherwise(pl.col("tok_w")),
            est_cost=pl.lit(None, pl.Float64),
        )
        .filter(pl.col("weight") > 0)
        .drop("cost_w", "tok_w")
    )
    shared = pl.concat([exact, fallback.select(exact.columns)], how="vertical").with_columns(
        # Share first, then dollars: cost * weight underflows for tiny weights (5e-324).
        raw=pl.col("cost") * (pl.col("weight") / pl.col("weight").sum().over([*KEY, "token_kind"])),
        basis=pl.lit("share"),
    )
    placed = shared.select([*KEY, "token_kind"]).unique()
    orphan = rest.join(placed, on=[*KEY, "token_kind"], how="anti").with_columns(
        lob=pl.lit(UNATTRIBUTED), raw=pl.col("cost"), basis=pl.lit("no_usage"),
        est_cost=pl.lit(None, pl.Float64),
    )  # fmt: skip
    cols = [*KEY, "token_kind", "lob", "source", "raw", "basis", "est_cost"]
    return pl.concat([shared.select(cols), orphan.select(cols)], how="vertical")


def _round_to_cents(cells: pl.DataFrame, bill: pl.DataFrame) -> pl.DataFrame:
    """Largest remainder per (day, model): the cents add up to the rounded bill exactly.

    The bill rounds half away from zero, as invoices do ($0.005 is a cent; polars' default,
    half to even, makes it none), after dropping float noise below a millionth of a cent.
    """
    total = (pl.col("cost").sum() * 100).round(6).round(0, mode="half_away_from_zero")
    target = bill.group_by(KEY).agg(target=total.cast(pl.Int64))
    cents = (
        cells.with_columns(scaled=pl.col("raw") * 100)
        .with_columns(floor=pl.col("scaled").floor().cast(pl.Int64))
        # Rounded so that equal remainders (2/3 of a cent twice) tie, whatever the float noise.
        .with_columns(frac=(pl.col("scaled") - pl.col("floor")).round(9))
        .join(target, on=KEY)
        .with_columns(short=pl.col("target") - pl.col("floor").sum().over(KEY))
        .sort([*KEY, "lob", "token_kind", "basis"])  # ties go in a stable order
        .with_columns(rank=pl.col("frac").rank("ordinal", descending=True).over(KEY) - 1)
        # Usually 0 <= short < cells; float drift in the shares can push it past either end,
        # so every cell takes the whole rounds and the largest remainders the rest.
        .with_columns(n=pl.len().over(KEY))
        .with_columns(
            cents=pl.col("floor") + pl.col("short") // pl.col("n")
            + (pl.col("rank") < pl.col("short") % pl.col("n")).cast(pl.Int64)
        )
    )  # fmt: skip
    return (
        cents.group_by([*KEY, "lob", "token_kind", "basis", "source"])
        .agg(cents=pl.col("cents").sum(), est_cost=pl.col("est_cost").sum())
        .select(
            "usage_date", "lob", "model", "token_kind", "basis", "est_cost",
            allocated_cost=pl.col("cents") / 100, bill_source=pl.col("source"),
        )
        .sort("usage_date", "model", "token_kind", "lob")
    )  # fmt: skip


def reconcile(bill: pl.DataFrame, usage: pl.DataFrame) -> pl.DataFrame:
    """Estimate vs bill per (day, model): drift in $ and % of the bill; either may be missing."""
    billed = (
        bill.with_columns(pl.col("model").fill_null("(unknown)"))
        .group_by(KEY)
        .agg(billed_cost=pl.col("cost").sum(), bill_source=pl.col("source").first())
    )
    # An unpriced model has an unknown estimate, not a $0 one.
    priced = pl.col("est_cost").is_not_null().any()
    est = usage.group_by(KEY).agg(est_cost=pl.when(priced).then(pl.col("est_cost").sum()))
    both = billed.join(est, on=KEY, how="full", coalesce=True)
    return both.with_columns(
        drift_usd=pl.col("billed_cost") - pl.col("est_cost"),
        drift_pct=pl.when(pl.col("billed_cost").abs() > 0)
        .then((pl.col("billed_cost") - pl.col("est_cost")) / pl.col("billed_cost") * 100)
        .otherwise(None),
    ).select(
        "usage_date", "model", "est_cost", "billed_cost", "drift_usd", "drift_pct", "bill_source"
    ).sort(KEY)  # fmt: skip
