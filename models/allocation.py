"""Chargeback that matches the invoice: each bill line split across LOBs, to the bill's precision.

Grain of the split: the bill line (a cost_daily row: day, account, region, usage type, resource,
caller, tags, ...). Where the line itself names the LOB it goes there whole:
- "tag": the line carries cost-allocation tags (of an application inference profile) that an
  attribution rule maps to a LOB;
- "principal": the line names its caller (CUR 2.0 line_item_iam_principal) and the attribution
  rules, matching that principal and its IAM principal / STS session tags exactly as they match
  a log's identity, give it a LOB (unattributed when no rule matches: the caller is known).
The rest is split by each LOB's share of the usage behind it that day: its share of the
estimated cost of that token kind of that model ("share"). Cost, not tokens: one model's price
per token differs by region, so equal tokens can be unequal dollars. Where that usage is
unpriced (no catalog price, so no estimate), the split falls back to token share, which stays
defined. A bill line with no logged usage to split by (logging off, a model called outside the
logged accounts) stays visible under the unattributed LOB ("no_usage").

Precision: the bill carries 10 decimals (DECIMAL(18, 10)). Each line is split in integer units
of 1e-10 USD by largest remainder, so a line's shares add up to that line exactly; only
displays round. Pure functions, no I/O.
"""

from __future__ import annotations

import polars as pl

UNATTRIBUTED = "unattributed"
SOURCE_PRIORITY = ("cur", "focus", "ce")  # per day, the first source that has the day wins
SCALE = 10**10  # units of the bill's precision (1e-10 USD) per dollar
BILL_COLUMNS = {
    "usage_date": pl.Date,
    "model": pl.Utf8,
    "token_kind": pl.Utf8,
    "tag_lob": pl.Utf8,
    "cost": pl.Float64,
    "source": pl.Utf8,
}
# Optional bill columns: `line` names the bill line (row number if absent); `cost_units` is the
# exact cost in 1e-10 USD (from the DECIMAL, never through a float; derived from `cost` if
# absent); `principal_lob` is the LOB the line's own caller maps to, null without a caller.
BILL_OPTIONAL = {"line": pl.Int64, "cost_units": pl.Int64, "principal_lob": pl.Utf8}
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
OUT = ["line", "usage_date", "lob", "model", "token_kind", "basis", "est_cost", "share",
       "allocated_units", "allocated_cost", "bill_source"]  # fmt: skip


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


def prepare(bill: pl.DataFrame) -> pl.DataFrame:
    """The bill with every optional column (line numbers, exact units, principal LOB)."""
    if "line" not in bill.columns:
        bill = bill.with_row_index("line").with_columns(pl.col("line").cast(pl.Int64))
    if "cost_units" not in bill.columns:
        bill = bill.with_columns(cost_units=(pl.col("cost") * SCALE).round(0).cast(pl.Int64))
    if "principal_lob" not in bill.columns:
        bill = bill.with_columns(principal_lob=pl.lit(None, pl.Utf8))
    return bill.with_columns(pl.col("model").fill_null("(unknown)"))


def allocate(bill: pl.DataFrame, usage: pl.DataFrame) -> pl.DataFrame:
    """OUT columns: each bill line's shares (allocated_units: exact, in 1e-10 USD).

    `bill`: BILL_COLUMNS (+ BILL_OPTIONAL), one source per day already (see `pick_source`);
    `tag_lob` is the LOB a tagged line maps to, null when untagged. `usage`: USAGE_COLUMNS,
    logged usage per (day, LOB, model, token kind); `tagged` marks usage whose LOB came from an
    application profile tag: where that day's bill has tagged lines for the model, they pay
    for it, and sharing the untagged rest with it too would charge those LOBs twice.
    allocated_cost is allocated_units / 1e10 as a float, for display and tests.
    """
    bill = prepare(bill)
    none = pl.lit(None, pl.Float64)
    direct = (
        bill.filter(pl.col("tag_lob").is_not_null() | pl.col("principal_lob").is_not_null())
        .with_columns(
            lob=pl.coalesce("tag_lob", "principal_lob"),
            basis=pl.when(pl.col("tag_lob").is_not_null()).then(pl.lit("tag"))
            .otherwise(pl.lit("principal")),
            weight=pl.lit(1.0), est_cost=none,
        )
    )  # fmt: skip
    rest = bill.filter(pl.col("tag_lob").is_null() & pl.col("principal_lob").is_null())
    # Usage through a tagged profile is paid by the tagged lines, where the bill has them.
    has_tags = (
        bill.filter(pl.col("tag_lob").is_not_null()).select(KEY).unique()
        .with_columns(billed_tags=pl.lit(True))
    )  # fmt: skip
    shareable = usage.join(has_tags, on=KEY, how="left").filter(
        ~(pl.col("tagged") & pl.col("billed_tags").fill_null(False))
    )
    cols = ["line", *KEY, "token_kind", "source", "cost_units", "lob", "basis", "weight",
            "est_cost"]  # fmt: skip
    cells = pl.concat(
        [direct.select(cols), _split(rest, shareable.drop("billed_tags")).select(cols)],
        how="vertical",
    )
    return _largest_remainder(cells)


def _split(rest: pl.DataFrame, usage: pl.DataFrame) -> pl.DataFrame:
    """Lines without a LOB of their own: weights per LOB by estimated cost (tokens where
    unpriced), one row per (line, LOB); lines with no usage behind them go unattributed."""
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
    exact = rest.join(by_kind, on=group, how="inner").filter(pl.col("weight") > 0)
    covered = exact.select(group).unique()
    loose = rest.join(covered, on=group, how="anti")
    fallback = (
        loose.join(by_model, on=KEY, how="inner")
        .with_columns(
            weight=pl.when(pl.col("cost_w").sum().over("line") > 0)
            .then(pl.col("cost_w"))
            .otherwise(pl.col("tok_w")),
            est_cost=pl.lit(None, pl.Float64),
        )
        .filter(pl.col("weight") > 0)
        .drop("cost_w", "tok_w")
    )
    shared = pl.concat([exact, fallback.select(exact.columns)], how="vertical")
    # A LOB's estimate of the group is spread over the group's lines by their cost, so the
    # estimates of the rows of one (day, model, kind) add up to it once, not once per line.
    line_part = (
        pl.when(pl.col("cost_units").sum().over([*group, "lob"]) != 0)
        .then(pl.col("cost_units") / pl.col("cost_units").sum().over([*group, "lob"]))
        .otherwise(1 / pl.len().over([*group, "lob"]))
    )
    shared = shared.with_columns(est_cost=pl.col("est_cost") * line_part, basis=pl.lit("share"))
    placed = shared.select("line").unique()
    orphan = rest.join(placed, on="line", how="anti").with_columns(
        lob=pl.lit(UNATTRIBUTED), basis=pl.lit("no_usage"), weight=pl.lit(1.0),
        est_cost=pl.lit(None, pl.Float64),
    )  # fmt: skip
    return pl.concat([shared.select(orphan.columns), orphan], how="vertical")


def _largest_remainder(cells: pl.DataFrame) -> pl.DataFrame:
    """Each line's units split by weight, in whole units that add up to the line exactly.

    Shares are floats, but only to rank: every cell takes the floor of its share, and the
    units left over go one each to the largest remainders, so the sum is exact by
    construction whatever the float error.
    """
    out = (
        cells.with_columns(share=pl.col("weight") / pl.col("weight").sum().over("line"))
        # Share first, then units: units * weight underflows for tiny weights (5e-324).
        .with_columns(scaled=pl.col("cost_units").cast(pl.Float64) * pl.col("share"))
        .with_columns(floor=pl.col("scaled").floor().cast(pl.Int64))
        # Rounded so that equal remainders (2/3 of a unit twice) tie, whatever the float noise.
        .with_columns(frac=(pl.col("scaled") - pl.col("floor")).round(9))
        .with_columns(short=pl.col("cost_units") - pl.col("floor").sum().over("line"))
        .sort(["line", "lob"])  # ties go in a stable order
        .with_columns(rank=pl.col("frac").rank("ordinal", descending=True).over("line") - 1)
        # Usually 0 <= short < cells; float drift in the shares can push it past either end,
        # so every cell takes the whole rounds and the largest remainders the rest.
        .with_columns(n=pl.len().over("line"))
        .with_columns(
            allocated_units=pl.col("floor") + pl.col("short") // pl.col("n")
            + (pl.col("rank") < pl.col("short") % pl.col("n")).cast(pl.Int64)
        )
    )  # fmt: skip
    return out.select(
        "line", "usage_date", "lob", "model", "token_kind", "basis", "est_cost", "share",
        "allocated_units", allocated_cost=pl.col("allocated_units") / SCALE,
        bill_source=pl.col("source"),
    ).sort("usage_date", "model", "token_kind", "line", "lob")  # fmt: skip


def by_cell(allocated: pl.DataFrame) -> pl.DataFrame:
    """Allocations summed to (day, LOB, model, token kind, basis): the chargeback's grain."""
    return (
        allocated.group_by("usage_date", "lob", "model", "token_kind", "basis", "bill_source")
        .agg(pl.col("est_cost").sum(), pl.col("allocated_units").sum())
        .with_columns(allocated_cost=pl.col("allocated_units") / SCALE)
        .sort("usage_date", "model", "token_kind", "lob")
    )


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
