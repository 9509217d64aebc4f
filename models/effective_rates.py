"""Effective rates learned from the bill, and how close they bring the estimate to the bill.

List prices are what AWS publishes; an organisation pays its own rate: after an enterprise
discount, credits, a private price, a price change the catalog has not caught. The bill knows
that rate. For every key (model, token kind, cache TTL, service tier, pricing scope, region)
the effective rate is the bill's cost / its tokens over the last complete billed days:
`learn_days` days ending `settle_days` before the day being priced (the latest days of a
bill are still filling in, but both their cost and their usage are, so a partial day's rate
is right; they are skipped only because a day can be restated).

A price change inside the window would blend two prices; the rate is therefore taken over the
latest *run* of days whose own daily rate agrees (within CHANGE_TOLERANCE) with the newest
day's. A key with no bill line yet has no learned rate: the estimate uses the list price, and
says so. Pure functions over polars frames; the I/O is jobs.model_rates.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

KEY = ["model", "token_kind", "cache_ttl", "service_tier", "pricing_scope", "region"]
# Daily rates of one key that differ by less than this are the same price: lines are rounded
# to 1e-10 USD and the bill's unit conversions leave a little noise; a real change is
# percents (a discount, a price cut).
CHANGE_TOLERANCE = 0.002
BILL_COLUMNS = {"usage_date": pl.Date, **dict.fromkeys(KEY, pl.String),
                "account_id": pl.String, "cost": pl.Float64, "tokens": pl.Float64}  # fmt: skip
USAGE_COLUMNS = BILL_COLUMNS | {"list_cost": pl.Float64}
RATE_COLUMNS = {**dict.fromkeys(KEY, pl.String), "per_1m": pl.Float64, "learned_from": pl.Date,
                "learned_to": pl.Date, "days": pl.Int32, "tokens": pl.Float64,
                "cost": pl.Float64}  # fmt: skip


def learn(bill: pl.DataFrame, *, until: date, days: int) -> pl.DataFrame:
    """Rates per KEY from bill days in [until - days, until): the latest run of equal rates."""
    window = bill.filter(
        pl.col("usage_date") >= until - timedelta(days=days), pl.col("usage_date") < until,
        pl.col("tokens") > 0,
    )  # fmt: skip
    if window.is_empty():
        return pl.DataFrame(schema=RATE_COLUMNS)
    daily = (
        window.group_by(*KEY, "usage_date")
        .agg(pl.col("cost").sum(), pl.col("tokens").sum())
        .with_columns(rate=pl.col("cost") / pl.col("tokens"))
        .sort(*KEY, "usage_date")
    )
    newest = pl.col("rate").last().over(KEY)
    differs = ((pl.col("rate") - newest).abs() > CHANGE_TOLERANCE * newest.abs()).cast(pl.Int32)
    # A day belongs to the latest run when no later day of its key differs from the newest.
    later_differs = differs.reverse().cum_sum().reverse().over(KEY)
    run = daily.filter(later_differs == 0)
    return (
        run.group_by(KEY)
        .agg(
            pl.col("usage_date").min().alias("learned_from"),
            pl.col("usage_date").max().alias("learned_to"),
            pl.len().cast(pl.Int32).alias("days"),
            pl.col("tokens").sum(), pl.col("cost").sum(),
        )
        .with_columns(per_1m=pl.col("cost") / pl.col("tokens") * 1e6)
        .select(list(RATE_COLUMNS))
        .sort(KEY)
    )  # fmt: skip


def estimate(usage: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    """usage priced at the learned rate where there is one, else at its list cost; `basis`
    says which ('bill' | 'list'), `cost` is null where neither prices it."""
    priced = usage.join(rates.select(*KEY, "per_1m"), on=KEY, how="left")
    return priced.with_columns(
        cost=pl.when(pl.col("per_1m").is_not_null())
        .then(pl.col("tokens") * pl.col("per_1m") / 1e6)
        .otherwise(pl.col("list_cost")),
        basis=pl.when(pl.col("per_1m").is_not_null()).then(pl.lit("bill")).otherwise(pl.lit("list")),
    )  # fmt: skip


def backtest(
    bill: pl.DataFrame,
    usage: pl.DataFrame,
    *,
    held_from: date,
    held_to: date,
    learn_days: int,
    settle_days: int,
    excluded: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Estimate each held-out day from the rates the product would have had that day (learned
    from bill days up to settle_days before it), then compare with the final bill, per model
    and in total ('(total)'). `excluded` (usage_date, account_id, region) cells are left out
    of both sides: a logging gap is a gap in the usage, not an error of the rates."""
    days = [held_from + timedelta(days=i) for i in range((held_to - held_from).days + 1)]
    parts = []
    for day in days:
        rates = learn(bill, until=day - timedelta(days=settle_days), days=learn_days)
        parts.append(estimate(usage.filter(pl.col("usage_date") == day), rates))
    est = pl.concat(parts) if parts else usage.clear().with_columns(cost=pl.lit(0.0))
    held = bill.filter(pl.col("usage_date").is_between(held_from, held_to))
    if excluded is not None and excluded.height:
        cells = ["usage_date", "account_id", "region"]
        est = est.join(excluded.select(cells), on=cells, how="anti")
        held = held.join(excluded.select(cells), on=cells, how="anti")
    e = est.group_by("model").agg(pl.col("cost").sum().alias("estimate_usd"))
    b = held.group_by("model").agg(pl.col("cost").sum().alias("bill_usd"))
    per_model = e.join(b, on="model", how="full", coalesce=True).fill_null(0.0)
    total = per_model.select(pl.lit("(total)").alias("model"), pl.col("estimate_usd").sum(),
                             pl.col("bill_usd").sum())  # fmt: skip
    out = pl.concat([per_model.sort("model"), total])
    return out.with_columns(
        pct=pl.when(pl.col("bill_usd") != 0)
        .then((pl.col("estimate_usd") - pl.col("bill_usd")) / pl.col("bill_usd"))
        .otherwise(None),
        held_from=pl.lit(held_from), held_to=pl.lit(held_to),
    )  # fmt: skip
