"""What-if savings priced on the organisation's own traffic: pure functions over the frames the
Capacity page's queries return (sql/queries/capacity_*.sql), one per suggestion.

Every result is per LOB and application and carries its basis (the tokens, calls or spend it
was computed from), so the page never shows a saving without what it rests on. Dollars are
the logs' estimates (tokens x the price catalog), like the Spend page's.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

KEYS = ("lob", "app")
# What a cache write costs against plain input for each TTL (Anthropic's rate card on Bedrock:
# 1.25x for the 5-minute cache, 2x for the 1-hour one); a read is the catalog's cache price
# (about 0.1x input), or 0.1x input where the catalog has none for a model that caches.
WRITE_FACTOR = {"5m": 1.25, "1h": 2.0}
READ_FACTOR = 0.1
# max_tokens at least this many times the tokens generated is an over-reservation: the TPM
# quota holds the whole max_tokens while a call runs.
OVER_RESERVED = 4.0


@dataclass(frozen=True)
class Assumptions:
    batch_discount: float = 0.5
    flex_discount: float = 0.5
    batch_hours: tuple[int, int] = (0, 6)
    batch_apps: tuple[str, ...] = ()
    residency_lobs: tuple[str, ...] = ()


def caching(facts: pl.DataFrame) -> pl.DataFrame:
    """Prompt caching per application: the better TTL and what it would save.

    Saving at TTL t = hit tokens x (input - cache read price) - miss tokens x (write factor
    - 1) x input price, summed over the app's models that have a cache price; a model without
    one (it cannot cache on Bedrock) is left out. Only savings above zero are returned.
    """
    read = pl.coalesce("cache_read_per_1m", pl.col("input_per_1m") * READ_FACTOR)
    p_in = pl.col("input_per_1m")
    rows = facts.filter(pl.col("prefix_calls") > 0, pl.col("input_per_1m").is_not_null())
    per = rows.with_columns(
        save_5m=(pl.col("hit5_tokens") * (p_in - read)
                 - pl.col("miss5_tokens") * (WRITE_FACTOR["5m"] - 1) * p_in) / 1e6,
        save_1h=(pl.col("hit60_tokens") * (p_in - read)
                 - pl.col("miss60_tokens") * (WRITE_FACTOR["1h"] - 1) * p_in) / 1e6,
    )  # fmt: skip
    out = per.group_by(KEYS).agg(
        pl.col("prefix_calls").sum(),
        prefix_tokens=(pl.col("hit5_tokens") + pl.col("miss5_tokens")).sum(),
        hit_rate_5m=pl.col("hit5_tokens").sum()
        / (pl.col("hit5_tokens") + pl.col("miss5_tokens")).sum(),
        hit_rate_1h=pl.col("hit60_tokens").sum()
        / (pl.col("hit60_tokens") + pl.col("miss60_tokens")).sum(),
        savings_5m_usd=pl.col("save_5m").sum(),
        savings_1h_usd=pl.col("save_1h").sum(),
        models=pl.col("model").unique().sort().str.join(", "),
    )
    best = pl.when(pl.col("savings_1h_usd") > pl.col("savings_5m_usd"))
    out = out.with_columns(
        ttl=best.then(pl.lit("1 hour")).otherwise(pl.lit("5 minutes")),
        savings_usd=best.then("savings_1h_usd").otherwise("savings_5m_usd"),
    )
    return out.filter(pl.col("savings_usd") > 0).sort("savings_usd", descending=True)


def batch(mix: pl.DataFrame, a: Assumptions) -> pl.DataFrame:
    """Batch and flex per application: the spend of calls nobody waits on (not streamed, and
    off-hours or the app is tagged), at the batch and at the flex discount. An untagged app
    qualifies only when most of its calls are such calls."""
    tagged = pl.col("app").is_in(list(a.batch_apps))
    movable = ~pl.col("streamed") & (pl.col("off_hours") | tagged)
    per = mix.group_by(KEYS).agg(
        invocations=pl.col("invocations").sum(),
        movable_calls=pl.col("invocations").filter(movable).sum(),
        movable_cost_usd=pl.col("est_cost_usd").filter(movable).sum(),
        cost_usd=pl.col("est_cost_usd").sum(),
        tagged=tagged.any(),
    )
    per = per.with_columns(share=pl.col("movable_calls") / pl.col("invocations"))
    per = per.filter((pl.col("share") > 0.5) | pl.col("tagged"), pl.col("movable_cost_usd") > 0)
    hours = f"non-streaming, {a.batch_hours[0]:02d}:00-{a.batch_hours[1]:02d}:00 UTC"
    return per.with_columns(
        basis=pl.when("tagged").then(pl.lit("tagged not latency-sensitive"))
        .otherwise(pl.lit(hours)),
        batch_savings_usd=pl.col("movable_cost_usd") * a.batch_discount,
        flex_savings_usd=pl.col("movable_cost_usd") * a.flex_discount,
    ).sort("batch_savings_usd", descending=True)  # fmt: skip


def swap(mix: pl.DataFrame, prices: pl.DataFrame, target: str) -> pl.DataFrame:
    """Each application's own token mix re-priced on `target`: same input, output and cache
    tokens (cache tokens at input price where the target has no cache price). Quality is not
    judged. Rows already on the target, or without a price today, are left out."""
    p = prices.filter(pl.col("model") == target)
    if p.is_empty():
        return pl.DataFrame()
    t_in, t_out, t_cr, t_cw = p.row(0)[1:5]
    t_cr, t_cw = t_cr if t_cr is not None else t_in, t_cw if t_cw is not None else t_in
    per = mix.filter(pl.col("model") != target, pl.col("unpriced_invocations") == 0)
    per = per.group_by(*KEYS, "model").agg(
        pl.col("invocations", "input_tokens", "output_tokens", "cache_read_tokens",
               "cache_write_tokens", "est_cost_usd").sum()
    )  # fmt: skip
    return per.with_columns(
        target_cost_usd=(pl.col("input_tokens") * t_in + pl.col("output_tokens") * t_out
                         + pl.col("cache_read_tokens") * t_cr
                         + pl.col("cache_write_tokens") * t_cw) / 1e6,
    ).with_columns(
        savings_usd=pl.col("est_cost_usd") - pl.col("target_cost_usd")
    ).sort("savings_usd", descending=True)  # fmt: skip


def cross_region(facts: pl.DataFrame, a: Assumptions) -> pl.DataFrame:
    """Geo to global inference profiles: a geo profile costs `geo_premium` over global for the
    models that have one; a LOB pinned to its geography (residency) keeps geo."""
    rows = facts.filter(pl.col("geo_cost_usd") > 0, pl.col("geo_premium") > 0)
    per = rows.with_columns(
        saved=pl.col("geo_cost_usd") * pl.col("geo_premium") / (1 + pl.col("geo_premium"))
    )
    out = per.group_by(KEYS).agg(
        pl.col("geo_invocations").sum(), pl.col("geo_cost_usd").sum(),
        savings_usd=pl.col("saved").sum(),
        premium=pl.col("geo_premium").max(),
    )  # fmt: skip
    pinned = pl.col("lob").is_in(list(a.residency_lobs))
    return out.with_columns(
        allowed=~pinned,
        savings_usd=pl.when(pinned).then(0.0).otherwise("savings_usd"),
    ).sort("savings_usd", descending=True)


def waste(facts: pl.DataFrame) -> pl.DataFrame:
    """Spend that bought nothing, per application: retries of a request within seconds of a
    failure (all but its first answer), answers cut at max_tokens, and calls a guardrail
    blocked. Applications without any are left out."""
    cols = ("retry_invocations", "retry_waste_usd", "cut_invocations", "cut_cost_usd",
            "blocked_invocations", "blocked_cost_usd")  # fmt: skip
    out = facts.group_by(KEYS).agg(pl.col(*cols).sum())
    out = out.with_columns(
        waste_usd=pl.col("retry_waste_usd") + pl.col("cut_cost_usd") + pl.col("blocked_cost_usd")
    )
    return out.filter(pl.col("waste_usd") > 0).sort("waste_usd", descending=True)


def over_reservation(facts: pl.DataFrame) -> pl.DataFrame:
    """Per model: max_tokens asked for against output tokens generated, per call; flagged when
    the reservation is OVER_RESERVED times what is generated or more."""
    out = facts.group_by("model").agg(
        pl.col("reserved_invocations").sum(), pl.col("max_tokens_sum").sum(),
        pl.col("reserved_output_tokens").sum(),
    )  # fmt: skip
    out = out.filter(pl.col("reserved_invocations") > 0, pl.col("reserved_output_tokens") > 0)
    return (
        out.with_columns(
            mean_max_tokens=pl.col("max_tokens_sum") / pl.col("reserved_invocations"),
            mean_output_tokens=pl.col("reserved_output_tokens") / pl.col("reserved_invocations"),
            ratio=pl.col("max_tokens_sum") / pl.col("reserved_output_tokens"),
        )
        .with_columns(over_reserved=pl.col("ratio") >= OVER_RESERVED)
        .sort("ratio", descending=True)
    )
