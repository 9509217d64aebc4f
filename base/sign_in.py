"""Can readers sign in? The checks `serve` runs before it binds and `doctor` prints.

Streamlit's `st.login` needs, at the moment a reader clicks "Sign in": Authlib installed, an
identity provider whose discovery document (`server_metadata_url`) answers with the endpoints
of the code flow, a `redirect_uri` that brings the browser back to this server's
`/oauth2callback`, and a `cookie_secret` long enough to sign the session cookie. Any of them
wrong and nobody can sign in, which a reader finds out long after `serve` said it was serving.
So each is checked here, with the line that says what to fix.
"""

from __future__ import annotations

import json
import stat
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from base import auth

Status = Literal["ok", "warn", "FAIL"]
DISCOVERY_KEYS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
MIN_COOKIE_SECRET = 32  # characters; it signs the session cookie (HMAC)
AUTHLIB_MIN = (1, 3, 2)  # what Streamlit's st.login asks for
CALLBACK = "/oauth2callback"
NEW_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
Fetch = Callable[[str], Any]


@dataclass(frozen=True)
class Finding:
    status: Status
    what: str
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        """'<what>: <detail>; fix: <fix>', the one line `serve` refuses with."""
        return f"{self.what}: {self.detail}" + (f"; fix: {self.fix}" if self.fix else "")


def read_auth(files: Iterable[Path]) -> tuple[Path | None, Mapping[str, Any] | None]:
    """The first secrets file with an [auth] section, and that section (Streamlit reads the
    files in order, later ones overriding; genai-lens names one file in production)."""
    for path in files:
        if path.is_file():
            section = tomllib.loads(path.read_text()).get("auth")
            if section:
                return path, section
    return None, None


def fetch_json(url: str) -> Any:
    """GET a JSON document, quickly: the provider answers in a second or not at all."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def checks(
    files: Iterable[Path],
    *,
    address: str,
    port: int,
    fetch: Fetch = fetch_json,
) -> list[Finding]:
    """Every sign-in check, in the order `doctor` prints them."""
    path, section = read_auth(files)
    if section is None:
        if address in auth.LOOPBACK:  # the demo, a laptop: fine, and said so
            return [Finding("ok", "sign-in", f"not configured; serving {address} only, "
                            "every reader an admin of every LOB")]  # fmt: skip
        fix = "add [auth] to .streamlit/secrets.toml (README, 'Who sees what')"
        return [Finding("FAIL", "sign-in", f"not configured, and serving {address}", fix)]
    assert path is not None
    out = [Finding("ok", "sign-in secrets", str(path)), permissions(path), authlib_check()]
    out += [cookie_secret(section), redirect(section, address, port)]
    names = auth.providers(section)
    if not names:
        out.append(
            Finding(
                "FAIL",
                "sign-in provider",
                "no complete provider in [auth]",
                "set client_id, client_secret and server_metadata_url in [auth] or in an "
                "[auth.<provider>] table",
            )
        )
    for name in names:
        out.append(discovery(name, provider_keys(section, name), fetch))
    return out


def provider_keys(section: Mapping[str, Any], name: str | None) -> Mapping[str, Any]:
    return section if name is None else section[name]


def permissions(path: Path) -> Finding:
    """The secrets hold the client secret and the cookie secret: the server's user only."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return Finding("warn", "sign-in secrets file", f"{path} is readable by other users "
                       f"(mode {stat.filemode(mode)})", f"chmod 600 {path}")  # fmt: skip
    return Finding("ok", "sign-in secrets file", "readable by its owner only")


def authlib_check() -> Finding:
    try:
        import authlib
    except ImportError:
        return Finding("FAIL", "sign-in library", "Authlib is not installed",
                       "reinstall genai-lens (it depends on streamlit[auth])")  # fmt: skip
    version = tuple(int(p) for p in authlib.__version__.split(".")[:3] if p.isdigit())
    if version < AUTHLIB_MIN:
        return Finding("FAIL", "sign-in library", f"Authlib {authlib.__version__} is too old",
                       "reinstall genai-lens from its lock (Authlib >= 1.3.2)")  # fmt: skip
    return Finding("ok", "sign-in library", f"Authlib {authlib.__version__}")


def cookie_secret(section: Mapping[str, Any]) -> Finding:
    secret = str(section.get("cookie_secret") or "")
    if len(secret) < MIN_COOKIE_SECRET:
        return Finding("FAIL", "sign-in cookie_secret",
                       f"{len(secret)} characters, fewer than {MIN_COOKIE_SECRET}",
                       f"set cookie_secret to a random string: {NEW_SECRET}")  # fmt: skip
    return Finding("ok", "sign-in cookie_secret", f"{len(secret)} characters")


def redirect(section: Mapping[str, Any], address: str, port: int) -> Finding:
    """redirect_uri must bring the browser back here: this server's port when it is reached
    directly on a loopback name, else HTTPS through a proxy; the path is /oauth2callback."""
    what = "sign-in redirect_uri"
    uri = str(section.get("redirect_uri") or "")
    parts = urlsplit(uri)
    direct = f"http://localhost:{port}{CALLBACK}"
    if not parts.scheme or not parts.hostname or not parts.path.endswith(CALLBACK):
        return Finding("FAIL", what, f"{uri!r} does not end with {CALLBACK}",
                       f"set redirect_uri to this server's address and {CALLBACK}, e.g. "
                       f"{direct} or https://lens.example.com{CALLBACK}")  # fmt: skip
    if parts.hostname in auth.LOOPBACK:
        found = parts.port or (443 if parts.scheme == "https" else 80)
        if found != port:
            fix = f"set redirect_uri to {parts.scheme}://{parts.hostname}:{port}{CALLBACK}"
            return Finding("FAIL", what, f"{uri} is port {found}, but serve listens on {port}",
                           f"{fix} or serve with --port {found}")  # fmt: skip
        return Finding("ok", what, f"{uri} (this server, port {port})")
    if parts.scheme != "https":
        return Finding("FAIL", what, f"{uri} is plain HTTP on a network name",
                       f"put a TLS proxy in front (docs/deploy.md) and set redirect_uri to "
                       f"https://{parts.hostname}{CALLBACK}")  # fmt: skip
    return Finding("ok", what, f"{uri} (through a TLS proxy to {address}:{port})")


def discovery(name: str | None, keys: Mapping[str, Any], fetch: Fetch) -> Finding:
    """The provider's discovery document answers and names the code flow's endpoints."""
    what = f"sign-in provider {name or '(default)'}"
    url = str(keys.get("server_metadata_url") or "")
    try:
        doc = fetch(url)
    except (OSError, ValueError) as exc:  # URLError, HTTPError and timeouts are OSErrors
        reason = getattr(exc, "reason", None) or exc
        return Finding("FAIL", what, f"{url} does not answer ({reason})",
                       "check server_metadata_url (it ends with "
                       "/.well-known/openid-configuration) and that this host can reach the "
                       "identity provider")  # fmt: skip
    missing = [k for k in DISCOVERY_KEYS if not (isinstance(doc, dict) and doc.get(k))]
    if missing:
        return Finding("FAIL", what, f"{url} is no OpenID discovery document (no "
                       f"{', '.join(missing)})", "point server_metadata_url at the provider's "
                       "/.well-known/openid-configuration")  # fmt: skip
    if "code" not in doc.get("response_types_supported", ["code"]):
        return Finding("FAIL", what, "the provider does not offer the authorization code flow",
                       "enable the authorization code flow for this app registration")  # fmt: skip
    return Finding("ok", what, f"issuer {doc['issuer']}")


def refusal(found: list[Finding]) -> str | None:
    """The one line `serve` refuses with: the first failure and its fix."""
    failed = next((f for f in found if f.status == "FAIL"), None)
    return None if failed is None else f"sign-in would not work: {failed.line()}"
