"""Chart and table builders: pure functions from frames to plotly figures (no Streamlit here).

Colours are a property of the name, not of the chart: `lob_colors` and `model_colors` give the
same LOB or model the same colour on every chart and every page, as long as each page passes
the full list of names the warehouse knows (`data.dimensions`), not only the ones on screen.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Literal

import plotly.graph_objects as go
import polars as pl

from app import kpis
from base import format as fmt
from base.scalars import as_float

UNATTRIBUTED = "unattributed"
UNATTRIBUTED_COLOR = "#A3A9B3"  # grey: "nobody claimed this" should not look like a LOB
# Tableau 10 with its grey (kept for unattributed) swapped for navy: ten hues that stay apart
# whichever two of them land side by side in a stack.
LOB_PALETTE = (
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2",
    "#B279A2", "#EECA3B", "#9D755D", "#FF9DA6", "#1F3A5F",
)  # fmt: skip
# Twenty hues picked (greedy max-min, then swaps) from Kelly's, ColorBrewer's and Tableau's
# sets so that every pair is at least 30 CIELAB units apart, and as far from unattributed's
# grey and the "others" sand: an estate uses about twenty models, and ten colours made the two
# biggest (sonnet 4 and 4.5) share one. tests/app/test_charts.py checks the distances.
MODEL_PALETTE = (
    "#E41A1C", "#00A6ED", "#E68310", "#008856", "#7570B3",
    "#F3C300", "#882255", "#17BECF", "#7FB800", "#E377C2",
    "#0D2C54", "#9D755D", "#FF9DA6", "#2B3D26", "#E73F74",
    "#999933", "#332288", "#FFBB78", "#882D17", "#98DF8A",
)  # fmt: skip
# Error codes have their own hues (ColorBrewer Dark2 and Set1 without their greys, every pair
# at least 40 CIELAB units apart), so that ThrottlingException never wears a LOB's colour.
# Bedrock's own codes keep one hue each, whatever else failed in the period; others hash.
ERROR_PALETTE = (
    "#D95F02", "#377EB8", "#984EA3", "#1B9E77", "#E7298A", "#E6AB02", "#66A61E", "#8C564B",
)  # fmt: skip
BEDROCK_ERRORS = (
    "ThrottlingException", "ValidationException", "ModelTimeoutException", "ModelErrorException",
    "ServiceUnavailableException", "AccessDeniedException", "InternalServerException",
)  # fmt: skip
CHART_HEIGHT = 320
MAX_SERIES = 10  # a stacked chart shows this many series at most (the rest as "N others")
OTHERS = "\x00others"  # sorts and compares apart from any real name
OTHER_COLOR = "#D8CFC0"  # sand: not a LOB's or model's hue, and not unattributed's grey


def color_map(names: Iterable[str], palette: Sequence[str]) -> dict[str, str]:
    """A colour per name, stable across charts, pages and processes.

    Each name hashes (SHA-1, not Python's per-process salted hash) to a preferred slot. Names
    are placed in sorted order and one whose slot is taken moves to the next free slot, so up
    to len(palette) names never share a colour, and adding a name rarely moves another.
    """
    used: set[int] = set()
    slots: dict[str, int] = {}
    for name in sorted(set(names)):
        preferred = int(hashlib.sha1(name.encode()).hexdigest(), 16) % len(palette)
        probe = [(preferred + step) % len(palette) for step in range(len(palette))]
        slot = next((s for s in probe if s not in used), preferred)  # all taken: share
        used.add(slot)
        slots[name] = slot
    return {name: palette[slot] for name, slot in slots.items()}


def lob_colors(names: Iterable[str]) -> dict[str, str]:
    """LOB colours; 'unattributed' (any case: the bill's allocation writes 'Unattributed') grey."""
    names = list(names)
    colors = color_map([n for n in names if n.lower() != UNATTRIBUTED], LOB_PALETTE)
    grey = {n: UNATTRIBUTED_COLOR for n in [*names, UNATTRIBUTED, "Unattributed"]
            if n.lower() == UNATTRIBUTED}  # fmt: skip
    return colors | grey


def model_colors(names: Iterable[str]) -> dict[str, str]:
    return color_map(names, MODEL_PALETTE)


def error_colors(names: Iterable[str]) -> dict[str, str]:
    names = list(names)
    fixed = {n: ERROR_PALETTE[BEDROCK_ERRORS.index(n)] for n in names if n in BEDROCK_ERRORS}
    rest = [c for c in ERROR_PALETTE if c not in fixed.values()]
    return fixed | color_map([n for n in names if n not in fixed], rest or ERROR_PALETTE)


def distinct(
    names: Sequence[str], colors: dict[str, str], palette: Sequence[str]
) -> dict[str, str]:
    """`colors` with no two of `names` (the series on one chart) sharing a colour.

    `color_map` keeps names apart only up to the palette's length; past it, a name that would
    repeat a colour already on this chart takes the first palette colour not on it. Names
    earlier in `names` (the biggest series) keep their usual colour.
    """
    out, used = dict(colors), set()
    for name in names:
        color = out.get(name)
        if color is None or color in used:
            free = [c for c in palette if c not in used]
            color = free[0] if free else color or palette[0]  # every colour taken: reuse
            out[name] = color
        used.add(color)
    return out


_DATE = re.compile(r"-\d{8}")
_VERSION = re.compile(r"-v(\d+)(?::\d+)?$|:\d+$")


def model_label(model: str) -> str:
    """'anthropic.claude-sonnet-4-20250514-v1:0' -> 'claude-sonnet-4'; v2+ keeps ' v2'."""
    # Bedrock ids are [geo.]vendor.name: the name follows the last dot.
    label = _DATE.sub("", model.rsplit(".", 1)[-1])
    version = _VERSION.search(label)
    label = _VERSION.sub("", label)
    if version and version.group(1) and int(version.group(1)) > 1:
        label += f" v{version.group(1)}"
    return label or model


def model_labels(models: Iterable[str]) -> dict[str, str]:
    """Short legend labels, falling back to the full id where two models would collide."""
    models = sorted(set(models))
    short = {m: model_label(m) for m in models}
    clashes = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {m: (m if s in clashes else s) for m, s in short.items()}


def daily_totals(daily: pl.DataFrame, days: tuple[date, date]) -> pl.DataFrame:
    """Spend, invocations and tokens per day over the whole period (0 where none)."""
    grid = day_grid(days)
    totals = daily.group_by("day").agg(
        pl.col("est_cost_usd").sum(), pl.col("invocations").sum(), pl.col("tokens").sum()
    )
    return grid.join(totals, on="day", how="left").fill_null(0).sort("day")


def unpriced_models(daily: pl.DataFrame) -> dict[str, int]:
    """Models with unpriced invocations in the frame, and how many, by model name."""
    found = daily.group_by("model").agg(pl.col("unpriced_invocations").sum())
    found = found.filter(pl.col("unpriced_invocations") > 0).sort("model")
    return dict(zip(found["model"], found["unpriced_invocations"], strict=True))


def spend_per_day(
    daily: pl.DataFrame, colors: dict[str, str], days: tuple[date, date]
) -> go.Figure:
    """Estimated spend per day stacked by LOB (unpriced usage contributes nothing)."""
    return stacked(
        daily, "lob", "est_cost_usd", days, colors=colors, kind="bar", tick=fmt.money_tick,
        hover="$,.2f",
    )  # fmt: skip


def invocations_per_day(
    daily: pl.DataFrame, colors: dict[str, str], days: tuple[date, date]
) -> go.Figure:
    """Invocations per day stacked by model, labelled with short model names."""
    return stacked(
        daily, "model", "invocations", days, colors=colors, kind="area", tick=compact_tick,
        hover=",d", labels=model_labels(daily["model"].unique().to_list()),
    )  # fmt: skip


def tokens_per_day(
    daily: pl.DataFrame, colors: dict[str, str], days: tuple[date, date]
) -> go.Figure:
    """Tokens (input, output and cache) per day stacked by LOB."""
    return stacked(
        daily, "lob", "tokens", days, colors=colors, kind="bar", tick=compact_tick, hover=",d"
    )


def lob_table(lobs: pl.DataFrame, compare: bool = True) -> pl.DataFrame:
    """The per-LOB table as displayed: change and share in percent, short model names; no
    change where the previous span is no baseline (`compare` False)."""
    if not compare:
        lobs = lobs.with_columns(pl.lit(None, pl.Float64).alias("prev_est_cost_usd"))
    labels = model_labels(lobs["top_model"].drop_nulls().to_list())
    change = (pl.col("est_cost_usd") / pl.col("prev_est_cost_usd") - 1) * 100
    status = pl.col("budget_status")
    return lobs.select(
        pl.col("lob").alias("LOB"),
        pl.col("est_cost_usd").alias("Est. spend"),
        pl.col("daily_cost").alias("Spend per day"),
        pl.when(pl.col("prev_est_cost_usd") > 0).then(change).alias("vs previous"),
        (pl.col("cost_share") * 100).alias("Share of spend"),
        status.replace_strict(kpis.BUDGET_STATUS, default=status).alias("Budget status"),
        pl.col("month_landing").alias("Month landing"),
        pl.col("month_budget").alias("Budget"),
        (pl.col("p_exceed") * 100).alias("P(over budget)"),
        pl.col("invocations").alias("Invocations"),
        pl.col("tokens").alias("Tokens"),
        pl.col("top_model").replace(labels).alias("Top model"),
        pl.col("unpriced_invocations").alias("Unpriced invocations"),
    )


def compact_tick(value: float) -> str:
    return fmt.compact(value, trim=True)


def day_grid(days: tuple[date, date]) -> pl.DataFrame:
    return pl.DataFrame({"day": pl.date_range(days[0], days[1], "1d", eager=True)})


def stacked(
    daily: pl.DataFrame,
    by: str,
    value: str,
    days: tuple[date, date],
    *,
    colors: dict[str, str],
    kind: Literal["bar", "area"],
    tick: Callable[[float], str],
    hover: str,
    labels: dict[str, str] | None = None,
    most: int = MAX_SERIES,
) -> go.Figure:
    """One trace per `by` value, biggest total at the bottom of the stack and first in legend.

    Past `most` values the smallest are stacked together as "N others": twenty models make a
    legend taller than the chart and colours nobody can tell apart.
    """
    frame = daily.group_by("day", by).agg(pl.col(value).sum().fill_null(0))
    order = frame.group_by(by).agg(pl.col(value).sum()).sort([value, by], descending=[True, False])
    names = order[by].to_list()
    labels, colors = dict(labels or {}), dict(colors)
    if len(names) > most:
        keep, rest = names[: most - 1], names[most - 1 :]
        other = pl.when(pl.col(by).is_in(keep)).then(pl.col(by)).otherwise(pl.lit(OTHERS))
        frame = frame.with_columns(other.alias(by)).group_by("day", by).agg(pl.col(value).sum())
        names, labels[OTHERS], colors[OTHERS] = [*keep, OTHERS], f"{len(rest)} others", OTHER_COLOR
    colors = distinct(names, colors, palette_of(colors))
    grid = day_grid(days)
    fig = go.Figure()
    for name in names:
        series = grid.join(frame.filter(pl.col(by) == name), on="day", how="left")
        y = series[value].fill_null(0).to_list()
        label = labels.get(name, name)
        common = {
            "x": series["day"].to_list(),
            "y": y,
            "name": label,
            "showlegend": True,  # even alone: a filtered chart still names its one series
            "hovertemplate": f"{label}: %{{y:{hover}}}<extra></extra>",
        }
        if kind == "bar":
            fig.add_trace(go.Bar(marker_color=colors.get(name), **common))
        else:
            # An opaque fill: plotly's default half-transparent one washes neighbouring hues
            # (two browns, two blues) into the same pastel.
            fig.add_trace(
                go.Scatter(
                    mode="lines", stackgroup="one", line={"width": 0.5, "color": colors.get(name)},
                    fillcolor=colors.get(name), **common,
                )
            )  # fmt: skip
    top = frame.group_by("day").agg(pl.col(value).sum())[value].max() if len(frame) else 0
    return day_layout(fig, days, as_float(top), tick)


def palette_of(colors: dict[str, str]) -> Sequence[str]:
    """The palette a colour map was drawn from, to find a free colour in."""
    used = set(colors.values())
    palettes = (MODEL_PALETTE, LOB_PALETTE, ERROR_PALETTE)
    return max(palettes, key=lambda palette: len(used & set(palette)))


def day_layout(
    fig: go.Figure,
    days: tuple[date, date],
    top: float,
    tick: Callable[[float], str],
    *,
    hourly: bool = False,
) -> go.Figure:
    """Stacked layout over whole days; `hourly` series run to the last day's end, not its noon."""
    ticks = nice_ticks(top)
    fig.update_layout(
        barmode="stack",
        bargap=0.2,
        height=CHART_HEIGHT,
        margin={"l": 0, "r": 0, "t": 28, "b": 0},
        hovermode="x unified",
        # "normal": legend in trace order, biggest first (stacked bars default to reversed).
        legend={
            "orientation": "h",
            "x": 0,
            "y": 1.0,
            "yanchor": "bottom",
            "title": None,
            "traceorder": "normal",
        },
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
        font={"size": 12},
    )
    fig.update_xaxes(
        range=hour_edges(*days) if hourly else day_edges(*days),
        tickformat="%d %b",
        hoverformat="%a %d %b %Y",
        showgrid=False,
    )
    fig.update_yaxes(
        tickvals=ticks,
        ticktext=[tick(t) for t in ticks],
        range=[0, ticks[-1] * 1.02],
        gridcolor="rgba(128,128,128,0.18)",
        zeroline=False,
    )
    return fig


def day_edges(first: date, last: date) -> list[datetime]:
    """Noon before `first` to noon after `last`: a day's bar is centred on its midnight, so a
    range from midnight to midnight would cut the first and last bars in half. (Datetimes on
    purpose: a `date` minus twelve hours is the same date.)"""
    half = timedelta(hours=12)
    return [datetime.combine(first, time()) - half, datetime.combine(last, time()) + half]


def hour_edges(first: date, last: date) -> list[datetime]:
    """Midnight of `first` to the midnight after `last`: where hourly points sit."""
    return [datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time())]


def is_hourly(values: pl.Series) -> bool:
    """True when some x value is not a midnight: a series of hours, not of days."""
    if values.dtype != pl.Datetime or values.is_empty():
        return False
    return bool((values.dt.truncate("1d") != values).any())


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round axis ticks from 0 to at least `top`: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if top <= 0 or math.isnan(top):
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [round(i * step, 12) for i in range(math.ceil(top / step - 1e-9) + 1)]
