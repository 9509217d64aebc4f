"""Forecast many series in parallel: each worker a fresh interpreter fed through a pipe.

The pure forecaster (models.forecast) and its backtest (models.forecast_backtest) run here
per series; this module owns the processes, so the models stay functions over frames.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl

from models.forecast import DEFAULT_PARAMS, ForecastParams, ForecastResult, forecast_series
from models.forecast_backtest import backtest as run_backtest


def _one(
    history: pl.DataFrame, horizon_end: date | None, params: ForecastParams, backtest: bool
) -> ForecastResult:
    """One series, forecast and optionally backtested: the unit of work of a pool worker."""
    result = forecast_series(history, horizon_end=horizon_end, params=params)
    if not backtest:
        return result
    return replace(result, backtest=run_backtest(history, params=params))


def forecast_many(
    series: Mapping[str, pl.DataFrame],
    *,
    horizon_end: date | Mapping[str, date] | None = None,
    params: ForecastParams = DEFAULT_PARAMS,
    backtest: bool = False,
    workers: int = 2,
) -> dict[str, ForecastResult]:
    """`forecast_series` for each named history, in `workers` processes, in the same order.

    `horizon_end` is one date for all, or a date per name (a name left out gets the default).
    With `backtest`, each result also carries its rolling-origin backtest. Safe to call from
    any thread; with one worker (or one series) it runs in this process.

    Workers are fresh interpreters (`python -c`), not multiprocessing children: forking the
    Streamlit/APScheduler process would copy locks its other threads hold (logging, DuckDB),
    and spawn/forkserver children re-run the caller's `__main__`, which under Streamlit is
    the app's entry script. Each worker gets every `workers`-th series through a pipe.
    """
    jobs = [(name, (frame, _end_for(name, horizon_end), params, backtest))
            for name, frame in series.items()]  # fmt: skip
    results: dict[str, ForecastResult] = {}
    if workers <= 1 or len(jobs) <= 1:
        for name, args in jobs:
            with _naming(name):
                results[name] = _one(*args)
        return results
    count = min(workers, len(jobs))
    with ThreadPoolExecutor(count) as pool:  # a thread per worker process, to wait on it
        for outcomes in pool.map(_in_worker, [jobs[i::count] for i in range(count)]):
            for name, outcome in outcomes:
                with _naming(name):
                    if isinstance(outcome, Exception):
                        raise outcome
                    results[name] = outcome
    return {name: results[name] for name, _ in jobs}


Outcome = tuple[str, ForecastResult | Exception]  # a series' result, or what it raised


def _in_worker(jobs: list[tuple[str, tuple[object, ...]]]) -> list[Outcome]:
    """Run jobs in a fresh interpreter: pickled in on stdin, pickled outcomes out on stdout."""
    root = str(Path(__file__).resolve().parents[1])  # where the packages live
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", "from jobs.forecast_pool import _serve; _serve()"],
        input=pickle.dumps(jobs, protocol=pickle.HIGHEST_PROTOCOL),
        capture_output=True,
        env={**os.environ, "PYTHONPATH": path},
        check=False,
    )
    if done.returncode != 0 or not done.stdout:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"a forecast worker exited with code {done.returncode}: {tail[0]}")
    return pickle.loads(done.stdout)


def _serve() -> None:
    """A worker's main: run the jobs from stdin; a job's exception travels back as its result.

    Anything a library prints to stdout is sent to stderr so it cannot corrupt the reply.
    """
    reply = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    outcomes: list[Outcome] = []
    for name, args in pickle.load(sys.stdin.buffer):
        try:
            outcomes.append((name, _one(*args)))
        except Exception as exc:
            outcomes.append((name, _portable(exc)))
    reply.write(pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL))
    reply.close()


def _portable(exc: Exception) -> Exception:
    """The exception itself if it survives pickling, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _end_for(name: str, horizon_end: date | Mapping[str, date] | None) -> date | None:
    return horizon_end.get(name) if isinstance(horizon_end, Mapping) else horizon_end


@contextmanager
def _naming(name: str) -> Iterator[None]:
    """Say which series an error came from."""
    try:
        yield
    except Exception as exc:
        exc.add_note(f"while forecasting series {name!r}")
        raise
