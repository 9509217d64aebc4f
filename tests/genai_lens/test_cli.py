"""The CLI end to end: ingest prints what it did, bad input exits 0, unusable sources exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import factories as F
import pytest

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


@contextmanager
def held(path: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the warehouse open for writing, as `genai-lens serve` does."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(path)!r}); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_warehouse_locked_by_another_process_is_one_line(tmp_path):
    with held(tmp_path / "w.duckdb") as proc:
        res = cli("--warehouse", "w.duckdb", "migrate", cwd=tmp_path)
        assert res.returncode == 2
        assert f"is in use by process {proc.pid}" in res.stderr
        assert "Traceback" not in res.stderr


def test_a_missing_table_is_one_line_naming_migrate(tmp_path):
    assert cli("--warehouse", "w.duckdb", "migrate", cwd=tmp_path).returncode == 0
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("DROP TABLE watermarks")  # what an install without its schema looks like
    res = cli(
        "--warehouse", "w.duckdb", "ingest", "invocation-logs", "--landing", ".", cwd=tmp_path
    )
    assert res.returncode == 2, res.stderr
    assert "watermarks" in res.stderr and "run `genai-lens migrate`" in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.strip().count("\n") == 0


def test_demo_leaves_a_warehouse_a_server_holds_alone(tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "landing-file.json").write_text("{}")  # what an earlier demo wrote
    with held(out / "warehouse.duckdb") as proc:
        res = cli("demo", "--out", str(out), "--days", "7", "--per-day", "10", "--no-serve",
                  cwd=tmp_path)  # fmt: skip
        assert res.returncode == 2, res.stdout
        assert f"the warehouse {out / 'warehouse.duckdb'} is in use by process {proc.pid}" in (
            res.stderr
        )
        assert "Traceback" not in res.stderr and res.stderr.strip().count("\n") == 0
        assert (out / "landing-file.json").exists() and (out / "warehouse.duckdb").exists()
        assert "demo: wrote" not in res.stdout


def test_a_landing_without_bedrock_folders_says_so(tmp_path):
    (tmp_path / "landing" / "something-else").mkdir(parents=True)
    res = cli("ingest", "invocation-logs", "--landing", str(tmp_path / "landing"), cwd=tmp_path)
    assert res.returncode == 0
    assert "0 invocations loaded" in res.stdout
    assert (
        "has no AWSLogs/[o-org/]<account>/BedrockModelInvocationLogs/<region>/ folders"
        in res.stdout
    )


def test_an_s3_ingest_journals_every_request_it_sent_downloads_included(
    tmp_path, moto_endpoint, aws_client
):
    from faultproxy import fault_proxy

    root = tmp_path / "landing"
    for h in range(12):
        ts = datetime(2026, 11, 2, h)
        F.land(root, [F.converse(timestamp=f"{ts:%Y-%m-%dT%H}:05:00Z")], ts)
    s3, bucket = aws_client("s3"), f"logs-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        s3.put_object(Bucket=bucket, Key=f"bedrock/{path.relative_to(root)}",
                      Body=path.read_bytes())  # fmt: skip
    # Every third request is throttled once: its retry is a request AWS sees, and bills, too.
    with fault_proxy(moto_endpoint, ["throttle", "ok", "ok"]) as proxy:
        config = tmp_path / "genai-lens.toml"
        config.write_text(
            "resolve_profiles_with_api = false\n[[invocation_logs.landing_zones]]\n"
            f'uri = "s3://{bucket}/bedrock"\nendpoint_url = "{proxy.url}"\n'
            'region = "us-east-1"\n'
        )
        res = cli("--config", str(config), "--warehouse", "w.duckdb", "ingest", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "12 invocations loaded from 12 objects" in res.stdout
    sent = proxy.forwarded + proxy.faults
    assert proxy.faults > 0 and sent > 12  # a listing or two, and a download per object
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    (calls,) = con.execute("SELECT api_calls FROM ingest_runs").fetchone()
    assert calls == sent


def test_a_re_delivered_object_counts_its_known_records_as_updated(tmp_path):
    landing = tmp_path / "landing"
    first = [F.converse(timestamp=f"2026-11-02T09:0{m}:00Z") for m in range(3)]
    obj = F.land(landing, first, datetime(2026, 11, 2, 9))
    F.land(landing, [F.converse(timestamp="2026-11-02T10:00:00Z")], datetime(2026, 11, 2, 10))
    args = ("--warehouse", "w.duckdb", "ingest", "invocation-logs", "--landing", str(landing))
    assert cli(*args, cwd=tmp_path).returncode == 0
    # Bedrock re-delivers the object with one more record: three known ones and a new one.
    obj.write_bytes(F.ndjson_gz([*first, F.converse(timestamp="2026-11-02T09:09:00Z")]))
    assert cli(*args, cwd=tmp_path).returncode == 0
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    runs = con.execute(
        "SELECT rows_inserted, rows_updated, rows_deleted FROM ingest_runs ORDER BY started_at"
    ).fetchall()
    assert runs == [(4, 0, None), (1, 3, None)]
    assert con.execute("SELECT count(*) FROM invocations").fetchone() == (5,)


SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY9"  # a fake AWS secret access key
PROFILE_SECRET = "pRoFiLeSeCrEt/K7MDENG/bPxRfiCYEXAMPLEKEY"  # ...in an AWS credentials file
HOOK_TOKEN = "xoxb-0000-SECRET-HOOK-TOKEN"  # an alert webhook's token, in the config
PROMPT = "my card is 4111 1111 1111 1111, tell nobody"


def json_lines(stderr: str) -> list[dict]:
    return [json.loads(ln) for ln in stderr.splitlines() if ln.strip()]  # any other line fails


def leaks(text: str) -> list[str]:
    return [s for s in (SECRET, PROFILE_SECRET, HOOK_TOKEN, "4111", "tell nobody") if s in text]


def test_json_logs_of_failed_runs_are_json_and_carry_no_secret_or_prompt(
    tmp_path, moto_endpoint, monkeypatch
):
    root = tmp_path / "landing"
    record = F.converse(timestamp="2026-11-02T09:05:00Z")
    record["input"]["inputBodyJson"]["messages"][0]["content"][0]["text"] = PROMPT
    F.land(root, [record, "not json"], datetime(2026, 11, 2, 9))
    config = tmp_path / "genai-lens.toml"
    config.write_text(
        "resolve_profiles_with_api = false\n[alerts]\n"
        f'webhooks = ["https://hooks.example.com/services/T0/B0/{HOOK_TOKEN}"]\n'
        f'[[invocation_logs.landing_zones]]\nuri = "{root}"\n'
        '[[cloudtrail.landing_zones]]\nuri = "s3://no-such-bucket/trail"\n'
        f'endpoint_url = "{moto_endpoint}"\nregion = "us-east-1"\n'
    )
    (tmp_path / "credentials").write_text(
        f"[lens]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = {PROFILE_SECRET}\n"
    )
    base = [CLI, "--log-format", "json", "--config", str(config), "--warehouse", "w.duckdb"]
    # One secret in the environment, one in the profile the credentials file names.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    s3_failed = subprocess.run([*base, "ingest"], cwd=tmp_path, capture_output=True, text=True)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "lens")
    again = subprocess.run([*base, "ingest", "cloudtrail"], cwd=tmp_path, capture_output=True,
                           text=True)  # fmt: skip
    # A bug mid-run, after the records were parsed: the traceback as one JSON object.
    crash = (
        "import sys; import ingest.invocation_logs.ingester as m; "
        "m.refresh_hours = lambda con, hours: 1 / 0; "
        "from genai_lens.cli import main; sys.argv[0] = 'genai-lens'; main()"
    )
    fresh = [*base[1:-1], "fresh.duckdb"]  # a warehouse where the records are still new
    bug = subprocess.run(
        [sys.executable, "-c", crash, *fresh, "ingest", "invocation-logs"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip

    assert (s3_failed.returncode, again.returncode, bug.returncode) == (2, 2, 1)
    lines = [json_lines(r.stderr) for r in (s3_failed, again, bug)]
    assert any(ln.get("source") == "invocation-logs" and ln["status"] == "ok" for ln in lines[0])
    assert any(ln.get("source") == "cloudtrail" and ln["status"] == "error" for ln in lines[0])
    assert any("no-such-bucket" in ln["msg"] for ln in lines[1] if ln["level"] == "error")
    (crashed,) = [ln for ln in lines[2] if ln.get("exception")]
    assert crashed["exception"] == "ZeroDivisionError" and "refresh_hours" not in crashed["msg"]
    assert "Traceback" not in bug.stderr and "in <lambda>" in crashed["traceback"]
    for res in (s3_failed, again, bug):
        assert leaks(res.stdout + res.stderr) == []
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    errors = " ".join(r[0] or "" for r in con.execute("SELECT error FROM ingest_runs").fetchall())
    assert "no-such-bucket" in errors and leaks(errors) == []


def test_serve_in_json_mode_writes_nothing_but_json_to_stderr(tmp_path):
    import socket
    import time
    import urllib.error
    import urllib.request

    root = tmp_path / "landing"
    F.land(root, [F.converse(timestamp="2026-11-02T09:05:00Z")], datetime(2026, 11, 2, 9))
    config = tmp_path / "genai-lens.toml"
    config.write_text(
        "resolve_profiles_with_api = false\n[schedule]\njitter_seconds = 0\n"
        f'[[invocation_logs.landing_zones]]\nuri = "{root}"\n'
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**__import__("os").environ, "STREAMLIT_LOGGER_LEVEL": "debug"}  # Streamlit talks
    err = (tmp_path / "stderr.log").open("w")
    server = subprocess.Popen(
        [CLI, "--log-format", "json", "--config", str(config), "--warehouse", "w.duckdb",
         "serve", "--port", str(port), "--address", "127.0.0.1"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while "job invocation-logs" not in (tmp_path / "stderr.log").read_text():
            assert server.poll() is None and time.monotonic() < deadline, "no job ran"
            time.sleep(0.5)
        while True:  # the job may finish before Streamlit listens (a loaded machine)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
                    assert page.status == 200
                    break
            except urllib.error.URLError:
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=90)
        err.close()
    lines = json_lines((tmp_path / "stderr.log").read_text())
    assert any(ln["logger"].startswith("streamlit") for ln in lines)
    assert any(ln.get("source") == "invocation-logs" and ln["status"] == "ok" for ln in lines)


def test_ingest_since_until_loads_that_window_only(tmp_path):
    landing = tmp_path / "landing"
    for h in range(8, 14):
        ts = datetime(2026, 11, 2, h)
        F.land(landing, [F.converse(timestamp=f"{ts:%Y-%m-%dT%H}:{m}:00Z") for m in (5, 35)], ts)
    args = ("--warehouse", "w.duckdb", "ingest", "invocation-logs", "--landing", str(landing))
    res = cli(*args, "--since", "2026-11-02T10:00", "--until", "2026-11-02T12:00", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "4 invocations loaded from 2 objects" in res.stdout
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    hours = con.execute("SELECT DISTINCT hour(ts) FROM invocations ORDER BY 1").fetchall()
    assert hours == [(10,), (11,)]  # --until is exclusive
    con.close()
    bad = cli(*args, "--since", "last tuesday", cwd=tmp_path)
    assert bad.returncode == 2 and "--since 'last tuesday' is not a date" in bad.stderr
    assert bad.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_value_out_of_range_is_a_usage_error_not_a_traceback(tmp_path, log_format):
    """typer carries its own copy of click: its BadParameter is not click's, and `demo --days 2`
    printed a traceback and exited 1."""
    res = cli("--log-format", log_format, "demo", "--days", "2", "--no-serve", cwd=tmp_path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "Invalid value for '--days'" in res.stderr and ">= 7" in res.stderr.replace(
        "greater than or equal to ", ">= "
    )
    if log_format == "json":
        assert json.loads(res.stderr.strip())["level"] == "error"
    assert not (tmp_path / "data").exists()  # nothing was written


def test_eval_anomaly_by_family_prints_families_and_the_held_out_average(tmp_path):
    stamp = "2024-03-0{} {:02d}:{:02d}:00".format
    rows = ["timestamp,value"] + [
        f"{stamp(1 + i // 288, i % 288 // 12, i % 12 * 5)},{50 + (60 if i == 700 else i % 3)}"
        for i in range(3 * 288)
    ]
    windows = {}
    for family in ("cloud", "queue"):
        (tmp_path / family).mkdir()
        (tmp_path / family / "a.csv").write_text("\n".join(rows) + "\n")
        windows[f"{family}/a.csv"] = [["2024-03-03 09:40:00", "2024-03-03 13:00:00"]]
    (tmp_path / "windows.json").write_text(json.dumps(windows))
    res = cli("eval", "anomaly", str(tmp_path), "--by-family", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    assert "family cloud: series=1 windows=1" in out and "lofo queue: chosen on the others" in out
    assert "lofo average over 2 families with windows: nab_standard=" in res.stdout


def test_an_eoferror_inside_a_command_is_a_bug_report_not_aborted(tmp_path, monkeypatch, capfd):
    """click turns EOFError into Abort (as if Ctrl-C): a truncated gzip read printed
    'genai-lens: aborted' with exit 130, even with --debug. It is an unexpected error (exit 1)
    naming the EOFError; Ctrl-C still exits 130."""
    from genai_lens import cli as lens_cli
    from jobs import runner as jobs

    def broken(*_args, **_kwargs):
        raise EOFError("Compressed file ended before the end-of-stream marker was reached")

    monkeypatch.setattr(jobs, "run_job", broken)  # a job failing so; main() is under test
    monkeypatch.setattr(sys, "argv", ["genai-lens", "--warehouse", str(tmp_path / "w.duckdb"),
                                      "models", "run"])  # fmt: skip
    with pytest.raises(SystemExit) as done:
        lens_cli.main()
    err = capfd.readouterr().err
    assert done.value.code == 1
    assert "EOFError: Compressed file ended before the end-of-stream marker" in err
    assert "aborted" not in err

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(jobs, "run_job", interrupted)
    with pytest.raises(SystemExit) as done:
        lens_cli.main()
    assert done.value.code == 130 and "Traceback" not in capfd.readouterr().err
