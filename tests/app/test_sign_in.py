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
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import factories as F
import polars as pl
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from test_browser import CHROMIUM, CHROMIUM_ARGS, CLI, free_port, keep, settle, wait_healthy

pytestmark = [pytest.mark.browser, pytest.mark.slow]

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
    "finance/finops": "finops",  # matches the token's "/finance/finops"
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
        groups = {"groups": list(self.groups)} if self.groups else {}
        return json.dumps({"sub": self.sub, "email": f"{self.sub}@example.com", **groups,
                           **self.claims})  # fmt: skip

    @property
    def email(self) -> str:
        return f"{self.sub}@example.com"


READERS = (
    Reader("ada", ("lens-admins", "staff"), PAGES, LOBS),
    Reader("fin", ("/finance/finops",), ("overview", "spend"), LOBS),
    Reader("vic", ("/lob/wealth-insurance-readers", "staff"), PAGES[:5], ("wealth", "insurance")),
    Reader("nora", ("staff",), (), ()),
    # Entra ID's group overage: too many groups, the token points at Graph instead of a list.
    Reader("otto", (), (), (), {"_claim_names": {"groups": "src1"}}),
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


@pytest.fixture(scope="module")
def serve_signed_in(
    tmp_path_factory: pytest.TempPathFactory, provider: str, make_module_estate, factory
) -> Iterator[Any]:
    """`serve_signed_in(**auth)`: `genai-lens --log-format json serve` with sign-in through
    the provider on a free port; returns its URL and its log (JSON lines, the audit's among
    them). One server per distinct sign-in set-up, shared by the module's tests as one server
    is shared by its readers (each test signs in a reader of its own in a fresh browser)."""
    path, _ = make_module_estate(factory.estate(30, seed=5))
    folder = tmp_path_factory.mktemp("serve")
    procs: list[subprocess.Popen[str]] = []
    started: dict[str, tuple[str, Path]] = {}

    def start(names: tuple[str, ...] = (), **auth: Any) -> tuple[str, Path]:
        key = json.dumps([names, auth], sort_keys=True)
        if key in started:
            return started[key]
        port = free_port()
        etc = folder / f"etc-{len(started)}"
        secrets = F.auth_secrets(etc, provider, port, names=names)
        config = write_config(etc, **auth)
        log = etc / "serve.log"
        own = shutil.copy(path, etc / path.name)  # a server holds its warehouse file's lock
        cmd = [str(CLI), "--log-format", "json", "--config", str(config), "--warehouse",
               str(own), "serve", "--port", str(port), "--address", "127.0.0.1",
               "--secrets", str(secrets), "--no-scheduler"]  # fmt: skip
        with log.open("w") as out:
            procs.append(subprocess.Popen(cmd, cwd=folder, stdout=out,
                                          stderr=subprocess.STDOUT, text=True))  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, procs[-1])
        started[key] = url, log
        return url, log

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


def audit_lines(log: Path, user: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [ln for ln in lines if ln["logger"] == "genai_lens.audit" and ln["user"] == user]


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


def sign_in(page: Page, url: str, reader: Reader, button: str = "Sign in") -> None:
    """Through the provider's own authorization page, as a person would."""
    page.goto(url)
    page.get_by_role("button", name=button, exact=True).click()
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


@pytest.fixture
def context(browser: Browser) -> Iterator[Any]:
    """A fresh browser profile (no cookie) that reaches nothing but 127.0.0.1; `outside` lists
    what else was asked for (the provider's page links a CDN stylesheet)."""
    found = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    found.outside = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith("http://127.0.0.1"):
            route.continue_()
        else:
            found.outside.append(route.request.url)
            route.abort()

    found.route("**/*", only_here)
    yield found
    found.close()


@pytest.mark.parametrize("reader", READERS, ids=[r.sub for r in READERS])
def test_a_reader_signs_in_at_the_provider_and_gets_exactly_their_lobs(
    reader: Reader, serve_signed_in, context
):
    url, log = serve_signed_in()
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
            refusals = ("not part of your role", "in no group", "left your groups out")
            assert any(r in main for r in refusals), (reader.sub, name, main)
            page.screenshot(path=keep(Path(f"sign-in-{reader.sub}-{name}.png")))  # to look at
            continue
        assert page.locator("[data-testid=stException]").count() == 0, (reader.sub, name)
        seen |= lobs
        if name == "spend":
            for label in DOWNLOADS:
                got = download_lobs(page, label)
                assert got == set(reader.lobs), (reader.sub, label, got)
    assert seen == set(reader.lobs), (reader.sub, seen)
    assert not [u for u in context.outside if not u.startswith("https://cdn.jsdelivr.net/")]
    check_audit(reader, log)


def check_audit(reader: Reader, log: Path) -> None:
    """One line per sign-in, role decision, refused page and download, who and what."""
    found = audit_lines(log, reader.email)
    events = [ln["event"] for ln in found]
    assert events.count("sign-in") == 1, events
    decision = next(ln for ln in found if ln["event"] in ("role", "denied"))
    if reader.pages:
        assert decision["event"] == "role"
        assert decision["lobs"] == ("*" if set(reader.lobs) == set(LOBS) else sorted(reader.lobs))
        denied = sorted(ln["page"] for ln in found if ln["event"] == "page-denied")
        assert denied == sorted(set(PAGES) - set(reader.pages)), denied
    else:
        reason = "group overage" if reader.claims else "no group maps to a role"
        assert decision["event"] == "denied" and reason in decision["reason"], decision
    downloads = [ln for ln in found if ln["event"] == "download"]
    assert len(downloads) == (len(DOWNLOADS) if "spend" in reader.pages else 0), downloads
    for line in downloads:
        assert (
            line["rows"] > 0
            and line["filters"]["days"]
            and line["file"].startswith(("genai-lens-chargeback", "genai-lens-focus"))
        ), line


def test_a_session_older_than_its_maximum_age_signs_in_again(serve_signed_in, context):
    """max_session_hours = 0.003 (10.8 s): once it has passed, the next page is the sign-in
    screen again, and the expiry is audited."""
    url, log = serve_signed_in(max_session_hours=0.003)
    vic = READERS[2]
    page = context.new_page()
    sign_in(page, url, vic)
    page.wait_for_timeout(12_000)  # more than the session's 10.8 s
    page.goto(f"{url}/overview")
    # Streamlit's st.logout ends the session at the provider too (RP-initiated logout); the
    # provider confirms and sends the browser back to the app's sign-in screen.
    page.wait_for_url("**/oauth2/end_session?*", timeout=60_000)
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert page.get_by_test_id("stMetric").count() == 0  # nothing of the estate
    assert "session-expired" in [ln["event"] for ln in audit_lines(log, vic.email)]
    sign_in(page, url, vic)  # and signing in again works (a new token, groups re-read)
    assert [ln["event"] for ln in audit_lines(log, vic.email)].count("sign-in") == 2


@pytest.mark.parametrize("name", ["okta", "entra"])
def test_each_named_provider_signs_in_through_its_own_button(
    name: str, serve_signed_in, context
) -> None:
    """[auth.okta] and [auth.entra] (both at the test's provider): the sign-in screen offers a
    button per provider, and each goes through st.login(<name>) to that provider and back,
    signed in with the reader's LOBs. st.login() without a name raises on such a config."""
    url, log = serve_signed_in(names=("okta", "entra"))
    reader = next(r for r in READERS if r.sub == "vic")
    page = context.new_page()
    page.goto(url)
    for other in ("okta", "entra"):
        page.get_by_role("button", name=f"Sign in with {other}").wait_for(timeout=60_000)
    wire = Wire(page)
    sign_in(page, url, reader, button=f"Sign in with {name}")
    page.goto(f"{url}/overview")
    page.get_by_test_id("stMain").wait_for(timeout=60_000)
    settle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert lobs_in(wire.take()) == set(reader.lobs)
    signed = [ln for ln in audit_lines(log, reader.email) if ln["event"] == "sign-in"]
    assert signed and signed[-1]["provider"] == name, signed  # (the server is the module's)
