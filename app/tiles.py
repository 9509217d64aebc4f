"""KPI tiles and one-line summaries of the Spend, Reliability, Governance and Data health
pages: pure functions from their frames to `format.Tile`s and sentences."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from app.kpis import Tile, tile
from base import format as fmt
from base.scalars import as_day, as_day_or_none, as_float
from ingest import sources as ingest_sources

if TYPE_CHECKING:
    from app.context import Context


def _sum(frame: pl.DataFrame, column: str) -> float | None:
    return None if frame.is_empty() else as_float(frame[column].sum())


def spend(spend: pl.DataFrame, units: pl.DataFrame) -> list[Tile]:
    billed = spend.filter(pl.col("source") == "bill")
    estimated = spend.filter(pl.col("source") == "estimate")
    total = (_sum(billed, "cost") or 0.0) + (_sum(estimated, "cost") or 0.0)
    tokens = as_float(units.filter(pl.col("est_cost_usd").is_not_null())["tokens"].sum())
    priced = as_float(units["invocations"].sum()) - as_float(units["unpriced_invocations"].sum())
    est = as_float(units["est_cost_usd"].sum())
    last_bill = as_day_or_none(billed["day"].max())
    return [
        tile("Spend", fmt.money(total), help="The allocated bill where it has arrived, the "
             "estimate after it. Every filter applies (app, region and account split the bill "
             "by their share of estimated cost)."),
        tile("Billed", fmt.money(_sum(billed, "cost")) if len(billed) else fmt.MISSING,
             help=f"The bill allocated to LOBs, to {fmt.day_span(last_bill, last_bill)}."
             if last_bill else "No bill allocated in this period yet."),
        tile("Not billed yet", fmt.money(_sum(estimated, "cost") or 0.0),
             help="Estimated (tokens × the price catalog) for days the bill does not cover yet."),
        tile("Per 1K tokens", f"${est / tokens * 1000:,.4f}" if tokens else fmt.MISSING,
             help="Estimated cost per 1,000 tokens of priced usage."),
        tile("Per request", f"${est / priced:,.4f}" if priced else fmt.MISSING,
             help="Estimated cost per priced request."),
        tile("Cache savings", fmt.money(as_float(units["cache_savings_usd"].sum())),
             help="cache_read_tokens × (input price − cache read price), from the catalog."),
    ]  # fmt: skip


LANDING_NOTE = (
    "To date: the forecast's actuals, the bill allocated to LOBs (the estimate for days the bill "
    "does not cover yet), in whole days to 'Actuals to', the day before the model ran. The "
    "Overview's 'Est. spend this month' is the estimate to the newest loaded hour, today "
    "included: the two differ by today and by bill against estimate."
)


def clipped_note(tops: tuple[float, float]) -> str:
    return (
        f"The intervals run past the chart: the 80% one to {fmt.money(tops[0])} a day, the 95% "
        f"one to {fmt.money(tops[1])}. The axis stops a quarter above the highest actual or "
        "forecast so the actuals stay readable."
    )


def ce_missing(ce: pl.DataFrame) -> str | None:
    """Why Cost Explorer's row is missing beside ours, or None when it is there."""
    if len(ce.filter(pl.col("granularity") == "MONTHLY")):
        return None
    return (
        "Cost Explorer: no forecast for this month in the warehouse. It is pulled once a day "
        "(GetCostForecast) by `genai-lens ingest cost` from a `[[cost.apis]]` source; a "
        "landing zone of data exports alone has none."
    )


def no_reconciliation(ctx: Context) -> str:
    if not ctx.version.scope.all_lobs:
        return "The bill has no LOB: estimate against bill is shown to readers of every LOB."
    return "No reconciliation in this period yet — run `genai-lens models run` once the bill is in."


BASES = (("tag", "by the bill's tags"), ("principal", "by the bill's caller (IAM principal)"),
         ("share", "by estimated share of logged usage"))  # fmt: skip


def allocation_bases(frame: pl.DataFrame) -> dict[str, float]:
    """How much of the bill each way of allocating placed: tag, principal, share, and what no
    LOB was found for (unattributed, whatever the basis)."""
    money = frame.select("lob", "basis", cost=pl.col("allocated_cost").cast(pl.Float64))
    mapped = money.filter(pl.col("lob") != "unattributed")
    out = {b: float(mapped.filter(pl.col("basis") == b)["cost"].sum()) for b, _ in BASES}
    out["unattributed"] = float(money.filter(pl.col("lob") == "unattributed")["cost"].sum())
    return out


def chargeback_summary(frame: pl.DataFrame) -> str:
    total = as_float(frame["allocated_cost"].cast(pl.Float64).sum())
    first, last = as_day(frame["day"].min()), as_day(frame["day"].max())
    lobs = frame["lob"].n_unique()
    bases = allocation_bases(frame)
    # Unattributed spend is nobody's LOB: only a reader whose rows hold it is told of it (a LOB
    # viewer's frame never does, and the word would read as another LOB's data).
    left = (frame["lob"] == "unattributed").any()
    how = "; ".join(
        [f"{fmt.money(bases[b])} {label}" for b, label in BASES]
        + ([f"{fmt.money(bases['unattributed'])} unattributed"] if left else [])
    )
    return (
        f"**{fmt.money(total)}** billed from {fmt.day_span(first, last)}, split across "
        f"{lobs} LOB{'s' if lobs != 1 else ''}, model and token kind; every bill line's shares add "
        "up to that line exactly (10 decimals, as billed). FOCUS 1.2 columns, with x_Lob, x_Model "
        f"and x_TokenKind for the split.\n\nAllocated: {how}."
    )


def reliability(daily: pl.DataFrame) -> list[Tile]:
    """From reliability_daily: volume, failure rates and latency of the logged invocations."""
    n, errors, throttles = (
        as_float(daily[c].sum()) for c in ("invocations", "errors", "throttles")
    )
    counted, weighted = (
        as_float(daily["latency_count"].sum()),
        as_float(daily["latency_p95_count"].sum()),
    )
    mean = as_float(daily["latency_ms_sum"].sum()) / counted if counted else None
    p95 = as_float(daily["latency_p95_weighted"].sum()) / weighted if weighted else None
    return [
        tile("Invocations", fmt.compact(n), help=f"{fmt.count(n)} invocations in the logs."),
        tile("Error rate", fmt.percent(errors / n if n else None),
             help=f"{fmt.count(errors)} failed invocations, throttles included."),
        tile("Throttle rate", fmt.percent(throttles / n if n else None),
             help=f"{fmt.count(throttles)} invocations refused with ThrottlingException."),
        tile("Mean latency", fmt.latency(mean), help="Invocation logs, to the last token."),
        tile("Latency p95", fmt.latency(p95),
             help="The hourly p95s averaged with invocations as weight (approximate)."),
    ]  # fmt: skip


def governance(
    daily: pl.DataFrame, changes: pl.DataFrame | None, gaps: pl.DataFrame | None
) -> list[Tile]:
    """Coverage and interventions from the logs; changes and logging gaps from CloudTrail
    (None: their rollup is missing, shown as a dash)."""
    n, guarded = (
        as_float(daily["invocations"].sum()),
        as_float(daily["guardrail_invocations"].sum()),
    )
    intervened = as_float(daily["guardrail_interventions"].sum())
    failed = 0 if changes is None else changes.filter(pl.col("error_code").is_not_null()).height
    return [
        tile("Guardrail coverage", fmt.percent(guarded / n if n else None),
             help=f"{fmt.count(guarded)} of {fmt.count(n)} invocations ran under a guardrail."),
        tile("Interventions", fmt.count(intervened),
             help=f"{fmt.percent(intervened / guarded if guarded else None)} of checked calls."),
        tile("Configuration changes", fmt.count(None if changes is None else len(changes)),
             help=f"Bedrock configuration changes in CloudTrail, {failed} of them refused."),
        tile("Logging switched off", fmt.count(None if gaps is None else len(gaps)),
             help="Times invocation logging was deleted in the period (each is a blind spot)."),
    ]  # fmt: skip


# Data health: each source and how soon it can deliver at best (the models: once a day), in
# the page's order (usage first, then the sources that explain it); a source added to the
# registry and not named here comes after them.
_PAGE_ORDER = ("invocation-logs", "metrics", "cloudtrail", "cost")
_SHOWN = sorted(
    ingest_sources.SOURCES,
    key=lambda s: _PAGE_ORDER.index(s.name) if s.name in _PAGE_ORDER else len(_PAGE_ORDER),
)
SOURCES = {**{s.name: s.label for s in _SHOWN}, "models": "Models"}
DELIVERS = {**{s.name: s.delivers for s in _SHOWN}, "models": timedelta(days=1)}
ADMIN_ONLY = "Shown to readers of every LOB: it carries no LOB."


DAILY = ("cost",)  # sources whose newest point is a whole UTC day; `newest` is that day's end


def freshness(sources: dict[str, dict[str, Any]], now: datetime) -> pl.DataFrame:
    """Per source: newest data, its age against what the source can deliver, last run.

    A daily source's newest point is a day: it reads as that day, and its age runs from the
    day's end, so today's partial bill is "in progress", not minus two hours old. No age is
    negative (a clock a little ahead of the reader's is not the future).
    """
    rows = []
    for source, deliver in DELIVERS.items():
        row = sources.get(source, {})
        newest = row.get("newest")
        age = max(now - newest, timedelta(0)) if newest else None
        late = age is not None and age > max(deliver * 4, timedelta(hours=2))
        state = "no data" if newest is None else "late" if late else "fresh"
        if row.get("last_status") in ("error", "interrupted"):
            state += f" · last run {row['last_status']}"
        rows.append({
            "Source": SOURCES[source], "Newest data": _newest(newest, source in DAILY, now),
            "Age": _age(age) if newest is None or newest <= now or source not in DAILY
            else "day in progress",
            "Delivers within": _age(deliver), "State": state,
            "Ingest read to": row.get("covered_until"), "Last run": row.get("last_run_at"),
            "Last ok run": row.get("last_ok_at"), "Failed runs (24h)": row.get("failed_24h"),
            "Last error": row.get("last_error"),
        })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


def _newest(newest: datetime | None, daily: bool, now: datetime) -> str:
    """'4 Dec 2026, 22:00 UTC' for a point in time; '4 Dec 2026 (whole day)' for a day."""
    if newest is None:
        return fmt.MISSING
    if not daily:
        return f"{newest.day} {newest:%b %Y, %H:%M} UTC"
    day = (newest - timedelta(days=1)).date()
    return f"{day.day} {day:%b %Y}" + (" (so far)" if newest > now else " (whole day)")


def quarantine_note(records: int) -> str:
    return (
        f"{fmt.count(records)} records could not be loaded. Their text is never stored: open "
        "the object at that line in the landing zone."
    )


def missing_logs_note(hours: int) -> str:
    return (
        f"{hours} hour(s) where CloudWatch counted Bedrock calls the invocation logs did not "
        "deliver: logging switched off, a delivery failure, or a landing zone not configured."
    )


def gaps_note(times: int) -> str:
    return (
        f"Invocation logging was switched off {times} time(s): calls made meanwhile left no "
        "log, so their usage, cost and guardrail outcomes are missing from every page."
    )


def _age(age: timedelta | None) -> str:
    if age is None:
        return fmt.MISSING
    minutes = age.total_seconds() / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{minutes / 1440:.0f} days"


def cloudwatch_hint(ctx: Context) -> str:
    if not ctx.version.scope.all_lobs:
        return "CloudWatch metrics have no LOB: they are shown to readers of every LOB."
    return "Is the metrics source configured (`genai-lens ingest metrics`)?"


QUOTA_NOTE = (
    "Lines: each model's busiest minute of quota usage (tokens per minute), per hour (per day "
    "beyond a week). Bars (right axis): throttled calls, all models."
)


def quota_hint(ctx: Context, quota: pl.DataFrame, loaded: list[str]) -> str:
    """Why there is no quota line: metrics loaded without that one, or no metrics at all."""
    throttles = as_float(quota["throttles"].sum()) if len(quota) else 0
    note = f" CloudWatch counted {fmt.count(throttles)} throttled calls." if throttles else ""
    if not loaded:
        return f"No CloudWatch metrics in the period.{note} {cloudwatch_hint(ctx)}"
    return (
        f"The metrics loaded for the period ({', '.join(loaded)}) do not include "
        "EstimatedTPMQuotaUsage: CloudWatch publishes it since March 2026, and older accounts "
        f"and metric streams that filter it out have none.{note}"
    )


# Pages never scan raw invocations, so a percentile over a day or a period is the rollup's
# hourly percentiles averaged with calls as weight: say so, it is not the exact percentile.
LOG_PERCENTILES = (
    "From the invocation logs' hourly rollup, which keeps p50, p90 and p99 of latency and of "
    "time to first byte per hour, LOB and application; over a day or the period the hourly "
    "values are averaged with calls as weight "
    "(close to, not exactly, the percentile of all those calls). Hours loaded before the rollup "
    "kept p90 and p99, and already past retention, have none. Per model, CloudWatch's "
    "p50 / p90 / p99 are above."
)
NO_LOGGED = {
    "latency": (
        "Their log records carry no latency: a Converse response and a stream's metrics chunk "
        "have one, a non-streamed InvokeModel body usually does not. CloudWatch's latency per "
        "model (above) covers every call."
    ),
    "first_byte": (
        "Their log records carry no first-byte latency: only InvokeModelWithResponseStream "
        "records do (in the stream's last chunk); Converse, ConverseStream and InvokeModel "
        "records do not. CloudWatch's TimeToFirstToken per model (above) covers every stream."
    ),
}


def unlogged_latency(apps: list[str], timing: str = "latency") -> str:
    names = ", ".join(apps[:5]) + (f" and {len(apps) - 5} more" if len(apps) > 5 else "")
    what = "latency" if timing == "latency" else "first-byte latency"
    return (
        f"No {what} logged for {len(apps)} application(s), left out of the ranking: {names}. "
        f"{NO_LOGGED[timing]}"
    )


def estimate_accuracy(acc: pl.DataFrame) -> str | None:
    """'Estimate vs bill: +0.40% over the last 14 days (worst model …)', from the newest
    backtest of the learned rates; None before the models have run on a bill."""
    total = acc.filter(pl.col("model") == "(total)")
    if total.is_empty() or total["pct"][0] is None:
        return None
    t = total.row(0, named=True)
    days = (t["held_to"] - t["held_from"]).days + 1
    line = f"Estimate vs bill: {t['pct'] * 100:+.2f}% over the last {days} days"
    models = acc.filter(pl.col("model") != "(total)", pl.col("pct").is_not_null())
    if len(models):
        worst = models.sort(pl.col("pct").abs(), descending=True).row(0, named=True)
        line += f" (furthest model {worst['model']}: {worst['pct'] * 100:+.2f}%)"
    return (
        line
        + ", priced at rates learned from the bill where it has the line, list price elsewhere."
    )
