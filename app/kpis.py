"""The Overview's KPI tiles (and the `Tile` every page's tiles are made of): pure functions
from a period's figures to tiles, formatted by base/format.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from base.format import (
    MISSING,
    change,
    compact,
    count,
    hour,
    latency,
    money,
    percent,
    points,
    tokens,
)


@dataclass(frozen=True)
class Tile:
    """One KPI tile: its fields are `st.metric`'s arguments of the same names."""

    label: str
    value: str
    delta: str | None
    delta_color: Literal["normal", "inverse", "off"]
    delta_arrow: Literal["auto", "off"]
    help: str | None
    chart_data: list[float] | None  # a sparkline of the period, day by day


def tile(
    label: str,
    value: str,
    delta: str | None = None,
    delta_color: Literal["normal", "inverse", "off"] = "normal",
    help: str | None = None,
    trend: list[float] | None = None,
    *,
    arrow: bool = True,
) -> Tile:
    """A tile whose change rounds to nothing ('+0.00 pp') shows grey, unsigned, arrowless."""
    if delta is not None and not any(ch in "123456789" for ch in delta):
        delta, delta_color, arrow = delta.replace("+", "").replace("-", ""), "off", False
    return Tile(label, value, delta, delta_color, "auto" if arrow else "off", help, trend)


def unpriced_note(invocations: int, models: list[str]) -> str:
    """The warning under the tiles when some usage could not be priced."""
    return (
        f"**{count(invocations)} invocations unpriced** ({', '.join(models)}): no price in the "
        "catalog, so their cost is unknown, not $0; estimated spend leaves them out."
    )


def kpi_tiles(
    cur: Mapping[str, Any], prev: Mapping[str, Any], trend: Mapping[str, list[float]]
) -> list[Tile]:
    """The Overview's eight tiles from its 'current' and 'previous' KPI rows.

    A previous period without usage (before the data starts) shows no change at all: "+8 LOBs"
    against nothing is not news, and every tile says the same thing or nothing.
    """
    guarded = cur["guardrail_invocations"]
    if not prev["invocations"]:
        prev = dict.fromkeys(prev)
    return [
        _spend_tile(cur, prev, trend.get("est_cost_usd")),
        tile(
            "Invocations",
            compact(cur["invocations"]),
            change(cur["invocations"], prev["invocations"]),
            help=f"{count(cur['invocations'])} model invocations.",
            trend=trend.get("invocations"),
        ),
        tile(
            "Tokens",
            tokens(cur["tokens"]),
            change(cur["tokens"], prev["tokens"]),
            help=f"{count(cur['tokens'])} tokens: input + output + cache read + cache write.",
            trend=trend.get("tokens"),
        ),
        tile(
            "Active LOBs · apps",
            f"{cur['active_lobs']} · {cur['active_apps']}",
            f"{cur['active_lobs'] - prev['active_lobs']:+d} · "
            f"{cur['active_apps'] - prev['active_apps']:+d}"
            if prev["active_lobs"] is not None
            else None,
            "off",
            "Lines of business (not counting unattributed) and applications with usage.",
            arrow=False,
        ),
        _rate_tile(
            "Error rate", "errors", "invocations", cur, prev,
            f"{count(cur['errors'])} failed invocations, {count(cur['throttles'])} of them "
            "throttled.",
        ),
        _rate_tile(
            "Guardrail interventions", "guardrail_interventions", "guardrail_invocations",
            cur, prev,
            f"Share of the {count(guarded)} guardrail-checked invocations where a guardrail "
            "intervened." if guarded else "No guardrail ran on these invocations.",
        ),
        _rate_tile(
            "Unattributed spend", "unattributed_cost_usd", "est_cost_usd", cur, prev,
            "Share of estimated spend that no attribution rule claimed (LOB 'unattributed').",
        ),
        tile(
            "Unpriced invocations",
            count(cur["unpriced_invocations"]),
            f"{cur['unpriced_invocations'] - prev['unpriced_invocations']:+,}"
            if prev["unpriced_invocations"] is not None
            else None,
            "inverse",
            "Invocations of models with no price in the catalog: their cost is unknown, not $0. "
            "Add the price to genai-lens.toml [[prices]].",
        ),
    ]  # fmt: skip


BUDGET_STATUS = {
    "on_track": "On track", "at_risk": "At risk", "over": "Over budget", "no_budget": "No budget",
}  # fmt: skip


def month_tiles(
    month: Mapping[str, Any], month_name: str, through: datetime | None = None
) -> list[Tile]:
    """'Est. spend this month' (estimate, against last month's same span) and its landing.

    It is the estimate to the newest loaded hour, today included; the forecast's "to date" (the
    landing tile, the Spend page) is the allocated bill through the last whole day before the
    model ran. Both say which they are, since they differ by today and by bill-vs-estimate.
    """
    until = f"{hour(through + timedelta(hours=1))}" if through else "the newest loaded hour"
    mtd = tile(
        "Est. spend this month", money(month["mtd_cost"] or 0.0),
        change(month["mtd_cost"], month["prev_mtd_cost"]), "inverse",
        f"Estimated from invocation logs (tokens × price catalog), 1 {month_name} to {until}, "
        "today so far included; against the same span of last month. Every filter applies but "
        "the period. Not the bill: the Spend page's landing 'To date' is the allocated bill "
        "through the last whole day before the forecast ran.",
    )  # fmt: skip
    return [mtd, landing_tile(month, month_name)]


def landing_tile(month: Mapping[str, Any], month_name: str) -> Tile:
    """Where the month lands (forecast), its change against budget when one is set."""
    if not month["series"]:
        return tile("Month-end landing", MISSING, None, "off", "No forecast yet: run "
                    "`genai-lens models run`.")  # fmt: skip
    value, budget = month["landing"], month["budget"]
    help = f"Forecast of {month_name}'s spend (newest model run)"
    if month.get("actual_to_date") is not None:
        help += (
            f": {money(month['actual_to_date'])} so far from the allocated bill (the estimate "
            "for days not billed yet), whole days before the run"
        )
    if month["lo80"] is not None:
        help += f", 80% interval {money(month['lo80'])} – {money(month['hi80'])}"
    if month["p_exceed"] is not None and budget:
        help += f"; {percent(month['p_exceed'], decimals=0)} chance of ending over budget"
    help += ". Per LOB: the application, model, region and account filters do not apply."
    if not budget or month["budgets"] < month["series"]:
        return tile("Month-end landing", money(value), "no budget set", "off", help, arrow=False)
    return tile("Month-end landing", money(value),
                f"{change(value, budget)} vs {money(budget)} budget", "inverse", help)  # fmt: skip


def latency_tile(cur: Mapping[str, Any], prev: Mapping[str, Any]) -> Tile:
    return tile(
        "Latency p95", latency(cur["latency_p95_ms"]),
        change(cur["latency_p95_ms"], prev["latency_p95_ms"]), "inverse",
        "Invocation-log latency to the last token: the hourly p95s averaged, weighted by "
        "invocations (close to, not exactly, the period's p95).",
    )  # fmt: skip


def _spend_tile(cur: Mapping[str, Any], prev: Mapping[str, Any], trend: list[float] | None) -> Tile:
    spend, unpriced = cur["est_cost_usd"], cur["unpriced_invocations"]
    help = "Tokens × the price catalog, from invocation logs; not the AWS bill."
    if unpriced:
        help += f" Leaves out {count(unpriced)} unpriced invocations (unknown cost, not $0)."
    # No priced usage: unknown if something ran unpriced, a true $0 if nothing ran at all.
    value = money(spend if spend is not None or unpriced else 0.0)
    return tile("Estimated spend", value, change(spend, prev["est_cost_usd"]), "inverse", help,
                trend)  # fmt: skip


def _rate_tile(
    label: str, part: str, whole: str, cur: Mapping[str, Any], prev: Mapping[str, Any], help: str
) -> Tile:
    now, before = _ratio(cur[part], cur[whole]), _ratio(prev[part], prev[whole])
    return tile(label, percent(now), points(now, before), "inverse", help)


def _ratio(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else part / whole
