"""The `ingest_runs` journal: one row per job run, written when it starts and when it ends.

The start row is committed on its own, before the job's first batch, so a run that is killed
stays visible; the next process to start marks such rows 'interrupted' (their pid is gone).
Figures come from the job's RunStats; api_calls from the run's AWS request counter, which the
job runner reads (every client made during the run, whatever thread sends through it);
rows_updated is what the run loaded less what its table grew by: rows that replaced an earlier
version of their natural key (a re-read overlap, a restated bill).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import psutil

from base.clock import utcnow
from base.stats import RunStats


@dataclass
class Run:
    run_id: str
    source: str
    trigger: str
    started_at: datetime
    watermark_before: datetime | None
    stats: RunStats | None = None
    status: str = "running"
    error: str | None = None
    finished_at: datetime | None = None
    api_calls: int = 0
    rows_updated: int | None = None
    watermark_after: datetime | None = None
    # Elapsed time on the monotonic clock: started_at/finished_at come from base.clock,
    # which a demo or a test may freeze, and a log line must still say how long a run took.
    began: float = field(default_factory=time.monotonic, repr=False)
    took_s: float | None = None
    # (table, watermark name) of what an ingest loads; None for models and vacuum.
    loads: tuple[str, str] | None = None

    @property
    def result(self) -> RunStats:
        """The stats of a finished run (`run_job` returns only those; it raises otherwise)."""
        if self.stats is None:
            raise RuntimeError(f"run {self.run_id} ({self.source}) has no stats: it did not finish")
        return self.stats

    def figures(self) -> dict[str, Any]:
        """What a log line and `status` show of a run."""
        s = self.stats or RunStats()
        took = self.took_s if self.took_s is not None else time.monotonic() - self.began
        return {
            "source": self.source,
            "trigger": self.trigger,
            "status": self.status,
            "seconds": round(took, 1),
            "objects": s.objects,
            "api_calls": self.api_calls,
            "rows_inserted": s.records - (self.rows_updated or 0),
            "rows_updated": self.rows_updated,
            "rows_quarantined": s.quarantined,
            "rows_deleted": s.deleted,
            "bytes_freed": s.bytes_freed,
            "watermark_before": _iso(self.watermark_before),
            "watermark_after": _iso(self.watermark_after),
            "error": self.error,
        }


def _iso(t: datetime | None) -> str | None:
    return t.isoformat(timespec="seconds") if t else None


def newest_watermark(con: duckdb.DuckDBPyConnection, name: str | None) -> datetime | None:
    """The newest watermark of the ingest named `name` in `watermarks` (None: no ingest)."""
    if name is None:
        return None
    (row,) = con.execute(
        "SELECT max(covered_until) FROM watermarks WHERE source = ?", [name]
    ).fetchall()
    return row[0]


def table_rows(con: duckdb.DuckDBPyConnection, table: str | None) -> int | None:
    """Rows in the table an ingest source loads (None for models and vacuum)."""
    if table is None:
        return None
    (row,) = con.execute(f"SELECT count(*) FROM {table}").fetchall()
    return int(row[0])


def rows_updated(loaded: int, before: int | None, after: int | None) -> int | None:
    """Loaded rows that replaced one with the same natural key: those the table did not grow by.

    Upserts keep one row per key, so a run that loaded N rows and grew its table by G replaced
    N - G. Bounded to [0, N]: a restated bill may replace a day with fewer lines than it had.
    """
    if before is None or after is None:
        return None
    return min(loaded, max(0, loaded - (after - before)))


@contextmanager
def recorded(
    con: duckdb.DuckDBPyConnection,
    source: str,
    trigger: str,
    *,
    loads: tuple[str, str] | None = None,
) -> Iterator[Run]:
    """Journal the body as one run; the caller sets `run.stats` and `run.api_calls`.
    `loads` is (table, watermark name) of an ingest. Exceptions propagate."""
    table, name = loads or (None, None)
    run = Run(uuid.uuid4().hex, source, trigger, utcnow(), newest_watermark(con, name))
    run.loads = loads
    rows_before = table_rows(con, table)
    con.execute(
        "INSERT INTO ingest_runs (run_id, source, trigger, started_at, status, "
        "watermark_before, pid) VALUES (?, ?, ?, ?, 'running', ?, ?)",
        [run.run_id, source, trigger, run.started_at, run.watermark_before, os.getpid()],
    )
    try:
        yield run
        run.status = "ok"
    except BaseException as exc:
        run.status = "error" if isinstance(exc, Exception) else "interrupted"
        run.error = one_line(exc)
        raise
    finally:
        run.finished_at = utcnow()
        run.took_s = time.monotonic() - run.began
        _finish(con, run, rows_before)


def _finish(con: duckdb.DuckDBPyConnection, run: Run, rows_before: int | None) -> None:
    with contextlib.suppress(duckdb.Error):  # nothing open: the usual case
        con.execute("ROLLBACK")  # a job that failed inside a transaction left it open
    table, name = run.loads or (None, None)
    run.watermark_after = newest_watermark(con, name)
    if run.stats is not None:
        after = table_rows(con, table)
        run.rows_updated = rows_updated(run.stats.records, rows_before, after)
    f = run.figures()
    con.execute(
        """UPDATE ingest_runs SET finished_at = ?, status = ?, objects = ?, api_calls = ?,
            rows_inserted = ?, rows_updated = ?, rows_quarantined = ?, rows_deleted = ?,
            bytes_freed = ?, watermark_after = ?, error = ?
        WHERE run_id = ?""",
        [
            run.finished_at, run.status, f["objects"], run.api_calls, f["rows_inserted"],
            run.rows_updated, f["rows_quarantined"], f["rows_deleted"], f["bytes_freed"],
            run.watermark_after, run.error, run.run_id,
        ],
    )  # fmt: skip


def one_line(exc: BaseException) -> str:
    """The error as one line: never a traceback, cut before it could quote record text."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:500]


def mark_interrupted(con: duckdb.DuckDBPyConnection) -> int:
    """Runs left 'running' by a process that no longer exists were interrupted (kill -9)."""
    rows = con.execute("SELECT run_id, pid FROM ingest_runs WHERE status = 'running'").fetchall()
    dead = [rid for rid, pid in rows if pid is None or not _alive(pid)]
    for rid in dead:
        con.execute(
            "UPDATE ingest_runs SET status = 'interrupted', finished_at = ?, "
            "error = 'the process stopped before the run finished' WHERE run_id = ?",
            [utcnow(), rid],
        )
    return len(dead)


def _alive(pid: int) -> bool:
    return pid != os.getpid() and psutil.pid_exists(pid)
