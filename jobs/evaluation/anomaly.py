"""`genai-lens eval anomaly DIR`: run the anomaly detector on a labelled dataset and score it.

A dataset has the layout of NAB: CSV files `timestamp,value` in sub-folders, and beside them
`windows.json` mapping each file's relative path to its inclusive anomaly windows
(`[[start, end], ...]`). The detector runs with its frozen defaults; an alert (the first row of
an episode) is a detection. The result is one line, `f1=… precision=… recall=… nab_standard=…`,
scored by the rules in `models.nab_score`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from base.errors import LensError
from models import anomaly, nab_score

Window = tuple[np.datetime64, np.datetime64]


class DatasetError(LensError, ValueError):
    """A labelled dataset is missing a file or holds one we cannot read."""


@dataclass(frozen=True)
class Labelled:
    """One series of a dataset: its path relative to the dataset, rows and windows."""

    name: str
    raw_ts: pl.Series  # the timestamps as written, for score files
    ts: np.ndarray
    values: np.ndarray
    windows: list[Window]

    @property
    def family(self) -> str:
        """The first folder of its path (NAB's families: realKnownCause, realTweets, ...)."""
        return self.name.split("/", 1)[0] if "/" in self.name else "."


def load(dataset_dir: Path) -> list[Labelled]:
    """Every series of `dataset_dir` with its windows, sorted by path; errors name the fix."""
    dataset_dir = Path(dataset_dir)
    if not dataset_dir.is_dir():
        raise DatasetError(
            f"{dataset_dir} is not a folder; give the folder that holds windows.json"
        )
    windows = _windows(dataset_dir)
    files = sorted(p for p in dataset_dir.rglob("*.csv") if p.is_file())
    if not files:
        raise DatasetError(f"{dataset_dir}: no CSV files found; put series in sub-folders")
    names = {p.relative_to(dataset_dir).as_posix() for p in files}
    unknown = sorted(set(windows) - names)
    if unknown:
        raise DatasetError(
            f"{dataset_dir / 'windows.json'} names {unknown[0]}, which is not a CSV under "
            f"{dataset_dir}; make its keys the CSV paths relative to the dataset folder"
        )
    out = []
    for path in files:
        rel = path.relative_to(dataset_dir).as_posix()
        raw_ts, ts, values = _series(path)
        out.append(Labelled(rel, raw_ts, ts, values, windows.get(rel, [])))
    return out


def alerts(series: Labelled, params: anomaly.DetectorParams = anomaly.DEFAULT) -> np.ndarray:
    """The detector's detections on one series: the first row of each episode."""
    return anomaly.detect(series.ts, series.values, params=params)["alert"].to_numpy()


def evaluate(
    dataset_dir: Path, scores_out: Path | None = None, echo: Callable[[str], None] = print
) -> str:
    """Score the detector on every series of `dataset_dir`; return the summary line.

    `echo` receives one line per series. With `scores_out`, one `timestamp,anomaly_score`
    CSV per series is written there under the same relative path (1.0 on alert rows).
    """
    scores = []
    for series in load(dataset_dir):
        found = alerts(series)
        score = nab_score.score_series(series.ts, found, series.windows)
        scores.append(score)
        echo(
            f"{series.name}: rows={len(series.ts)} windows={score.windows} tp={score.tp} "
            f"fp={score.fp} raw={score.raw:.3f}"
        )
        if scores_out is not None:
            _write_scores(Path(scores_out) / series.name, series.raw_ts, found)
    return nab_score.summarise(scores).line()


def _windows(dataset_dir: Path) -> dict[str, list[Window]]:
    path = dataset_dir / "windows.json"
    if not path.is_file():
        raise DatasetError(
            f"{path} not found; a dataset needs windows.json mapping each CSV's relative "
            'path to its anomaly windows, e.g. {"folder/series.csv": [[start, end]]}'
        )
    try:
        raw = json.loads(path.read_text())
        return {
            str(name): [(_instant(start), _instant(end)) for start, end in spans]
            for name, spans in raw.items()
        }
    except (ValueError, TypeError, AttributeError) as exc:
        raise DatasetError(
            f"{path} is not a map of CSV path to [[start, end], ...] timestamps ({exc}); "
            "fix the file"
        ) from exc


def _instant(text: str) -> np.datetime64:
    return np.datetime64(datetime.fromisoformat(str(text)), "us")


def _series(path: Path) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DatasetError(f"{path} cannot be read as CSV ({exc}); fix or remove it") from exc
    if not {"timestamp", "value"} <= set(frame.columns):
        raise DatasetError(
            f"{path} has columns {','.join(frame.columns)}; "
            "a series needs the header timestamp,value"
        )
    try:
        ts = frame["timestamp"].str.strip_chars().str.to_datetime(time_unit="us")
    except pl.exceptions.PolarsError as exc:
        raise DatasetError(
            f"{path}: timestamps are not in one format such as YYYY-MM-DD HH:MM:SS; fix them"
        ) from exc
    if ts.null_count():
        raise DatasetError(f"{path} has empty or unreadable timestamps; fix or drop those rows")
    values = frame["value"].cast(pl.Float64, strict=False).fill_null(np.nan)
    return frame["timestamp"], ts.to_numpy(), values.to_numpy()


def _write_scores(path: Path, raw_ts: pl.Series, alerts: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"timestamp": raw_ts, "anomaly_score": alerts.astype(float)}).write_csv(path)
