"""The CLI end to end: ingest prints what it did, bad input exits 0, unusable sources exit 2."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import factories as F

CLI = str(Path(sys.executable).parent / "genai-lens")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=180)


def test_ingest_reports_quarantine_and_exits_zero(tmp_path):
    landing = tmp_path / "landing"
    F.land(landing, [F.converse(), F.converse(), "nope"])
    F.land(landing, [F.converse()], datetime(2025, 6, 2, 11))
    res = cli(
        "--warehouse",
        "w.duckdb",
        "ingest",
        "invocation-logs",
        "--landing",
        str(landing),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "3 invocations loaded from 2 objects" in res.stdout
    assert "1 records quarantined" in res.stdout
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM invocations").fetchone() == (3,)


def test_no_source_configured_is_one_line_exit_2(tmp_path):
    res = cli("ingest", "invocation-logs", cwd=tmp_path)
    assert res.returncode == 2 and "no invocation log source" in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.strip().count("\n") == 0


def test_unreadable_landing_is_one_line_exit_2(tmp_path):
    res = cli("ingest", "invocation-logs", "--landing", str(tmp_path / "missing"), cwd=tmp_path)
    assert res.returncode == 2 and "is not a folder" in res.stderr


def test_no_credentials_names_what_is_missing(tmp_path):
    env_free = {k: v for k, v in __import__("os").environ.items() if not k.startswith("AWS_")}
    env_free |= {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    res = subprocess.run(
        [CLI, "ingest", "invocation-logs", "--landing", "s3://some-bucket/x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env=env_free,
    )
    assert res.returncode == 2
    assert "no AWS credentials found for landing zone s3://some-bucket/x" in res.stderr
    assert "Traceback" not in res.stderr


def test_warehouse_locked_by_another_process_is_one_line(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,time; c=duckdb.connect('w.duckdb'); "
            "print('held', flush=True); time.sleep(60)",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        res = cli("--warehouse", "w.duckdb", "migrate", cwd=tmp_path)
        assert res.returncode == 2
        assert f"is in use by process {proc.pid}" in res.stderr
        assert "Traceback" not in res.stderr
    finally:
        proc.kill()


def test_a_landing_without_bedrock_folders_says_so(tmp_path):
    (tmp_path / "landing" / "something-else").mkdir(parents=True)
    res = cli("ingest", "invocation-logs", "--landing", str(tmp_path / "landing"), cwd=tmp_path)
    assert res.returncode == 0
    assert "0 invocations loaded" in res.stdout
    assert (
        "has no AWSLogs/[o-org/]<account>/BedrockModelInvocationLogs/<region>/ folders"
        in res.stdout
    )
