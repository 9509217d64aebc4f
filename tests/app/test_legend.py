"""Chart builders as a reader sees them: whole first and last bars, colours nobody confuses."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from app import figures, legend

DAYS = (date(2026, 11, 5), date(2026, 12, 4))
FIRST_EDGE, LAST_EDGE = datetime(2026, 11, 4, 12), datetime(2026, 12, 4, 12)


def lab(hex_color: str) -> tuple[float, float, float]:
    """sRGB hex to CIELAB (D65): distances there track what the eye tells apart."""
    rgb = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(a: str, b: str) -> float:
    return math.dist(lab(a), lab(b))


def daily(names: list[str], days: tuple[date, date] = DAYS) -> pl.DataFrame:
    """Spend per day for each name, the first name biggest."""
    n = (days[1] - days[0]).days + 1
    return pl.DataFrame([
        {"day": days[0] + timedelta(days=d), "model": name, "lob": name,
         "est_cost_usd": float(len(names) - i), "invocations": len(names) - i, "tokens": 1}
        for i, name in enumerate(names) for d in range(n)
    ])  # fmt: skip


# --- the first and last day --------------------------------------------------------------


def test_daily_charts_show_the_first_and_last_bars_whole():
    frame = daily(["wealth", "legal"])
    colors = legend.lob_colors(["wealth", "legal"])
    for build in (figures.spend_per_day, figures.tokens_per_day, figures.invocations_per_day):
        fig = build(frame, colors, DAYS)
        assert list(fig.layout.xaxis.range) == [FIRST_EDGE, LAST_EDGE]


def test_spend_stack_shades_whole_estimated_days_and_reconciliation_keeps_whole_bars():
    frame = daily(["wealth"]).rename({"est_cost_usd": "cost"}).with_columns(
        pl.when(pl.col("day") >= date(2026, 12, 1)).then(pl.lit("estimate"))
        .otherwise(pl.lit("bill")).alias("source")
    )  # fmt: skip
    fig = figures.spend_stack(frame, "lob", {"wealth": "#000"}, DAYS)
    assert list(fig.layout.xaxis.range) == [FIRST_EDGE, LAST_EDGE]
    (shade,) = fig.layout.shapes
    assert (shade.x0, shade.x1) == (datetime(2026, 11, 30, 12), datetime(2026, 12, 4, 12))
    recon = pl.DataFrame({"day": [DAYS[0], DAYS[1]], "model": ["m", "m"], "est_cost": [1.0, 2.0],
                          "billed_cost": [1.0, None], "drift_usd": [0.0, None]})  # fmt: skip
    assert figures.reconciliation(recon, DAYS).layout.xaxis.range[0] == FIRST_EDGE


def test_hourly_lines_run_to_the_end_of_the_last_day():
    hours = [datetime(2026, 12, 1) + timedelta(hours=h) for h in range(4 * 24)]
    frame = pl.DataFrame({"ts": hours, "model": "m", "p99": 1000.0})
    days = (date(2026, 12, 1), date(2026, 12, 4))
    fig = figures.lines(frame, "ts", "p99", "model", {"m": "#000"}, days,
                        tick=figures.latency_tick, hover=",.0f")  # fmt: skip
    assert list(fig.layout.xaxis.range) == [datetime(2026, 12, 1), datetime(2026, 12, 5)]
    per_day = frame.filter(pl.col("ts").dt.hour() == 0)
    fig = figures.lines(per_day, "ts", "p99", "model", {"m": "#000"}, days,
                        tick=figures.latency_tick, hover=",.0f")  # fmt: skip
    assert fig.layout.xaxis.range[0] == datetime(2026, 11, 30, 12)


# --- colours -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("palette", "least"),
    [(legend.MODEL_PALETTE, 30), (legend.LOB_PALETTE, 15), (legend.ERROR_PALETTE, 40)],
)
def test_palettes_are_distinguishable_and_apart_from_grey_and_others(palette, least):
    assert len(set(palette)) == len(palette)
    closest = min(delta_e(a, b) for a, b in itertools.combinations(palette, 2))
    assert closest >= least, closest
    for special in (legend.UNATTRIBUTED_COLOR, legend.OTHER_COLOR):
        assert min(delta_e(c, special) for c in palette) >= 15


def test_an_estate_of_twenty_models_gives_each_its_own_colour():
    models = [f"vendor.model-{i}-v1:0" for i in range(20)]
    colors = legend.model_colors(models)
    assert len(set(colors.values())) == 20
    assert legend.model_colors(reversed(models)) == colors  # stable, whatever the order


def test_error_codes_do_not_wear_lob_colours():
    codes = legend.error_colors(["ThrottlingException", "ValidationException",
                                 "ModelTimeoutException"])  # fmt: skip
    assert not set(codes.values()) & set(legend.LOB_PALETTE)
    assert len(set(codes.values())) == 3
    alone = legend.error_colors(["ThrottlingException"])  # the same hue in any company
    assert alone["ThrottlingException"] == codes["ThrottlingException"]
    more = legend.error_colors([*legend.BEDROCK_ERRORS, "SomethingNewException"])
    assert len(set(more.values())) == len(more)


@pytest.mark.parametrize("count", [9, 10, 15, 30])
def test_visible_series_never_share_a_colour(count):
    """More models than the palette holds: whatever the chart shows is still told apart."""
    models = [f"vendor.model-{i}-v1:0" for i in range(count)]
    colors = legend.color_map(models, legend.MODEL_PALETTE[:5])  # a tiny palette: many clash
    fig = figures.stacked(daily(models), "model", "invocations", DAYS, colors=colors, kind="bar",
                         tick=figures.compact_tick, hover=",d")  # fmt: skip
    shown = [t.marker.color for t in fig.data]
    assert len(shown) == min(count, figures.MAX_SERIES)
    assert len(set(shown)) == len(shown), shown


def test_the_biggest_series_keep_their_usual_colour():
    models = [f"vendor.model-{i}-v1:0" for i in range(12)]
    colors = legend.model_colors(models)
    fig = figures.stacked(daily(models), "model", "invocations", DAYS, colors=colors, kind="area",
                         tick=figures.compact_tick, hover=",d")  # fmt: skip
    assert fig.data[0].line.color == colors[models[0]]
    assert fig.data[-1].line.color == legend.OTHER_COLOR


def test_the_forecast_chart_reaches_the_month_or_quarter_end_and_a_week_at_least():
    from app import view

    assert view.forecast_until("Month end", date(2026, 12, 5)) == date(2026, 12, 31)
    assert view.forecast_until(None, date(2026, 12, 29)) == date(2027, 1, 5)  # a week ahead
    assert view.forecast_until("Quarter end", date(2026, 11, 5)) == date(2026, 12, 31)
    assert view.forecast_until("Quarter end", date(2027, 1, 5)) == date(2027, 3, 31)
    assert view.forecast_until("Whole forecast", date(2026, 12, 5)) is None
