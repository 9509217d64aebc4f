"""Who sees what, as a matrix: every page and every data function (the downloads included)
as a reader of each role; and hostile URL parameters change nothing."""

from __future__ import annotations

import inspect
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from app import data, view
from genai_lens import auth, runtime

PAGES = ("overview", "spend", "reliability", "anomalies", "governance", "data-health")
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


@pytest.fixture
def estate_path(make_estate, factory):  # type: ignore[no-untyped-def]
    path, _ = make_estate(factory.estate(40, seed=5))
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
@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_only_the_readers_lobs(role, page, estate_path, open_page):
    access = ROLES[role]
    at = open_page(estate_path, page, scope=scope_of(access))
    for frame in at.dataframe:
        value = frame.value
        cols = [c for c in value.columns if str(c).lower() in ("lob", "line of business")]
        shown = {v for c in cols for v in value[c].dropna().tolist()}
        if not access.all_lobs:
            assert shown <= set(access.lobs) | {"—"}, (page, shown)


@pytest.mark.parametrize("value", INJECTIONS)
def test_hostile_url_parameters_are_data_not_sql(value, estate_path, open_page, use_warehouse):
    def fingerprint() -> tuple:
        with runtime.cursor() as con:  # the app's own connection: the file is held open
            return (
                con.execute("SELECT count(*), sum(invocations) FROM usage_hourly").fetchone(),
                con.execute("SELECT count(*) FROM invocations").fetchone(),
                con.execute("SELECT list(status ORDER BY anomaly_id) FROM anomalies").fetchone(),
                con.execute("SELECT count(*) FROM duckdb_tables()").fetchone(),
            )

    use_warehouse(estate_path)
    before = fingerprint()
    params = {"lob": value, "app": value, "model": value, "region": value, "account": value,
              "period": value, "anomaly": value, "days": [value, value]}  # fmt: skip
    for page in PAGES:
        open_page(estate_path, page, **params)  # no exception on any page
    assert fingerprint() == before


def test_with_sign_in_configured_a_stranger_gets_the_sign_in_screen_only(
    estate_path, use_warehouse
):
    from streamlit.testing.v1 import AppTest

    use_warehouse(estate_path)
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s3cr3t",
        "client_id": "genai-lens", "client_secret": "x",
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
    }  # fmt: skip
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.metric  # nothing of the estate before sign-in
    assert not any("Sign-in is not configured" in c.value for c in at.caption)


def test_without_sign_in_the_app_says_so_and_runs_as_admin(estate_path, open_page):
    at = open_page(estate_path, "overview")
    assert any("Sign-in is not configured" in c.value for c in at.caption)
    assert len(at.dataframe[0].value["LOB"]) > 3
