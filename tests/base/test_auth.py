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
