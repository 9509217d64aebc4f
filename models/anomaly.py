"""Causal anomaly detection on one metric series: an expected band, a severity and episodes.

Each row is judged on the rows before it and itself only, so appending data never changes
what was said about the past.

1. Expected value. Up to three forecasters run side by side: the median of the last hour
   (level), and the median of the same time of day over the last 7 days, or of the same
   time of week over the last 3 weeks, each lifted by the median gap between the series and
   that seasonal reference over the last hour (so growth and a new level are followed within
   the hour). Seasons are found from the timestamps (the series' step), not from row counts,
   so missing rows do not shift them. Each row uses the forecaster with the least mean
   absolute error on earlier rows that were judged normal: a series without rhythm gets the
   level, one with a daily or weekly rhythm the matching seasonal forecaster, and an
   anomaly cannot teach it to prefer a forecaster that merely followed the anomaly.
2. Severity: an ensemble of four simple tests, combined by their maximum, each saying why.
   Three deviations from the chosen forecaster, each divided by a high quantile (99%) of its
   own magnitude over the last weeks, times a factor: the residual itself (`spike`), its mean
   over two hours (`shift`: a level shift), and the mean over six hours of the gap to a slow
   version of the forecaster that follows a new level over a day instead of an hour
   (`drift`). Scaling by the series' own recent extremes makes them indifferent to units and
   to heavy tails, and an alert raises the bar it is judged by, so a new normal stops
   alerting. But that same scaling is why a residual test misses slow or subtle anomalies: a
   level that creeps, or a sensor that sinks to a value it never read, moves the residual
   no more than last week's noise did. The fourth test (`record`, after the rarity-of-context
   idea of NAB's CAD OSE detector) asks instead whether the row lies further from the slow
   forecast than any row before it, by a margin of the range seen: novelty, not size. It is
   judged on the distance from the slow forecast, not on the raw value, so a growing series'
   weekly new high is no news. A rate given with its calls has a fifth test (`count`): how
   unlikely its events were at the rate of the week before (Poisson), since a rate's band is
   as wide as its noisiest, emptiest hours. The largest ratio is the row's severity (1 is the
   edge of the expected band) and the test that gave it is the row's `reason`.
3. Episodes. A row over the edge opens an episode and raises its only alert. The episode
   stays open while the severity is at least 3/4 of the edge and closes after a quiet
   cool-down, so a long excursion costs one alert, and NAB's scoring (one early detection per
   window earns the most; every later detection outside it costs) is served by the same rule
   a person wants: one message per incident.

Two frozen sets: `DEFAULT`, chosen on NAB's dev set (41 series, six families; see
`genai-lens eval anomaly DIR --by-family`, which also reports leave-one-family-out figures),
for a metric of unknown kind; and `BUSINESS`, the product's hourly spend, volume, rate and
latency series (validated on the demo estate; see its comment).

Everything is a pure function of (timestamps, values): no I/O, no randomness. Missing values
(NaN) are skipped and never alert; rows are an ordered stream, so a repeated or backward
timestamp is just the next row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY

# The sampling step is read from the first intervals of a series, so that later rows never
# change how earlier ones were judged.
_STEP_INTERVALS = 100

SEVERITY_LABELS = ("low", "medium", "high", "critical")
# Lower edges of medium, high and critical, in multiples of the band's half-width.
SEVERITY_EDGES = (1.5, 3.0, 6.0)


@dataclass(frozen=True)
class DetectorParams:
    """Settings of the detector; spans are wall-clock so one set fits 5-minute and hourly data.

    The defaults were chosen on the NAB dev set (see `genai-lens eval anomaly --by-family`)
    and checked by leave-one-family-out; change them per kind of metric, not per run.
    """

    level_window: timedelta = timedelta(hours=1)  # how fast a new level is followed
    days_back: int = 7  # days in the time-of-day median
    weeks_back: int = 3  # weeks in the time-of-week median
    selection_window: timedelta = timedelta(days=2)  # memory of each forecaster's error
    scale_window: timedelta = timedelta(days=21)  # memory of what counts as extreme
    scale_rows: int = 500  # ... but never fewer rows than this (a 99% quantile needs them)
    scale_warmup: timedelta = timedelta(days=1)  # no severity before this much history
    scale_quantile: float = 0.99
    spike_factor: float = 4.0  # band edge = factor x quantile of |residual|
    shift_window: timedelta = timedelta(hours=2)
    shift_factor: float = 2.5
    drift_window: timedelta = timedelta(hours=6)
    drift_reference: timedelta = timedelta(days=1)  # how fast the slow forecaster follows
    drift_factor: float = 1.35  # 0 turns the drift test off
    cooldown: timedelta = timedelta(hours=12)  # quiet time that closes an episode
    refractory: timedelta = timedelta(0)  # least time from one alert to the next
    hold: float = 0.75  # severity that keeps an open episode from cooling down
    min_change: float = 0.0  # floor of every band's half-width, in the series' units
    # ... and a floor that follows the series: this share of its median over the
    # scale_window before each row (causal, like everything else; 0 turns it off)
    floor_share: float = 0.0
    # ... and one that follows the forecast itself: this share of the expected value at the
    # row (0 turns it off). A busy hour's band is then as wide as its own size warrants, where
    # the median over a week (nights and weekends included) is far below it.
    expected_share: float = 0.0
    step: timedelta | None = None  # sampling step; None reads it from the first rows
    # Novelty: a value beyond everything seen before, by this share of the range seen (0 off)
    record_margin: float = 0.02
    record_warmup: timedelta = timedelta(days=1)  # range learnt this long before it counts
    sensitivity: float = 1.0  # every band's half-width is divided by this
    # More than this share of the days (weeks) back must have a value at that hour for the
    # time-of-day (week) forecaster to expect anything there (0: one value will do).
    seasonal_quorum: float = 0.0
    # Which way is news: "both", or only "up" (errors, latency) or "down" (output speed). An
    # episode that opened the other way (a recovery, the caller drops it) ends when a row
    # goes over the edge the way that is news after a quiet row, which opens an episode and
    # alerts: a recovery held open by its cool-down must not swallow the next incident. The
    # return from a spike the other way (no quiet row between) stays the spike's episode.
    side: str = "both"
    # A rate given with its denominators (`detect(calls=...)`): its events (rate x calls) are
    # also judged as counts, by how unlikely that many were at the pooled rate of the scale
    # window before the row (Poisson). The band's edge is a chance of 10^-count_edge.
    count_edge: float = 4.0


DEFAULT = DetectorParams()
# The product's hourly business series (spend, tokens, calls, rates, latency per token) keep
# the set they were validated with on the demo estate (every planted incident high or
# critical, at most a handful of episodes outside them): wider spike and drift bands would
# turn incidents that read 'high' today into 'medium', and a 24-hour cool-down makes a
# disturbance that recurs the next business day one episode. No novelty test: spend grows.
BUSINESS = DetectorParams(
    scale_window=timedelta(days=7),
    spike_factor=2.5,
    shift_factor=2.0,
    drift_factor=1.5,
    cooldown=timedelta(hours=24),
    record_margin=0.0,
)


def detect(
    ts: np.ndarray | pl.Series,
    values: np.ndarray | pl.Series,
    *,
    params: DetectorParams = DEFAULT,
    widen: np.ndarray | None = None,
    calls: np.ndarray | None = None,
) -> pl.DataFrame:
    """Judge each row of a series; one row out per row in.

    `widen` (one factor >= 1 per row, default all 1) multiplies the band's half-width at that
    row: what triage feedback learnt about the series (models/sensitivity.py), from the hour
    it was decided on. A row's severity is divided by it; nothing else changes.

    `calls` (a rate's denominator per row) adds the `count` test: a rate's band is as wide as
    its noisiest hours (three errors in twenty calls), so a burst on a busy hour hides in it;
    counted against the calls, it does not.

    Columns: `ts`, `actual`, `expected`, `lower`, `upper` (the expected band), `severity`
    (deviation in multiples of the band's half-width; >= 1 is outside the band), `score`
    (severity / (1 + severity), in [0, 1), >= 0.5 outside the band), `reason` (the test that
    gave the severity: spike, shift, drift or record; null at 0), `in_episode`, and
    `alert` (true on the first row of an episode only).
    """
    seconds = _seconds(ts)
    x = _floats(values)
    if x.shape != seconds.shape:
        raise ValueError(f"{len(seconds)} timestamps but {len(x)} values")
    factor = np.ones(len(x)) if widen is None else np.asarray(widen, dtype=float)
    if factor.shape != x.shape:
        raise ValueError(f"{len(x)} values but {len(factor)} widening factors")
    denominators = None if calls is None else np.asarray(calls, dtype=float)
    if denominators is not None and denominators.shape != x.shape:
        raise ValueError(f"{len(x)} values but {len(denominators)} call counts")
    out = _judge(seconds, x, params, factor, denominators)
    return pl.DataFrame(
        {"ts": seconds.astype("datetime64[s]").astype("datetime64[us]"), "actual": x, **out}
    )


def episodes(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per episode of a `detect` frame: when, how far off at its peak, how severe.

    Columns: `start` (the alert), `reason` (the test that opened it: spike, shift, drift or
    record), `end` (the last row outside the band; null while the episode
    is still open at the end of the frame), `peak` and, at the peak, `expected`, `actual`,
    `lower`, `upper`, `severity`, `score`, `label` and `direction` (up or down).
    """
    if not frame["in_episode"].any():  # most series, most runs: no episode to group
        key = tuple(frame.schema.items())
        if key not in _NO_EPISODES:
            _NO_EPISODES[key] = _group_episodes(frame.clear())
        return _NO_EPISODES[key]
    return _group_episodes(frame)


# The (empty) episodes of an episode-free frame, per input schema: grouping nothing through
# polars cost 1.4 ms a series, a tenth of the triage replay's anomaly runs.
_NO_EPISODES: dict[tuple[Any, ...], pl.DataFrame] = {}


def _group_episodes(frame: pl.DataFrame) -> pl.DataFrame:
    at_peak = ("peak", "expected", "actual", "lower", "upper", "severity", "score")
    still_open = frame.height > 0 and bool(frame["in_episode"][-1])
    grouped = (
        frame.with_columns(episode=pl.col("alert").cum_sum())
        .filter(pl.col("in_episode"))
        .group_by("episode", maintain_order=True)
        .agg(
            pl.col("ts").first().alias("start"),
            pl.col("reason").first(),  # the test that opened it
            pl.col("ts").filter(pl.col("severity") >= 1.0).last().alias("end"),
            *[
                pl.col("ts" if name == "peak" else name)
                .sort_by("severity", descending=True)
                .first()
                .alias(name)
                for name in at_peak
            ],
        )
    )
    last = pl.int_range(pl.len()) == pl.len() - 1
    return grouped.select(
        "start",
        "reason",
        pl.when(last & pl.lit(still_open)).then(None).otherwise(pl.col("end")).alias("end"),
        *at_peak,
        pl.col("severity").map_elements(severity_label, return_dtype=pl.String).alias("label"),
        pl.when(pl.col("actual") >= pl.col("expected"))
        .then(pl.lit("up"))
        .otherwise(pl.lit("down"))
        .alias("direction"),
    )


def severity_label(severity: float) -> str:
    """low under 1.5x the band's half-width, medium under 3x, high under 6x, else critical."""
    return SEVERITY_LABELS[int(np.searchsorted(SEVERITY_EDGES, severity, side="right"))]


def _seconds(ts: np.ndarray | pl.Series) -> np.ndarray:
    if isinstance(ts, pl.Series):
        if isinstance(ts.dtype, pl.Datetime) and ts.dtype.time_zone is not None:
            ts = ts.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        ts = ts.cast(pl.Datetime("us")).to_numpy()
    return np.asarray(ts).astype("datetime64[s]").astype(np.int64)


def _floats(values: np.ndarray | pl.Series) -> np.ndarray:
    if isinstance(values, pl.Series):
        return values.cast(pl.Float64).fill_null(np.nan).to_numpy()
    return np.asarray(values, dtype=float)


def _judge(
    seconds: np.ndarray,
    x: np.ndarray,
    p: DetectorParams,
    widen: np.ndarray,
    calls: np.ndarray | None = None,
) -> dict[str, np.ndarray | pl.Series]:
    n = len(x)
    if n == 0:
        empty = np.empty(0)
        blank: dict[str, np.ndarray | pl.Series] = dict.fromkeys(
            ("expected", "lower", "upper", "severity", "score"), empty
        )
        return blank | {
            "reason": pl.Series([], dtype=pl.String),
            "in_episode": np.empty(0, dtype=bool),
            "alert": np.empty(0, dtype=bool),
        }
    step = _step(seconds, p)
    slot = np.round((seconds - seconds[0]) / step).astype(np.int64)
    rows = _Rows(step)
    forecasts, slow = _forecasts(x, slot, rows, p)
    half, signed = _deviations(x, forecasts, slow, rows, p)
    all_tests = np.abs(signed)
    severities = all_tests.max(axis=1)
    chosen = _choose(x, forecasts, severities, rows.of(p.selection_window, 10))
    here = np.arange(n)
    # A seasonal forecaster without a quorum of seasons at a row has nothing to say there:
    # the level forecaster (always first) judges it.
    chosen[np.isnan(forecasts[chosen, here]) & ~np.isnan(forecasts[0])] = 0
    # Triage's widening scales the chosen band and nothing else: the forecast, and which
    # forecaster is trusted, are what they would be at base sensitivity, so a series reverted
    # to base gets exactly the base band back. A factor of 1 changes no bit (x * 1.0 is exact).
    expected, half_width = forecasts[chosen, here], half[chosen, here] * widen
    tests = all_tests[chosen, :, here] / widen[:, None]  # (row, test)
    # Novelty is judged on the distance from the slow forecast (the usual level and rhythm),
    # not on the raw value: a growing series sets new highs every week and that is no news.
    away = x - slow[chosen, here]
    away[: rows.of(p.drift_reference, 3)] = np.nan  # the usual level is not known yet
    record = _record(away, rows, p) / widen if p.record_margin > 0 else np.zeros(n)
    count = np.zeros(n) if calls is None else _count(x, calls, rows, p) / widen
    tests = np.column_stack([tests, record, count])
    severity = tests.max(axis=1)
    pick = tests.argmax(axis=1)  # the test that gave each row's severity
    reason: Any = np.where(severity > 0, np.array(TESTS, dtype=object)[pick], None)
    news = _news(signed[chosen, pick.clip(max=2), here], away, pick, p.side)
    in_episode, alert = _episodes(
        severity, seconds, p.cooldown.total_seconds(), p.hold, p.refractory.total_seconds(),
        news, ~np.isnan(x),
    )  # fmt: skip
    return {
        "expected": expected,
        "lower": expected - half_width,
        "upper": expected + half_width,
        "severity": severity,
        "score": severity / (1.0 + severity),
        "reason": pl.Series(reason.tolist(), dtype=pl.String),
        "in_episode": in_episode,
        "alert": alert,
    }


SIDES = ("both", "up", "down")


def _news(signed: np.ndarray, away: np.ndarray, pick: np.ndarray, side: str) -> np.ndarray | None:
    """Per row, whether the test that gave its severity moved the way that is news (None when
    both ways are): `signed` the spike/shift/drift value, `away` the record test's distance."""
    if side == "both":
        return None
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    value = np.where(pick == TESTS.index("record"), away, signed)
    value[pick == TESTS.index("count")] = 1.0  # only more events than expected count
    return value > 0 if side == "up" else value < 0


def _step(seconds: np.ndarray, p: DetectorParams) -> float:
    if p.step is not None:
        return p.step.total_seconds()
    gaps = np.diff(seconds[: _STEP_INTERVALS + 1])
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else HOUR


@dataclass(frozen=True)
class _Rows:
    """Converts wall-clock spans into row counts at the series' step."""

    step: float

    def of(self, span: timedelta, least: int = 1) -> int:
        return max(least, round(span.total_seconds() / self.step))


def _forecasts(
    x: np.ndarray, slot: np.ndarray, rows: _Rows, p: DetectorParams
) -> tuple[np.ndarray, np.ndarray]:
    """Fast and slow forecasts, a row each per forecaster: level, then daily and weekly.

    The level forecaster is the rolling median of the values; a seasonal one the seasonal
    reference plus the rolling median of the values' gap to it."""
    fast_rows, slow_rows = rows.of(p.level_window, 3), rows.of(p.drift_reference, 3)
    references: list[np.ndarray | None] = [None]
    for period, back in ((DAY, p.days_back), (WEEK, p.weeks_back)):
        lag = round(period / rows.step)  # in slots; off by under a step if it does not divide
        if back < 1 or lag < 4:
            continue  # a period of a few rows is no rhythm to learn
        least = math.floor(back * p.seasonal_quorum) + 1
        references.append(_seasonal_median(x, slot, lag, back, least))
    spans = (fast_rows, slow_rows)
    medians = _rolling_many(
        [
            (x if ref is None else x - ref, span, "median", 1, 0.5)
            for ref in references
            for span in spans
        ]
    )
    out: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for i, ref in enumerate(references):
        for which in (0, 1):
            gap = _shift(medians[2 * i + which])
            # (NaN where the reference is: no quorum of seasons, nothing to expect)
            out[which].append(_ffill(gap) if ref is None else ref + _ffill(gap))
    return np.array(out[0]), np.array(out[1])


TESTS = ("spike", "shift", "drift", "record", "count")  # what a row's severity can come from


def _deviations(
    x: np.ndarray, forecasts: np.ndarray, slow: np.ndarray, rows: _Rows, p: DetectorParams
) -> tuple[np.ndarray, np.ndarray]:
    """Per forecaster (a row of `forecasts`, its slow twin a row of `slow`): the band's
    half-width, and each row's severity against it by the spike, shift and drift tests
    (forecaster x test x row, tests in the order of TESTS), signed: above the forecast > 0.

    The rolling windows of every forecaster run in two polars calls, the floor's level and the
    shift and drift means first, then every band: on these short series a call's overhead,
    not its work, was half of `detect`'s time, and the results are the same bit for bit."""
    k, n = forecasts.shape
    resid = x[None, :] - forecasts
    drift = p.drift_factor > 0
    shift_rows, drift_rows = rows.of(p.shift_window, 2), rows.of(p.drift_window, 2)
    level = [(x, rows.of(p.scale_window, 3), "median", 1, 0.5)] if p.floor_share > 0 else []
    shift_jobs = [(r, shift_rows, "mean", 1, 0.5) for r in resid]
    drift_jobs = [(x - s, drift_rows, "mean", 1, 0.5) for s in slow if drift]
    means = _rolling_many([*level, *shift_jobs, *drift_jobs])
    floor = _floor(_shift(means.pop(0)) if level else None, n, p)
    shifts, drifts = means[:k], means[k:]
    halves = _band_half_widths([*resid, *shifts, *drifts], rows, p)
    tests = np.zeros((k, 3, n))
    spike_halves = np.empty((k, n))
    for f in range(k):
        least = floor
        if p.expected_share > 0:
            least = np.fmax(floor, p.expected_share * np.nan_to_num(np.abs(forecasts[f])))
        spike_half = _floored(halves[f], least) * p.spike_factor / p.sensitivity
        shift_half = _floored(halves[k + f], least) * p.shift_factor / p.sensitivity
        with np.errstate(invalid="ignore", divide="ignore"):
            tests[f, 0] = resid[f] / spike_half
            tests[f, 1] = shifts[f] / shift_half
        if drift:
            drift_half = _floored(halves[2 * k + f], least) * p.drift_factor / p.sensitivity
            with np.errstate(invalid="ignore", divide="ignore"):
                tests[f, 2] = drifts[f] / drift_half
        spike_halves[f] = spike_half
    tests[:, :, np.isnan(x)] = 0.0  # a missing value is not evidence either way
    return spike_halves, np.nan_to_num(tests, nan=0.0, posinf=0.0, neginf=0.0)


def _choose(
    x: np.ndarray, forecasts: np.ndarray, severities: np.ndarray, window: int
) -> np.ndarray:
    """Per row, the forecaster with the least mean absolute error on earlier normal rows.

    Rows the chosen forecaster flags are left out, so an anomaly does not teach the detector
    to prefer a forecaster that merely followed it. The mean is a running one until `window`
    rows, then exponential over about that many rows. The level forecaster (first) is always
    eligible; the others once they have a quarter window of history.
    """
    errors = np.abs(x[None, :] - forecasts).T.tolist()
    flagged = (severities >= 1.0).T.tolist()
    k = len(forecasts)
    mean, count = [0.0] * k, [0] * k
    least = max(1, window // 4)
    others, every = range(1, k), range(k)
    # A plain list, appended to: per row, a numpy item assignment and min() cost more than
    # the comparisons (1.6x the time, same choices).
    chosen: list[int] = []
    for err, flag in zip(errors, flagged, strict=True):
        best = 0
        for f in others:
            if count[f] >= least and mean[f] < mean[best]:
                best = f
        chosen.append(best)
        if flag[best]:
            continue
        for f in every:
            e = err[f]
            if e == e:  # not NaN
                c = count[f] = count[f] + 1
                mean[f] += (e - mean[f]) / (c if c < window else window)
    return np.array(chosen, dtype=np.int64)


def _record(x: np.ndarray, rows: _Rows, p: DetectorParams) -> np.ndarray:
    """How far each row lies beyond the lowest and highest values before it, in multiples of
    `record_margin` x the range they span (0 inside the range or before warm-up)."""
    hi = _shift(np.fmax.accumulate(x)) if len(x) else x  # (fmax skips NaN: missing rows)
    lo = _shift(np.fmin.accumulate(x)) if len(x) else x
    seen = _shift(np.cumsum(~np.isnan(x)).astype(float))
    warm = rows.of(p.record_warmup, p.scale_rows // 5)  # rows with a value seen
    excess = np.fmax(x - hi, lo - x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = excess * p.sensitivity / (p.record_margin * (hi - lo))
    out[~(seen >= warm) | ~(excess > 0)] = 0.0
    return np.nan_to_num(out, nan=0.0, posinf=0.0)


def _count(x: np.ndarray, calls: np.ndarray, rows: _Rows, p: DetectorParams) -> np.ndarray:
    """How unlikely each row's events (rate x calls) are at the pooled rate of the scale window
    before it, as -log10 of the Poisson chance of at least that many, over `count_edge` (0
    where they are no more than expected). The pooled rate is smoothed by one event, so a
    series that never saw one is not infinitely surprised by its first."""
    seen = ~np.isnan(x) & (calls > 0)
    events = np.where(seen, np.nan_to_num(x) * calls, 0.0)
    n = np.where(seen, calls, 0.0)
    window = rows.of(p.scale_window, 3)
    before = [_shift(_rolling_sum(v, window)) for v in (events, n)]
    rate = (np.nan_to_num(before[0]) + 1.0) / (np.nan_to_num(before[1]) + 1.0)
    mean = rate * n
    k = np.round(events)
    over = seen & (k > mean) & (before[1] > 0)
    out = np.zeros(len(x))
    lam, kk = mean[over], k[over]
    log_gamma = np.array([math.lgamma(v + 1.0) for v in kk.tolist()])
    # ln P(X >= k) <= ln P(X = k) - ln(1 - lam / (k + 1)): the tail's terms fall geometrically
    log_tail = -lam + kk * np.log(lam) - log_gamma - np.log1p(-lam / (kk + 1.0))
    out[over] = -log_tail / math.log(10) / p.count_edge * p.sensitivity
    return np.clip(out, 0.0, None)


def _rolling_sum(v: np.ndarray, window: int) -> np.ndarray:
    """Sum of each row and the window - 1 rows before it."""
    total = np.cumsum(v)
    out = total.copy()
    out[window:] -= total[:-window]
    return out


def _seasonal_median(
    x: np.ndarray, slot: np.ndarray, lag: int, back: int, least: int = 1
) -> np.ndarray:
    """Median of the values 1..back periods earlier, taken only from earlier rows; NaN where
    fewer than `least` of them have a value."""
    n = len(x)
    first_row = np.full(int(slot.max() - slot.min()) + 1, -1, dtype=np.int64)
    order = np.arange(n)[::-1]
    first_row[slot[order] - slot.min()] = order  # the first row seen for each slot
    past = np.full((n, back), np.nan)
    here = np.arange(n)
    for k in range(1, back + 1):
        target = slot - k * lag - slot.min()
        source = np.where(target >= 0, first_row[np.clip(target, 0, None)], -1)
        ok = (source >= 0) & (source < here)
        past[ok, k - 1] = x[source[ok]]
    out = _row_medians(past)
    out[(~np.isnan(past)).sum(axis=1) < least] = np.nan
    return out


def _row_medians(a: np.ndarray) -> np.ndarray:
    """np.nanmedian(a, axis=1), bit for bit (the middle values' sum halved, as numpy's own
    small-array path does), NaN for a row without values; without np.ma, which made it a
    tenth of a short series' detect time."""
    ordered = np.sort(a, axis=1)  # NaN sorts last
    counts = (~np.isnan(a)).sum(axis=1)
    high = counts // 2
    low = np.where(counts % 2 == 1, high, high - 1)
    pick = np.clip(np.column_stack([low, high]), 0, a.shape[1] - 1)
    pair = np.take_along_axis(ordered, pick, axis=1)
    out = (pair[:, 0] + pair[:, 1]) / 2.0
    out[counts == 0] = np.nan
    return out


def _floor(level: np.ndarray | None, n: int, p: DetectorParams) -> np.ndarray:
    """The least half-width of the band at each of n rows: min_change, or floor_share of
    `level` (the series' median over the scale window before the row) if that is more;
    `level` is None when floor_share is off."""
    least = np.full(n, max(p.min_change, 1e-12))
    if level is None:
        return least
    return np.fmax(least, p.floor_share * np.clip(level, 0, None))


def _band_half_widths(residuals: list[np.ndarray], rows: _Rows, p: DetectorParams) -> np.ndarray:
    """Per residual series: a high quantile of |resid| over the scale window before each row
    (NaN until warm), one polars call for all of them; _floored then applies the floor."""
    window = rows.of(p.scale_window, p.scale_rows)
    warm = min(window, rows.of(p.scale_warmup, p.scale_rows // 5))
    jobs = [(np.abs(r), window, "quantile", warm, p.scale_quantile) for r in residuals]
    return np.array([_shift(q) for q in _rolling_many(jobs)])


def _floored(half: np.ndarray, floor: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(half), np.nan, np.fmax(half, floor))


def _episodes(
    severity: np.ndarray,
    seconds: np.ndarray,
    cooldown: float,
    hold: float,
    refractory: float,
    news: np.ndarray | None = None,
    judged: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Open an episode on the first row over the edge; close it after a quiet cool-down.

    Rows at `hold` or more (a fraction of the edge) keep an open episode warm, so a series
    that hovers around the edge is one episode, not many. With `news` (per row, whether it
    moved the way that is news; `judged`: rows with a value), an episode that opened the
    other way ends at a row over the edge that is news and follows a judged row under
    `hold`: that row opens an episode of its own.
    """
    n = len(severity)
    in_episode = np.zeros(n, dtype=bool)
    alert = np.zeros(n, dtype=bool)
    open_ = opened_as_news = False
    calm = True  # the last judged row was under `hold`
    clock = last_hot = int(seconds[0]) if n else 0  # a stream clock that never runs backwards
    last_alert = clock - refractory - 1
    # Python lists: a loop over numpy scalars costs several times more per row.
    sev, secs = severity.tolist(), seconds.tolist()
    is_news = [True] * n if news is None else news.tolist()
    has_value = [True] * n if judged is None else judged.tolist()
    for i in range(n):
        clock = max(clock, secs[i])
        if sev[i] >= 1.0:
            if open_ and news is not None and is_news[i] and not opened_as_news and calm:
                open_ = False  # a recovery's episode does not swallow the next incident
            alert[i] = not open_ and clock - last_alert > refractory
            if alert[i]:
                last_alert = clock
                opened_as_news = is_news[i]
            open_, last_hot = True, clock
        elif open_ and sev[i] >= hold:
            last_hot = clock
        elif open_ and clock - last_hot > cooldown:
            open_ = False
        in_episode[i] = open_
        if has_value[i]:
            calm = sev[i] < hold
    return in_episode, alert


# (values, window, how, least, q): how is median, mean or quantile (at q); a window needs
# `least` values
RollJob = tuple[np.ndarray, int, str, int, float]


def _rolling_many(jobs: list[RollJob]) -> list[np.ndarray]:
    """Rolling windows over rows (NaN = missing: a window needs `least` values), one polars
    select for all the jobs: the same kernels as one call each, at a fraction of the overhead."""
    if not jobs:
        return []
    frame = pl.DataFrame(
        {
            f"c{i}": pl.Series(job[0], dtype=pl.Float64, nan_to_null=True)
            for i, job in enumerate(jobs)
        }
    )
    exprs = []
    for i, job in enumerate(jobs):
        _, window, how, least, q = job
        col, least = pl.col(f"c{i}"), min(least, window)
        if how == "median":
            r = col.rolling_median(window, min_samples=least)
        elif how == "mean":
            r = col.rolling_mean(window, min_samples=least)
        else:
            r = col.rolling_quantile(q, "linear", window_size=window, min_samples=least)
        exprs.append(r.fill_null(np.nan))
    got = frame.select(exprs).to_numpy().astype(float)
    return [got[:, i] for i in range(len(jobs))]


def _shift(a: np.ndarray) -> np.ndarray:
    """The value known before each row: a one-row lag."""
    return np.concatenate(([np.nan], a[:-1]))


def _ffill(a: np.ndarray) -> np.ndarray:
    """Each NaN replaced by the last value before it (leading NaNs stay)."""
    seen = np.where(np.isnan(a), 0, np.arange(len(a)))
    np.maximum.accumulate(seen, out=seen)
    return a[seen]
