"""The `ingest_runs` journal: one row per job run, written when it starts and when it ends.

The start row is committed on its own, before the job's first batch, so a run that is
killed stays visible; the next process to start marks such rows 'interrupted' (their pid is
gone). Figures come from the job's RunStats; api_calls from the AWS request counter.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import psutil

from ingest import aws
from ingest.bookkeeping import RunStats
from ingest.landing import utcnow


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
    watermark_after: datetime | None = None

    def figures(self) -> dict[str, Any]:
        """What a log line and `status` show of a run."""
        s = self.stats or RunStats()
        took = (self.finished_at or utcnow()) - self.started_at
        return {
            "source": self.source,
            "trigger": self.trigger,
            "status": self.status,
            "seconds": round(took.total_seconds(), 1),
            "objects": s.objects,
            "api_calls": self.api_calls,
            "rows_inserted": s.records,
            "rows_quarantined": s.quarantined,
            "watermark_before": _iso(self.watermark_before),
            "watermark_after": _iso(self.watermark_after),
            "error": self.error,
        }


def _iso(t: datetime | None) -> str | None:
    return t.isoformat(timespec="seconds") if t else None


def newest_watermark(con: duckdb.DuckDBPyConnection, source: str) -> datetime | None:
    from genai_lens.jobs import TABLES  # jobs imports this module

    if source not in TABLES:
        return None
    name = TABLES[source][1]
    (row,) = con.execute(
        "SELECT max(covered_until) FROM watermarks WHERE source = ?", [name]
    ).fetchall()
    return row[0]


@contextmanager
def recorded(con: duckdb.DuckDBPyConnection, source: str, trigger: str) -> Iterator[Run]:
    """Journal the body as one run; the caller sets `run.stats`. Exceptions propagate."""
    run = Run(uuid.uuid4().hex, source, trigger, utcnow(), newest_watermark(con, source))
    con.execute(
        "INSERT INTO ingest_runs (run_id, source, trigger, started_at, status, "
        "watermark_before, pid) VALUES (?, ?, ?, ?, 'running', ?, ?)",
        [run.run_id, source, trigger, run.started_at, run.watermark_before, os.getpid()],
    )
    calls = aws.requests_sent()
    try:
        yield run
        run.status = "ok"
    except BaseException as exc:
        run.status = "error" if isinstance(exc, Exception) else "interrupted"
        run.error = one_line(exc)
        raise
    finally:
        run.api_calls = aws.requests_sent() - calls
        run.finished_at = utcnow()
        _finish(con, run)


def _finish(con: duckdb.DuckDBPyConnection, run: Run) -> None:
    with contextlib.suppress(duckdb.Error):  # nothing open: the usual case
        con.execute("ROLLBACK")  # a job that failed inside a transaction left it open
    run.watermark_after = newest_watermark(con, run.source)
    s = run.stats or RunStats()
    con.execute(
        """UPDATE ingest_runs SET finished_at = ?, status = ?, objects = ?, api_calls = ?,
            rows_inserted = ?, rows_updated = ?, rows_quarantined = ?, watermark_after = ?,
            error = ?
        WHERE run_id = ?""",
        [
            run.finished_at, run.status, s.objects, run.api_calls, s.records, 0,
            s.quarantined, run.watermark_after, run.error, run.run_id,
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
