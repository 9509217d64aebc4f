"""The one module of the app that reads (and, for anomaly triage, writes) the warehouse.

Each function runs a named file from ``sql/queries/`` with bound parameters through
``warehouse.runtime.cursor()`` and returns a polars frame. A query is given only the
parameters its text names, so its cache entry does not change with filters it ignores.

Results are cached with ``st.cache_data`` keyed on the query, its parameters and a
``Freshness`` marker read on every rerun (newest loaded object, usage rows, watermarks, job
runs, model outputs, triage changes): a finished ingest, a model run or another reader's
acknowledge changes the marker, so new data shows at once instead of after a TTL. The TTL is
only a backstop for rewrites the marker cannot see (a re-attribution that keeps every count).

Scope: every query receives the reader's LOB scope as ``$all_lobs`` / ``$allowed_lobs``. It
comes from ``scope()``, which reads ``st.session_state["scope"]``: sign-in only has to put a
``Scope`` there. Without one the reader sees every LOB.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from app import reduce
from app.values import ADMIN, Freshness, Scope
from app.view import Window
from base import clock
from base.errors import WarehouseError
from base.scalars import as_float
from base.settings import Capacity
from models import coverage, focus, reconcile, sensitivity
from warehouse import runtime
from warehouse.db import sql, transaction

# Rollups the pages read that a warehouse may not have yet (proposed migration): a panel that
# needs one says so instead of failing. See tests/app/rollups.sql and sql/ingest/usage_*.
ROLLUPS = (
    "usage_errors_hourly", "usage_guardrails_hourly", "usage_principals_hourly",
    "usage_metrics_hourly", "usage_changes", "usage_savings_hourly",
)  # fmt: skip
STATUSES = ("open", "acknowledged", "expected", "muted", "resolved")  # expected: planned
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class MissingRollup(WarehouseError):
    """A panel reads a rollup table this warehouse does not have yet."""

    def __init__(self, table: str) -> None:
        super().__init__(
            f"This panel reads the `{table}` rollup, which this warehouse does not have yet: "
            "upgrade genai-lens and run `genai-lens migrate`, then the next ingest fills it."
        )
        self.table = table


def scope() -> Scope:
    """The reader's scope: what sign-in put in st.session_state["scope"], else every LOB."""
    try:
        found = st.session_state.get("scope")
    except Exception:  # outside a Streamlit session (bench, scripts): no sign-in
        found = None
    return found if isinstance(found, Scope) else ADMIN


# --- every page ------------------------------------------------------------------------------


def freshness(reader: Scope | None = None) -> Freshness:
    """Read on every rerun, never cached: it is what invalidates everything else."""
    reader = reader or scope()
    with runtime.cursor() as cur:
        (row,) = cur.sql(sql("queries/overview_freshness"), params=reader.params()).fetchall()
    # `row` is the columns before `scope`, in order (see the SQL); mypy cannot count a *row.
    return Freshness(str(runtime.warehouse_path()), *row, scope=reader)  # type: ignore[misc]


def dimensions(version: Freshness) -> pl.DataFrame:
    """Every LOB, app, model, region and account seen (kind, name, invocations)."""
    return _frame("overview_dimensions", version.scope.params(), version)


def sources(version: Freshness) -> pl.DataFrame:
    """Per source: newest data, how far ingest read, last run (panel captions, Data health)."""
    return _frame("shared_sources", version.scope.params() | _minute(), version)


# --- Overview ----------------------------------------------------------------------------------


def usage(w: Window) -> pl.DataFrame:
    """Per period x day x LOB x app x model: the Overview's one scan of usage_hourly."""
    return _query("overview_usage", w)


def kpis(w: Window) -> pl.DataFrame:
    """Two rows, period 'current' then 'previous', of the totals the KPI tiles show."""
    return reduce.kpis(usage(w))


def daily(w: Window) -> pl.DataFrame:
    """Spend, invocations and tokens per UTC day x LOB x model in the period."""
    return reduce.daily(usage(w))


def lobs(w: Window) -> pl.DataFrame:
    """One row per LOB: spend, its share and change, volume, top model, trend, budget status."""
    return reduce.lobs(usage(w), _query("overview_landing", w), w.start, w.end)


def month(w: Window) -> pl.DataFrame:
    """One row: spend this month to date (and last month's same span), month-end landing."""
    return _query("overview_month", w)


# --- Spend -----------------------------------------------------------------------------------


def spend_daily(w: Window) -> pl.DataFrame:
    """Allocated spend per day x LOB x model x token kind; source 'bill' or 'estimate'."""
    return _query("spend_daily", w)


def forecast(w: Window) -> pl.DataFrame:
    """Actuals and forecast with 80/95% intervals per series ('total', 'lob:<name>') and day."""
    return _query("spend_forecast", w)


def landing(w: Window) -> pl.DataFrame:
    """Month- and quarter-end landing per series against budget, with P(over budget)."""
    return _query("spend_landing", w)


def backtests(w: Window) -> pl.DataFrame:
    """Backtest MAPE and interval coverage per series and horizon, with the naive baseline."""
    return _query("spend_backtests", w)


def ce_forecast(w: Window) -> pl.DataFrame:
    """Cost Explorer's own forecast (newest pull), monthly and daily rows."""
    return _query("spend_ce_forecast", w)


def units(w: Window) -> pl.DataFrame:
    """Per LOB x application: spend, requests, tokens, unit costs and cache savings."""
    return _query("spend_units", w)


def reconciliation(w: Window) -> pl.DataFrame:
    """Estimate vs bill per day x model, drift in $ and %."""
    return _query("spend_reconciliation", w)


def accounts() -> focus.Accounts:
    """What config says of the payer and account names, for FOCUS rows the bill cannot name."""
    return focus.accounts_of(runtime.settings().cost)


def estimate_accuracy(w: Window) -> pl.DataFrame:
    """The learned-rate estimate against the final bill on held-out days, per model + total."""
    return _query("spend_estimate_accuracy", w)


def reserved(w: Window) -> pl.DataFrame:
    """Reserved-tier capacity per model x region and how much of it its calls use."""
    return _query("spend_reserved", w)


def unpriced_share(w: Window) -> dict[str, float | None]:
    """Share of the window's bill, and of its logged calls, the catalog cannot price."""
    row = _query("health_unpriced_share", w)
    return row.row(0, named=True) if len(row) else {"bill_share": None, "call_share": None}


def unpriced_bill(w: Window) -> pl.DataFrame:
    """Bill spend the catalog cannot price, per model or usage type x why x region."""
    return _query("health_unpriced_bill", w)


def chargeback(w: Window) -> pl.DataFrame:
    """The bill split per day x LOB x model x token kind (what the downloads hold)."""
    return _query("spend_chargeback", w)


# --- Reliability -----------------------------------------------------------------------------


def cloudwatch(w: Window) -> pl.DataFrame:
    """CloudWatch per bucket x model x metric: latency percentiles, samples, sums, peaks."""
    return _query("reliability_cloudwatch", w)


def latency_trend(w: Window) -> pl.DataFrame:
    """CloudWatch latency percentiles per model and hour (short periods) or day."""
    return reduce.latency_trend(cloudwatch(w))


def model_latency(w: Window) -> pl.DataFrame:
    """CloudWatch latency and time to first token per model: p50/p90/p99 over the period."""
    return reduce.model_latency(cloudwatch(w))


def quota(w: Window) -> pl.DataFrame:
    """Per bucket x model: EstimatedTPMQuotaUsage peak, throttles and invocations."""
    return reduce.quota(cloudwatch(w))


def reliability_usage(w: Window) -> pl.DataFrame:
    """Per day x LOB x app x model: invocations, errors, throttles, latency sums from logs."""
    return _query("reliability_usage", w)


def reliability_daily(w: Window) -> pl.DataFrame:
    """Per day x LOB x model: invocations, errors, throttles, latency sums from logs."""
    return reduce.reliability_daily(reliability_usage(w))


def app_reliability(w: Window) -> pl.DataFrame:
    """Per LOB x application: volume, errors, throttles, mean/p50/p95 latency from logs."""
    return reduce.app_reliability(reliability_usage(w))


def errors(w: Window) -> pl.DataFrame:
    """Failed invocations per day x error code x LOB x model."""
    return _query("reliability_errors", w)


# --- Anomalies -------------------------------------------------------------------------------


def anomalies(w: Window) -> pl.DataFrame:
    """The triage feed: anomalies overlapping the period, most severe first."""
    return _frame("anomalies_feed", w.params() | _minute(), w.version)


def anomaly(version: Freshness, anomaly_id: str) -> dict[str, Any] | None:
    """One anomaly with its explanation and mute, or None (unknown or out of scope)."""
    found = _frame("anomalies_detail", _by_id(version, anomaly_id), version)
    return found.row(0, named=True) if len(found) else None


def anomaly_band(version: Freshness, anomaly_id: str) -> pl.DataFrame:
    """The anomaly's series and expected band around the episode."""
    return _frame("anomalies_band", _by_id(version, anomaly_id), version)


def anomaly_changes(version: Freshness, anomaly_id: str, hours_before: int = 24) -> pl.DataFrame:
    """Bedrock configuration changes from `hours_before` the episode to its end."""
    params = _by_id(version, anomaly_id) | {"hours_before": hours_before}
    return _frame("anomalies_changes", params, version)


def anomaly_sample(version: Freshness, anomaly_id: str) -> pl.DataFrame:
    """Up to 50 invocations behind the anomaly (metadata only), the most telling first."""
    return _frame("anomalies_sample", _by_id(version, anomaly_id), version)


def capture_text() -> bool:
    """Whether the operator opted in to prompt capture (genai-lens.toml `capture_text`)."""
    return bool(runtime.settings().capture_text)


def anomaly_text(version: Freshness, anomaly_id: str, request_ids: list[str]) -> pl.DataFrame:
    """The redacted prompt and response of those sampled invocations, within the reader's scope.

    Nothing is read with capture off (text captured before it was switched off is not shown),
    and the result is not cached: prompt text stays out of the app's memory between reruns.
    """
    if not capture_text() or not request_ids:
        return pl.DataFrame(schema=TEXT_SCHEMA)
    params = {"anomaly_id": anomaly_id, "request_ids": request_ids} | version.scope.params()
    return query("anomalies_text", params)


TEXT_SCHEMA = {
    "request_id": pl.String, "ts": pl.Datetime, "lob": pl.String, "prompt": pl.String,
    "response": pl.String, "redactions": pl.Int32,
}  # fmt: skip


def sensitivities(w: Window) -> pl.DataFrame:
    """Per series with triage feedback: its band's widening now, why, and alerts it kept quiet."""
    return _query("anomalies_sensitivity", w)


def revert_sensitivity(series_key: str, reader: Scope | None = None) -> bool:
    """Put a widened series back at base sensitivity from now on; False when it is not
    widened, unknown or outside the reader's LOBs (checked in the SQL, not by the page)."""
    reader = reader or scope()
    at = _now()
    why = sensitivity.revert_reason(reader.user, at)
    params = {"series_key": series_key, "at": at, "who": reader.user, "why": why}
    with _writing() as cur:
        reverted = _run(cur, "anomalies_revert_sensitivity", params | reader.params())
    return bool(reverted)


def set_anomaly_status(anomaly_id: str, status: str, reader: Scope | None = None) -> bool:
    """Acknowledge, resolve or reopen an anomaly; False when it is unknown or out of scope.

    Reopening also lifts its series' mute. The freshness marker includes the newest status
    change, so every reader's cache (not only this one's) sees the change on its next rerun.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    reader = reader or scope()
    params = {"anomaly_id": anomaly_id, "status": status, "who": reader.user, "at": _now()}
    with _writing() as cur:
        changed = _run(cur, "anomalies_set_status", params | reader.params())
        if changed and status == "open":
            _run(cur, "anomalies_unmute", {"anomaly_id": anomaly_id} | reader.params())
    return bool(changed)


def mute_anomaly(
    anomaly_id: str, until: datetime, reason: str = "", reader: Scope | None = None
) -> bool:
    """Mute the anomaly's series until `until` (UTC) and mark it muted, in one transaction."""
    reader = reader or scope()
    params = {"anomaly_id": anomaly_id, "until": until, "who": reader.user, "reason": reason}
    status = {"anomaly_id": anomaly_id, "status": "muted", "who": reader.user, "at": _now()}
    with _writing() as cur:
        muted = _run(cur, "anomalies_mute", params | reader.params())
        if muted:
            _run(cur, "anomalies_set_status", status | reader.params())
    return bool(muted)


# --- Governance ------------------------------------------------------------------------------


def guardrail_daily(w: Window) -> pl.DataFrame:
    """Per day x LOB x app: invocations, guardrail-checked ones, interventions."""
    return _query("governance_daily", w)


def guardrail_policies(w: Window) -> pl.DataFrame:
    """Interventions per day x policy type x LOB."""
    return _query("governance_policies", w)


def guardrails(w: Window) -> pl.DataFrame:
    """Interventions per guardrail x version x policy x region x account (CloudWatch)."""
    return _query("governance_guardrails", w)


def changes(w: Window) -> pl.DataFrame:
    """The audit trail: Bedrock configuration changes in the period, newest first."""
    return _query("governance_changes", w)


def logging_gaps(w: Window) -> pl.DataFrame:
    """Spans with invocation logging switched off (Delete … next Put) overlapping the period."""
    return _query("governance_logging_gaps", w)


def logging_coverage(w: Window) -> pl.DataFrame:
    """Per day x account x region: invocations CloudWatch counted vs those logged."""
    return _query("governance_coverage", w)


# --- Capacity & savings ---------------------------------------------------------------------


def capacity_savings(w: Window) -> pl.DataFrame:
    """Per LOB x app x model: caching repeats, geo spend, waste, reservation, catalog price."""
    return _query("capacity_savings", w)


def capacity_mix(w: Window, batch_hours: tuple[int, int] = (0, 6)) -> pl.DataFrame:
    """Per LOB x app x model x streamed x off-hours: tokens and estimated spend."""
    params = w.params() | {"batch_start": batch_hours[0], "batch_end": batch_hours[1]}
    return _frame("capacity_mix", params, w.version)


def runway(w: Window) -> pl.DataFrame:
    """Per account x Region x model x quota kind: quota, peak, forecast, days until p95."""
    return _query("capacity_runway", w)


def runway_backtests(w: Window) -> pl.DataFrame:
    """Per account x Region x model: the runway as it read two days before throttling."""
    return _query("capacity_backtests", w)


def peak_drivers(w: Window) -> pl.DataFrame:
    """Per Region x model x LOB: its share of the quota tokens in the daily busiest minutes."""
    return _query("capacity_drivers", w)


def legacy_models(w: Window) -> pl.DataFrame:
    """Per LOB x app x LEGACY model: spend, calls, move-by date and successor."""
    return _query("capacity_lifecycle", w)


def capacity_config() -> Capacity:
    """The [capacity] settings: the what-if assumptions the page prices with."""
    return runtime.settings().capacity


def capacity_prices(version: Freshness) -> pl.DataFrame:
    """The catalog's current price per model."""
    return _frame("capacity_prices", version.scope.params(), version)


# --- Data health -----------------------------------------------------------------------------


def runs(version: Freshness) -> pl.DataFrame:
    """The latest 100 job runs, newest first."""
    return _frame("health_runs", version.scope.params(), version)


def quarantine(version: Freshness) -> pl.DataFrame:
    """Quarantined records per source x reason, with one example object and line."""
    return _frame("health_quarantine", version.scope.params(), version)


def reconciliation_3way(w: Window) -> pl.DataFrame:
    """Logs vs CloudWatch vs bill per day and model, each difference named."""
    return reconcile.findings(_query("spend_reconciliation_sources", w))


def bill_coverage(w: Window) -> pl.DataFrame:
    """Per kind of Bedrock-family spend: billed, covered by logs, coverage and the fix."""
    return coverage.coverage(_query("health_bill_coverage", w))


def unpriced(w: Window) -> pl.DataFrame:
    """Models used without a price, per model x region."""
    return _query("health_unpriced", w)


def unattributed(w: Window) -> tuple[float | None, pl.DataFrame]:
    """The unattributed share of estimated spend, and unattributed usage per account x region
    x model (one scan: usage split into unattributed or not)."""
    found = _query("health_unattributed", w)
    total = as_float(found["est_cost_usd"].sum()) if found["est_cost_usd"].count() else None
    mine = found.filter("unattributed").drop("unattributed")
    share = (as_float(mine["est_cost_usd"].sum()) / total) if total else None
    return share, mine


def missing_logs(w: Window) -> pl.DataFrame:
    """Hours where CloudWatch counted invocations but under half of them were logged."""
    return _query("health_logging_gaps", w)


# --- running queries -------------------------------------------------------------------------


def query(name: str, params: dict[str, Any]) -> pl.DataFrame:
    """Run sql/queries/<name>.sql with the parameters it names, uncached (bench, scripts)."""
    with runtime.cursor() as cur, _rollup_errors():
        return cur.sql(sql(f"queries/{name}"), params=_needed(name, params)).pl()


def _query(name: str, w: Window) -> pl.DataFrame:
    return _frame(name, w.params(), w.version)


def _frame(name: str, params: dict[str, Any], version: Freshness) -> pl.DataFrame:
    return _cached(name, _needed(name, params), version)


@st.cache_data(ttl=timedelta(minutes=10), max_entries=512, show_spinner=False)
def _cached(name: str, params: dict[str, Any], version: Freshness) -> pl.DataFrame:
    # `version` is unused in the body on purpose: it is part of the cache key.
    return query(name, params)


@contextmanager
def _rollup_errors() -> Iterator[None]:
    """A query on a rollup this warehouse lacks raises MissingRollup, naming it."""
    try:
        yield
    except duckdb.CatalogException as exc:
        table = next((t for t in ROLLUPS if t in str(exc)), None)
        if table is None:
            raise
        raise MissingRollup(table) from None


def _needed(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the query's text names (comments aside); a missing one is a bug."""
    text = "\n".join(line.split("--", 1)[0] for line in sql(f"queries/{name}").splitlines())
    wanted = set(_PARAM.findall(text))
    if missing := wanted - params.keys():
        raise KeyError(f"query {name} needs parameters {sorted(missing)}")
    return {k: params[k] for k in sorted(wanted)}


def _run(cur: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[Any]:
    with _rollup_errors():
        return cur.execute(sql(f"queries/{name}"), _needed(name, params)).fetchall()


@contextmanager
def _writing() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor in a transaction; a conflict with a job writing the same rows is one line."""
    cur = runtime.cursor()
    try:
        with transaction(cur):
            yield cur
    except duckdb.TransactionException as err:
        raise WarehouseError(
            "a job is writing the anomalies right now; try again in a moment"
        ) from err
    finally:
        cur.close()


def _by_id(version: Freshness, anomaly_id: str) -> dict[str, Any]:
    return {"anomaly_id": anomaly_id} | version.scope.params()


def _now() -> datetime:
    return clock.utcnow()


def _minute() -> dict[str, datetime]:
    """$now for a page query, to the minute: the product's clock (a fixed one in a demo or a
    test), not DuckDB's, and a cache key that changes once a minute rather than every run."""
    return {"now": _now().replace(second=0, microsecond=0)}
