"""App test fixtures: real DuckDB warehouse files built by a factory, and a clean runtime.

`factory.usage_row(**overrides)` is one realistic `usage_hourly` row; `factory.estate(...)` a
seeded estate of them (LOBs with their apps and model mix, office-hours and weekday rhythm,
growth, an unattributed slice, one model without a price). `make_warehouse(rows)` writes them,
plus the `ingest_objects` rows an ingest would have left, into a warehouse created by
`warehouse.db.connect` (a copy of one it migrated: tests/template.py), then closes it so a
page (or a served app) can open it.
`make_estate(rows)` does the same and adds everything else an estate leaves behind, derived
from the rows (tests/app/estate.py): rollups, CloudWatch, CloudTrail, the bill, the model
outputs and the job bookkeeping.
Helpers reach tests as fixtures, not imports: conftest modules are not importable by name.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from functools import cache, partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import estate as estate_parts
import polars as pl
import pytest
import streamlit as st
from streamlit.components.v2 import manifest_scanner
from template import new_warehouse

from warehouse import runtime

# Every AppTest scans all installed distributions' metadata for Streamlit components (none
# here), ~0.15 CPU-s a page render and nothing a served app repeats: a server scans once, as it
# starts. The packages do not change during a test run, so one scan per process serves all.
_scan = cache(manifest_scanner.scan_component_manifests)
manifest_scanner.scan_component_manifests = lambda *a, **k: list(_scan(*a, **k))

# USD per 1M tokens (input, output) from the price catalog; None = the catalog has no price.
PRICES: dict[str, tuple[float, float] | None] = {
    "anthropic.claude-sonnet-4-20250514-v1:0": (3.00, 15.00),
    "anthropic.claude-3-5-haiku-20241022-v1:0": (0.80, 4.00),
    "anthropic.claude-opus-4-1-20250805-v1:0": (15.00, 75.00),
    "amazon.nova-pro-v1:0": (0.80, 3.20),
    "amazon.nova-lite-v1:0": (0.06, 0.24),
    "meta.llama3-1-70b-instruct-v1:0": (0.72, 0.72),
    "amazon.titan-embed-text-v2:0": (0.02, 0.00),
    "cohere.command-r-plus-v1:0": None,
}
SONNET, HAIKU, OPUS, NOVA_PRO, NOVA_LITE, LLAMA, TITAN_EMBED, COHERE = PRICES

# LOB -> (apps, model mix, invocations per weekday at the start, guardrails on?)
LOBS: dict[str, tuple[tuple[str | None, ...], dict[str, float], int, bool]] = {
    "retail-banking": (("advisor-chat", "statement-summary"), {SONNET: 0.6, HAIKU: 0.4}, 900, True),
    "wealth": (("research-assistant",), {OPUS: 0.3, SONNET: 0.7}, 300, True),
    "insurance": (("claims-triage", "policy-qa"), {NOVA_PRO: 0.5, LLAMA: 0.5}, 600, False),
    "customer-service": (("agent-assist",), {HAIKU: 0.5, NOVA_LITE: 0.5}, 1500, True),
    "marketing": (("copy-studio",), {SONNET: 0.4, COHERE: 0.6}, 250, False),
    "risk": (("doc-search",), {TITAN_EMBED: 0.7, NOVA_PRO: 0.3}, 700, False),
    "unattributed": ((None,), {HAIKU: 0.6, LLAMA: 0.4}, 120, False),
}
_HOURS = (8, 10, 13, 15, 18)  # UTC hours an estate uses each day (keeps row counts small)


def cost(model: str | None, input_tokens: int, output_tokens: int) -> float | None:
    price = PRICES.get(model) if model else None
    if price is None:
        return None
    return (input_tokens * price[0] + output_tokens * price[1]) / 1e6


# The app tests' one instant, a Tuesday noon (naive UTC, as the warehouse stores times): every
# estate is dated from it and every page renders at it (GENAI_LENS_NOW, `_fixed_clock`). On the
# wall clock a test's figures moved with the hour: the estates' hours start at 08:00 UTC, so
# before 08:00 the newest loaded hour was yesterday's, the page's window stopped there and left
# yesterday's bill out, and a Data health test failed between midnight and 08:00 every day.
NOW = datetime(2026, 12, 1, 12)


@pytest.fixture(autouse=True)
def _fixed_clock(clock_at: Callable[[datetime], None]) -> None:
    clock_at(NOW)


_OBJECTS = itertools.count()  # insert_rows' object names


def this_hour() -> datetime:
    """The hour of the tests' fixed instant, as the naive UTC timestamp the warehouse stores."""
    return NOW.replace(minute=0, second=0, microsecond=0)


def usage_row(**overrides: Any) -> dict[str, Any]:
    """One `usage_hourly` row with realistic values; cost follows tokens unless given."""
    row: dict[str, Any] = {
        "hour": this_hour() - timedelta(hours=1),
        "account_id": "111122223333",
        "region": "us-east-1",
        "lob": "retail-banking",
        "app": "advisor-chat",
        "model": SONNET,
        "operation": "Converse",
        "invocations": 10,
        "errors": 0,
        "throttles": 0,
        "input_tokens": 12_000,
        "output_tokens": 3_000,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "guardrail_invocations": 0,
        "guardrail_interventions": 0,
        "latency_ms_sum": 12_000.0,
        "latency_count": 10,
        "latency_p50_ms": 1100.0,
        "latency_p90_ms": 2000.0,
        "latency_p95_ms": 2400.0,
        "latency_p99_ms": 3900.0,
        "first_byte_count": 0,
        "first_byte_ms_sum": None,
        "first_byte_p50_ms": None,
        "first_byte_p90_ms": None,
        "first_byte_p99_ms": None,
    }
    row.update(overrides)
    if "est_cost_usd" not in overrides:
        row["est_cost_usd"] = cost(row["model"], row["input_tokens"], row["output_tokens"])
    if "unpriced_invocations" not in overrides:
        row["unpriced_invocations"] = row["invocations"] if row["est_cost_usd"] is None else 0
    return row


def estate(
    days: int = 30,
    *,
    lobs: Iterable[str] = LOBS,
    end: datetime | None = None,
    growth: float = 0.01,
    scale: float = 1.0,
    spike: tuple[str, int, float] | None = None,
    seed: int = 7,
) -> list[dict[str, Any]]:
    """A seeded estate: `days` UTC days up to `end` (default: this hour) for the given LOBs.

    `scale` multiplies every LOB's volume (1.0 is a small pilot; 40 is a busy enterprise);
    `spike=(lob, days, factor)` multiplies that LOB's last `days` days (a cost runaway).
    """
    rng = random.Random(seed)
    end = end or this_hour()
    first = end.date() - timedelta(days=days - 1)
    rows = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        weekday = 1.0 if day.weekday() < 5 else 0.35
        for lob in lobs:
            apps, mix, base, guarded = LOBS[lob]
            daily = scale * base * weekday * (1 + growth) ** offset * rng.uniform(0.85, 1.15)
            if spike and spike[0] == lob and offset >= days - spike[1]:
                daily *= spike[2]
            for app in apps:
                for model, share in mix.items():
                    rows += _day_rows(rng, day, lob, app, model, daily * share / len(apps), guarded)
    return [r for r in rows if r["hour"] <= end]


def _day_rows(
    rng: random.Random, day: date, lob: str, app: str | None, model: str, n: float, guarded: bool
) -> Iterator[dict[str, Any]]:
    for hour in _HOURS:
        invocations = max(1, round(n / len(_HOURS) * rng.uniform(0.7, 1.3)))
        errors = sum(rng.random() < 0.006 for _ in range(invocations))
        embedding = model == TITAN_EMBED
        mean = rng.uniform(400, 2500)
        # A tail of the app's own (no extra draws: the seeded estates stay as they were), so
        # LOBs and applications differ at p90 and p99, not only at the mean.
        tail = 1.4 + (sum(map(ord, app or lob)) % 7) * 0.25
        # About a third of the apps stream through InvokeModelWithResponseStream, whose
        # records carry the first byte's latency too.
        streams = not embedding and sum(map(ord, app or lob)) % 3 == 0
        first = invocations // 2 if streams else 0
        yield usage_row(
            hour=datetime.combine(day, datetime.min.time()) + timedelta(hours=hour),
            lob=lob,
            app=app,
            model=model,
            operation="InvokeModel" if embedding else "Converse",
            invocations=invocations,
            errors=errors,
            throttles=errors // 2,
            input_tokens=invocations * rng.randint(600 if embedding else 1200, 2600),
            output_tokens=0 if embedding else invocations * rng.randint(150, 700),
            guardrail_invocations=invocations if guarded else 0,
            guardrail_interventions=(
                sum(rng.random() < 0.02 for _ in range(invocations)) if guarded else 0
            ),
            latency_count=invocations,
            latency_ms_sum=invocations * mean,
            latency_p50_ms=mean * 0.85,
            latency_p90_ms=mean * tail,
            latency_p95_ms=mean * tail * 1.2,
            latency_p99_ms=mean * tail * 1.9,
            first_byte_count=first,
            first_byte_ms_sum=first * mean * 0.2 if first else None,
            first_byte_p50_ms=mean * 0.18 if first else None,
            first_byte_p90_ms=mean * 0.18 * tail if first else None,
            first_byte_p99_ms=mean * 0.18 * tail * 2.2 if first else None,
        )


WarehouseFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def factory() -> SimpleNamespace:
    """The row factories and model ids, for tests to build and check their own data."""
    return SimpleNamespace(
        usage_row=usage_row, estate=estate, insert_rows=insert_rows, this_hour=this_hour,
        cost=cost, LOBS=list(LOBS), SONNET=SONNET, HAIKU=HAIKU, COHERE=COHERE, OPUS=OPUS,
        parts=estate_parts, PRICES=PRICES,
    )  # fmt: skip


@pytest.fixture
def make_warehouse(tmp_path: Path) -> WarehouseFactory:
    """Build a real warehouse file holding `rows` in usage_hourly; returns its path."""

    def build(
        rows: Iterable[dict[str, Any]] = (),
        *,
        name: str = "warehouse.duckdb",
        loaded_at: datetime | None = None,
        rollups: bool = True,
    ) -> Path:
        path = tmp_path / name
        rows = list(rows)
        con = new_warehouse(path)
        try:
            if not rollups:
                estate_parts.drop_rollups(con)
            insert_rows(con, rows, loaded_at=loaded_at)
        finally:
            con.close()
        return path

    return build


def build_estate(
    folder: Path, rows: Iterable[dict[str, Any]], *, name: str = "estate.duckdb", **parts: Any
) -> tuple[Path, dict[str, Any]]:
    """The warehouse file `folder/name` of a whole estate (see make_estate)."""
    path = folder / name
    rows = list(rows)
    con = new_warehouse(path)
    try:
        insert_rows(con, rows)
        info = estate_parts.fill(con, rows, PRICES, now=this_hour(), **parts)
    finally:
        con.close()
    return path, info


@pytest.fixture
def make_estate(tmp_path: Path) -> Callable[..., tuple[Path, dict[str, Any]]]:
    """A whole estate's warehouse from usage rows: returns its path and what the parts hold
    (anomaly ids, the bill's last day). Keyword options leave parts out (bill=False, ...)."""
    return partial(build_estate, tmp_path)


@pytest.fixture(scope="module")
def make_module_estate(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., tuple[Path, dict[str, Any]]]:
    """make_estate for a module's tests that only read it: built once, in the module's folder.
    (A test that writes to its estate builds its own with make_estate.)"""
    return partial(build_estate, tmp_path_factory.mktemp("estate"))


def insert_rows(con: Any, rows: list[dict[str, Any]], *, loaded_at: datetime | None = None) -> None:
    """Append usage rows, and one ingest_objects row per day they cover (as an ingest would)."""
    if not rows:
        return
    usage = pl.DataFrame(rows)  # noqa: F841 - read by DuckDB's replacement scan below
    con.execute("INSERT INTO usage_hourly BY NAME SELECT * FROM usage")
    loaded_at = loaded_at or NOW
    for day in sorted({r["hour"].date() for r in rows}):
        prefix = f"AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/{day:%Y/%m/%d}"
        key = f"{prefix}/{next(_OBJECTS):06d}.json.gz"  # each call loads its own objects
        con.execute(
            "INSERT INTO ingest_objects VALUES ('demo', ?, 4096, 'etag', ?, 0, ?)",
            [key, sum(r["invocations"] for r in rows if r["hour"].date() == day), loaded_at],
        )


@pytest.fixture
def use_warehouse(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Point the process's runtime at a warehouse file; closed again after the test."""

    def use(path: Path) -> None:
        runtime.close()
        monkeypatch.setenv("GENAI_LENS_WAREHOUSE", str(path))

    runtime.close()
    yield use
    runtime.close()
    st.cache_data.clear()


ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "app" / "main.py"
PAGES = {
    "overview": None, "spend": "app_pages/spend.py", "capacity": "app_pages/capacity.py",
    "reliability": "app_pages/reliability.py",
    "anomalies": "app_pages/anomalies.py", "governance": "app_pages/governance.py",
    "data-health": "app_pages/data_health.py",
}  # fmt: skip


@pytest.fixture
def open_page(use_warehouse: Callable[[Path], None]) -> Callable[..., Any]:
    """Run the app on a warehouse and switch to a page (by its URL path), query params set.

    `scope` puts a Scope in the session as sign-in will. Fails on any exception on the page.
    """
    from streamlit.testing.v1 import AppTest

    def run(path: Path, page: str = "overview", *, scope: Any = None, **query: Any) -> AppTest:
        use_warehouse(path)
        at = AppTest.from_file(str(MAIN), default_timeout=90)
        for key, value in query.items():
            at.query_params[key] = value
        if scope is not None:
            at.session_state["scope"] = scope
        at.run()
        if PAGES[page]:
            at.switch_page(PAGES[page]).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def session_url(at: Any) -> dict[str, Any]:
    """The query parameters the session holds now (each a list of its values): what the
    browser's URL would show.

    AppTest copies back only the query string the run started with, not what widgets bound to
    the URL wrote since, so this reads the session's own store.
    """
    held = at.session_state._state._state.query_params
    return {key: held.get_all(key) for key in held}


@pytest.fixture
def url_of() -> Callable[[Any], dict[str, Any]]:
    return session_url
