"""Triage that learns: how people's verdicts on a series' alerts set how wide its band is.

Verdicts, read from the status a person gave an alert (an alert's status set by the
detector itself, such as 'muted' while its series was muted, is no verdict):

- *quiet*: 'expected' (a planned change) or 'muted'. The alert was not worth a person's time;
  the series' band is too narrow for the changes it goes through.
- *incident*: 'acknowledged' or 'resolved'. Someone took the alert up as a real problem. One
  incident on a series within the memory keeps it at its base sensitivity whatever else was
  said about it: a series that has had a real incident is one whose alerts matter.
- 'open': not reviewed yet, no evidence either way.

The rule, per series, over the alerts that started within MEMORY before now (and after the
last time a person reverted the series to base sensitivity, which starts its evidence
afresh):

    incident among them            -> factor 1 (base sensitivity)
    quiet verdicts q >= MIN_QUIET  -> factor min(CAP, 1 + STEP x (q - MIN_QUIET + 1))
    otherwise                      -> factor 1

Two quiet verdicts widen the band 1.5x, three or more 2x. The cap is argued from the severity
scale: severity is the deviation in band half-widths (medium from 1.5, high from 3, critical
from 6), so a band at most twice as wide turns a medium into nothing and a high into a
medium, but leaves anything that would have been critical at least high, which still
notifies at the default `alerts.min_severity`. Widening trims noise; it never hides a
disaster.

Decay: verdicts older than MEMORY stop counting, so a series nobody has marked in six weeks
returns to base sensitivity by itself. Reversal: a person can revert a series to base at any
time (the Anomalies page); the verdicts before that no longer count.

Causality: a decision carries the time it was made, and the detector widens only the hours
from that hour on (`widening`), so a decision never rewrites an alert judged before it.

Everything is a pure function over frames: no I/O, deterministic.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

QUIET = ("expected", "muted")
INCIDENT = ("acknowledged", "resolved")
MEMORY = timedelta(days=42)  # six weeks of verdicts count; older ones have decayed
MIN_QUIET = 2  # one planned change is no pattern
STEP = 0.5  # each quiet verdict from the MIN_QUIET-th widens the band by half its base width
CAP = 2.0  # a critical stays at least high (see the module docstring)
BASE = 1.0
AUTOMATIC = "automatic"  # set_by of a decision `models run` made from the verdicts

# Columns of the verdicts `learn` reads: one row per alert a person gave a status.
FEEDBACK: dict[str, pl.DataType] = {
    "series_key": pl.String(), "start_ts": pl.Datetime("us"), "status": pl.String(),
}  # fmt: skip
# Columns of a series' decision history (anomaly_series_tuning), the subset used here.
HISTORY: dict[str, pl.DataType] = {
    "series_key": pl.String(), "set_at": pl.Datetime("us"), "factor": pl.Float64(),
    "why": pl.String(), "set_by": pl.String(), "reverted": pl.Boolean(),
}  # fmt: skip
LEARNED: dict[str, pl.DataType] = {
    "series_key": pl.String(), "factor": pl.Float64(), "quiet": pl.Int64(),
    "incidents": pl.Int64(), "why": pl.String(),
}  # fmt: skip


def factor_for(quiet: int, incidents: int) -> float:
    """The band's widening for a series with these verdicts in its memory."""
    if incidents > 0 or quiet < MIN_QUIET:
        return BASE
    return min(CAP, BASE + STEP * (quiet - MIN_QUIET + 1))


def reason(
    quiet: int,
    incidents: int,
    last_incident: datetime | None,
    reverted: tuple[str, datetime] | None,
) -> str:
    """Why the series has the factor `factor_for` gives it, in a sentence for the page."""
    factor = factor_for(quiet, incidents)
    marked = (f"{_alerts(quiet)} in the last {MEMORY.days} days {_were(quiet)} marked expected "
              "or muted")  # fmt: skip
    if incidents > 0 and last_incident is not None:
        return (f"base sensitivity: an alert of {last_incident:%Y-%m-%d %H:%M} UTC was confirmed "
                "as a real incident (acknowledged or resolved)")  # fmt: skip
    if factor > BASE:
        capped = " (the cap)" if factor >= CAP else ""
        return f"band {factor:g}× wider{capped}: {marked}, none confirmed as an incident"
    if quiet > 0:
        return f"base sensitivity: {marked}; it takes {MIN_QUIET} to widen the band"
    if reverted is not None:
        return revert_reason(*reverted)
    return f"base sensitivity: no verdict on its alerts in the last {MEMORY.days} days"


def revert_reason(who: str, at: datetime) -> str:
    """The why of a person's revert (written by the page, read back by the rule)."""
    return f"reverted to base sensitivity by {who} on {at:%Y-%m-%d %H:%M} UTC"


def learn(feedback: pl.DataFrame, history: pl.DataFrame, *, now: datetime) -> pl.DataFrame:
    """Per series with a verdict in its memory or a decision history: the factor the rule
    gives it now, the verdicts it counted and why (columns of LEARNED, sorted by series)."""
    feedback = _typed(feedback, FEEDBACK)
    history = _typed(history, HISTORY)
    reverts = (
        history.filter(pl.col("reverted"))
        .sort("set_at")
        .group_by("series_key")
        .agg(pl.col("set_at").last().alias("reverted_at"), pl.col("set_by").last().alias("who"))
    )
    since = now - MEMORY
    counted = (
        feedback.join(reverts, on="series_key", how="left")
        .filter(
            pl.col("start_ts") >= since,
            pl.col("start_ts") < now,
            pl.col("reverted_at").is_null() | (pl.col("start_ts") >= pl.col("reverted_at")),
        )
        .group_by("series_key")
        .agg(
            quiet=pl.col("status").is_in(QUIET).sum(),
            incidents=pl.col("status").is_in(INCIDENT).sum(),
            last_incident=pl.col("start_ts").filter(pl.col("status").is_in(INCIDENT)).max(),
        )
    )
    keys = pl.concat([feedback.select("series_key"), history.select("series_key")]).unique()
    every = keys.join(counted, on="series_key", how="left").join(reverts, on="series_key",
                                                                  how="left")  # fmt: skip
    rows = []
    for r in every.sort("series_key").iter_rows(named=True):
        quiet, incidents = int(r["quiet"] or 0), int(r["incidents"] or 0)
        reverted = (r["who"], r["reverted_at"]) if r["reverted_at"] is not None else None
        rows.append({
            "series_key": r["series_key"], "factor": factor_for(quiet, incidents),
            "quiet": quiet, "incidents": incidents,
            "why": reason(quiet, incidents, r["last_incident"], reverted),
        })  # fmt: skip
    return pl.DataFrame(rows, schema=LEARNED)


def decisions(learned: pl.DataFrame, history: pl.DataFrame, *, now: datetime) -> pl.DataFrame:
    """The rows of `learned` to append to the history: those whose factor or why differ from
    the series' latest decision (a series never decided is at base with no why). A series
    whose only news is "no verdict, base" and that has no history is left out: nothing to
    record."""
    latest = _latest(_typed(history, HISTORY)).select(
        "series_key", pl.col("factor").alias("was"), pl.col("why").alias("said")
    )
    changed = learned.join(latest, on="series_key", how="left").filter(
        pl.when(pl.col("was").is_null())
        .then((pl.col("factor") != BASE) | (pl.col("quiet") + pl.col("incidents") > 0))
        .otherwise((pl.col("factor") != pl.col("was")) | (pl.col("why") != pl.col("said")))
    )
    return changed.select(
        *LEARNED, set_at=pl.lit(now, pl.Datetime("us")), set_by=pl.lit(AUTOMATIC),
        reverted=pl.lit(False),
    )  # fmt: skip


def current(history: pl.DataFrame) -> dict[str, float]:
    """Each series' factor in force now: its latest decision's."""
    latest = _latest(_typed(history, HISTORY))
    return dict(zip(latest["series_key"], latest["factor"], strict=True))


def widening(history: pl.DataFrame, ts: np.ndarray) -> np.ndarray:
    """Per hour of a series (`ts`, hour starts), the factor of the latest decision made in or
    before that hour; base before the first. Causal: `models run` judges only complete hours,
    so a decision made at 14:20 widens 14:00 onwards (first judged at 15:00), never 13:00
    (judged already)."""
    ordered = _typed(history, HISTORY).sort("set_at")
    hours = ordered["set_at"].dt.truncate("1h").to_numpy().astype("datetime64[us]")
    factors = np.concatenate(([BASE], ordered["factor"].to_numpy()))
    at = np.asarray(ts).astype("datetime64[us]")
    return factors[np.searchsorted(hours, at, side="right")]


def quieted(base: pl.DataFrame, tuned: pl.DataFrame, ts: np.ndarray, widen: np.ndarray,
            ) -> pl.DataFrame:  # fmt: skip
    """The episodes the base band would have stored (`base`) that the widened band kept
    quiet: each starts at an hour the band was widened and overlaps no episode stored with the
    widening (`tuned`). A widened band that only lowers an alert's severity suppresses
    nothing. Adds `factor`, the widening in force at the episode's start."""
    at = dict(zip(np.asarray(ts).astype("datetime64[us]").tolist(), widen.tolist(), strict=True))
    if base.is_empty():
        return base.with_columns(factor=pl.lit(BASE))
    base = base.with_columns(
        factor=pl.col("start").map_elements(lambda t: at.get(t, BASE), return_dtype=pl.Float64)
    )
    spans = [(t["start"], t["end"]) for t in tuned.iter_rows(named=True)]
    keep = [
        r["factor"] > BASE and not any(_overlap(r["start"], r["end"], s, e) for s, e in spans)
        for r in base.iter_rows(named=True)
    ]
    return base.filter(pl.Series(keep, dtype=pl.Boolean))


def _overlap(a0: datetime, a1: datetime | None, b0: datetime, b1: datetime | None) -> bool:
    """Whether two episodes overlap (an end of None: still open)."""
    return (b1 is None or a0 <= b1) and (a1 is None or b0 <= a1)


def _latest(history: pl.DataFrame) -> pl.DataFrame:
    return history.sort("set_at").group_by("series_key", maintain_order=True).last()


def _typed(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The columns the rule reads, typed, from a frame that may be empty or carry more."""
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    return frame.select([pl.col(k).cast(v) for k, v in schema.items()])


def _alerts(n: int) -> str:
    return "1 alert" if n == 1 else f"{n} alerts"


def _were(n: int) -> str:
    return "was" if n == 1 else "were"
