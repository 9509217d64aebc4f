"""Shared fixtures: real DuckDB warehouse files and moto-served AWS over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from moto.server import ThreadedMotoServer

sys.path.insert(0, str(Path(__file__).parent))  # the factories and template modules

from template import new_warehouse

from base import clock
from genai_lens import PROJECT_ROOT
from warehouse import runtime

# test_faults_http.py reuses each ingest source's test helpers by module name (`import
# test_cloudtrail`). pytest puts a test folder on sys.path only when it collects that folder,
# so that file run alone found none. (Not a conftest of their own: one more module named
# conftest took the name from tests/app/conftest.py, which test_pages.py imports from.)
for _source in ("cloudtrail", "cost", "invocation_logs", "metrics"):
    sys.path.insert(1, str(Path(__file__).parent / "ingest" / _source))

# `make test` runs the suite on three workers on the two cores, a test file to a worker (--dist
# loadfile), handing out files in the order collected (--no-loadscope-reorder). xdist's own
# order, the files with the most tests first, started the end-to-end demo (ten tests, minutes
# of setup) late: it then ran alone at the end while the other worker idled. Longest first
# instead: the demo, beside sign-in (a browser and servers, half its time waiting); then the
# other slow files; then the files that mostly wait (on a browser, retry back-off or
# subprocesses), beside the quick rest. Two waiting files at once beside the demo left the
# cores about a quarter idle for its first three minutes (2026-12-07: 582.3 s so on three
# workers, 628.6 s on four).
LONGEST = ("tests/demo/test_demo_end_to_end.py", "tests/app/test_sign_in.py")
WAITING = ("tests/app/test_browser.py", "tests/ingest/test_faults_http.py",
           "tests/genai_lens/test_cli.py")  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def weight(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        if path in LONGEST:
            return LONGEST.index(path)
        if path in WAITING:
            return 3
        return 2 if item.get_closest_marker("slow") else 4

    items.sort(key=weight)  # stable: collection order within each weight


FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's AWS profile, config file or warehouse."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "GENAI_LENS_")):
            monkeypatch.delenv(key)
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.chdir(tmp_path)
    yield
    runtime.close()
    clock.fix(None)  # a test that loaded a config with `now` must not freeze the next


@pytest.fixture
def clock_at(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Fix "now" for the rest of the test at a naive UTC instant, through GENAI_LENS_NOW as a
    user would: every settings load re-fixes the clock from it (`clock.fix` would not last),
    and the processes a test starts (the CLI, a server) inherit it."""

    def fix(at: datetime) -> None:
        monkeypatch.setenv(clock.NOW_ENV, at.isoformat())

    return fix


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = new_warehouse(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto in server mode: boto3 talks real HTTP to it, as it would to AWS."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_client(moto_endpoint: str) -> Any:
    def make(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=moto_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


OIDC_PROVIDER = PROJECT_ROOT / ".venv-oidc" / "bin" / "oidc-provider-mock"


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Callable[..., str]]:
    """A real OpenID Connect provider (oidc-provider-mock, from `make oidc-mock`) on a free port
    of 127.0.0.1: `oidc_provider(users)` starts one with these predefined users (claims with
    a "sub"; one process per distinct list) and returns its issuer URL."""
    assert OIDC_PROVIDER.exists(), "the OIDC provider's venv is missing: run `make oidc-mock`"
    started: dict[str, tuple[str, subprocess.Popen[str]]] = {}

    def start(users: list[dict[str, Any]] = ()) -> str:  # type: ignore[assignment]
        key = json.dumps(list(users), sort_keys=True)
        if key not in started:
            started[key] = _start_provider(list(users))
        return started[key][0]

    yield start
    for _, proc in started.values():
        proc.terminate()
        proc.wait(timeout=10)


def _start_provider(users: list[dict[str, Any]]) -> tuple[str, subprocess.Popen[str]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    claims = [a for u in users for a in ("--user-claims", json.dumps(u))]
    cmd = [str(OIDC_PROVIDER), "--host", "127.0.0.1", "--port", str(port), *claims]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration") as r:
                assert json.load(r)["issuer"] == issuer
                return issuer, proc
        except OSError:
            assert time.monotonic() < deadline, "the OIDC provider did not start"
            time.sleep(0.2)
