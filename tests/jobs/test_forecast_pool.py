"""The forecast worker pool (jobs/forecast_pool.py) and the forecast evaluation
(jobs/evaluation/), over the demo-like series of tests/daily_spend.py."""

from __future__ import annotations

import re
import sys
import threading
import types
from pathlib import Path

import polars as pl
import pytest
from daily_spend import START, spend

from jobs.evaluation.forecast import evaluate
from jobs.forecast_pool import forecast_many
from models.forecast import ForecastResult, forecast_series

# Prophet calls a pandas API that pandas 3 deprecates; nothing to act on here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:prophet")


# --- many series ---------------------------------------------------------------------------


def test_forecast_many_from_a_thread_of_a_streamlit_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As `serve` runs it: a scheduler thread, and __main__ swapped for the app's entry script
    (Streamlit's script runner does that); a worker must not run that script again."""
    script = tmp_path / "entry.py"
    script.write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    entry = types.ModuleType("__main__")
    entry.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", entry)
    series = {"total": spend(60, seed=7), "lob:a": spend(10, seed=8), "lob:b": spend(20)}
    box: dict[str, ForecastResult] = {}
    thread = threading.Thread(
        target=lambda: box.update(forecast_many(series, backtest=True, workers=2))
    )
    thread.start()
    thread.join(timeout=120)
    assert list(box) == list(series)
    assert [r.method for r in box.values()] == ["prophet", "mean", "seasonal_naive"]
    alone = forecast_series(series["total"])
    assert box["total"].frame.equals(alone.frame)  # same seed, same numbers in a worker
    assert box["total"].backtest["origins"].to_list() == [6, 3]
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_forecast_many_names_the_series_that_failed(workers: int) -> None:
    series = {"ok": spend(10), "broken": pl.DataFrame({"day": [START], "value": [1.0]})}
    with pytest.raises(ValueError, match="needs columns") as caught:
        forecast_many(series, workers=workers)
    assert "while forecasting series 'broken'" in caught.value.__notes__


# --- evaluation ----------------------------------------------------------------------------


def write_series(path: Path, frame: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)


def test_evaluate_prints_the_summary_line(tmp_path: Path) -> None:
    write_series(tmp_path / "lobs" / "retail.csv", spend(70, seed=11))
    write_series(tmp_path / "total.csv", spend(70, level=2000, seed=12))
    lines: list[str] = []
    line = evaluate(tmp_path, horizon=14, echo=lines.append, workers=1)
    assert lines[-1] == line
    assert lines[0].startswith("lobs/retail: method=prophet mape=")
    match = re.fullmatch(r"series=2 mape=(\S+) smape=(\S+) coverage95=(\S+) naive_mape=(\S+)", line)
    assert match, line
    mape, smape, coverage95, naive_mape = map(float, match.groups())
    assert 0 < mape < naive_mape
    assert 0 < smape < 0.3
    assert 0.7 <= coverage95 <= 1


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (None, None, "no .csv files here or in sub-folders"),
        ("a.csv", "day,cost\n2025-01-01,1\n", r"a\.csv: the header is day,cost; it must be"),
        ("b.csv", "date,value\n2025-01-01,1\nsoon,2\n", r"b\.csv: .*ISO dates"),
        ("c.csv", "date,value\n2025-01-01,abc\n", r"c\.csv: .*numbers"),
        ("d.csv", "date,value\n2025-01-01,1\n2025-01-02,2\n", r"d\.csv: 2 days is too short"),
    ],
)
def test_evaluate_explains_bad_input(
    tmp_path: Path, name: str | None, text: str | None, message: str
) -> None:
    if name:
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / name).write_text(text or "")
    with pytest.raises(ValueError, match=message):
        evaluate(tmp_path, horizon=7, echo=lambda _: None, workers=1)
