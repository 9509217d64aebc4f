"""The `rates` step of `genai-lens models run`: learn effective rates from the bill, store
them for the ingest to price fresh invocations with, and measure the learned-rate estimate
against the final bill on held-out days (models/effective_rates.py is the method)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from base.settings import Settings
from base.stats import RunStats
from ingest.invocation_logs import bill_profiles
from models import effective_rates as R
from warehouse.db import insert_frame, sql, transaction

HISTORY_DAYS = 120  # bill and usage read back: the held-out days plus their learning windows
# The logging-gap rule of the anomaly step: fewer than half of CloudWatch's calls logged.
GAP_MIN_CALLS, GAP_SHARE = 20, 0.5
KINDS = {  # usage column -> (token_kind, cache_ttl)
    "input": ("input", ""), "output": ("output", ""), "cache_read": ("cache_read", ""),
    "cache_write_5m": ("cache_write", "5m"), "cache_write_1h": ("cache_write", "1h"),
}  # fmt: skip


def usage_frame(raw: pl.DataFrame) -> pl.DataFrame:
    """rates_usage rows, one per token kind (list cost is per call, not per kind: null)."""
    if raw.is_empty():
        return pl.DataFrame(schema=R.USAGE_COLUMNS)
    keys = ["usage_date", "account_id", "model", "service_tier", "pricing_scope", "region"]
    long = raw.unpivot(index=keys, on=list(KINDS), variable_name="col", value_name="tokens")
    kind = pl.col("col").replace_strict({k: v[0] for k, v in KINDS.items()})
    ttl = pl.col("col").replace_strict({k: v[1] for k, v in KINDS.items()})
    return (
        long.filter(pl.col("tokens") > 0)
        .with_columns(
            token_kind=kind, cache_ttl=ttl, cost=pl.lit(0.0), list_cost=pl.lit(None, pl.Float64)
        )
        .select(list(R.USAGE_COLUMNS))
        .cast(R.USAGE_COLUMNS)  # type: ignore[arg-type]
    )


def gap_cells(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.DataFrame:
    """(day, account, region) with an hour CloudWatch counted calls the logs do not have."""
    params = {"start": datetime.combine(start, datetime.min.time()),
              "end": datetime.combine(end, datetime.min.time()),
              "min_calls": GAP_MIN_CALLS, "share": GAP_SHARE}  # fmt: skip
    gaps = con.sql(sql("models/anomaly_logging_gap"), params=params).pl()
    if gaps.is_empty():
        return pl.DataFrame(schema={"usage_date": pl.Date, "account_id": pl.String,
                                    "region": pl.String})  # fmt: skip
    return gaps.select(
        pl.col("hour").dt.date().alias("usage_date"), "account_id", "region"
    ).unique()


RESERVED_WINDOW = timedelta(days=30)


def reserved(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime, stats: RunStats
) -> int:
    """Utilisation of each configured reservation over the last RESERVED_WINDOW: its calls
    cost nothing more (the price rules give the reserved tier 0), the month's charge is fixed."""
    start = now - RESERVED_WINDOW
    used = con.sql(sql("models/reserved_usage"), params={"start": start, "end": now}).pl()
    got = {(r["model"], r["region"]): r for r in used.iter_rows(named=True)}
    minutes = RESERVED_WINDOW.total_seconds() / 60
    rows = []
    for res in settings.pricing.reservations:
        u = got.get((res.model, res.region), {"calls": 0, "tokens": 0, "peak_tpm": 0.0})
        rows.append({
            "computed_at": now, "model": res.model, "region": res.region,
            "window_from": start, "window_to": now, "reserved_tpm": res.tpm_thousands * 1000,
            "monthly_usd": res.tpm_thousands * res.monthly_usd_per_1k_tpm,
            "calls": u["calls"], "tokens": u["tokens"], "mean_tpm": u["tokens"] / minutes,
            "peak_tpm": float(u["peak_tpm"]),
        })  # fmt: skip
    with transaction(con):
        con.execute("DELETE FROM reserved_utilisation")
        if rows:
            insert_frame(con, "reserved_utilisation", pl.DataFrame(rows))
    for r in rows:
        mean, peak = r["mean_tpm"] / r["reserved_tpm"], r["peak_tpm"] / r["reserved_tpm"]
        stats.notes.append(
            f"reserved {r['model']} {r['region']}: {mean:.1%} of {r['reserved_tpm']:,.0f} TPM "
            f"used on average, {peak:.1%} at the busiest minute"
        )
    return len(rows)


def run(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime, stats: RunStats) -> int:
    cfg = settings.pricing
    named = bill_profiles.resolve(con, settings)  # before the usage below is read
    if named.learned or named.resolved:
        profiles = "profile" if named.learned == 1 else "profiles"
        note = f"{named.learned} application inference {profiles} named by the bill, "
        stats.notes.append(note + f"{named.resolved:,} stored invocations resolved and priced")
    held = reserved(con, settings, now, stats)
    start = (now - timedelta(days=HISTORY_DAYS)).date()
    params = {"start": start, "basis": cfg.rate_basis}
    bill = con.sql(sql("models/rates_bill"), params=params).pl().cast(R.BILL_COLUMNS)
    if bill.is_empty():
        stats.notes.append("no bill token lines yet: invocations are priced at list price")
        return held
    last = bill["usage_date"].max()
    assert isinstance(last, date)
    complete = last - timedelta(days=cfg.settle_days)  # the newest day the bill has settled
    rates = R.learn(bill, until=complete + timedelta(days=1), days=cfg.learn_days)
    usage = usage_frame(con.sql(sql("models/rates_usage"), params={"start": start}).pl())
    held_from = complete - timedelta(days=cfg.held_out_days - 1)
    excluded = gap_cells(con, held_from, complete + timedelta(days=1))
    test = R.backtest(bill, usage, held_from=held_from, held_to=complete,
                      learn_days=cfg.learn_days, settle_days=cfg.settle_days,
                      excluded=excluded)  # fmt: skip
    with transaction(con):
        con.execute("DELETE FROM effective_rates")
        con.execute("DELETE FROM estimate_backtest")
        insert_frame(con, "effective_rates", rates.with_columns(
            basis=pl.lit(cfg.rate_basis), learned_at=pl.lit(now)))  # fmt: skip
        insert_frame(con, "estimate_backtest", test.with_columns(
            computed_at=pl.lit(now), excluded_cells=pl.lit(excluded.height)))  # fmt: skip
    stats.notes.append(summary(test, excluded.height))
    return held + rates.height + test.height


def summary(test: pl.DataFrame, excluded: int) -> str:
    """'estimate vs bill: +0.4% over the last 14 days (worst model ...)'."""
    total = test.filter(pl.col("model") == "(total)").row(0, named=True)
    models = test.filter(pl.col("model") != "(total)", pl.col("pct").is_not_null())
    days = (total["held_to"] - total["held_from"]).days + 1
    line = f"estimate vs bill: {pct(total['pct'])} over the last {days} days"
    if models.height:
        worst = models.sort(pl.col("pct").abs(), descending=True).row(0, named=True)
        line += f" (worst model {worst['model']}: {pct(worst['pct'])})"
    if excluded:
        line += f"; {excluded} account-region-days with a logging gap left out"
    return line


def pct(value: float | None) -> str:
    return "n/a (no bill)" if value is None else f"{value * 100:+.2f}%"
