"""Scoring of an anomaly detector against labelled windows, by the rules of NAB.

The rules (see the nab-dev README): the first 15% of a series (750 rows at most) is a
probationary period and is not scored. Window F1 counts a window as a true positive when it
holds at least one detection, and every detected row outside all windows as a false positive.
The NAB score gives a detection inside a window up to +1 (earlier is worth more, along a
scaled sigmoid of its position), a missed window -1, and a false positive up to -0.11 (less
shortly after a window); the sum over all series is normalised so that the null detector
(never fires) scores 0 and the perfect one (fires on the first row of every window) 100.

Rows are an ordered stream: a timestamp may repeat or step back, and windows are located by
row position the way NAB does it (first row at the window's start, first row after it at the
window's end). Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PROBATION_PERCENT = 0.15
PROBATION_MAX_ROWS = 750


@dataclass(frozen=True)
class CostProfile:
    """Weights of NAB's application profile: reward for a hit, costs of a FP and a miss."""

    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


STANDARD = CostProfile()


@dataclass(frozen=True)
class SeriesScore:
    """What one series contributes: window counts, FP rows and the raw (unnormalised) score."""

    windows: int
    tp: int
    fn: int
    fp: int
    raw: float


@dataclass(frozen=True)
class Summary:
    """The totals over a dataset, as printed on the final line of an evaluation."""

    f1: float
    precision: float
    recall: float
    nab_standard: float

    def line(self) -> str:
        return (
            f"f1={self.f1:.4f} precision={self.precision:.4f} recall={self.recall:.4f} "
            f"nab_standard={self.nab_standard:.2f}"
        )


def probation_length(n_rows: int) -> int:
    """Rows at the start of a series that are not scored: 15%, at most 750."""
    return min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_MAX_ROWS)


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: ~+1 at position -1 (window start), 0 at its end, -> -1 after it."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def _first_at(ts: np.ndarray, when: np.datetime64, start: int) -> int | None:
    """First row from `start` stamped exactly `when`, else the first one stamped later."""
    tail = ts[start:]
    exact = np.flatnonzero(tail == when)
    if exact.size:
        return start + int(exact[0])
    later = np.flatnonzero(tail > when)
    return start + int(later[0]) if later.size else None


def window_rows(
    ts: np.ndarray, windows: Sequence[tuple[np.datetime64, np.datetime64]]
) -> list[tuple[int, int]]:
    """Inclusive (first, last) row of each window that holds at least one row."""
    rows: list[tuple[int, int]] = []
    after = 0
    for start, end in sorted(windows):
        first = _first_at(ts, start, after)
        if first is None:
            break
        last = _first_at(ts, end, first)
        if last is None:
            last = len(ts) - 1
        elif ts[last] != end:
            last -= 1
        if last >= first:
            rows.append((first, last))
            after = last + 1
    return rows


def score_series(
    ts: np.ndarray,
    detected: np.ndarray,
    windows: Sequence[tuple[np.datetime64, np.datetime64]],
    profile: CostProfile = STANDARD,
) -> SeriesScore:
    """Score one series' detections (a bool per row) against its labelled windows."""
    n = len(ts)
    if len(detected) != n:
        raise ValueError(f"{len(detected)} detections for {n} rows")
    probation = probation_length(n)
    hits = np.flatnonzero(np.asarray(detected, dtype=bool))
    hits = hits[hits >= probation]
    bounds = window_rows(ts, windows)
    max_tp = scaled_sigmoid(-1.0)
    raw, tp, fn, counted = 0.0, 0, 0, 0
    inside = np.zeros(n, dtype=bool)
    for first, last in bounds:
        inside[first : last + 1] = True
        if last < probation:
            continue  # wholly in the probationary period: not scored
        counted += 1
        found = hits[(hits >= first) & (hits <= last)]
        if found.size:
            tp += 1
            width = last - first + 1
            position = -(last - found[0] + 1) / width
            raw += profile.tp * scaled_sigmoid(position) / max_tp
        else:
            fn += 1
            raw -= profile.fn
    false_hits = hits[~inside[hits]]
    raw += sum(profile.fp * _fp_weight(int(i), bounds) for i in false_hits)
    return SeriesScore(windows=counted, tp=tp, fn=fn, fp=int(false_hits.size), raw=raw)


def _fp_weight(row: int, bounds: list[tuple[int, int]]) -> float:
    """-1 for a FP far from any window; closer to 0 just after the end of a window."""
    before = [(first, last) for first, last in bounds if last < row]
    if not before:
        return -1.0
    first, last = before[-1]
    width = last - first + 1
    return scaled_sigmoid(abs(last - row) / max(width - 1, 1))


def summarise(scores: Sequence[SeriesScore], profile: CostProfile = STANDARD) -> Summary:
    """Window F1 and the normalised NAB score over all series."""
    tp = sum(s.tp for s in scores)
    fn = sum(s.fn for s in scores)
    fp = sum(s.fp for s in scores)
    windows = sum(s.windows for s in scores)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    null, perfect = -profile.fn * windows, profile.tp * windows
    raw = sum(s.raw for s in scores)
    nab = 100.0 * (raw - null) / (perfect - null) if perfect > null else 0.0
    return Summary(f1=f1, precision=precision, recall=recall, nab_standard=nab)
