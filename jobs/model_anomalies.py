"""The anomaly step of `models run`: hourly series from the warehouse through the detector,
each episode explained and stored with its triage status kept across runs.

Series: per LOB x model from the logs (cost, tokens, invocations, error rate, throttle rate,
p95 latency, guardrail intervention rate, time to first token, output tokens per second), per
model from the logs (latency per 1,000 output tokens, time to first token, output tokens per
second), per model from CloudWatch (invocations, throttle rate, error rate), and logging gaps
per account and region (hours CloudWatch counted invocations that no log delivered).
CloudWatch's mean latency and time to first token are not judged: an hour's mean mixes short
and long answers and the slow tail, and swings more than a regression moves it (the
Reliability page still shows them). From the logs, time to first token is the hour's median
(per rollup row, weighted by its streamed calls), which the tail does not move; a speed
episode is stored only when a user would feel it (MIN_TTFT_CHANGE_MS, SPEED_FACTOR).

Each anomaly says expected vs actual, its severity, the dimension that drove it (app, model,
LOB, region or account; a per-model series by the LOBs and apps that called it), for cost a
decomposition into volume x tokens per call x model mix x price per token, and the
CloudTrail changes in the hours before it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import polars as pl

from base.scalars import as_time
from base.settings import Settings
from base.stats import RunStats
from jobs import anomaly_tuning
from models import anomaly as detector
from models import sensitivity
from models.explain import decompose_cost, driver
from warehouse.db import insert_frame, sql, transaction

LOOKBACK = timedelta(days=90)
MIN_CALLS = 20  # a rate needs this many calls in the hour to be judged
MIN_TIMED_CALLS = 10  # a mean latency needs this many
# Quieter LOB x model pairs (a nightly test job, an occasional experiment) are all bursts:
# they would alert on every run of the job. They still count in their LOB's totals.
MIN_SERIES_CALLS_PER_HOUR = 5.0
STORED = ("medium", "high", "critical")  # low episodes are the band's edge, not news
# Latency is heavy-tailed: a few calls in a hundred take several times the usual, and an hour
# with two of them moves its p95, its latency per token and its output speed by a 'medium'
# margin several times a quarter per series. A latency episode is news from 'high' on (a
# regression that triples latency, a queue that adds seconds, read high or critical).
LOUD = ("high", "critical")
HEAVY_TAILED = {"p95_latency_ms", "ms_per_1k_output_tokens", "ttft_ms", "output_tokens_per_s"}
LOG_METRICS = ("cost", "tokens", "invocations", "error_rate", "throttle_rate", "p95_latency_ms",
               "guardrail_intervention_rate", "ttft_ms", "output_tokens_per_s")  # fmt: skip
# Per model, from the logs: latency per output token, time to first token, output speed.
LATENCY_METRICS = ("ms_per_1k_output_tokens", "ttft_ms", "output_tokens_per_s")
CW_METRICS = ("Invocations", "InvocationThrottles", "InvocationClientErrors",
              "InvocationServerErrors")  # fmt: skip
# CloudWatch's hourly mean latency mixes short and long answers (too jumpy to alert on);
# latency regressions are judged per output token from the logs instead.
CW_SERIES = ("cw_invocations", "cw_throttle_rate", "cw_error_rate")
GAP_SHARE = 0.5  # fewer than half of CloudWatch's invocations logged is a gap
CHANGES_BEFORE = timedelta(hours=6)


@dataclass
class Series:
    key: str
    metric: str
    lob: str | None
    model: str | None
    ts: np.ndarray
    values: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)


def anomaly_id(series_key: str, start: datetime) -> str:
    return hashlib.blake2b(f"{series_key}|{start:%Y-%m-%dT%H}".encode(), digest_size=8).hexdigest()


def _grid(frame: pl.DataFrame, end: datetime) -> pl.DataFrame:
    """Every hour from the series' first to `end`: a missing hour had no calls, not no data."""
    first = as_time(frame["ts"].min())
    hours = pl.datetime_range(first, end - timedelta(hours=1), "1h", eager=True, time_unit="us")
    full = pl.DataFrame({"ts": hours})
    return full.join(frame.with_columns(pl.col("ts").cast(pl.Datetime("us"))), on="ts", how="left")


def usage_series(usage: pl.DataFrame, end: datetime) -> list[Series]:
    out = []
    for (lob, model), frame in usage.group_by("lob", "model", maintain_order=True):
        grid = _grid(frame.drop("lob", "model"), end)
        calls = grid["invocations"].fill_null(0)
        guarded = grid["guardrail_invocations"].fill_null(0)
        if calls.mean() < MIN_SERIES_CALLS_PER_HOUR:  # type: ignore[operator]
            continue
        counts = {"cost", "tokens", "invocations"}
        for metric in LOG_METRICS:
            col = grid[metric].cast(pl.Float64)
            col = col.fill_null(0.0) if metric in counts else col.fill_null(float("nan"))
            key = f"{metric}|{lob}|{model}"
            # each rate over its own denominator: guardrails see only the calls they checked
            over = guarded if metric == "guardrail_intervention_rate" else calls
            extra = {"calls": over.to_numpy()} if metric in RATES else {}
            out.append(
                Series(key, metric, lob, model, grid["ts"].to_numpy(), col.to_numpy(), extra)
            )
    return out


GEO_PREFIXES = ("us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.")


def base_model(model_id: str, profiles: dict[str, str]) -> str:
    """CloudWatch's ModelId (a model, a cross-region profile id or ARN, an application profile
    ARN) as the foundation model the logs call it, so one model is one series."""
    if model_id in profiles:
        return profiles[model_id]
    tail = model_id.rsplit("/", 1)[-1]
    for prefix in GEO_PREFIXES:
        if tail.startswith(prefix):
            return tail[len(prefix) :]
    return tail


def latency_series(lat: pl.DataFrame, end: datetime) -> list[Series]:
    out = []
    for (model,), frame in lat.group_by("model", maintain_order=True):
        grid = _grid(frame.drop("model"), end)
        if grid["invocations"].fill_null(0).mean() < MIN_SERIES_CALLS_PER_HOUR:  # type: ignore[operator]
            continue
        for metric in LATENCY_METRICS:
            values = grid[metric].cast(pl.Float64).fill_null(float("nan"))
            out.append(Series(f"{metric}|*|{model}", metric, None, str(model),
                              grid["ts"].to_numpy(), values.to_numpy()))  # fmt: skip
    return out


def cloudwatch_series(cw: pl.DataFrame, end: datetime) -> list[Series]:
    """Per model: invocations, and throttles and errors as rates of the invocations (counts
    are sparse: mostly zero, so one throttle would read as infinitely unusual)."""
    wide = cw.pivot(on="metric", index=["ts", "model"], values="value")
    for col in CW_METRICS:
        if col not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(col))
    calls = pl.col("Invocations").fill_null(0)
    # Invocations leaves throttled calls out (they count only in InvocationThrottles): the
    # throttle rate is of the calls attempted, or a storm reads as 250%.
    throttles = pl.col("InvocationThrottles").fill_null(0)
    attempts = calls + throttles
    enough = calls >= MIN_CALLS
    wide = wide.select(
        "ts", "model",
        cw_invocations=calls,
        cw_attempts=attempts,
        cw_throttle_rate=pl.when(attempts >= MIN_CALLS).then(throttles / attempts),
        cw_error_rate=pl.when(enough).then(
            (pl.col("InvocationClientErrors").fill_null(0)
             + pl.col("InvocationServerErrors").fill_null(0)) / calls
        ),
    )  # fmt: skip
    out = []
    for (model,), frame in wide.group_by("model", maintain_order=True):
        grid = _grid(frame.drop("model"), end)
        if grid["cw_invocations"].fill_null(0).mean() < MIN_SERIES_CALLS_PER_HOUR:  # type: ignore[operator]
            continue
        for name in CW_SERIES:
            fill = 0.0 if name == "cw_invocations" else float("nan")
            values = grid[name].cast(pl.Float64).fill_null(fill).to_numpy()
            if np.isnan(values).all():
                continue
            over = "cw_attempts" if name == "cw_throttle_rate" else "cw_invocations"
            extra = {"calls": grid[over].fill_null(0).to_numpy()}
            out.append(Series(f"{name}|*|{model}", name, None, str(model),
                              grid["ts"].to_numpy(), values, extra))  # fmt: skip
    return out


RATES = {"error_rate", "throttle_rate", "guardrail_intervention_rate", "cw_throttle_rate",
         "cw_error_rate"}  # fmt: skip
# Latency per output token is steady and a regression is a step that lasts hours: a half-day
# level memory keeps it unusual for those hours (the default follows a new level within the
# hour, right for spikes), and the 95th percentile of residuals is the steadier scale.
# Their hours with too few timed calls are missing: an hour of day seen on one day of the week
# would be expected to repeat that day's value, one freak hour of a heavy-tailed metric (300
# tokens a second expected of a model that writes 100, and a false alarm when it wrote 100).
# Over half the days (two of three weeks) must have a value, or the level forecaster judges.
SLOW = replace(detector.BUSINESS, level_window=timedelta(hours=12),
               shift_window=timedelta(hours=4), scale_quantile=0.95,
               seasonal_quorum=0.5)  # fmt: skip
SLOW_METRICS = {"ms_per_1k_output_tokens", "ttft_ms", "output_tokens_per_s"}
# Per model and output token, latency is steady: a lower floor than for amounts, so that a
# regression that triples it reads as high (half the median capped it at medium, and a
# medium anomaly never notifies by default).
STEADY_FLOOR = 0.4
# Fewer errors, throttles or interventions, or faster calls, are a recovery, not an incident
# (an episode that starts with a fall: latency back to normal as a runaway's long answers
# stop); volume and spend alert both ways, since a fall in calls can be an outage.
WORSE_WHEN_UP = RATES | {"p95_latency_ms", "ms_per_1k_output_tokens", "ttft_ms"}
WORSE_WHEN_DOWN = {"output_tokens_per_s"}  # a model writing slower is the incident
# A fall cannot pass 100%: the floor of a series judged when it falls is lower (a speed that
# halves must read high; SPEED_FACTOR still says whether a user would feel it).
SPEED_FLOOR = 0.15
# Speed is judged by what a user feels: time to first token at least this much later (and
# by SPEED_FACTOR), output at least this much slower. An hour's median first byte moves by a
# few hundred milliseconds with load and the prompt mix; a queue adds seconds.
MIN_TTFT_CHANGE_MS = 500.0
SPEED_FACTOR = 1.5  # TTFT 1.5x the expected, or output speed under 1/1.5 of it
RATE_FLOOR = 0.05  # five percentage points: less is not an incident whatever the history
# Three errors in twenty-one calls is 14%, and an accident: a rate episode needs this many
# events beyond the expected at its peak hour.
MIN_EXCESS_EVENTS = 5
RELATIVE_FLOOR = 0.5  # half the series' recent median, for amounts and latencies
# Nobody pages FinOps over a tenth of a cent: a LOB's trickle of calls to a cheap model moves by
# cents an hour, which is noise to the budget however unusual it is to the series.
MIN_COST_CHANGE = 0.50  # USD an hour
MIN_TOKENS_CHANGE = 100_000  # tokens an hour: about $0.30 on a mid-size model, less on a small one
# A busy hour's band is at least this share of what it expects (before the detector's
# factors: a spike must be 50% off, a six-hour drift 30%). The week's median, which the
# relative floor follows, includes nights and weekends: a weekday afternoon 15% busier than
# usual read as a 'medium' anomaly, six of them in a 90-day demo outside every incident.
AMOUNTS = {"cost", "tokens", "invocations", "cw_invocations"}
EXPECTED_SHARE = 0.2


def params_for(s: Series) -> detector.DetectorParams:
    """The detector's defaults, with a floor under the band: business series are often so
    steady that the detector's own scale would make a 10% wobble 'critical'. For rates the
    floor is fixed; for amounts and latencies it is half the series' median over the week
    before each hour (causal: an hour is never judged by what came after it), for cost and
    tokens never below what is worth a look, and for amounts never below a share of the
    hour's own expected value."""
    base = SLOW if s.metric in SLOW_METRICS else detector.BUSINESS
    side = "up" if s.metric in WORSE_WHEN_UP else "down" if s.metric in WORSE_WHEN_DOWN else "both"
    base = replace(base, side=side)
    if s.metric in RATES:
        return replace(base, min_change=RATE_FLOOR)
    least = {"cost": MIN_COST_CHANGE, "tokens": MIN_TOKENS_CHANGE}.get(s.metric, 1e-9)
    share = STEADY_FLOOR if s.metric in SLOW_METRICS else RELATIVE_FLOOR
    share = SPEED_FLOOR if s.metric in WORSE_WHEN_DOWN else share
    own = EXPECTED_SHARE if s.metric in AMOUNTS else 0.0
    return replace(base, min_change=least, floor_share=share, expected_share=own)


def _per_base_model(cw: pl.DataFrame, profiles: dict[str, str]) -> pl.DataFrame:
    """Merge a model's ModelId variants (profile ids and ARNs): their hourly sums add up."""
    if cw.is_empty():
        return cw
    mapping = {m: base_model(m, profiles) for m in cw["model"].unique().to_list()}
    return (
        cw.with_columns(model=pl.col("model").replace_strict(mapping))
        .group_by("ts", "model", "metric")
        .agg(pl.col("value").sum())
        .sort("model", "metric", "ts")
    )


def excess_events(s: Series, frame: pl.DataFrame, eps: pl.DataFrame) -> pl.Series:
    """How many more errors, throttles or interventions than expected the worst hour of each
    episode saw: a rate's size in events, not in percent. The worst hour in events, not the
    peak in percent: a burst's least expected rate is often an hour with few calls."""
    excess = frame.select(
        "ts", events=(pl.col("actual") - pl.col("expected")).fill_nan(0.0).fill_null(0.0)
        * pl.Series(s.extra["calls"], dtype=pl.Float64),
    )  # fmt: skip
    last = frame["ts"].max()
    return pl.Series([
        excess.filter(pl.col("ts").is_between(ep["start"], ep["end"] or last))["events"].max()
        or 0.0
        for ep in eps.iter_rows(named=True)
    ], dtype=pl.Float64)  # fmt: skip


SPEED_METRICS = {"ttft_ms", "output_tokens_per_s"}


def material_speed(metric: str, eps: pl.DataFrame) -> pl.Series:
    """Whether each episode's peak is a change a user feels: TTFT later by MIN_TTFT_CHANGE_MS
    and SPEED_FACTOR, or output slower by SPEED_FACTOR."""
    actual, expected = eps["actual"].fill_null(0.0), eps["expected"].fill_null(0.0)
    if metric == "ttft_ms":
        return (actual - expected >= MIN_TTFT_CHANGE_MS) & (actual >= SPEED_FACTOR * expected)
    return actual * SPEED_FACTOR <= expected


def _starts_up(frame: pl.DataFrame, eps: pl.DataFrame) -> pl.Series:
    """Whether each episode's first row (its alert) is above what was expected."""
    first = eps.select("start").join(
        frame.select(pl.col("ts").alias("start"), up=pl.col("actual") > pl.col("expected")),
        on="start", how="left",
    )  # fmt: skip
    return first["up"].fill_null(True)


def _peak_on_its_side(frame: pl.DataFrame, eps: pl.DataFrame) -> pl.DataFrame:
    """Each episode shown at its row furthest from the expected value on the side where it
    started (the start is such a row): peak, expected, actual and band from there, direction
    from the start. The detector's own peak is the least expected hour, which after a storm or
    a runaway is often the fall back to normal: "critical, expected $12.44, actual $12.05" is
    no way to show a cost runaway. The severity stays the episode's: how far the whole
    excursion went (a regression that triples latency is as unusual coming back)."""
    if eps.is_empty():
        return eps
    finite = pl.col("actual").is_finite() & pl.col("expected").is_finite()  # NaN sorts first
    judged = frame.filter(finite).with_columns(up=pl.col("actual") > pl.col("expected"))
    starts_up = dict(zip(eps["start"], _starts_up(frame, eps), strict=True))
    last = frame["ts"].max()
    rows = []
    for ep in eps.iter_rows(named=True):
        up = starts_up[ep["start"]]
        until = ep["end"] if ep["end"] is not None else last
        side = judged.filter(pl.col("ts").is_between(ep["start"], until), pl.col("up") == up)
        if side.is_empty():  # no expected value to be on a side of (a series' first hours)
            rows.append(ep)
            continue
        gap = (pl.col("actual") - pl.col("expected")).abs()
        worst = side.sort(gap, descending=True).row(0, named=True)
        at_peak = {k: worst[k] for k in ("expected", "actual", "lower", "upper")}
        rows.append({**ep, **at_peak, "peak": worst["ts"], "direction": "up" if up else "down"})
    return pl.DataFrame(rows, schema=eps.schema)


def detect_all(
    series: list[Series], widen: dict[str, np.ndarray] | None = None
) -> list[tuple[Series, pl.DataFrame, pl.DataFrame]]:
    """(series, detector frame, stored episodes) for every series with an episode worth
    storing; a series in `widen` is judged with its band widened by triage feedback."""
    found = []
    for s in series:
        frame, eps = judge(s, (widen or {}).get(s.key))
        if eps.height:
            found.append((s, frame, eps))
    return found


def judge(s: Series, widen: np.ndarray | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The detector frame of one series and the episodes of it worth storing."""
    calls = s.extra.get("calls") if s.metric in RATES else None  # a rate's events count too
    frame = detector.detect(s.ts, s.values, params=params_for(s), widen=widen, calls=calls)
    stored = LOUD if s.metric in HEAVY_TAILED else STORED
    eps = detector.episodes(frame).filter(pl.col("label").is_in(stored))
    # An episode is judged by how it starts, and shown at its worst hour on that side.
    eps = _peak_on_its_side(frame, eps)
    if s.metric in WORSE_WHEN_UP:
        eps = eps.filter(pl.col("direction") == "up")
    if s.metric in WORSE_WHEN_DOWN:
        eps = eps.filter(pl.col("direction") == "down")
    if s.metric in SPEED_METRICS and eps.height:
        eps = eps.filter(material_speed(s.metric, eps))
    if "calls" in s.extra and eps.height:
        eps = eps.filter(excess_events(s, frame, eps) >= MIN_EXCESS_EVENTS)
    return frame, eps


def quieted(
    series: list[Series], widen: dict[str, np.ndarray], found: list, now: datetime
) -> pl.DataFrame:
    """The alerts each widened series would have raised at base sensitivity and did not:
    anomaly_suppressed rows, with the id each alert would have had."""
    tuned = {s.key: eps for s, _, eps in found}
    out = []
    for s in series:
        if s.key not in widen:
            continue
        _, base = judge(s)
        none = base.clear()
        quiet = sensitivity.quieted(base, tuned.get(s.key, none), s.ts, widen[s.key])
        ids = [anomaly_id(s.key, start) for start in quiet["start"].to_list()]
        out.append(anomaly_tuning.quiet_rows(s, quiet, ids, now))
    return pl.concat(out) if out else pl.DataFrame()


def logging_gaps(gaps: pl.DataFrame) -> list[dict[str, Any]]:
    """Runs of consecutive gap hours per account/region, one anomaly each."""
    out = []
    for (account, region), frame in gaps.group_by("account_id", "region", maintain_order=True):
        hours = frame.sort("hour")
        run_id = (hours["hour"].diff() != timedelta(hours=1)).fill_null(True).cum_sum()
        for _, run in hours.with_columns(run=run_id).group_by("run", maintain_order=True):
            missing = float((run["cw_invocations"] - run["logged"]).sum())
            seen, logged = float(run["cw_invocations"].sum()), float(run["logged"].sum())
            out.append({
                "series_key": f"logging_gap|{account}|{region}", "metric": "logging_gap",
                "lob": None, "model": None, "start_ts": run["hour"].min(),
                "end_ts": run["hour"].max(), "peak_ts": run["hour"].min(),
                "expected": seen, "actual": logged,
                "lower": None, "upper": None, "severity": "high" if missing >= 100 else "medium",
                "score": min(1.0, missing / seen), "direction": "down",
                "driver": f"account={account} region={region}", "driver_share": 1.0,
                "explanation": {"missing_invocations": missing,
                                "why": "CloudWatch counted these invocations; no invocation log "
                                       "arrived for them (logging off or delivery failing)"},
            })  # fmt: skip
    return out


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def explain(con: duckdb.DuckDBPyConnection, s: Series, ep: dict[str, Any]) -> dict[str, Any]:
    """Which dimension drove it, the cost decomposition and the CloudTrail changes before."""
    peak: datetime = ep["peak"]
    out: dict[str, Any] = {"expected": _finite(ep["expected"]), "actual": _finite(ep["actual"])}
    hours = [peak - timedelta(days=d) for d in range(8)]
    if s.lob is not None or s.model is not None:
        # A per-model series (CloudWatch, latency) is cut by no LOB: its LOBs and apps answer.
        parts = _breakdown(con, s.lob, s.model, hours)
        out["driver"] = driver(parts, s.metric, peak)
    if s.lob is not None and s.metric in ("cost", "tokens"):
        # The LOB's spend across all its models, so a move to a dearer model shows as mix.
        models = _breakdown(con, s.lob, None, hours).filter(pl.col("dimension") == "model")
        found = decompose_cost(models, peak)
        out["decomposition"] = found and {**found, "scope": f"lob={s.lob}, all its models"}
    # The first anomalous hour is a bucket: a change made inside it (say 20 minutes in) precedes
    # the calls it spoiled, so the window runs to the end of that hour, not its start.
    first_hour_end = ep["start"] + timedelta(hours=1)
    window = {"since": ep["start"] - CHANGES_BEFORE, "until": first_hour_end}
    changes = con.sql(sql("models/anomaly_changes"), params=window).pl()
    out["cloudtrail_changes"] = changes.with_columns(
        pl.col("event_time").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    ).to_dicts()
    return out


def _breakdown(
    con: duckdb.DuckDBPyConnection, lob: str | None, model: str | None, hours: list[datetime]
) -> pl.DataFrame:
    params = {"lob": lob, "model": model, "hours": hours}
    return con.sql(sql("models/anomaly_breakdown"), params=params).pl()


def rows_for(
    con: duckdb.DuckDBPyConnection,
    found: list,
    now: datetime,
    widen: dict[str, np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    out = []
    for s, _, eps in found:
        for ep in eps.iter_rows(named=True):
            why = explain(con, s, ep) | {"test": ep["reason"]}  # spike, shift, drift, record
            if (factor := _widened(s, (widen or {}).get(s.key), ep["start"])) > 1.0:
                why["band_widened"] = factor  # triage feedback widened it (its severity too)
            drv = why.get("driver") or {}
            out.append({
                "series_key": s.key, "metric": s.metric, "lob": s.lob, "model": s.model,
                "start_ts": ep["start"], "end_ts": ep["end"], "peak_ts": ep["peak"],
                "expected": _finite(ep["expected"]), "actual": _finite(ep["actual"]),
                "lower": _finite(ep["lower"]), "upper": _finite(ep["upper"]),
                "severity": ep["label"], "score": float(ep["score"]), "direction": ep["direction"],
                "driver": drv.get("label"), "driver_share": drv.get("share"), "explanation": why,
            })  # fmt: skip
    return out


def _widened(s: Series, widen: np.ndarray | None, start: datetime) -> float:
    """The widening of the series' band at an episode's start (1 without feedback)."""
    if widen is None:
        return 1.0
    at = int(np.searchsorted(s.ts.astype("datetime64[us]"), np.datetime64(start, "us")))
    return float(widen[min(at, len(widen) - 1)])


@dataclass
class Tuning:
    """What triage feedback adds to a run's writes: new sensitivity decisions and the alerts
    the widened bands kept quiet in the hours since `since`."""

    decided: pl.DataFrame
    quiet: pl.DataFrame
    since: datetime


def store(
    con: duckdb.DuckDBPyConnection,
    rows: list[dict[str, Any]],
    bands: pl.DataFrame,
    now: datetime,
    tuning: Tuning | None = None,
) -> None:
    """Upsert by id keeping triage status; open ones no longer detected go; bands replaced;
    sensitivity decisions and suppressed alerts written in the same transaction."""
    query = "SELECT series_key FROM anomaly_mutes WHERE muted_until > ?"
    muted = {r[0] for r in con.execute(query, [now]).fetchall()}
    for r in rows:
        r["anomaly_id"] = anomaly_id(r["series_key"], r["start_ts"])
        r["explanation"] = json.dumps(r["explanation"], default=str)
        r["status"] = "muted" if r["series_key"] in muted else "open"
        r["detected_at"] = now
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else None
    with transaction(con):
        con.execute("CREATE TEMP TABLE IF NOT EXISTS _found (anomaly_id VARCHAR)")
        con.execute("DELETE FROM _found")
        if frame is not None:
            con.register("_new", frame.to_arrow())
            con.execute("INSERT INTO _found SELECT anomaly_id FROM _new")
            con.execute(sql("models/anomalies_upsert"))
            con.unregister("_new")
        con.execute("DELETE FROM anomalies WHERE status = 'open' "
                    "AND anomaly_id NOT IN (SELECT anomaly_id FROM _found)")  # fmt: skip
        con.execute("DELETE FROM anomaly_bands")
        insert_frame(con, "anomaly_bands", bands)
        if tuning is not None:
            anomaly_tuning.write(con, tuning.decided, tuning.quiet, tuning.since)


def run(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime, stats: RunStats) -> int:
    end = now.replace(minute=0, second=0, microsecond=0)  # the current hour is not complete
    window = {"start": end - LOOKBACK, "end": end}
    usage = con.sql(
        sql("models/anomaly_usage_hourly"), params={**window, "min_calls": MIN_CALLS}
    ).pl()
    cw = con.sql(sql("models/anomaly_cloudwatch_hourly"), params=window).pl()
    profiles = dict(con.execute("SELECT arn, model FROM inference_profiles "
                                "WHERE model IS NOT NULL").fetchall())  # fmt: skip
    cw = _per_base_model(cw, profiles)
    series = usage_series(usage, end) if usage.height else []
    series += cloudwatch_series(cw, end) if cw.height else []
    lat = con.sql(sql("models/anomaly_model_latency"),
                  params={**window, "min_calls": MIN_TIMED_CALLS}).pl()  # fmt: skip
    series += latency_series(lat, end) if lat.height else []
    # Triage feedback first: a decision made now widens hours from now on, none judged here,
    # and the decisions before it are replayed over the look-back exactly as they were made.
    past = anomaly_tuning.history(con)
    decided = anomaly_tuning.decide(con, past, now)
    widen = anomaly_tuning.widenings(pl.concat([past, decided], how="diagonal_relaxed"), series)
    found = detect_all(series, widen)
    quiet = quieted(series, widen, found, now)
    rows = rows_for(con, found, now, widen)
    gaps = con.sql(sql("models/anomaly_logging_gap"),
                   params={**window, "min_calls": MIN_CALLS, "share": GAP_SHARE}).pl()  # fmt: skip
    rows += logging_gaps(gaps) if gaps.height else []
    bands = [
        frame.select("ts", "actual", "expected", "lower", "upper").with_columns(
            series_key=pl.lit(s.key)
        )
        for s, frame, _ in found
    ]
    band_frame = (
        pl.concat(bands).with_columns(pl.col("actual", "expected", "lower", "upper").fill_nan(None))
        if bands
        else pl.DataFrame()
    )
    store(con, rows, band_frame, now, Tuning(decided, quiet, window["start"]))
    stats.notes.append(f"anomalies: {len(series)} series judged, {len(rows)} episodes stored")
    if widen or quiet.height:
        stats.notes.append(f"anomalies: {len(widen)} series widened by triage feedback, "
                           f"{quiet.height} alerts kept quiet")  # fmt: skip
    return len(rows)
