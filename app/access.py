"""Sign-in and the reader's scope, settled before any page runs.

With [auth] in .streamlit/secrets.toml, a reader signs in with the OIDC provider
(`st.login`); their groups claim maps to a role (base/auth.py), and the role's LOBs go
into st.session_state["scope"], which the data-access layer binds into every query. Without
sign-in configured (the demo), the app runs as admin and says so in a banner.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from app.values import ADMIN, Scope
from app.view import Window
from base import audit, auth
from warehouse import runtime

BANNER = (
    "Sign-in is not configured: everyone who can reach this app sees every line of business. "
    "Configure [auth] in .streamlit/secrets.toml (see the README, 'Who sees what')."
)


def providers() -> list[str | None]:
    """What `st.login` can be called with, by the same rule `serve` checks the secrets files
    with (base.auth.providers): a named [auth.okta] is st.login("okta"), not st.login()."""
    try:
        section: Any = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return []
    return auth.providers(_plain(section))


def _incomplete() -> str:
    """Why an [auth] section that is there does not count (serve refuses on the same rule)."""
    try:
        present = bool(st.secrets.get("auth"))
    except Exception:
        present = False
    return (
        " The [auth] section there names no complete provider: it needs redirect_uri and "
        "cookie_secret, and client_id, client_secret and server_metadata_url in [auth] or in "
        "an [auth.<provider>] table."
        if present
        else ""
    )


def _plain(value: Any) -> Any:
    """st.secrets' nested AttrDicts as plain dicts."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def sign_in_screen(names: list[str | None]) -> None:
    st.title("genai-lens")
    st.write("Sign in with your organisation's account to see Bedrock usage and spend.")
    for name in names:
        label = "Sign in" if len(names) == 1 or name is None else f"Sign in with {name}"
        st.button(label, key=f"login_{name or 'default'}", on_click=st.login,
                  args=() if name is None else (name,), type="primary")  # fmt: skip
    st.stop()


def _claims() -> dict[str, Any]:
    return dict(st.user.to_dict())


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def settle() -> auth.Access:
    """The reader's access; stops the script at a sign-in screen when needed."""
    names = providers()
    if not names:
        # Nobody signs in: every reader is an admin (a scope set by server-side code, such as
        # a test session, stands; a browser cannot write session state).
        st.session_state.setdefault("scope", ADMIN)
        st.caption(f":material/lock_open: **{BANNER}**{_incomplete()}")
        return auth.ANONYMOUS_ADMIN
    if not st.user.get("is_logged_in", False):  # absent when no one has signed in
        sign_in_screen(names)
    cfg = runtime.settings().auth
    claims = _claims()
    who = str(claims.get("email") or claims.get("name") or claims.get("sub") or "user")
    if auth.session_expired(claims, _now(), cfg.max_session_hours):
        # Signed in too long ago: sign in again, so a group removed at the IdP takes effect.
        audit.record("session-expired", who, max_session_hours=cfg.max_session_hours)
        st.logout()
        st.stop()
    groups = auth.groups_in(claims, cfg.groups_claim)
    access = auth.NO_ACCESS if groups is None else auth.access_for(groups, cfg.roles)
    _audit_sign_in(who, claims, groups, access)
    st.session_state["scope"] = Scope(None if access.all_lobs else access.lobs, who)
    with st.sidebar:
        st.caption(f"Signed in as {who} ({access.role})")
        st.button("Sign out", on_click=st.logout)
    if groups is None:
        st.error(f"{who}: {auth.OVERAGE}", icon=":material/block:")
        st.stop()
    if access.nothing:
        st.error(
            f"{who} is in no group that genai-lens maps to a role: ask the platform team to "
            "add one of your groups under [auth.roles].",
            icon=":material/block:",
        )
        st.stop()
    return access


# The sign-ins already audited, by (user, token issued at): every page load is a new
# Streamlit session, but one sign-in is one line. Bounded: the oldest are forgotten first.
_AUDITED: OrderedDict[tuple[str, Any], None] = OrderedDict()
_AUDITED_MAX = 10_000
_audited_lock = threading.Lock()


def _audit_sign_in(
    who: str, claims: dict[str, Any], groups: list[str] | None, access: auth.Access
) -> None:
    """A sign-in and its role decision, once per sign-in (not per page load or rerun)."""
    token = (who, claims.get("iat"))
    with _audited_lock:
        if token in _AUDITED:
            return
        _AUDITED[token] = None
        while len(_AUDITED) > _AUDITED_MAX:
            _AUDITED.popitem(last=False)
    signed_in = auth.signed_in_at(claims)
    audit.record("sign-in", who, provider=claims.get("provider"), sub=claims.get("sub"),
                 signed_in_at=signed_in.isoformat() if signed_in else None)  # fmt: skip
    decision = {"role": access.role, "lobs": "*" if access.all_lobs else list(access.lobs),
                "pages": list(access.pages), "groups": groups}  # fmt: skip
    if groups is None:
        audit.record("denied", who, reason="group overage: the token lists no groups", **decision)
    elif access.nothing:
        audit.record("denied", who, reason="no group maps to a role", **decision)
    else:
        audit.record("role", who, **decision)


def denied_page(name: str, title: str, icon: str, url: str) -> st.Page:
    """A page outside the reader's role: hidden from the menu, and a refusal when its URL is
    opened (logged for the audit trail)."""

    def refuse() -> None:
        reader = st.session_state.get("scope")
        audit.record("page-denied", getattr(reader, "user", "anonymous"), page=url)
        st.error(f"{title} is not part of your role.", icon=":material/block:")

    refuse.__name__ = f"denied_{name}"
    return st.Page(refuse, title=title, icon=f":material/{icon}:", url_path=url,
                   visibility="hidden")  # fmt: skip


def audited_download(
    file_name: str, w: Window, build: Callable[[], bytes], rows: int
) -> Callable[[], bytes]:
    """A download button's deferred data: builds the file when clicked and writes its audit
    line then (who, which file, under which filters, how many rows). The reader and filters
    are taken now: the callable runs on another thread, outside the script's session."""
    reader = st.session_state.get("scope") or ADMIN
    f = w.filters
    filters = {"days": f"{f.first_day}..{f.last_day}"} | {
        dim: list(values) for dim, values in f.dimensions.items() if values
    }
    lobs = "*" if reader.all_lobs else list(reader.lobs or ())

    def deliver() -> bytes:
        payload = build()
        audit.record("download", reader.user, file=file_name, rows=rows, filters=filters,
                     lobs=lobs, bytes=len(payload))  # fmt: skip
        return payload

    return deliver
