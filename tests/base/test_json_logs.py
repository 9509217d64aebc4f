"""With --log-format json every line the CLI writes to stderr is a JSON object: progress, the
run's log line and a one-line error alike, and none carries prompt text or a secret."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import factories as F

CLI = str(Path(sys.executable).parent / "genai-lens")
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY1"  # a fake AWS secret key, in the environment
PROMPT = "my card is 4111 1111 1111 1111, tell nobody"


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "GENAI_LENS_RESOLVE_PROFILES_WITH_API": "false",
    }
    cmd = [CLI, "--log-format", "json", "--warehouse", str(tmp_path / "w.duckdb"), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path)


def json_lines(stderr: str) -> list[dict]:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    return [json.loads(ln) for ln in lines]  # fails on any line that is not JSON


def test_every_stderr_line_is_json_on_success_and_on_failure(tmp_path):
    root = tmp_path / "landing"
    ts = datetime(2026, 11, 2, 9)
    record = F.converse(timestamp="2026-11-02T09:05:00Z")
    record["input"]["inputBodyJson"]["messages"][0]["content"][0]["text"] = PROMPT
    F.land(root, [record, {"not": "an invocation"}, "not json"], ts)

    ok = run(tmp_path, "ingest", "invocation-logs", "--landing", str(root))
    assert ok.returncode == 0, ok.stderr
    lines = json_lines(ok.stderr)
    assert any(ln.get("source") == "invocation-logs" and ln.get("status") == "ok" for ln in lines)
    assert any(ln.get("rows_quarantined") == 2 for ln in lines)  # the run's figures

    failed = run(tmp_path, "ingest", "invocation-logs", "--landing", str(tmp_path / "gone"))
    assert failed.returncode == 2
    errors = [ln for ln in json_lines(failed.stderr) if ln["level"] == "error"]
    assert errors and str(tmp_path / "gone") in errors[-1]["msg"]

    for out in (ok.stderr + ok.stdout, failed.stderr + failed.stdout):
        assert "4111" not in out and "tell nobody" not in out and SECRET not in out
