"""Every chart of every page: pure functions from frames to plotly figures (no Streamlit, no
warehouse). They share one day axis, one tick rule and one stacked layout so every page reads
the same way, and take their colours and short names from app/legend.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

import plotly.graph_objects as go
import polars as pl

from app import legend
from base import format as fmt
from base.scalars import as_day, as_day_or_none, as_float

INK = "#1F2933"  # actuals: the page's text colour
FORECAST = "#2E5A87"  # the theme's primary blue
BAND_80 = "rgba(46,90,135,0.28)"
BAND_95 = "rgba(46,90,135,0.13)"
BUDGET = "#C0392B"
CE_COLOR = "#E68310"
SHADE = "rgba(120,120,120,0.10)"
Tick = Callable[[float], str]


CHART_HEIGHT = 320

MAX_SERIES = 10  # a stacked chart shows this many series at most (the rest as "N others")


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
        hover=",d", labels=legend.model_labels(daily["model"].unique().to_list()),
    )  # fmt: skip


def tokens_per_day(
    daily: pl.DataFrame, colors: dict[str, str], days: tuple[date, date]
) -> go.Figure:
    """Tokens (input, output and cache) per day stacked by LOB."""
    return stacked(
        daily, "lob", "tokens", days, colors=colors, kind="bar", tick=compact_tick, hover=",d"
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
        others = legend.OTHERS
        other = pl.when(pl.col(by).is_in(keep)).then(pl.col(by)).otherwise(pl.lit(others))
        frame = frame.with_columns(other.alias(by)).group_by("day", by).agg(pl.col(value).sum())
        names, labels[others], colors[others] = (
            [*keep, others],
            f"{len(rest)} others",
            legend.OTHER_COLOR,
        )
    colors = legend.distinct(names, colors, legend.palette_of(colors))
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


def percent_tick(value: float) -> str:
    return fmt.percent(value, decimals=0)


def latency_tick(value: float) -> str:
    """Axis ticks in ms under a second, then whole or round seconds: 500 ms, 1.5 s, 20 s."""
    if value == 0:
        return "0"
    return f"{value:,.0f} ms" if value < 1000 else f"{value / 1000:g} s"


# --- Spend -----------------------------------------------------------------------------------


def spend_stack(
    frame: pl.DataFrame,
    by: str,
    colors: dict[str, str],
    days: tuple[date, date],
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """Spend per day stacked by `by`; days that only have an estimate are shaded and named."""
    fig = stacked(
        frame.rename({"cost": "value"}), by, "value", days, colors=colors, kind="bar",
        tick=fmt.money_tick, hover="$,.2f", labels=labels,
    )  # fmt: skip
    estimated = frame.filter(pl.col("source") == "estimate")["day"]
    if len(estimated) and len(estimated) < len(frame):  # all estimate: the caption says so
        _shade(fig, as_day(estimated.min()), days[1], "estimate: no bill yet")
    return fig


def forecast(
    frame: pl.DataFrame,
    today: date,
    ce: pl.DataFrame | None = None,
    days: int = 120,
    until: date | None = None,
) -> go.Figure:
    """Daily actuals, the forecast and its 80/95% intervals to `until`; Cost Explorer's daily
    mean beside.

    The y-axis stops a quarter above the highest actual or forecast: intervals that fan out to
    several (in the audit, forty) times the daily spend would flatten the actuals into a line
    along zero. `clipped` says how high the bands run past the axis.
    """
    frame = frame.sort("day").filter(pl.col("day") >= today - timedelta(days=days))
    if until is not None:
        frame = frame.filter(pl.col("actual").is_not_null() | (pl.col("day") <= until))
    future = frame.filter(pl.col("actual").is_null())
    fig = go.Figure()
    for lo, hi, color, name in (("lo95", "hi95", BAND_95, "95% interval"),
                                ("lo80", "hi80", BAND_80, "80% interval")):  # fmt: skip
        _band(fig, future["day"].to_list(), future[lo].to_list(), future[hi].to_list(), color,
              name)  # fmt: skip
    past = frame.filter(pl.col("actual").is_not_null())
    fig.add_trace(_line(past["day"], past["actual"], "Actual", INK, "$,.2f"))
    fig.add_trace(_line(future["day"], future["yhat"], "Forecast", FORECAST, "$,.2f", "dash"))
    if ce is not None and len(ce):
        ce = ce.filter(pl.col("period_start") <= (until or ce["period_start"].max()))
        fig.add_trace(_line(ce["period_start"], ce["mean"], "Cost Explorer forecast", CE_COLOR,
                            "$,.2f", "dot"))  # fmt: skip
    top = forecast_top(frame)
    first = as_day_or_none(frame["day"].min()) or today
    last = as_day_or_none(frame["day"].max()) or today
    fig = day_layout(fig, (first, last), top, fmt.money_tick)
    fig.add_vline(x=datetime.combine(today, datetime.min.time()).timestamp() * 1000,
                  line={"color": "#888", "width": 1, "dash": "dot"})  # fmt: skip
    return fig


def forecast_top(frame: pl.DataFrame) -> float:
    """Where the forecast chart's y-axis data stops: a quarter above the highest actual or
    forecast (the bands go on past it)."""
    values = [0.0, *frame["actual"].drop_nulls(), *frame["yhat"].drop_nulls()]
    return float(max(values)) * 1.25


def clipped(frame: pl.DataFrame, until: date | None) -> tuple[float, float] | None:
    """The 80% and 95% intervals' tops when a band runs past forecast()'s axis, else None."""
    if until is not None:
        frame = frame.filter(pl.col("actual").is_not_null() | (pl.col("day") <= until))
    top80, top95 = frame["hi80"].max(), frame["hi95"].max()
    axis = nice_ticks(forecast_top(frame))[-1] * 1.02
    if top95 is None or float(top95) <= axis:  # type: ignore[arg-type]
        return None
    return float(top80 or 0.0), float(top95)  # type: ignore[arg-type]


def month_landing(frame: pl.DataFrame, row: dict[str, Any]) -> go.Figure:
    """This month's cumulative spend: actual to date, the forecast to month end, the landing's
    80/95% interval at month end and the budget line."""
    start, end = row["period_start"], row["period_end"]
    month = frame.filter(pl.col("day").is_between(start, end)).sort("day")
    month = month.with_columns(
        pl.coalesce("actual", "yhat").cum_sum().alias("cumulative"),
        pl.col("actual").is_not_null().alias("past"),
    )
    past, future = month.filter("past"), month.filter(~pl.col("past"))
    fig = go.Figure()
    fig.add_trace(_line(past["day"], past["cumulative"], "Actual to date", INK, "$,.0f"))
    if len(future):
        bridge = past.tail(1).vstack(future) if len(past) else future
        fig.add_trace(_line(bridge["day"], bridge["cumulative"], "Forecast", FORECAST, "$,.0f",
                            "dash"))  # fmt: skip
    for lo, hi, width, name in (("lo95", "hi95", 2, "95% interval"),
                                ("lo80", "hi80", 7, "80% interval")):  # fmt: skip
        if row.get(lo) is not None:
            fig.add_trace(go.Scatter(
                x=[end, end], y=[row[lo], row[hi]], mode="lines", name=name,
                line={"color": FORECAST, "width": width},
                hovertemplate=f"{name}: %{{y:$,.0f}}<extra></extra>", opacity=0.5,
            ))  # fmt: skip
    top = max(float(row.get("hi95") or 0), float(row["landing"]), float(row.get("budget") or 0))
    fig = day_layout(fig, (start, end + timedelta(days=1)), top, fmt.money_tick)
    if row.get("budget"):
        fig.add_hline(y=row["budget"], line={"color": BUDGET, "width": 1.5, "dash": "dash"},
                      annotation_text=f"Budget {fmt.money(row['budget'])}",
                      annotation_position="top left")  # fmt: skip
    return fig


def reconciliation(frame: pl.DataFrame, days: tuple[date, date]) -> go.Figure:
    """Estimated and billed spend per day (lines) and the drift between them (bars)."""
    per_day = frame.group_by("day").agg(
        pl.col("est_cost").sum(), _sum_or_null("billed_cost"), pl.col("drift_usd").sum()
    ).sort("day")  # fmt: skip
    fig = go.Figure()
    fig.add_trace(go.Bar(x=per_day["day"], y=per_day["drift_usd"], name="Drift (bill − estimate)",
                         marker_color="rgba(192,57,43,0.45)",
                         hovertemplate="Drift: %{y:$,.2f}<extra></extra>"))  # fmt: skip
    fig.add_trace(_line(per_day["day"], per_day["est_cost"], "Estimate", FORECAST, "$,.2f"))
    fig.add_trace(_line(per_day["day"], per_day["billed_cost"], "Bill", INK, "$,.2f"))
    top = max([0.0, *per_day["est_cost"].drop_nulls(), *per_day["billed_cost"].drop_nulls()])
    return day_layout(fig, days, float(top), fmt.money_tick)


# --- time series and bars --------------------------------------------------------------------


def lines(
    frame: pl.DataFrame,
    x: str,
    y: str,
    by: str,
    colors: dict[str, str],
    days: tuple[date, date],
    *,
    tick: Tick,
    hover: str,
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """One line per `by` value (biggest mean first), e.g. p99 latency per model."""
    order = frame.group_by(by).agg(pl.col(y).mean()).sort([y, by], descending=[True, False],
                                                           nulls_last=True)  # fmt: skip
    names = order[by].to_list()
    colors = legend.distinct(names, colors, legend.palette_of(colors))
    fig = go.Figure()
    for name in names:
        part = frame.filter(pl.col(by) == name).sort(x)
        label = (labels or {}).get(name, name)
        fig.add_trace(_line(part[x], part[y], label, colors.get(name), hover))
    top = frame[y].max() if len(frame) else 0
    hourly = len(frame) > 0 and is_hourly(frame[x])
    return day_layout(fig, days, as_float(top), tick, hourly=hourly)


def bars(
    frame: pl.DataFrame,
    label: str,
    value: str,
    *,
    tick: Tick,
    hover: str,
    colors: dict[str, str] | None = None,
    stack: str | None = None,
    labels: dict[str, str] | None = None,
    top: float | None = None,
) -> go.Figure:
    """Horizontal bars, biggest on top; `stack` splits each bar by a second column."""
    # Ties broken by name (descending, so the first name reads at the top): the same data draws
    # the same chart on every rerun.
    totals = (
        frame.group_by(label)
        .agg(pl.col(value).sum())
        .sort([value, label], descending=[False, True])
    )
    order = totals[label].to_list()
    fig = go.Figure()
    groups = frame[stack].unique().sort().to_list() if stack else [None]
    for group in groups:
        part = frame if stack is None else frame.filter(pl.col(stack) == group)
        part = part.group_by(label).agg(pl.col(value).sum())
        values = dict(zip(part[label], part[value], strict=True))
        name = str(group) if group is not None else value
        if stack:
            color: Any = (colors or {}).get(name)
        else:
            color = [(colors or {}).get(n, legend.MODEL_PALETTE[0]) for n in order]
        fig.add_trace(go.Bar(
            y=[(labels or {}).get(n, n) for n in order], x=[values.get(n, 0) for n in order],
            orientation="h", name=name, showlegend=stack is not None, marker_color=color,
            hovertemplate=f"%{{y}}{' · ' + name if stack else ''}: %{{x:{hover}}}<extra></extra>",
        ))  # fmt: skip
    if top is None:
        top = as_float(totals[value].max()) if len(totals) else 0.0
    ticks = nice_ticks(top)
    fig.update_layout(
        barmode="stack", height=max(220, 28 * len(order) + 80),
        margin={"l": 0, "r": 24, "t": 28, "b": 0}, plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)", font={"size": 12},
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom", "title": None},
    )  # fmt: skip
    fig.update_xaxes(tickvals=ticks, ticktext=[tick(t) for t in ticks],
                     range=[0, ticks[-1] * 1.02], gridcolor="rgba(128,128,128,0.18)")  # fmt: skip
    fig.update_yaxes(automargin=True)
    return fig


def quota(frame: pl.DataFrame, colors: dict[str, str], labels: dict[str, str],
          days: tuple[date, date]) -> go.Figure:  # fmt: skip
    """Throttles (bars, all models) under each model's busiest-minute quota usage, per hour up
    to a week and per day beyond (a month of hours is a wall of lines)."""
    if (days[1] - days[0]).days > 7:
        frame = frame.group_by(pl.col("hour").dt.truncate("1d"), "model").agg(
            pl.col("quota_tpm_max").max(), pl.col("throttles").sum()
        )
    fig = go.Figure()
    throttles = frame.group_by("hour").agg(pl.col("throttles").sum()).sort("hour")
    fig.add_trace(go.Bar(x=throttles["hour"], y=throttles["throttles"], name="Throttles",
                         marker_color="rgba(192,57,43,0.55)", yaxis="y2",
                         hovertemplate="Throttles: %{y:,.0f}<extra></extra>"))  # fmt: skip
    usage = frame.filter(pl.col("quota_tpm_max").is_not_null())
    for model in usage["model"].unique().sort().to_list():
        part = usage.filter(pl.col("model") == model).sort("hour")
        fig.add_trace(_line(part["hour"], part["quota_tpm_max"], labels.get(model, model),
                            colors.get(model), ",.0f"))  # fmt: skip
    top = as_float(usage["quota_tpm_max"].max()) if len(usage) else 0.0
    hourly = len(frame) > 0 and is_hourly(frame["hour"])
    fig = day_layout(fig, days, top, compact_tick, hourly=hourly)
    right = nice_ticks(as_float(throttles["throttles"].max()))
    fig.update_layout(yaxis2={
        "overlaying": "y", "side": "right", "showgrid": False, "title": "throttled calls",
        "tickvals": right, "ticktext": [compact_tick(t) for t in right],
        "range": [0, right[-1] * 1.02],
    })  # fmt: skip
    return fig


def coverage(frame: pl.DataFrame, days: tuple[date, date]) -> go.Figure:
    """Share of CloudWatch-counted invocations that reached the logs, per day and account/region."""
    frame = frame.with_columns(
        (pl.col("account_id").fill_null("?") + " · " + pl.col("region").fill_null("?")).alias(
            "where"
        ),
        # Logs a little ahead of CloudWatch (a call logged in one hour, counted in the next) is
        # full coverage, not more: the share stops at 100% and the axis shows all of it.
        (pl.col("logged_invocations") / pl.col("cw_invocations")).clip(0, 1).alias("share"),
    ).filter(pl.col("cw_invocations") > 0)
    # A handful of account/region lines: Tableau's ten hues tell a few apart better than the
    # model palette's twenty (which places two blues and two greens side by side here).
    colors = legend.color_map(frame["where"].unique().to_list(), legend.LOB_PALETTE)
    fig = lines(frame, "day", "share", "where", colors, days, tick=percent_tick, hover=".1%")
    fig.update_yaxes(range=[0, 1.05], tickvals=[0, 0.25, 0.5, 0.75, 1.0],
                     ticktext=["0%", "25%", "50%", "75%", "100%"])  # fmt: skip
    return fig


# --- Anomalies -------------------------------------------------------------------------------


def anomaly_band(
    band: pl.DataFrame, anomaly: dict[str, Any], tick: Tick, hover: str = ",.2f"
) -> go.Figure:
    """The series around an anomaly: expected band, expected, actual, the episode shaded."""
    band = band.sort("ts")
    fig = go.Figure()
    _band(fig, band["ts"].to_list(), band["lower"].to_list(), band["upper"].to_list(), BAND_80,
          "Expected band")  # fmt: skip
    fig.add_trace(_line(band["ts"], band["expected"], "Expected", FORECAST, hover, "dash"))
    fig.add_trace(_line(band["ts"], band["actual"], "Actual", INK, hover))
    end = anomaly["end_ts"] or band["ts"].max()
    fig.add_vrect(x0=anomaly["start_ts"], x1=end, fillcolor="rgba(192,57,43,0.12)", line_width=0,
                  annotation_text="anomaly", annotation_position="top left")  # fmt: skip
    top = max([0.0, *band["upper"].drop_nulls(), *band["actual"].drop_nulls()])
    ticks = nice_ticks(float(top))
    fig.update_layout(
        height=CHART_HEIGHT, margin={"l": 0, "r": 0, "t": 28, "b": 0},
        hovermode="x unified", plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom", "title": None},
    )  # fmt: skip
    fig.update_xaxes(tickformat="%d %b %H:%M", showgrid=False)
    fig.update_yaxes(tickvals=ticks, ticktext=[tick(t) for t in ticks], range=[0, ticks[-1]],
                     gridcolor="rgba(128,128,128,0.18)")  # fmt: skip
    return fig


# --- helpers ---------------------------------------------------------------------------------


def _line(
    x: Sequence[Any] | pl.Series,
    y: Sequence[Any] | pl.Series,
    name: str,
    color: str | None,
    hover: str,
    dash: str = "solid",
) -> go.Scatter:
    return go.Scatter(
        x=list(x), y=list(y), name=name, mode="lines", showlegend=True,
        line={"color": color, "width": 2, "dash": dash},
        hovertemplate=f"{name}: %{{y:{hover}}}<extra></extra>",
    )  # fmt: skip


def _band(fig: go.Figure, x: list, lo: list, hi: list, color: str, name: str) -> None:
    if not x:
        return
    fig.add_trace(go.Scatter(x=x, y=hi, mode="lines", line={"width": 0}, showlegend=False,
                             hoverinfo="skip", name=name))  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=lo, mode="lines", line={"width": 0}, fill="tonexty",
                             fillcolor=color, name=name, hoverinfo="skip"))  # fmt: skip


def _shade(fig: go.Figure, first: date, last: date, text: str) -> None:
    x0, x1 = day_edges(first, last)
    fig.add_vrect(x0=x0, x1=x1, fillcolor=SHADE, line_width=0,
                  annotation_text=text, annotation_position="top left",
                  annotation_font={"size": 11, "color": "#666"})  # fmt: skip


def _sum_or_null(column: str) -> pl.Expr:
    """The sum, or null when every value is null (not billed yet is not $0)."""
    return pl.when(pl.col(column).count() > 0).then(pl.col(column).sum()).alias(column)
