"""Sign-in for real: a real OpenID Connect provider, a real `genai-lens serve`, real Chromium.

The provider is oidc-provider-mock (a Flask/Authlib OpenID provider for tests, in its own
Python 3.12 venv made by `make oidc-mock`), on 127.0.0.1 with four users whose `groups` claim
maps to admin, finops, a viewer of two LOBs, and nothing. Each signs in through the provider's
own authorization page (Streamlit's st.login, the code flow, the ID token signed and checked),
then opens every page and triggers every download. What each reader may see is checked in what
the server sent (every websocket frame: tables travel as Arrow, charts as plotly JSON, so a
canvas-drawn cell is still searchable) and in the downloaded bytes, not in the rendered text
alone. Nothing here stubs st.login or st.user.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import factories as F
import polars as pl
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from test_browser import CHROMIUM, CHROMIUM_ARGS, CLI, free_port, settle, wait_healthy

pytestmark = pytest.mark.browser

LOBS = ("retail-banking", "wealth", "insurance", "customer-service", "marketing")
# What names a LOB in what the server sends: the LOB, its applications, its IAM principal.
# ("risk" and "unattributed" are left out: both are also plain English on the pages.)
NAMES = {
    "retail-banking": ("retail-banking", "advisor-chat", "statement-summary"),
    "wealth": ("wealth", "research-assistant"),
    "insurance": ("insurance", "claims-triage", "policy-qa"),
    "customer-service": ("customer-service", "agent-assist"),
    "marketing": ("marketing", "copy-studio"),
}
# The identity provider's groups (Keycloak-style full paths for two of them) -> roles.
ROLES = {
    "lens-admins": "admin",
    "/finance/finops": "finops",
    "/lob/wealth-insurance-readers": "viewer:wealth,insurance",
}
PAGES = ("overview", "spend", "reliability", "anomalies", "governance", "data-health")
DOWNLOADS = ("Chargeback CSV", "FOCUS 1.2 Parquet", "FOCUS 1.2 CSV")


@dataclass(frozen=True)
class Reader:
    sub: str
    groups: tuple[str, ...]
    pages: tuple[str, ...]
    lobs: tuple[str, ...]  # the LOBs whose rows they must see
    claims: dict[str, Any] = field(default_factory=dict)

    def user_claims(self) -> str:
        return json.dumps({"sub": self.sub, "email": f"{self.sub}@example.com",
                           "groups": list(self.groups), **self.claims})  # fmt: skip


READERS = (
    Reader("ada", ("lens-admins", "staff"), PAGES, LOBS),
    Reader("fin", ("/finance/finops",), ("overview", "spend"), LOBS),
    Reader("vic", ("/lob/wealth-insurance-readers", "staff"), PAGES[:5], ("wealth", "insurance")),
    Reader("nora", ("staff",), (), ()),
)


@pytest.fixture(scope="module")
def provider(oidc_provider) -> str:
    return oidc_provider([json.loads(r.user_claims()) for r in READERS])


def write_config(folder: Path, **extra: Any) -> Path:
    """genai-lens.toml with the [auth] roles (and any other [auth] keys given)."""
    config = folder / "genai-lens.toml"
    config.write_text(
        "[schedule]\nenabled = false\n[auth]\n"
        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in extra.items())
        + "[auth.roles]\n"
        + "".join(f"{json.dumps(g)} = {json.dumps(r)}\n" for g, r in ROLES.items())
    )
    return config


@pytest.fixture
def signed_in_server(tmp_path: Path, provider: str, make_estate, factory) -> Iterator[Any]:
    """`genai-lens serve` with sign-in through the provider, on a free port; its log kept."""
    path, _ = make_estate(factory.estate(30, seed=5))
    port = free_port()
    secrets = F.auth_secrets(tmp_path / "etc", provider, port)
    config = write_config(tmp_path / "etc")
    log = (tmp_path / "serve.log").open("w")
    cmd = [str(CLI), "--config", str(config), "--warehouse", str(path), "serve",
           "--port", str(port), "--address", "127.0.0.1", "--secrets", str(secrets),
           "--no-scheduler"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, tmp_path / "serve.log"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield found
        found.close()


class Wire:
    """Every websocket frame the server sent to one page, as bytes."""

    def __init__(self, page: Page) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._keep))

    def _keep(self, payload: bytes | str) -> None:
        self.frames.append(payload.encode() if isinstance(payload, str) else payload)

    def take(self) -> bytes:
        found, self.frames = b"\n".join(self.frames), []
        return found


def lobs_in(blob: bytes) -> set[str]:
    return {lob for lob, names in NAMES.items() if any(n.encode() in blob for n in names)}


def sign_in(page: Page, url: str, reader: Reader) -> None:
    """Through the provider's own authorization page, as a person would."""
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize?*")
    page.get_by_role("button", name=f"Authorize as {reader.sub}").click()
    page.wait_for_url(f"{url}/**")
    page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {reader.sub}@example.com").wait_for(
        timeout=60_000
    )


def download_lobs(page: Page, label: str) -> set[str]:
    """The LOBs in one download's bytes (a Parquet file's strings read through polars)."""
    button = page.get_by_test_id("stDownloadButton").filter(has_text=label)
    with page.expect_download() as started:
        button.get_by_role("button").click()
    data = Path(started.value.path()).read_bytes()
    assert data, label
    if label.endswith("Parquet"):
        frame = pl.read_parquet(io.BytesIO(data))
        data = frame.select(pl.col(pl.String)).write_csv().encode()
    return lobs_in(data)


@pytest.mark.parametrize("reader", READERS, ids=[r.sub for r in READERS])
def test_a_reader_signs_in_at_the_provider_and_gets_exactly_their_lobs(
    reader: Reader, signed_in_server, browser: Browser
):
    url, _log = signed_in_server
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    outside: list[str] = []  # nothing but 127.0.0.1 is reachable (the provider's CSS is not)
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("http://127.0.0.1")
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    wire = Wire(page)
    sign_in(page, url, reader)
    seen: set[str] = set()
    for name in PAGES:
        page.goto(f"{url}/{name}")
        page.get_by_test_id("stMain").wait_for(timeout=60_000)
        settle(page)
        sent = wire.take()
        main = page.get_by_test_id("stMain").inner_text()
        lobs = lobs_in(sent)
        assert lobs <= set(reader.lobs), (reader.sub, name, lobs - set(reader.lobs))
        if name not in reader.pages:  # (the sidebar's LOB picker still lists their own)
            assert "not part of your role" in main or "in no group" in main, (reader.sub, name)
            continue
        assert page.locator("[data-testid=stException]").count() == 0, (reader.sub, name)
        seen |= lobs
        if name == "spend":
            for label in DOWNLOADS:
                got = download_lobs(page, label)
                assert got == set(reader.lobs), (reader.sub, label, got)
    assert seen == set(reader.lobs), (reader.sub, seen)
    assert not [u for u in outside if not u.startswith("https://cdn.jsdelivr.net/")], outside
    context.close()
