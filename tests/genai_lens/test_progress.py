"""The progress of a long ingest: a live line on a terminal, plain lines anywhere else."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import factories as F

CLI = str(Path(sys.executable).parent / "genai-lens")


def estate(root: Path) -> list[str]:
    """Three hours of logs, one object an hour; the command line that ingests them a batch each."""
    for h in range(3):
        F.land(root / "landing", [F.converse(), F.invoke_model()], datetime(2025, 6, 2, h))
    return [CLI, "--warehouse", str(root / "w.duckdb"), "ingest", "invocation-logs",
            "--landing", str(root / "landing")]  # fmt: skip


def env() -> dict[str, str]:
    return {**os.environ, "GENAI_LENS_INVOCATION_LOGS__BATCH_FILES": "1", "COLUMNS": "160"}


def test_without_a_terminal_progress_is_plain_lines_one_a_batch(tmp_path):
    done = subprocess.run(estate(tmp_path), capture_output=True, text=True, env=env(), check=True)
    lines = [ln for ln in done.stderr.splitlines() if "invocations loaded from" in ln]
    assert [ln.split(" loaded")[0] for ln in lines] == [
        "2 invocations", "4 invocations", "6 invocations"]  # fmt: skip
    assert "\x1b[" not in done.stderr and "\r" not in done.stderr  # no cursor tricks in a log


def test_a_backfill_says_how_much_of_its_window_is_walked_and_the_time_left(tmp_path):
    """Keys name their hour, so a run with a window knows how far it is: here 3 hours, one
    object each, a batch each; the share is set as a batch is listed, one batch ahead of the
    write (the next batch is fetched while one is written)."""
    window = ["--since", "2025-06-02T00:00", "--until", "2025-06-02T03:00"]
    done = subprocess.run(estate(tmp_path) + window, capture_output=True, text=True, env=env(),
                          check=True)  # fmt: skip
    lines = [ln for ln in done.stderr.splitlines() if "invocations loaded from" in ln]
    shares = [re.search(r"; (\d+)% of the window", ln) for ln in lines]
    assert [int(m[1]) if m else None for m in shares] == [33, 67, 100], lines
    assert all(re.search(r"about \d+ (s|min|h) left$", ln) for ln in lines[:2]), lines
    assert lines[2].endswith("; 100% of the window"), lines


def test_on_a_terminal_progress_is_one_live_line_that_goes_away(tmp_path):
    parent, child = pty.openpty()  # a real terminal for stderr: the command sees isatty()
    proc = subprocess.Popen(estate(tmp_path), stdout=subprocess.PIPE, stderr=child, env=env())
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(parent, 4096)
        except OSError:  # the command closed its end
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=120)
    os.close(parent)
    text = seen.decode(errors="replace")
    assert proc.returncode == 0
    assert "\x1b[" in text and "invocation-logs" in text  # drawn and redrawn in place
    assert "ETA" in text
    assert "6 invocations loaded from 3 objects" in out.decode()  # the summary, on stdout
