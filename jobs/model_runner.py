"""`genai-lens models run`: read the warehouse, call the models, write their tables back.

The models in `models/` are pure functions over polars frames; this module is their I/O.
Each step replaces its output tables whole in one transaction, so a re-run is harmless and a
page never sees half a result. Steps: effective rates learned from the bill, allocation and
reconciliation (both need a bill), forecasts with backtests and landing, anomalies with
explanations, then alerts.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

import duckdb
import polars as pl

from base import logs
from base.clock import utcnow
from base.errors import LensError
from base.settings import Rule, Settings, glob_match
from base.stats import RunStats
from ingest.invocation_logs.attribution import attribute
from models import allocation
from warehouse import runs
from warehouse.db import insert_frame, sql, transaction

log = logs.get("models")
HISTORY_DAYS = 400  # what the models look back over; retention keeps rollups longer


class ModelStepsFailed(LensError):
    """Some steps of a models run failed; the others ran and wrote their tables."""


STEPS = ("rates", "allocation", "forecasts", "anomalies", "quota", "alerts", "exports")


def run(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, dry_run: bool = False, **_: Any
) -> RunStats:
    """Every step, each on its own: one that fails is logged and the later ones still run
    (a forecast bug must not silence anomaly alerts). Raises ModelStepsFailed at the end if
    any failed, so the run is journalled as an error naming the steps."""
    stats = RunStats(unit="model rows")
    now = utcnow()
    failed: dict[str, str] = {}  # step -> what it raised, as one line
    first: Exception | None = None
    for name in STEPS:
        try:
            stats.records += _step(name, con, settings, now, stats, dry_run)
        except Exception as exc:  # each step is isolated; the failure is reported below
            _rollback(con)
            first = first or exc
            failed[name] = f"{type(exc).__name__}: {runs.one_line(exc)}"
            stats.notes.append(f"step {name} failed: {failed[name]}")
            figures = {"step": name, "error": failed[name]}
            log.error(f"models step {name} failed", extra={"figures": figures})
    if failed:
        ran = ", ".join(s for s in STEPS if s not in failed) or "none"
        what = "; ".join(f"{name} ({why})" for name, why in failed.items())
        raise ModelStepsFailed(
            f"{len(failed)} of {len(STEPS)} model steps failed: {what}; {ran} ran "
            "(--debug shows the first failure's traceback)"
        ) from first
    return stats


def _step(
    name: str,
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    stats: RunStats,
    dry_run: bool,
) -> int:
    if name == "rates":
        from jobs import model_rates

        return model_rates.run(con, settings, now, stats)
    if name == "allocation":
        return allocate(con, settings, (now - timedelta(days=HISTORY_DAYS)).date(), stats)
    if name == "forecasts":
        from jobs import model_forecasts

        return model_forecasts.run(con, settings, now, stats)
    if name == "anomalies":
        from jobs import model_anomalies

        return model_anomalies.run(con, settings, now, stats)
    if name == "quota":
        from jobs import model_quota

        return model_quota.run(con, settings, now, stats)
    if name == "exports":
        from jobs import exports

        written = exports.scheduled(con, settings, now)
        if written:
            stats.notes.append(f"exports: {len(written)} file(s) written")
        return len(written)
    from jobs import alerting

    return alerting.run(con, settings, now, stats, dry_run=dry_run)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """A step that failed inside a transaction left it open; the next step needs it closed."""
    with contextlib.suppress(duckdb.Error):  # nothing open: the usual case
        con.execute("ROLLBACK")


def tag_rules(settings: Settings) -> list[tuple[int, Rule]]:
    return [(i, r) for i, r in enumerate(settings.attribution.rules) if r.profile_tag]


def tag_lob(tags: dict[str, str] | None, rules: list[tuple[int, Rule]]) -> str | None:
    """The LOB an attribution rule gives these cost-allocation tags, as it does profiles."""
    if not tags:
        return None
    for _, rule in rules:
        assert rule.profile_tag is not None
        if all(glob_match(tags.get(k), v) for k, v in rule.profile_tag.items()):
            return rule.lob
    return None


# What a bill line carries beside its cost, kept for the FOCUS rows of its shares.
LINE_ATTRS = [
    "service", "usage_type", "account_id", "account_name", "payer_account_id",
    "payer_account_name", "region", "invoice_id", "invoice_issuer", "resource_id",
    "principal_arn", "tags", "list_units", "list_unit_price", "usage_quantity", "usage_unit",
    "sku_id", "sku_price_id", "publisher", "estimated", "app",
]  # fmt: skip


def principal_lob(
    settings: Settings, account: str | None, principal: str | None, resource: str | None,
    tags: dict[str, str],
) -> tuple[str | None, str | None]:  # fmt: skip
    """(LOB, app) the attribution rules give a bill line's own caller, matched exactly as a
    log's identity is (principal ARN, account, the profile it called and its tags, here the
    line's resource tags and the principal's / session's tags); the LOB is None when the line
    names no caller, the app then comes from the line's app tag."""
    if not principal:
        return None, tags.get(settings.attribution.app_tag_key)
    profiles = {resource or "": tags}
    found = attribute(settings.attribution, account, principal, resource, None, profiles)
    return found.lob, found.app


def bill_frame(
    raw: pl.DataFrame, rules: list[tuple[int, Rule]], settings: Settings | None = None
) -> pl.DataFrame:
    """cost_daily rows as allocation's bill: one source per day, tagged lines named by LOB,
    lines with a caller by the LOB of that caller; each line numbered (`line`)."""
    if raw.is_empty():
        return pl.DataFrame(schema=allocation.BILL_COLUMNS | allocation.BILL_OPTIONAL)
    lobs = [tag_lob(dict(t) if t else None, rules) for t in raw["tags"].to_list()]
    rows = raw.with_columns(tag_lob=pl.Series(lobs, dtype=pl.Utf8))
    if settings is not None and "principal_arn" in rows.columns:
        callers = []
        for r in rows.select("account_id", "principal_arn", "resource_id", "tags",
                             "principal_tags").iter_rows():  # fmt: skip
            tags = dict(r[3] or {}) | dict(r[4] or {})
            callers.append(principal_lob(settings, r[0], r[1], r[2], tags))
        rows = rows.with_columns(
            principal_lob=pl.Series([c[0] for c in callers], dtype=pl.Utf8),
            app=pl.Series([c[1] for c in callers], dtype=pl.Utf8),
        )
    exports = rows.filter(pl.col("breakdown") == "total", pl.col("source") != "ce")
    ce = rows.filter(pl.col("source") == "ce")
    keys = ["usage_date", "model", "token_kind", "source"]
    money = [pl.col("cost").sum(), pl.col("cost_units").sum()] if "cost_units" in rows.columns \
        else [pl.col("cost").sum()]  # fmt: skip
    # Cost Explorer's own 'Estimated' flag survives the grouping: month-close exports wait for it.
    flags = [pl.col("estimated").any()] if "estimated" in rows.columns else []
    ce_total = ce.filter(pl.col("breakdown") == "total").group_by(keys).agg(*money, *flags)
    # Cost Explorer splits by one tag key at a time; take the first key that names any LOB.
    splits = ce.filter(pl.col("breakdown") != "total", pl.col("tag_lob").is_not_null())
    first = splits["breakdown"].sort().head(1).to_list()
    ce_tagged = splits.filter(pl.col("breakdown").is_in(first))
    tagged_sum = ce_tagged.group_by(keys).agg(
        *(m.alias(f"tagged_{m.meta.output_name()}") for m in money)
    )
    ce_rest = ce_total.join(tagged_sum, on=keys, how="left").with_columns(
        *(pl.col(c) - pl.col(f"tagged_{c}").fill_null(0) for c in ("cost", "cost_units")
          if c in ce_total.columns),
        tag_lob=pl.lit(None, pl.Utf8),
    )  # fmt: skip
    schema = allocation.BILL_COLUMNS | {
        c: t for c, t in allocation.BILL_OPTIONAL.items() if c in rows.columns
    }
    extra = [c for c in LINE_ATTRS if c in exports.columns]
    parts = [exports.select(*schema, *extra), ce_tagged.select(*schema, *extra),
             ce_rest.select([c for c in ce_rest.columns if c in schema or c in extra])]  # fmt: skip
    bill = pl.concat(parts, how="diagonal_relaxed")
    bill = allocation.pick_source(bill.cast(schema))  # type: ignore[arg-type]
    return bill.with_row_index("line").with_columns(pl.col("line").cast(pl.Int64))


def allocate(
    con: duckdb.DuckDBPyConnection, settings: Settings, start: Any, stats: RunStats
) -> int:
    rules = tag_rules(settings)
    usage = con.sql(
        sql("models/allocation_usage"), params={"start": start, "tag_rules": [i for i, _ in rules]}
    ).pl()
    usage = usage.cast(allocation.USAGE_COLUMNS)
    raw = con.sql(sql("models/allocation_bill"), params={"start": start}).pl()
    bill = bill_frame(raw, rules, settings)
    shares = allocation.allocate(bill, usage)
    attrs = [c for c in LINE_ATTRS if c in bill.columns]
    allocated = shares.join(bill.select("line", *attrs), on="line", how="left")
    recon = allocation.reconcile(bill, usage)
    with transaction(con):
        con.execute("DELETE FROM cost_allocated")
        con.execute("DELETE FROM cost_reconciliation")
        _insert_allocated(con, allocated)
        insert_frame(con, "cost_reconciliation", recon)
    if bill.is_empty():
        stats.notes.append("no bill in cost_daily yet: spend is estimated, not allocated")
    return allocated.height + recon.height


def _insert_allocated(con: duckdb.DuckDBPyConnection, allocated: pl.DataFrame) -> None:
    """Money goes in as DECIMAL(18, 10) from whole 1e-10 USD units: exact, never a float."""
    if allocated.is_empty():
        return
    frame = allocated.drop("allocated_cost", "line")
    if "list_units" not in frame.columns:
        frame = frame.with_columns(list_units=pl.lit(None, pl.Int64))
    frame = frame.with_columns(
        list_share=(pl.col("list_units").cast(pl.Float64) * pl.col("share")).round(0).cast(pl.Int64)
    ).drop("list_units")
    con.register("_gl_alloc", frame.to_arrow())
    try:
        con.execute(
            "INSERT INTO cost_allocated BY NAME SELECT * EXCLUDE (allocated_units, list_share), "
            "CAST(CAST(allocated_units AS DECIMAL(38, 0)) * 0.0000000001 AS DECIMAL(18, 10)) "
            "AS allocated_cost, "
            "CAST(CAST(list_share AS DECIMAL(38, 0)) * 0.0000000001 AS DECIMAL(18, 10)) "
            "AS list_cost FROM _gl_alloc"
        )
    finally:
        con.unregister("_gl_alloc")


def stamp(frame: pl.DataFrame, at: datetime) -> pl.DataFrame:
    return frame.with_columns(run_at=pl.lit(at))
