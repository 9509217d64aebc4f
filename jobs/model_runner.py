"""`genai-lens models run`: read the warehouse, call the models, write their tables back.

The models in `models/` are pure functions over polars frames; this module is their I/O.
Each step replaces its output tables whole in one transaction, so a re-run is harmless and a
page never sees half a result. Steps: allocation and reconciliation (needs a bill),
forecasts with backtests and landing, anomalies with explanations, then alerts.
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
from models import allocation
from warehouse import runs
from warehouse.db import insert_frame, sql, transaction

log = logs.get("models")
HISTORY_DAYS = 400  # what the models look back over; retention keeps rollups longer


class ModelStepsFailed(LensError):
    """Some steps of a models run failed; the others ran and wrote their tables."""


STEPS = ("allocation", "forecasts", "anomalies", "alerts")


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
    if name == "allocation":
        return allocate(con, settings, (now - timedelta(days=HISTORY_DAYS)).date(), stats)
    if name == "forecasts":
        from jobs import model_forecasts

        return model_forecasts.run(con, settings, now, stats)
    if name == "anomalies":
        from jobs import model_anomalies

        return model_anomalies.run(con, settings, now, stats)
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


def bill_frame(raw: pl.DataFrame, rules: list[tuple[int, Rule]]) -> pl.DataFrame:
    """cost_daily rows as allocation's bill: one source per day, tagged lines named by LOB."""
    if raw.is_empty():
        return pl.DataFrame(schema=allocation.BILL_COLUMNS)
    lobs = [tag_lob(dict(t) if t else None, rules) for t in raw["tags"].to_list()]
    rows = raw.with_columns(tag_lob=pl.Series(lobs, dtype=pl.Utf8))
    exports = rows.filter(pl.col("breakdown") == "total", pl.col("source") != "ce")
    ce = rows.filter(pl.col("source") == "ce")
    keys = ["usage_date", "model", "token_kind", "source"]
    ce_total = ce.filter(pl.col("breakdown") == "total").group_by(keys).agg(pl.col("cost").sum())
    # Cost Explorer splits by one tag key at a time; take the first key that names any LOB.
    splits = ce.filter(pl.col("breakdown") != "total", pl.col("tag_lob").is_not_null())
    first = splits["breakdown"].sort().head(1).to_list()
    ce_tagged = splits.filter(pl.col("breakdown").is_in(first))
    tagged_sum = ce_tagged.group_by(keys).agg(pl.col("cost").sum().alias("tagged"))
    ce_rest = ce_total.join(tagged_sum, on=keys, how="left").with_columns(
        cost=pl.col("cost") - pl.col("tagged").fill_null(0.0), tag_lob=pl.lit(None, pl.Utf8)
    )
    cols = list(allocation.BILL_COLUMNS)
    bill = pl.concat(
        [exports.select(cols), ce_tagged.select(cols), ce_rest.select(cols)], how="vertical"
    )
    return allocation.pick_source(bill.cast(allocation.BILL_COLUMNS))  # type: ignore[arg-type]


def allocate(
    con: duckdb.DuckDBPyConnection, settings: Settings, start: Any, stats: RunStats
) -> int:
    rules = tag_rules(settings)
    usage = con.sql(
        sql("models/allocation_usage"), params={"start": start, "tag_rules": [i for i, _ in rules]}
    ).pl()
    usage = usage.cast(allocation.USAGE_COLUMNS)
    bill = bill_frame(con.sql(sql("models/allocation_bill"), params={"start": start}).pl(), rules)
    allocated = allocation.allocate(bill, usage)
    recon = allocation.reconcile(bill, usage)
    with transaction(con):
        con.execute("DELETE FROM cost_allocated")
        con.execute("DELETE FROM cost_reconciliation")
        insert_frame(con, "cost_allocated", allocated)
        insert_frame(con, "cost_reconciliation", recon)
    if bill.is_empty():
        stats.notes.append("no bill in cost_daily yet: spend is estimated, not allocated")
    return allocated.height + recon.height


def stamp(frame: pl.DataFrame, at: datetime) -> pl.DataFrame:
    return frame.with_columns(run_at=pl.lit(at))
