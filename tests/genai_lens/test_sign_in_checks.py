"""`serve` and `doctor` check that sign-in can work, against a real OpenID provider
(oidc-provider-mock on 127.0.0.1): its discovery document, the redirect back to this server,
the cookie secret, Authlib; `serve` on a network address refuses with the line to fix."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import factories as F
import pytest

from base import sign_in

CLI = str(Path(sys.executable).parent / "genai-lens")
APP_PORT = 8765  # what the checks compare redirect_uri with; nothing listens in these tests


def statuses(found: list[sign_in.Finding]) -> dict[str, str]:
    return {f.what: f.status for f in found}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_working_configuration_passes_every_check(tmp_path, oidc_provider):
    issuer = oidc_provider()
    secrets = F.auth_secrets(tmp_path, issuer, APP_PORT)
    found = sign_in.checks([secrets], address="127.0.0.1", port=APP_PORT)
    assert all(f.status == "ok" for f in found), [f.line() for f in found]
    assert set(statuses(found)) == {
        "sign-in secrets", "sign-in secrets file", "sign-in library", "sign-in cookie_secret",
        "sign-in redirect_uri", "sign-in provider (default)",
    }  # fmt: skip
    assert f"issuer {issuer}" in next(f.detail for f in found if "provider" in f.what)


@pytest.mark.parametrize(
    ("override", "what", "says"),
    [
        ({"cookie_secret": "too-short"}, "sign-in cookie_secret", "9 characters"),
        ({"redirect_uri": "http://127.0.0.1:9999/oauth2callback"}, "sign-in redirect_uri",
         "is port 9999, but serve listens on 8765"),
        ({"redirect_uri": "http://127.0.0.1:8765/callback"}, "sign-in redirect_uri",
         "does not end with /oauth2callback"),
        ({"redirect_uri": "http://lens.example.com/oauth2callback"}, "sign-in redirect_uri",
         "plain HTTP on a network name"),
        ({"server_metadata_url": "{issuer}/jwks"}, "sign-in provider (default)",
         "no OpenID discovery document (no issuer, authorization_endpoint"),
        ({"server_metadata_url": "http://127.0.0.1:{closed}/.well-known/openid-configuration"},
         "sign-in provider (default)", "does not answer"),
        ({"client_id": None}, "sign-in provider", "no complete provider"),
    ],
)  # fmt: skip
def test_each_broken_setting_fails_with_what_to_fix(tmp_path, oidc_provider, override, what, says):
    issuer = oidc_provider()
    values = {k: v.format(issuer=issuer, closed=free_port()) if isinstance(v, str) else v
              for k, v in override.items()}  # fmt: skip
    secrets = F.auth_secrets(tmp_path, issuer, APP_PORT, **values)
    found = sign_in.checks([secrets], address="127.0.0.1", port=APP_PORT)
    failed = [f for f in found if f.status == "FAIL"]
    assert [f.what for f in failed] == [what], [f.line() for f in found]
    assert says in failed[0].detail and failed[0].fix
    assert sign_in.refusal(found) == f"sign-in would not work: {failed[0].line()}"


def test_https_through_a_proxy_is_not_compared_with_the_local_port(tmp_path, oidc_provider):
    secrets = F.auth_secrets(tmp_path, oidc_provider(), APP_PORT,
                             redirect_uri="https://lens.example.com/oauth2callback")  # fmt: skip
    found = sign_in.checks([secrets], address="0.0.0.0", port=APP_PORT)
    redirect = next(f for f in found if f.what == "sign-in redirect_uri")
    assert redirect.status == "ok" and "through a TLS proxy to 0.0.0.0:8765" in redirect.detail


def test_a_secrets_file_others_can_read_is_a_warning(tmp_path, oidc_provider):
    secrets = F.auth_secrets(tmp_path, oidc_provider(), APP_PORT)
    secrets.chmod(0o644)
    found = statuses(sign_in.checks([secrets], address="127.0.0.1", port=APP_PORT))
    assert found["sign-in secrets file"] == "warn"
    assert sign_in.refusal(sign_in.checks([secrets], address="127.0.0.1", port=APP_PORT)) is None


def test_without_authlib_sign_in_fails(tmp_path, oidc_provider, monkeypatch):
    monkeypatch.setitem(sys.modules, "authlib", None)  # as if the lock lacked it (it did)
    secrets = F.auth_secrets(tmp_path, oidc_provider(), APP_PORT)
    found = sign_in.checks([secrets], address="127.0.0.1", port=APP_PORT)
    assert statuses(found)["sign-in library"] == "FAIL"


def test_no_sign_in_is_fine_on_localhost_and_a_failure_on_a_network(tmp_path):
    assert statuses(sign_in.checks([tmp_path / "none.toml"], address="localhost", port=1)) == {
        "sign-in": "ok"
    }
    assert statuses(sign_in.checks([tmp_path / "none.toml"], address="0.0.0.0", port=1)) == {
        "sign-in": "FAIL"
    }


def test_serve_on_a_network_address_refuses_a_broken_sign_in_with_one_line(tmp_path, oidc_provider):
    port = free_port()
    secrets = F.auth_secrets(tmp_path, oidc_provider(), port, cookie_secret="short")
    args = [CLI, "--warehouse", "w.duckdb", "serve", "--address", "0.0.0.0", "--port",
            str(port), "--secrets", str(secrets), "--no-scheduler"]  # fmt: skip
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "refusing to serve on 0.0.0.0: sign-in would not work: sign-in cookie_secret: " \
           "5 characters" in done.stderr  # fmt: skip
    assert "fix: set cookie_secret to a random string" in done.stderr


def test_serve_on_a_network_address_starts_when_sign_in_works(tmp_path, oidc_provider):
    port = free_port()
    secrets = F.auth_secrets(tmp_path, oidc_provider(), port)
    args = [CLI, "--warehouse", "w.duckdb", "serve", "--address", "0.0.0.0", "--port",
            str(port), "--secrets", str(secrets), "--no-scheduler"]  # fmt: skip
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_doctor_prints_one_line_per_sign_in_check(tmp_path, oidc_provider):
    issuer = oidc_provider()
    good = F.auth_secrets(tmp_path / "good", issuer, 8501)
    done = subprocess.run([CLI, "--warehouse", "w.duckdb", "doctor", "--secrets", str(good)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    lines = [ln for ln in done.stdout.splitlines() if " sign-in" in ln]
    assert len(lines) == 7, done.stdout  # six checks and the roles (none mapped: a warning)
    assert all(ln.startswith("ok ") for ln in lines[:-1]), lines
    assert lines[-1].startswith("warn  sign-in roles: no group maps to a role"), lines
    assert f"ok    sign-in provider (default): issuer {issuer}" in lines
    bad = F.auth_secrets(tmp_path / "bad", issuer, 9999)
    done = subprocess.run([CLI, "--warehouse", "w.duckdb", "doctor", "--secrets", str(bad)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert ("FAIL  sign-in redirect_uri: http://127.0.0.1:9999/oauth2callback is port 9999, "
            "but serve listens on 8501") in done.stdout  # fmt: skip


def test_doctor_warns_of_a_role_naming_a_lob_the_warehouse_never_saw(tmp_path, oidc_provider):
    from base.settings import Settings
    from jobs import doctor
    from warehouse.db import connect

    con = connect(tmp_path / "w.duckdb")
    zeros = ", ".join(f"0 AS {c}" for c in (
        "invocations", "errors", "throttles", "input_tokens", "output_tokens",
        "cache_read_tokens", "cache_write_tokens", "unpriced_invocations",
        "guardrail_invocations", "guardrail_interventions", "latency_count"))  # fmt: skip
    for lob in ("wealth", "insurance"):
        con.execute(f"INSERT INTO usage_hourly BY NAME SELECT TIMESTAMP '2026-11-02 10:00' AS "
                    f"hour, '{lob}' AS lob, {zeros}")  # fmt: skip
    con.close()
    secrets = F.auth_secrets(tmp_path, oidc_provider(), 8501)
    settings = Settings(auth={"roles": {"wl": "viewer:wealth,welth", "ops": "finops"}})
    serving = doctor.Serving((secrets,), "localhost", 8501)
    found = doctor.sign_in_checks(settings, tmp_path / "w.duckdb", serving)
    roles = next(c for c in found if c.what == "sign-in roles")
    assert roles.status == "warn" and "wl: welth" in roles.detail
    assert "known: insurance, wealth" in roles.fix
    fixed = Settings(auth={"roles": {"wl": "viewer:wealth,insurance"}})
    roles = next(c for c in doctor.sign_in_checks(fixed, tmp_path / "w.duckdb", serving)
                 if c.what == "sign-in roles")  # fmt: skip
    assert roles.status == "ok"
