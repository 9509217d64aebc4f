"""Who sees what, as a matrix: every page and every data function (the downloads included)
as a reader of each role; and hostile URL parameters change nothing."""

from __future__ import annotations

import inspect
import json
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from app import data, view
from base import auth
from base.settings import load_settings
from warehouse import runtime

PAGES = ("overview", "spend", "capacity", "reliability", "anomalies", "governance",
         "data-health")  # fmt: skip
MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
ROLES = {
    "admin": auth.ADMIN,
    "finops": auth.parse_role("finops"),
    "viewer:wealth": auth.parse_role("viewer:wealth"),
    "viewer:insurance,risk": auth.parse_role("viewer:insurance,risk"),
}
INJECTIONS = [
    "wealth'; DROP TABLE invocations; --",
    "' OR '1'='1",
    'x") OR 1=1 --',
    "'; UPDATE anomalies SET status='resolved'; --",
    "%27%20OR%201%3D1",
]


def scope_of(access: auth.Access) -> data.Scope:
    return data.Scope(None if access.all_lobs else access.lobs, user=access.role)


def lob_values(frame: pl.DataFrame) -> set[str]:
    cols = [c for c in frame.columns if c.lower() in ("lob", "x_lob")]
    return {v for c in cols for v in frame[c].drop_nulls().to_list()}


@pytest.fixture(scope="module")
def estate_path(make_module_estate, factory):  # type: ignore[no-untyped-def]
    """One estate for the module's tests, which only read it (each checks it is unchanged
    where it could write); the mute test writes, so it builds its own."""
    path, _ = make_module_estate(factory.estate(40, seed=5))
    return path


@pytest.mark.parametrize("role", ROLES)
def test_every_data_function_returns_only_the_readers_lobs(role, estate_path, use_warehouse):
    """The data layer is where scope is enforced: call every windowed query (chargeback and
    FOCUS downloads read `chargeback`) as this reader."""
    use_warehouse(estate_path)
    access = ROLES[role]
    reader = scope_of(access)
    version = data.freshness(reader)
    last = version.last_hour.date()
    w = view.window(view.Filters(last - timedelta(days=29), last), version, reader)
    windowed = [
        f for name, f in vars(data).items()
        if inspect.isfunction(f) and not name.startswith("_")
        and f.__annotations__.get("w") == "Window"
    ]  # fmt: skip
    assert len(windowed) >= 25
    seen: set[str] = set()
    for fn in windowed:
        out = fn(w)
        frames = [o for o in (out if isinstance(out, tuple) else (out,))
                  if isinstance(o, pl.DataFrame)]  # fmt: skip
        for frame in frames:
            lobs = lob_values(frame)
            seen |= lobs
            if not access.all_lobs:
                assert lobs <= set(access.lobs), (fn.__name__, lobs - set(access.lobs))
    if access.all_lobs:
        assert len(seen) > 3  # a reader of every LOB really sees several
    else:
        assert seen and seen <= set(access.lobs)


@pytest.mark.parametrize("role", ROLES)
def test_every_anomaly_lookup_by_id_returns_only_the_readers_lobs(role, estate_path, use_warehouse):
    """The detail, band, changes, sample and captured text are looked up by id: an id of
    another LOB's anomaly (from a shared link) must return nothing, and the changes of an
    allowed one only those made by principals that invoke Bedrock for the reader's LOBs."""
    use_warehouse(estate_path)
    access = ROLES[role]
    reader = scope_of(access)
    version = data.freshness(reader)
    with runtime.cursor() as cur:
        anomalies = cur.execute("SELECT anomaly_id, lob FROM anomalies").fetchall()
        principals = {lob: {p for (p,) in cur.execute(
            "SELECT DISTINCT principal_arn FROM usage_principals_hourly WHERE lob = ?", [lob]
        ).fetchall()} for lob in access.lobs}  # fmt: skip
        request_ids = [r for (r,) in cur.execute("SELECT request_id FROM invocations").fetchall()]
    assert len(anomalies) >= 3
    allowed = set().union(*principals.values()) if principals else set()
    for anomaly_id, lob in anomalies:
        visible = access.all_lobs or lob in access.lobs
        detail = data.anomaly(version, anomaly_id)
        band = data.anomaly_band(version, anomaly_id)
        changes = data.anomaly_changes(version, anomaly_id)
        calls = data.anomaly_sample(version, anomaly_id)
        text = data.query(
            "anomalies_text",
            {"anomaly_id": anomaly_id, "request_ids": request_ids} | reader.params(),
        )
        if not visible:
            assert detail is None and band.is_empty() and changes.is_empty(), anomaly_id
            assert calls.is_empty() and text.is_empty(), anomaly_id
            continue
        assert detail is not None and not band.is_empty()
        assert lob_values(calls) <= ({lob} if lob else set(access.lobs or lob_values(calls)))
        if not access.all_lobs:
            assert set(changes["principal"]) <= allowed, set(changes["principal"]) - allowed


def rendered_text(at: AppTest) -> str:
    """Everything a page shows as text: tables (every column), tiles, charts, messages, the
    options of every picker."""
    parts = [d.value.to_csv() for d in at.dataframe]  # (to_string would cut long cells)
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [c.proto.spec for c in at.get("plotly_chart")]
    for kind in ("markdown", "caption", "info", "warning", "success", "error", "subheader",
                 "title"):  # fmt: skip
        parts += [str(e.value) for e in getattr(at, kind)]
    for picker in (*at.selectbox, *at.multiselect):
        parts += [str(o) for o in picker.options]
    return "\n".join(parts)


def forbidden_names(access: auth.Access) -> dict[str, list[str]]:
    """Per LOB the reader may not see: its name, its applications and its principals."""
    with runtime.cursor() as cur:
        apps = dict(
            cur.execute(
                "SELECT lob, list(DISTINCT app) FILTER (WHERE app IS NOT NULL) FROM usage_hourly "
                "GROUP BY lob"
            ).fetchall()
        )
        arns = dict(
            cur.execute(
                "SELECT lob, list(DISTINCT principal_arn) FROM usage_principals_hourly GROUP BY lob"
            ).fetchall()
        )
    return {lob: [lob, *(apps[lob] or []), *arns.get(lob, [])]
            for lob in apps if lob not in access.lobs}  # fmt: skip


# Phrases that contain a LOB's name as plain English ("At risk" is a budget status).
HARMLESS = re.compile(r"At risk|at risk|Unattributed spend|'unattributed'")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_only_the_readers_lobs(role, page, estate_path, open_page):
    """No table cell, tile, chart, message or picker option names another LOB, one of its
    applications or principals (not only the `LOB` columns)."""
    access = ROLES[role]
    try:
        at = open_page(estate_path, page, scope=scope_of(access))
    except ValueError:  # a page the role does not have: nothing to leak
        assert page not in access.pages
        return
    if access.all_lobs:
        return
    text = HARMLESS.sub("", rendered_text(at))
    forbidden = forbidden_names(access)
    assert forbidden
    for lob, names in forbidden.items():
        for name in names:
            found = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)
            assert not found, (page, lob, name, text[max(0, found.start() - 80) : found.end() + 80])


def fingerprint() -> tuple:
    with runtime.cursor() as con:  # the app's own connection: the file is held open
        return (
            con.execute("SELECT count(*), sum(invocations) FROM usage_hourly").fetchone(),
            con.execute("SELECT count(*) FROM invocations").fetchone(),
            con.execute("SELECT list(status ORDER BY anomaly_id) FROM anomalies").fetchone(),
            con.execute("SELECT count(*) FROM anomaly_mutes").fetchone(),
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchone(),
        )


def shown_numbers(at: AppTest) -> tuple:
    """What a page shows, minus text that echoes the input back (a warning naming it). Floats
    to 9 digits: polars sums in parallel, so the 16th digit moves between runs."""

    def rounded(value: Any) -> Any:
        if isinstance(value, float):
            return float(f"{value:.9g}")
        if isinstance(value, list):
            return [rounded(v) for v in value]
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        return value

    return (
        [(m.label, m.value) for m in at.metric],
        [d.value.to_csv(float_format="%.9g") for d in at.dataframe],
        [rounded(json.loads(c.proto.spec)) for c in at.get("plotly_chart")],
    )


def test_hostile_url_parameters_are_data_not_sql(estate_path, open_page, use_warehouse):
    """Every URL parameter (the filters, the period, the custom days, the anomaly, the Spend
    split and forecast reach) holding SQL changes neither the warehouse nor what is shown: an
    unknown filter value is no filter, and the page reads as without it."""
    use_warehouse(estate_path)  # every render at conftest's NOW: ages ("77 min") do not tick
    before = fingerprint()
    for page in PAGES:
        plain = shown_numbers(open_page(estate_path, page))
        for value in INJECTIONS:
            params = {"lob": value, "app": value, "model": value, "region": value,
                      "account": value, "period": value, "anomaly": value,
                      "days": [value, value], "split": value, "horizon": value,
                      "series": value}  # fmt: skip
            hostile = open_page(estate_path, page, **params)  # no exception on any page
            assert shown_numbers(hostile) == plain, (page, value)
            if page == "anomalies":
                assert any("No anomaly" in w.value for w in hostile.warning)  # shown as text
    assert fingerprint() == before


@pytest.mark.parametrize("value", INJECTIONS[:3])
def test_hostile_text_inputs_are_data_not_sql(
    value, make_estate, factory, open_page, use_warehouse
):
    """The free-text inputs: Governance's principal filter and the mute reason (stored: so
    this test has an estate of its own)."""
    estate_path, _ = make_estate(factory.estate(40, seed=5))
    use_warehouse(estate_path)
    before = fingerprint()
    at = open_page(estate_path, "governance")
    audit = next(d.value for d in at.dataframe if "Who" in d.value.columns)
    assert len(audit) > 0
    at.text_input(key="who").input(value).run()
    assert not at.exception
    assert not any("Who" in d.value.columns and len(d.value) for d in at.dataframe)
    assert any(c.value.startswith("0 changes") for c in at.caption)
    at.text_input(key="who").input("role/").run()  # an honest filter still works
    assert len(next(d.value for d in at.dataframe if "Who" in d.value.columns)) == len(audit)
    assert fingerprint() == before

    with runtime.cursor() as cur:
        (anomaly_id,) = cur.execute("SELECT min(anomaly_id) FROM anomalies").fetchone()
    at = open_page(estate_path, "anomalies", anomaly=anomaly_id)
    at.text_input(key="mute_reason").input(value)
    at.button(key="mute").click().run()
    assert not at.exception
    with runtime.cursor() as cur:
        stored = cur.execute("SELECT reason FROM anomaly_mutes").fetchall()
        tables = cur.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
    assert stored == [(value,)]  # kept as the words typed
    assert tables == before[-1]


SHARED = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s3cr3t"}
PROVIDER = {
    "client_id": "genai-lens", "client_secret": "x",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
}  # fmt: skip


def app_with(secrets: dict[str, Any], user: dict[str, Any] | None = None) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=90)
    at.secrets["auth"] = secrets
    if user is not None:
        at.user = user
    return at.run()


def test_an_auth_section_without_a_provider_is_not_sign_in_and_says_why(
    estate_path, use_warehouse, tmp_path
):
    toml = tmp_path / "secrets.toml"
    toml.write_text(_toml({"auth": SHARED | {"okta": {"client_id": "a"}}}))
    assert not auth.sign_in_configured([toml])
    use_warehouse(estate_path)
    at = app_with(SHARED | {"okta": {"client_id": "a"}})
    banner = " ".join(c.value for c in at.caption)
    assert "Sign-in is not configured" in banner and "no complete provider" in banner


def test_auth_providers_follow_streamlits_rules():
    assert auth.providers(None) == [] and auth.providers(PROVIDER) == []  # no shared keys
    assert auth.providers(SHARED) == []
    assert auth.providers(SHARED | PROVIDER) == [None]
    assert auth.providers(SHARED | {"okta": PROVIDER, "half": {"client_id": "a"}}) == ["okta"]


SIGNED_IN = {  # groups claim -> (role shown, scope's LOBs, pages in the navigation)
    "lob-wealth": ("viewer:wealth", ("wealth",), auth.VIEWER_PAGES),
    "finance": ("finops", None, auth.FINOPS_PAGES),
    "platform": ("admin", None, auth.ALL_PAGES),
}
PAGE_FILES = {"overview": "app_pages/overview.py", "spend": "app_pages/spend.py",
              "capacity": "app_pages/capacity.py",
              "reliability": "app_pages/reliability.py", "anomalies": "app_pages/anomalies.py",
              "governance": "app_pages/governance.py",
              "data-health": "app_pages/data_health.py"}  # fmt: skip


@pytest.mark.parametrize("group", SIGNED_IN)
def test_a_signed_in_users_claims_give_role_scope_and_pages(
    group, estate_path, use_warehouse, monkeypatch
):
    role, lobs, pages = SIGNED_IN[group]
    roles = {"lob-wealth": "viewer:wealth", "finance": "finops", "platform": "admin"}
    monkeypatch.setattr(runtime, "_settings", load_settings(auth={"roles": roles}))
    use_warehouse(estate_path)
    user = {"is_logged_in": True, "email": "ann@example.com", "groups": [group, "unmapped"],
            "iat": int(time.time())}  # fmt: skip
    at = app_with(SHARED | {"okta": PROVIDER}, user)
    assert not at.exception, [e.value for e in at.exception]
    assert f"Signed in as ann@example.com ({role})" in [c.value for c in at.sidebar.caption]
    assert at.session_state["scope"] == data.Scope(lobs, "ann@example.com")
    table = at.dataframe[0].value  # the Overview's LOB table
    assert set(table["LOB"]) == {"wealth"} if lobs else len(table) > 3
    for page, path in PAGE_FILES.items():
        if page in pages:
            at.switch_page(path).run()
            assert not at.exception, (page, [e.value for e in at.exception])
        else:  # its URL leads to a refusal (tests/app/test_sign_in.py), never to its script
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(path)


def test_a_user_in_no_mapped_group_sees_nothing(estate_path, use_warehouse, monkeypatch):
    monkeypatch.setattr(runtime, "_settings", load_settings(auth={"roles": {"x": "admin"}}))
    use_warehouse(estate_path)
    user = {"is_logged_in": True, "email": "eve@example.com", "groups": ["strangers"],
            "iat": int(time.time())}  # fmt: skip
    at = app_with(SHARED | PROVIDER, user)
    assert any("no group that genai-lens maps" in e.value for e in at.error)
    assert not at.dataframe and not at.metric


def _toml(value: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for nested string tables (tomllib reads, it does not write)."""
    flat = [f'{k} = "{v}"' for k, v in value.items() if not isinstance(v, dict)]
    out = ([f"[{prefix}]"] if prefix and flat else []) + flat
    for key, sub in value.items():
        if isinstance(sub, dict):
            out.append(_toml(sub, f"{prefix}.{key}" if prefix else key))
    return "\n".join(out) + "\n"


def test_without_sign_in_the_app_says_so_and_runs_as_admin(estate_path, open_page):
    at = open_page(estate_path, "overview")
    assert any("Sign-in is not configured" in c.value for c in at.caption)
    assert len(at.dataframe[0].value["LOB"]) > 3
