"""The colour and the short name each LOB, model and error code wears, the same on every chart,
table and page: pure functions of the names (no Streamlit, no plotly).

Colours are a property of the name, not of the chart: `lob_colors` and `model_colors` give the
same LOB or model the same colour on every chart and every page, as long as each page passes
the full list of names the warehouse knows (`data.dimensions`), not only the ones on screen.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

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
# biggest (sonnet 4 and 4.5) share one. tests/app/test_legend.py checks the distances.
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


def palette_of(colors: dict[str, str]) -> Sequence[str]:
    """The palette a colour map was drawn from, to find a free colour in."""
    used = set(colors.values())
    palettes = (MODEL_PALETTE, LOB_PALETTE, ERROR_PALETTE)
    return max(palettes, key=lambda palette: len(used & set(palette)))
