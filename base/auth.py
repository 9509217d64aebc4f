"""Who may see what: roles from the identity provider's groups claim, and where sign-in is set.

Sign-in itself is Streamlit's `st.login` (OpenID Connect: Okta, Entra ID, Cognito, Keycloak,
...), configured in `.streamlit/secrets.toml` ([auth] with redirect_uri, cookie_secret,
client_id, client_secret, server_metadata_url). The config maps each group to a role:

- `admin`: every LOB, every page (data health and settings included);
- `finops`: every LOB, the spend pages (Overview, Spend, Capacity & savings);
- `viewer:<lob>[,<lob>...]`: those LOBs only, on every page but Data health.

A user in several groups gets the union. A user in no mapped group sees nothing. The scope
reaches every query as bound parameters ($all_lobs, $allowed_lobs) in the data-access layer.

Groups as real providers send them: a list of names (Okta, Keycloak: full paths such as
"/lob/readers" match a role key with or without the leading slash), object ids (Entra ID:
map the ids), another claim name (Cognito's "cognito:groups", Entra app roles' "roles":
`groups_claim`). Entra ID's overage (a token that points at Graph instead of listing the
groups) is told apart from "no group", so the reader is told why they are refused.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ALL_PAGES = ("overview", "spend", "capacity", "reliability", "anomalies", "governance",
             "data-health")  # fmt: skip
FINOPS_PAGES = ("overview", "spend", "capacity")
VIEWER_PAGES = ("overview", "spend", "capacity", "reliability", "anomalies", "governance")
REQUIRED = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


@dataclass(frozen=True)
class Access:
    """What one reader may see: a role name for the banner, LOBs, pages."""

    role: str
    all_lobs: bool
    lobs: tuple[str, ...]
    pages: tuple[str, ...]

    @property
    def nothing(self) -> bool:
        return not self.all_lobs and not self.lobs


ADMIN = Access("admin", True, (), ALL_PAGES)
ANONYMOUS_ADMIN = Access("admin (sign-in not configured)", True, (), ALL_PAGES)
NO_ACCESS = Access("no role", False, (), ())


def parse_role(role: str) -> Access:
    """One configured role; raises ValueError naming what is expected."""
    if role == "admin":
        return ADMIN
    if role == "finops":
        return Access("finops", True, (), FINOPS_PAGES)
    if role.startswith("viewer:"):
        lobs = tuple(x.strip() for x in role.removeprefix("viewer:").split(",") if x.strip())
        if lobs:
            return Access(role, False, lobs, VIEWER_PAGES)
    raise ValueError(f"role {role!r}: use admin, finops or viewer:<lob>[,<lob>...]")


def group_key(group: str) -> str:
    """A group as roles are looked up: Keycloak's full paths ("/lob/wealth-readers", with its
    "Full group path" mapper option on) match a role written with or without the leading
    slash. The whole path must match: "/a/readers" is not "/b/readers"."""
    return str(group).strip().lstrip("/")


OVERAGE = (
    "Your identity provider left your groups out of the sign-in token: you are in more groups "
    "than a token holds (Entra ID's group overage, over 200). Ask the platform team to send "
    "only the groups assigned to this app (Entra: Token configuration > groups claim > "
    '"Groups assigned to the application"), or to use app roles (groups_claim = "roles").'
)


def groups_in(claims: Mapping[str, Any], claim: str) -> list[str] | None:
    """The groups an ID token's claims list under `claim`; None when the provider says they
    did not fit (Entra ID's overage: `_claim_names` points at Graph instead, or `hasgroups`),
    which must deny with its reason rather than look like "in no group"."""
    value = claims.get(claim)
    if value is None and (claim in (claims.get("_claim_names") or {}) or claims.get("hasgroups")):
        return None
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def access_for(groups: list[str] | str | None, roles: dict[str, str]) -> Access:
    """The union of the roles of the user's groups (admin wins); no mapped group: nothing."""
    if isinstance(groups, str):
        groups = [groups]
    keyed = {group_key(g): role for g, role in roles.items()}
    found = [parse_role(keyed[k]) for g in groups or [] if (k := group_key(g)) in keyed]
    if not found:
        return NO_ACCESS
    if any(a.role == "admin" for a in found):
        return ADMIN
    all_lobs = any(a.all_lobs for a in found)
    lobs = tuple(sorted({lob for a in found for lob in a.lobs}))
    pages = tuple(p for p in ALL_PAGES if any(p in a.pages for a in found))
    name = "+".join(sorted({a.role for a in found}))
    return Access(name, all_lobs, () if all_lobs else lobs, pages)


def secrets_files(project_root: Path) -> list[Path]:
    """Where Streamlit reads secrets for `genai-lens serve`: home, project, working directory."""
    found = [Path.home() / ".streamlit" / "secrets.toml",
             project_root / ".streamlit" / "secrets.toml",
             Path.cwd() / ".streamlit" / "secrets.toml"]  # fmt: skip
    return list(dict.fromkeys(p.resolve() for p in found))


def providers(section: Mapping[str, Any] | None) -> list[str | None]:
    """The providers an [auth] section can sign in with, as `st.login` names them: None for
    provider keys set in [auth] itself, then each named [auth.<name>] with all of its keys.
    Empty when the shared keys (redirect_uri, cookie_secret) are missing."""
    if not section or not all(section.get(k) for k in REQUIRED):
        return []
    found: list[str | None] = [None] if all(section.get(k) for k in PROVIDER_KEYS) else []
    for name, value in section.items():
        if isinstance(value, Mapping) and all(value.get(k) for k in PROVIDER_KEYS):
            found.append(str(name))
    return found


def sign_in_configured(files: list[Path]) -> bool:
    """True when some secrets file has an [auth] section Streamlit can sign in with."""
    for path in files:
        if path.exists() and providers(tomllib.loads(path.read_text()).get("auth")):
            return True
    return False


LOOPBACK = ("localhost", "127.0.0.1", "::1")


def refuse_anonymous(address: str, configured: bool, allow_anonymous: bool) -> str | None:
    """Why `serve` must not start, or None: no open dashboard on a network by accident."""
    if configured or allow_anonymous or address in LOOPBACK:
        return None
    return (
        f"refusing to serve on {address} without sign-in: anyone who can reach it would see "
        "every LOB. Configure [auth] in .streamlit/secrets.toml (see README, 'Sign-in'), "
        "bind to localhost, or pass --allow-anonymous if a proxy in front already "
        "authenticates"
    )


def unknown_lobs(roles: Mapping[str, str], known: set[str]) -> dict[str, list[str]]:
    """Per group, the LOBs its viewer role names that the warehouse has never seen: a typo or a
    LOB not yet ingested, which would otherwise be a silently empty dashboard."""
    out: dict[str, list[str]] = {}
    for group, role in roles.items():
        missing = [lob for lob in parse_role(role).lobs if lob not in known]
        if missing:
            out[group] = missing
    return out


def signed_in_at(claims: Mapping[str, Any]) -> datetime | None:
    """When the reader signed in at the provider (`auth_time`, else the token's `iat`), as the
    naive UTC time the rest of genai-lens uses."""
    for key in ("auth_time", "iat"):
        value = claims.get(key)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    return None


def session_expired(claims: Mapping[str, Any], now: datetime, max_hours: float) -> bool:
    """Whether the sign-in is older than `max_hours` (or undated): then the reader signs in
    again, and their groups are read afresh from a new token."""
    at = signed_in_at(claims)
    return at is None or now - at > timedelta(hours=max_hours)
