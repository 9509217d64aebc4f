"""A production-safe `serve`: no traceback in a reader's browser, no external-IP lookup, no
coloured boxes, every line JSON under --log-format json, a warning for a secrets file others
can read."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import factories as F

from app import server_options
from genai_lens import PROJECT_ROOT

CLI = str(Path(sys.executable).parent / "genai-lens")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_production_options_win_over_any_config_file(tmp_path):
    loose = tmp_path / "config.toml"
    loose.write_text('[client]\nshowErrorDetails = "full"\n[logger]\nenableRich = true\n')
    flags = server_options.streamlit_flags(loose, address="0.0.0.0", port=9000,
                                           secrets_files=[], auth=None)  # fmt: skip
    assert flags["client.showErrorDetails"] == "none" and flags["logger.enableRich"] is False
    assert flags["browser.serverAddress"] == "localhost"  # never left to a lookup
    shipped = server_options.streamlit_flags(
        PROJECT_ROOT / ".streamlit" / "config.toml", address="10.0.0.5", port=9000,
        secrets_files=[], auth={"redirect_uri": "https://lens.example.com/oauth2callback"},
    )  # fmt: skip
    assert shipped["browser.serverAddress"] == "lens.example.com"
    assert shipped["client.toolbarMode"] == "viewer"  # the project's file still applies


def test_the_project_ignores_streamlit_secrets_in_git():
    ignored = subprocess.run(["git", "check-ignore", ".streamlit/secrets.toml"],
                             cwd=PROJECT_ROOT, capture_output=True, text=True)  # fmt: skip
    assert ignored.returncode == 0, "add .streamlit/secrets.toml to .gitignore"


def test_a_wildcard_serve_logs_only_json_looks_up_no_ip_and_warns_of_readable_secrets(
    tmp_path, oidc_provider
):
    port = free_port()
    secrets = F.auth_secrets(tmp_path / "etc", oidc_provider(), port)
    secrets.chmod(0o644)
    out, err = (tmp_path / "out.log").open("w"), (tmp_path / "err.log").open("w")
    args = [CLI, "--log-format", "json", "--warehouse", "w.duckdb", "serve",
            "--address", "0.0.0.0", "--port", str(port), "--secrets", str(secrets),
            "--no-scheduler"]  # fmt: skip
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while "You can now view" not in (tmp_path / "err.log").read_text():
            assert proc.poll() is None, (tmp_path / "err.log").read_text()
            assert time.monotonic() < deadline, "no banner"
            time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
            assert r.read() == b"ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        out.close()
        err.close()
    text = (tmp_path / "out.log").read_text() + (tmp_path / "err.log").read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    messages = [ln["msg"] for ln in lines]
    assert f"URL: http://127.0.0.1:{port}" in messages  # redirect_uri's host, not a lookup
    assert not any("External URL" in m or "Network URL" in m for m in messages)
    assert "Stopping..." in messages
    warned = [m for m in messages if "sign-in secrets file" in m]
    assert warned and "readable by other users" in warned[0] and "chmod 600" in warned[0]
    assert "genai-lens-client-secret" not in text  # the client secret never reaches the log


def test_the_server_imports_pandas_and_plotly_before_any_session_runs():
    """Sessions run in threads, and plotly takes pandas from sys.modules half-imported if a
    session is still importing it: serve imports both before Streamlit starts (in a fresh
    interpreter, where nothing imported them yet; Streamlit's own start is replaced by a
    probe of what is imported by then)."""
    probe = (
        "import sys\n"
        "from streamlit.web import bootstrap\n"
        "from app import server\n"
        "assert 'pandas' not in sys.modules, 'imported already: the probe proves nothing'\n"
        "def started(*args, **kwargs):\n"
        "    pd, go = sys.modules.get('pandas'), sys.modules.get('plotly.graph_objects')\n"
        "    print(hasattr(pd, 'Series'), hasattr(go, 'Bar'))\n"
        "bootstrap.run = started\n"
        "server.run({})\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
