"""`genai-lens eval anomaly DIR --by-family`: the figures per family, and leave-one-family-out.

A family is the first folder of a series' path (NAB's realKnownCause, realTweets, ...). The
in-sample figure (the frozen detector on every series) says little about a family the
detector has never seen, and the hidden set is such a family. Leave-one-family-out (LOFO)
answers that: for each family, the detector's few knobs are chosen by a small search on the
*other* families, and the held-out family is scored with that choice.

The search (`SEARCH`) is a grid over the three knobs that trade misses for false alarms, around
the frozen defaults: `sensitivity` (every band's width divided by it), `cooldown` (quiet time
that closes an episode) and `record_margin` (how far past the range seen so far a value must go
to be news). A setting's merit on the training families is NAB's pooled standard score / 100
plus the pooled window F1: both are the figures the detector is judged by, and pooling charges
the false alarms on a family without windows (artificialNoAnomaly) like any other.

A family without windows has no NAB score or F1 of its own (nothing to find: the null and the
perfect detector tie); its line gives its false positives, and the averages and minimum are
over the families with windows. The pooled LOFO line scores every series with the setting
chosen without its family, false alarms on window-less families included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import product
from pathlib import Path

import numpy as np

from jobs.evaluation.anomaly import Labelled, alerts, load
from models import anomaly, nab_score


@dataclass(frozen=True)
class Setting:
    """One point of the search: the knobs' values and the detector settings they make."""

    sensitivity: float
    cooldown_hours: int
    record_margin: float

    def params(self, base: anomaly.DetectorParams = anomaly.DEFAULT) -> anomaly.DetectorParams:
        return replace(
            base,
            sensitivity=self.sensitivity,
            cooldown=timedelta(hours=self.cooldown_hours),
            record_margin=self.record_margin,
        )

    def label(self) -> str:
        return (
            f"sensitivity={self.sensitivity:g} cooldown={self.cooldown_hours}h "
            f"record_margin={self.record_margin:g}"
        )


# 3 x 3 x 3 = 27 runs of the detector over the dataset, about a minute on nab-dev.
SEARCH = tuple(
    Setting(s, c, r)
    for s, c, r in product(
        (0.85, 1.0, 1.15),
        (6, 12, 24),
        (0.01, 0.02, 0.05),
    )
)


def evaluate_by_family(
    dataset_dir: Path,
    echo: Callable[[str], None] = print,
    search: Sequence[Setting] = SEARCH,
) -> str:
    """Print the standard figures overall and per family, then LOFO; return the last line."""
    data = load(dataset_dir)
    families = sorted({s.family for s in data})
    frozen = _scores(data, anomaly.DEFAULT)
    echo(f"overall: series={len(data)} {nab_score.summarise(frozen).line()}")
    for family in families:
        echo(f"family {family}: {_family_line(data, frozen, family)}")
    if len(families) < 2:
        return "lofo: needs at least two families (sub-folders)"
    grid = [_scores(data, setting.params()) for setting in search]
    held: list[nab_score.SeriesScore | None] = [None] * len(data)
    per_family: dict[str, nab_score.Summary] = {}
    for family in families:
        best = _choose(data, grid, family)
        inside = [i for i, s in enumerate(data) if s.family == family]
        for i in inside:
            held[i] = grid[best][i]
        scores = [grid[best][i] for i in inside]
        line = _family_line(data, grid[best], family)
        echo(f"lofo {family}: chosen on the others {search[best].label()} -> {line}")
        if any(s.windows for s in scores):
            per_family[family] = nab_score.summarise(scores)
    pooled = nab_score.summarise([s for s in held if s is not None])
    echo(f"lofo pooled: {pooled.line()}")
    return _average_line(per_family)


def _scores(data: list[Labelled], params: anomaly.DetectorParams) -> list[nab_score.SeriesScore]:
    return [nab_score.score_series(s.ts, alerts(s, params), s.windows) for s in data]


def _choose(data: list[Labelled], grid: list[list[nab_score.SeriesScore]], held: str) -> int:
    """The setting with the best pooled NAB / 100 + F1 on every family but `held`."""
    train = [i for i, s in enumerate(data) if s.family != held]
    merit = []
    for scores in grid:
        summary = nab_score.summarise([scores[i] for i in train])
        merit.append(summary.nab_standard / 100.0 + summary.f1)
    return int(np.argmax(merit))  # the first of equals: the grid's order breaks ties


def _family_line(data: list[Labelled], scores: list[nab_score.SeriesScore], family: str) -> str:
    picked = [sc for s, sc in zip(data, scores, strict=True) if s.family == family]
    fp = sum(s.fp for s in picked)
    windows = sum(s.windows for s in picked)
    head = f"series={len(picked)} windows={windows} fp={fp}"
    if not windows:
        return f"{head} (no windows: every detection is a false positive)"
    return f"{head} {nab_score.summarise(picked).line()}"


def _average_line(per_family: dict[str, nab_score.Summary]) -> str:
    if not per_family:
        return "lofo average: no family has windows"
    nab = {f: s.nab_standard for f, s in per_family.items()}
    f1 = {f: s.f1 for f, s in per_family.items()}
    low_nab, low_f1 = min(nab, key=nab.__getitem__), min(f1, key=f1.__getitem__)
    return (
        f"lofo average over {len(per_family)} families with windows: "
        f"nab_standard={np.mean(list(nab.values())):.2f} f1={np.mean(list(f1.values())):.4f}; "
        f"minimum: nab_standard={nab[low_nab]:.2f} ({low_nab}) f1={f1[low_f1]:.4f} ({low_f1})"
    )
