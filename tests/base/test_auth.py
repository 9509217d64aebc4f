"""Roles from groups, sign-in detection, and no anonymous dashboard on a network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from base import auth
from base.errors import ConfigError
from base.settings import load_settings

CLI = str(Path(sys.executable).parent / "genai-lens")
ROLES = {"platform": "admin", "fin": "finops", "retail": "viewer:retail-banking",
         "wl": "viewer:wealth, legal"}  # fmt: skip


@pytest.mark.parametrize(
    ("groups", "role", "all_lobs", "lobs", "health"),
    [
        (["platform", "retail"], "admin", True, (), True),
        (["fin"], "finops", True, (), False),
        (["retail"], "viewer:retail-banking", False, ("retail-banking",), False),
        (["retail", "wl"], None, False, ("legal", "retail-banking", "wealth"), False),
        ("retail", "viewer:retail-banking", False, ("retail-banking",), False),
        (["someone-else"], "no role", False, (), False),
        (None, "no role", False, (), False),
    ],
)
def test_groups_map_to_the_union_of_their_roles(groups, role, all_lobs, lobs, health):
    got = auth.access_for(groups, ROLES)
    assert (got.all_lobs, got.lobs, "data-health" in got.pages) == (all_lobs, lobs, health)
    if role:
        assert got.role == role


def test_finops_sees_spend_pages_only_and_viewers_everything_but_data_health():
    assert auth.access_for(["fin"], ROLES).pages == ("overview", "spend", "capacity")
    assert "reliability" in auth.access_for(["retail"], ROLES).pages
    assert auth.access_for(["nobody"], ROLES).nothing


def test_a_bad_role_in_config_names_the_group_and_the_fix(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[auth.roles]\nleads = "viewer"\n')
    with pytest.raises(ConfigError, match=r"auth: .*group 'leads': role 'viewer': use admin"):
        load_settings(cfg)


def test_sign_in_is_configured_only_with_a_complete_auth_section(tmp_path):
    secrets = tmp_path / "secrets.toml"
    assert not auth.sign_in_configured([secrets])
    secrets.write_text('[auth]\nredirect_uri = "http://x/oauth2callback"\ncookie_secret = "s"\n')
    assert not auth.sign_in_configured([secrets])  # no provider
    secrets.write_text(
        '[auth]\nredirect_uri = "http://x/oauth2callback"\ncookie_secret = "s"\n'
        '[auth.okta]\nclient_id = "a"\nclient_secret = "b"\n'
        'server_metadata_url = "https://okta/.well-known/openid-configuration"\n'
    )
    assert auth.sign_in_configured([secrets])


def test_serve_refuses_a_network_address_without_sign_in(tmp_path):
    res = subprocess.run(
        [CLI, "--warehouse", str(tmp_path / "w.duckdb"), "serve", "--address", "0.0.0.0",
         "--port", "8599", "--no-scheduler"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 2 and "refusing to serve on 0.0.0.0 without sign-in" in res.stderr
    assert "--allow-anonymous" in res.stderr and "Traceback" not in res.stderr
    assert auth.refuse_anonymous("0.0.0.0", False, True) is None
    assert auth.refuse_anonymous("127.0.0.1", False, False) is None


# --- real identity providers' ID tokens (claims as each sends them) ------------------------

OKTA = {  # Okta with a "groups" claim on the authorization server (filter: matches .*)
    "sub": "00u1a2b3c4D5e6F7g8h9", "email": "ana@example.com", "ver": 1,
    "iss": "https://example.okta.com/oauth2/default", "aud": "0oa1b2c3d4", "iat": 1764990000,
    "exp": 1764993600, "auth_time": 1764989990, "amr": ["pwd"],
    "groups": ["Everyone", "genai-lens-finops"],
}  # fmt: skip
KEYCLOAK = {  # Keycloak's group membership mapper with "Full group path" on
    "sub": "f3c4e0a1-7d2b-4c1e-9a55-1b2c3d4e5f60", "email": "kai@example.com",
    "iss": "https://sso.example.com/realms/corp", "azp": "genai-lens", "iat": 1764990000,
    "preferred_username": "kai", "groups": ["/lob/wealth-readers", "/staff"],
}  # fmt: skip
ENTRA = {  # Entra ID: group object ids, not names
    "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
    "oid": "00000000-0000-0000-66f3-3332eca7ea81",
    "email": "eli@example.com", "iss": "https://login.microsoftonline.com/9188040d/v2.0",
    "tid": "9188040d-6c67-4c5b-b112-36a304b66dad", "iat": 1764990000,
    "groups": ["b6d8a0c6-1f4b-4f32-9d7e-2a6c1e8f0b11", "0d2a6f1e-3b5c-4e8d-9a7b-6c5d4e3f2a10"],
}  # fmt: skip
ENTRA_OVERAGE = {  # in more than 200 groups: the token points at Graph instead of listing them
    **{k: v for k, v in ENTRA.items() if k != "groups"},
    "_claim_names": {"groups": "src1"},
    "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/"
                                "00000000-0000-0000-66f3-3332eca7ea81/getMemberObjects"}},
}  # fmt: skip
ENTRA_IMPLICIT_OVERAGE = {**{k: v for k, v in ENTRA.items() if k != "groups"}, "hasgroups": True}
COGNITO = {  # Amazon Cognito user pool ID token
    "sub": "94a8e4d8-f0a1-70b5-1c2d-3e4f5a6b7c8d", "email": "cal@example.com",
    "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI",
    "cognito:username": "cal", "token_use": "id", "iat": 1764990000,
    "cognito:groups": ["genai-lens-admins"],
}  # fmt: skip
REAL_ROLES = {
    "genai-lens-finops": "finops",
    "lob/wealth-readers": "viewer:wealth",  # Keycloak's path, written without its slash
    "b6d8a0c6-1f4b-4f32-9d7e-2a6c1e8f0b11": "viewer:insurance,risk",  # an Entra group's id
    "genai-lens-admins": "admin",
}


@pytest.mark.parametrize(
    ("claims", "claim", "role", "lobs"),
    [
        (OKTA, "groups", "finops", ()),
        (KEYCLOAK, "groups", "viewer:wealth", ("wealth",)),
        (ENTRA, "groups", "viewer:insurance,risk", ("insurance", "risk")),
        (COGNITO, "cognito:groups", "admin", ()),
        (COGNITO, "groups", "no role", ()),  # the claim name must be configured for Cognito
    ],
    ids=["okta", "keycloak", "entra", "cognito", "cognito-wrong-claim"],
)
def test_real_providers_tokens_map_to_roles(claims, claim, role, lobs):
    got = auth.access_for(auth.groups_in(claims, claim), REAL_ROLES)
    assert (got.role, got.lobs) == (role, lobs)


def test_keycloak_paths_match_with_or_without_the_leading_slash_but_only_whole():
    assert (
        auth.access_for(["/lob/wealth-readers"], {"/lob/wealth-readers": "admin"}).role == "admin"
    )
    assert auth.access_for(["lob/wealth-readers"], {"/lob/wealth-readers": "admin"}).role == "admin"
    assert auth.access_for(["/other/wealth-readers"], {"wealth-readers": "admin"}).nothing


@pytest.mark.parametrize("claims", [ENTRA_OVERAGE, ENTRA_IMPLICIT_OVERAGE])
def test_an_entra_group_overage_is_told_apart_from_no_group(claims):
    assert auth.groups_in(claims, "groups") is None  # denied with auth.OVERAGE's reason
    assert "Groups assigned to the application" in auth.OVERAGE and "app roles" in auth.OVERAGE
    assert auth.groups_in({**ENTRA, "groups": []}, "groups") == []  # really in no group


def test_a_single_group_as_a_string_counts():
    assert auth.groups_in({"groups": "genai-lens-admins"}, "groups") == ["genai-lens-admins"]


def test_roles_naming_lobs_the_warehouse_never_saw_are_reported():
    roles = {"a": "viewer:wealth,welth", "b": "finops", "c": "viewer:insurance"}
    assert auth.unknown_lobs(roles, {"wealth", "insurance"}) == {"a": ["welth"]}


def test_a_session_older_than_its_maximum_age_expires():
    from datetime import datetime

    signed = {"iat": 1764990000, "auth_time": 1764989990}  # 2025-12-06 02:59:50 UTC
    assert auth.signed_in_at(signed) == datetime(2025, 12, 6, 2, 59, 50)
    assert not auth.session_expired(signed, datetime(2025, 12, 6, 10, 59), 8)
    assert auth.session_expired(signed, datetime(2025, 12, 6, 11, 0), 8)
    assert auth.session_expired({"sub": "x"}, datetime(2025, 12, 6), 8)  # undated: sign in again
