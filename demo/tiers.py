"""Service tiers, 1-hour cache writes and long-context sizes for the demo estate.

Drawn from each call's requestId (random hex), like the bill's metering lag: the same call
gets the same draw in any subset of the frame, with no generator state, so adding these
columns changes nothing else of the estate.
- Tiers: the customer-facing chat sends a quarter of its calls on the priority tier; the
  24x7 batch-like apps send part of theirs on flex. Everything else is standard ('default').
- Cache TTL: two of five cache writes of the Claude 4.5 apps are 1-hour writes.
- Context: the demo bill prices no long-context lines, so no call reaches a long-context size
  (input + cache tokens are capped just under 200K by trimming the input).
"""

from __future__ import annotations

import polars as pl

from demo import world as w

PRIORITY = {"chat-assist": 0.25}
FLEX = {"social-listening": 0.5, "model-eval": 0.4, "incident-summarizer": 0.3}
ONE_HOUR_MODELS = (w.CS45, w.CH45)
ONE_HOUR_SHARE = 0.4
LONG_CONTEXT = 200_000


def _u(start: int, digits: int) -> pl.Expr:
    """A uniform [0, 1) draw from hex digits of the requestId (dashes removed) at `start`: the
    random ones (a UUID v4 fixes its 13th digit and the top bits of its 17th)."""
    hexes = pl.col("request_id").str.replace_all("-", "", literal=True)
    return hexes.str.slice(start, digits).str.to_integer(base=16) / 16**digits


# The columns assign() adds to the estate frame.
ADDS = ("service_tier", "cache_write_1h_tokens")


def assign(frame: pl.DataFrame) -> pl.DataFrame:
    # Not the first 8 digits: the bill's metering lag uses those.
    u_tier, u_ttl = _u(24, 8), _u(20, 4)
    share_p = pl.col("app").replace_strict(PRIORITY, default=0.0, return_dtype=pl.Float64)
    share_f = pl.col("app").replace_strict(FLEX, default=0.0, return_dtype=pl.Float64)
    tier = (
        pl.when(u_tier < share_p).then(pl.lit("priority"))
        .when(u_tier < share_f).then(pl.lit("flex"))
        .otherwise(pl.lit("default"))
    )  # fmt: skip
    one_hour = pl.col("model").is_in(ONE_HOUR_MODELS) & (u_ttl < ONE_HOUR_SHARE)
    cached = pl.col("cache_read_tokens") + pl.col("cache_write_tokens")
    room = pl.lit(LONG_CONTEXT - 1000, pl.Int64) - cached
    return frame.with_columns(
        service_tier=tier,
        cache_write_1h_tokens=pl.when(one_hour).then(pl.col("cache_write_tokens")).otherwise(0),
        input_tokens=pl.min_horizontal("input_tokens", room.clip(lower_bound=0)),
    )
