"""Sign-in and the reader's scope, settled before any page runs.

With [auth] in .streamlit/secrets.toml, a reader signs in with the OIDC provider
(`st.login`); their groups claim maps to a role (base/auth.py), and the role's LOBs go
into st.session_state["scope"], which the data-access layer binds into every query. Without
sign-in configured (the demo), the app runs as admin and says so in a banner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from app.values import ADMIN, Scope
from base import auth
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
    access = auth.access_for(claims.get(cfg.groups_claim), cfg.roles)
    who = str(claims.get("email") or claims.get("name") or claims.get("sub") or "user")
    st.session_state["scope"] = Scope(None if access.all_lobs else access.lobs, who)
    with st.sidebar:
        st.caption(f"Signed in as {who} ({access.role})")
        st.button("Sign out", on_click=st.logout)
    if access.nothing:
        st.error(
            f"{who} is in no group that genai-lens maps to a role: ask the platform team to "
            "add one of your groups under [auth.roles].",
            icon=":material/block:",
        )
        st.stop()
    return access
