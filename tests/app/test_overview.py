"""The Overview page, its data functions and builders, against real warehouse files.

Expected numbers are summed here from the rows the factory inserted, never read back through
the SQL under test.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from app import data, figures, kpis, legend, view
from base import format as fmt
from warehouse import runtime
from warehouse.db import SQL_DIR

SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
COHERE = "cohere.command-r-plus-v1:0"  # the factory's model without a price

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "app" / "main.py"


def run_app(path: Path, use_warehouse: Any, **query: str | list[str]) -> AppTest:
    use_warehouse(path)
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tiles(at: AppTest) -> dict[str, Any]:
    return {m.label: m for m in at.metric}


def plotly_specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def today_utc() -> date:
    return view.today()


def totals(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    rows = list(rows)
    priced = [r["est_cost_usd"] for r in rows if r["est_cost_usd"] is not None]
    tokens = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    return {
        "cost": sum(priced) if priced else None,
        "invocations": sum(r["invocations"] for r in rows),
        "tokens": sum(r[t] for r in rows for t in tokens),
        "errors": sum(r["errors"] for r in rows),
        "guarded": sum(r["guardrail_invocations"] for r in rows),
        "intervened": sum(r["guardrail_interventions"] for r in rows),
        "unpriced": sum(r["unpriced_invocations"] for r in rows),
        "unattributed": sum(r["est_cost_usd"] or 0 for r in rows if r["lob"] == "unattributed"),
        "lobs": len({r["lob"] for r in rows if r["lob"] != "unattributed"}),
        "apps": len({(r["lob"], r["app"]) for r in rows if r["app"] is not None}),
    }


def split(rows: list[dict[str, Any]], days: int) -> tuple[list[dict], list[dict]]:
    """Rows of the last `days` UTC days, and of the same elapsed span just before them."""
    start = datetime.combine(today_utc() - timedelta(days=days - 1), datetime.min.time())
    end = max(r["hour"] for r in rows) + timedelta(hours=1)
    span = end - start
    current = [r for r in rows if start <= r["hour"] < end]
    previous = [
        r
        for r in rows
        if start - timedelta(days=days) <= r["hour"] < start - timedelta(days=days) + span
    ]
    return current, previous


# --- the page -------------------------------------------------------------------------------


def test_kpi_tiles_equal_sums_of_the_inserted_rows(make_warehouse, use_warehouse, factory):
    rows = factory.estate(
        60, lobs=["retail-banking", "wealth", "marketing", "unattributed"], seed=3
    )
    at = run_app(make_warehouse(rows), use_warehouse)

    cur, prev = (totals(part) for part in split(rows, 30))
    shown = tiles(at)
    assert shown["Estimated spend"].value == fmt.money(cur["cost"])
    assert shown["Estimated spend"].proto.delta == fmt.change(cur["cost"], prev["cost"])
    assert shown["Invocations"].value == fmt.compact(cur["invocations"])
    assert shown["Invocations"].proto.delta == fmt.change(cur["invocations"], prev["invocations"])
    assert shown["Tokens"].value == fmt.compact(cur["tokens"])
    assert shown["Active LOBs · apps"].value == f"{cur['lobs']} · {cur['apps']}" == "3 · 4"
    assert shown["Error rate"].value == fmt.percent(cur["errors"] / cur["invocations"])
    assert shown["Guardrail interventions"].value == fmt.percent(cur["intervened"] / cur["guarded"])
    assert shown["Unattributed spend"].value == fmt.percent(cur["unattributed"] / cur["cost"])
    assert shown["Unpriced invocations"].value == fmt.count(cur["unpriced"])
    assert cur["unpriced"] > 0 and cur["cost"] > 0  # the data exercises every tile


def test_small_estate_reads_to_the_cent(make_warehouse, use_warehouse, factory):
    hour = factory.this_hour() - timedelta(hours=2)
    row = factory.usage_row
    rows = [
        row(hour=hour, lob="retail-banking", invocations=40, errors=2, est_cost_usd=123.45,
            guardrail_invocations=40, guardrail_interventions=1),
        row(hour=hour, lob="unattributed", app=None, invocations=10, est_cost_usd=10.0,
            input_tokens=500, output_tokens=500),
    ]  # fmt: skip
    shown = tiles(run_app(make_warehouse(rows), use_warehouse))
    assert shown["Estimated spend"].value == "$133.45"
    assert shown["Invocations"].value == "50"
    assert shown["Tokens"].value == "16.0K"  # 12,000 + 3,000 + 1,000
    assert shown["Active LOBs · apps"].value == "1 · 1"
    assert shown["Error rate"].value == "4.0%"
    assert shown["Guardrail interventions"].value == "2.5%"
    assert shown["Unattributed spend"].value == "7.5%"
    assert shown["Unpriced invocations"].value == "0"


def test_no_change_is_shown_against_a_previous_period_without_data(
    make_warehouse, open_page, factory
):
    """Data that starts inside the period: "+8 LOBs" against nothing is not a change."""
    rows = factory.estate(10, seed=8)  # the previous 30 days hold nothing
    at = open_page(make_warehouse(rows))
    shown = tiles(at)
    for label in ("Active LOBs · apps", "Unpriced invocations", "Invocations", "Tokens",
                  "Estimated spend", "Error rate", "Latency p95"):  # fmt: skip
        assert not shown[label].proto.delta, (label, shown[label].proto.delta)
    assert shown["Unpriced invocations"].value != "0"  # there is something to compare
    assert any("no changes shown" in c.value for c in at.caption)


def test_lob_filter_from_the_url_changes_every_number(make_warehouse, use_warehouse, factory):
    rows = factory.estate(30, lobs=["retail-banking", "wealth", "insurance"], seed=5)
    path = make_warehouse(rows)
    everyone = tiles(run_app(path, use_warehouse))
    at = run_app(path, use_warehouse, lob="wealth")

    wealth = totals(r for r in rows if r["lob"] == "wealth")
    shown = tiles(at)
    assert at.multiselect(key="lob").value == ["wealth"]
    assert shown["Estimated spend"].value == fmt.money(wealth["cost"])
    assert shown["Estimated spend"].value != everyone["Estimated spend"].value
    assert shown["Invocations"].value == fmt.compact(wealth["invocations"])
    assert shown["Active LOBs · apps"].value == "1 · 1"
    assert at.dataframe[0].value["LOB"].tolist() == ["wealth"]
    spend_chart = plotly_specs(at)[0]
    assert [trace["name"] for trace in spend_chart["data"]] == ["wealth"]


def test_several_lobs_and_a_model_from_repeated_url_parameters(
    make_warehouse, use_warehouse, factory
):
    rows = factory.estate(30, lobs=["retail-banking", "wealth", "insurance"], seed=5)
    at = run_app(make_warehouse(rows), use_warehouse, lob=["wealth", "retail-banking"],
                 model=SONNET)  # fmt: skip

    picked = totals(
        r for r in rows if r["lob"] in {"wealth", "retail-banking"} and r["model"] == SONNET
    )
    assert tiles(at)["Estimated spend"].value == fmt.money(picked["cost"])
    assert tiles(at)["Invocations"].value == fmt.compact(picked["invocations"])
    assert sorted(at.dataframe[0].value["LOB"]) == ["retail-banking", "wealth"]


def test_period_presets_and_custom_days_come_from_the_url(make_warehouse, use_warehouse, factory):
    rows = factory.estate(40, lobs=["insurance"], seed=9)
    path = make_warehouse(rows)

    week = run_app(path, use_warehouse, period="Last 7 days")
    assert tiles(week)["Invocations"].value == fmt.compact(totals(split(rows, 7)[0])["invocations"])

    first, last = today_utc() - timedelta(days=20), today_utc() - timedelta(days=11)
    custom = run_app(path, use_warehouse, period="Custom", days=[str(first), str(last)])
    picked = [r for r in rows if first <= r["hour"].date() <= last]
    assert tiles(custom)["Invocations"].value == fmt.compact(totals(picked)["invocations"])
    assert any(fmt.day_span(first, last) in c.value for c in custom.caption)


def test_empty_warehouse_says_how_to_load_data(make_warehouse, use_warehouse):
    at = run_app(make_warehouse([]), use_warehouse)
    assert len(at.info) == 1
    assert "No data yet" in at.info[0].value
    assert "genai-lens ingest invocation-logs" in at.info[0].value
    assert "make demo" in at.info[0].value
    assert not at.metric and not at.get("plotly_chart")


def test_a_fresh_install_without_a_warehouse_file_says_the_same(tmp_path, use_warehouse):
    at = run_app(tmp_path / "not-yet" / "warehouse.duckdb", use_warehouse)
    assert "No data yet" in at.info[0].value


def test_a_period_without_usage_says_so_instead_of_drawing(make_warehouse, use_warehouse, factory):
    old = factory.this_hour() - timedelta(days=200)
    at = run_app(make_warehouse([factory.usage_row(hour=old)]), use_warehouse)
    assert "No usage in" in at.info[0].value
    assert fmt.hour(old) in at.info[0].value  # where the data actually is
    assert not at.metric and not at.get("plotly_chart")


def test_an_unpriced_model_is_unpriced_not_free(make_warehouse, use_warehouse, factory):
    hour = factory.this_hour() - timedelta(hours=3)
    rows = [
        factory.usage_row(hour=hour, lob="retail-banking", model=SONNET, invocations=20),
        factory.usage_row(
            hour=hour, lob="marketing", app="copy-studio", model=COHERE, invocations=37
        ),
    ]
    assert rows[1]["est_cost_usd"] is None and rows[1]["unpriced_invocations"] == 37
    path = make_warehouse(rows)
    at = run_app(path, use_warehouse)

    shown = tiles(at)
    assert shown["Estimated spend"].value == fmt.money(rows[0]["est_cost_usd"])
    assert shown["Unpriced invocations"].value == "37"
    assert "37 invocations unpriced" in at.warning[0].value
    assert COHERE in at.warning[0].value
    table = at.dataframe[0].value.set_index("LOB")
    assert table.loc["marketing", "Unpriced invocations"] == 37
    assert table.loc["marketing", "Est. spend"] != table.loc["marketing", "Est. spend"]  # NaN

    only_unpriced = tiles(run_app(path, use_warehouse, lob="marketing"))
    assert only_unpriced["Estimated spend"].value == fmt.MISSING  # unknown, never "$0.00"


def test_new_rows_show_on_the_next_run_despite_the_cache(
    make_warehouse, use_warehouse, monkeypatch, factory
):
    hour = factory.this_hour() - timedelta(hours=5)
    use_warehouse(make_warehouse([factory.usage_row(hour=hour, invocations=10)]))
    opened = []
    real_cursor = runtime.cursor
    monkeypatch.setattr(runtime, "cursor", lambda: opened.append(1) or real_cursor())
    filters = view.Filters(today_utc() - timedelta(days=6), today_utc())

    before = data.freshness()
    assert data.kpis(view.window(filters, before))["invocations"][0] == 10
    queries = len(opened)
    assert data.kpis(view.window(filters, data.freshness()))["invocations"][0] == 10
    assert len(opened) == queries + 1  # only the freshness marker ran: the frame was cached

    # An earlier hour: the window (it ends at the newest hour) and so the query's parameters
    # stay the same, and only the freshness marker can tell the cache that data changed.
    factory.insert_rows(
        runtime.cursor(), [factory.usage_row(hour=hour - timedelta(hours=1), invocations=5)]
    )
    after = data.freshness()
    assert after != before
    assert data.kpis(view.window(filters, after))["invocations"][0] == 15


# --- data: periods and windows ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "on", "expected"),
    [
        ("Last 7 days", date(2025, 3, 10), (date(2025, 3, 4), date(2025, 3, 10))),
        ("Last 30 days", date(2025, 3, 10), (date(2025, 2, 9), date(2025, 3, 10))),
        ("Last 90 days", date(2025, 3, 10), (date(2024, 12, 11), date(2025, 3, 10))),
        ("Month to date", date(2025, 3, 10), (date(2025, 3, 1), date(2025, 3, 10))),
        ("Last month", date(2025, 1, 15), (date(2024, 12, 1), date(2024, 12, 31))),
        ("Last month", date(2024, 3, 31), (date(2024, 2, 1), date(2024, 2, 29))),
        ("Quarter to date", date(2025, 5, 20), (date(2025, 4, 1), date(2025, 5, 20))),
        ("Last quarter", date(2025, 5, 20), (date(2025, 1, 1), date(2025, 3, 31))),
        ("Last quarter", date(2025, 1, 2), (date(2024, 10, 1), date(2024, 12, 31))),
        ("Custom", date(2025, 3, 10), (date(2025, 2, 9), date(2025, 3, 10))),  # nothing picked
        ("bogus", date(2025, 3, 10), (date(2025, 2, 9), date(2025, 3, 10))),
    ],
)
def test_period_days(period, on, expected):
    assert view.period_days(period, on) == expected


def test_custom_days_in_any_order_and_half_picked():
    a, b = date(2025, 5, 9), date(2025, 5, 2)
    assert view.period_days("Custom", date(2025, 6, 1), (a, b)) == (b, a)
    assert view.period_days("Custom", date(2025, 6, 1), (a,)) == (a, a)


def test_window_compares_equal_elapsed_spans():
    version = data.Freshness("w", None, 1, 1, 1, None, datetime(2025, 3, 10, 13))
    w = view.window(view.Filters(date(2025, 3, 4), date(2025, 3, 10)), version)
    assert (w.start, w.end) == (datetime(2025, 3, 4), datetime(2025, 3, 10, 14))
    assert (w.prev_start, w.prev_end) == (datetime(2025, 2, 25), datetime(2025, 3, 3, 14))
    assert w.prev_days == (date(2025, 2, 25), date(2025, 3, 3))


def test_charts_stop_at_the_newest_loaded_day():
    version = data.Freshness("w", None, 1, 1, 1, None, datetime(2025, 3, 9, 23))
    w = view.window(view.Filters(date(2025, 3, 4), date(2025, 3, 10)), version)
    assert w.days == (date(2025, 3, 4), date(2025, 3, 10))
    assert w.shown_days == (date(2025, 3, 4), date(2025, 3, 9))  # the 10th has no data yet


def test_window_of_a_closed_period_is_whole_days():
    version = data.Freshness("w", None, 1, 1, 1, None, datetime(2025, 3, 10, 13))
    w = view.window(view.Filters(date(2025, 2, 1), date(2025, 2, 28)), version)
    assert (w.start, w.end) == (datetime(2025, 2, 1), datetime(2025, 3, 1))
    assert (w.prev_start, w.prev_end) == (datetime(2025, 1, 4), datetime(2025, 2, 1))


def test_sql_files_bind_parameters_and_state_their_grain():
    files = sorted((SQL_DIR / "queries").glob("overview_*.sql"))
    assert {f.stem for f in files} >= {
        "overview_freshness", "overview_dimensions", "overview_usage", "overview_month",
        "overview_landing",
    }  # fmt: skip
    for f in files:
        text = f.read_text()
        assert text.startswith("-- Overview"), f.name
        assert "Grain:" in text, f.name
        assert "{" not in text and "%s" not in text, f"{f.name}: parameters must be bound"


def test_no_legacy_pages_folder_beside_the_entry_script():
    # A folder named pages/ next to app/main.py makes Streamlit serve its files directly
    # (legacy navigation): /overview would then skip main.py's page config and routing.
    assert not (ROOT / "app" / "pages").exists(), "put pages in app/app_pages/, not app/pages/"


# --- format ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "$0.00"), (12.345, "$12.35"), (999.99, "$999.99"), (999.996, "$1.0K"), (1234, "$1.2K"),
     (3_400_000, "$3.4M"), (999_950, "$1.0M"), (1.2e9, "$1.2B"), (-2500, "-$2.5K"),
     (None, "—")],
)  # fmt: skip
def test_money(value, expected):
    assert fmt.money(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0"), (999, "999"), (1000, "1.0K"), (1049, "1.0K"), (1051, "1.1K"), (12_345_678, "12.3M"),
     (4.56e9, "4.6B"), (None, "—")],
)  # fmt: skip
def test_token_and_count_formats(value, expected):
    assert fmt.tokens(value) == expected


def test_counts_percent_and_changes():
    assert fmt.count(1234567) == "1,234,567"
    assert fmt.percent(0.042) == "4.2%"
    assert fmt.percent(0.0042) == "0.42%"  # small rates keep a digit that is not zero
    assert fmt.percent(None) == "—"
    assert fmt.change(110, 100) == "+10.0%"
    assert fmt.change(90, 100) == "-10.0%"
    assert fmt.change(5, 0) is None  # nothing to compare with
    assert fmt.points(0.012, 0.010) == "+0.20 pp"
    assert fmt.money_tick(2500) == "$2.5K" and fmt.money_tick(0) == "$0"
    assert fmt.day_span(date(2025, 10, 26), date(2025, 11, 24)) == "26 Oct – 24 Nov 2025"
    assert fmt.hour(datetime(2025, 11, 24, 21)) == "24 Nov 2025 21:00 UTC"


def test_a_change_that_rounds_to_nothing_is_grey_without_arrow():
    steady = kpis.tile("Error rate", "1.0%", "-0.00 pp", "inverse")
    assert (steady.delta, steady.delta_color, steady.delta_arrow) == ("0.00 pp", "off", "off")
    moved = kpis.tile("Error rate", "1.0%", "+0.01 pp", "inverse")
    assert (moved.delta, moved.delta_color, moved.delta_arrow) == ("+0.01 pp", "inverse", "auto")


# --- charts ---------------------------------------------------------------------------------

LOBS = ["retail-banking", "wealth", "insurance", "customer-service", "marketing", "risk"]


def test_lob_colours_are_stable_distinct_and_unattributed_is_grey():
    names = [*LOBS, "unattributed"]
    colors = legend.lob_colors(names)
    shuffled = names[:]
    random.Random(1).shuffle(shuffled)
    assert legend.lob_colors(shuffled) == colors
    assert len({colors[n] for n in LOBS}) == len(LOBS)
    assert colors["unattributed"] == legend.UNATTRIBUTED_COLOR
    assert legend.UNATTRIBUTED_COLOR not in legend.LOB_PALETTE
    models = [f"vendor.model-{i}-v1:0" for i in range(len(legend.MODEL_PALETTE))]
    assert len(set(legend.model_colors(models).values())) == len(models)


def test_the_same_lob_has_the_same_colour_on_every_chart(factory):
    daily = data_frame(factory.estate(10, lobs=LOBS[:3], seed=2))
    colors = legend.lob_colors(LOBS)
    days = (today_utc() - timedelta(days=9), today_utc())
    for fig in (
        figures.spend_per_day(daily, colors, days),
        figures.tokens_per_day(daily, colors, days),
    ):
        assert {t.name: t.marker.color for t in fig.data} == {n: colors[n] for n in LOBS[:3]}


def test_stacked_series_cover_every_day_and_sum_to_the_totals(factory):
    rows = factory.estate(10, lobs=LOBS[:2], seed=4)
    daily = data_frame(rows)
    days = (today_utc() - timedelta(days=14), today_utc())  # 5 days before the data starts
    fig = figures.spend_per_day(daily, legend.lob_colors(LOBS), days)
    assert all(len(t.x) == 15 for t in fig.data)
    assert sum(sum(t.y) for t in fig.data) == pytest.approx(totals(rows)["cost"])
    assert fig.data[0].name == max(
        LOBS[:2], key=lambda n: totals(r for r in rows if r["lob"] == n)["cost"]
    )


def test_model_labels_are_short_unless_they_would_collide():
    labels = legend.model_labels([
        "anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0", HAIKU, "(unresolved)",
        "a.same-20250101-v1:0", "b.same-20250202-v1:0",
    ])  # fmt: skip
    assert labels["anthropic.claude-sonnet-4-20250514-v1:0"] == "claude-sonnet-4"
    assert labels["anthropic.claude-3-5-sonnet-20241022-v2:0"] == "claude-3-5-sonnet v2"
    assert labels["us.anthropic.claude-3-7-sonnet-20250219-v1:0"] == "claude-3-7-sonnet"
    assert labels["(unresolved)"] == "(unresolved)"
    assert labels["a.same-20250101-v1:0"] == "a.same-20250101-v1:0"  # clash: full ids


def test_nice_ticks_cover_the_top_in_round_steps():
    assert figures.nice_ticks(1234) == [0, 500, 1000, 1500]
    assert figures.nice_ticks(0.7) == [0, 0.2, 0.4, 0.6, 0.8]
    assert figures.nice_ticks(0) == [0, 1]


def data_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The daily frame the page gets, built in Python from rows (for builder tests)."""
    frame = pl.DataFrame(rows).with_columns(
        pl.col("hour").dt.date().alias("day"),
        (pl.col("input_tokens") + pl.col("output_tokens") + pl.col("cache_read_tokens")
         + pl.col("cache_write_tokens")).alias("tokens"),
    )  # fmt: skip
    return frame.group_by("day", "lob", "model").agg(
        pl.col("est_cost_usd").sum(), pl.col("invocations").sum(), pl.col("tokens").sum(),
        pl.col("unpriced_invocations").sum(),
    )  # fmt: skip


# --- the month, latency and budget (with a whole estate) -------------------------------------


def test_month_tiles_latency_and_budget_status(make_estate, open_page, factory):
    rows = factory.estate(45, seed=31)
    path, _ = make_estate(rows)
    at = open_page(path)
    shown = tiles(at)
    month_start = today_utc().replace(day=1)
    mtd = sum(r["est_cost_usd"] or 0 for r in rows if r["hour"].date() >= month_start)
    assert shown["Est. spend this month"].value == fmt.money(mtd)
    # It is the estimate to the newest hour; the forecast's "to date" is the bill to yesterday:
    # the tile says which it is (the auditor saw $755 here against $623 on the Spend page).
    assert "Not the bill" in shown["Est. spend this month"].help
    with runtime.cursor() as cur:
        landing, budget = cur.execute(
            "SELECT landing, budget FROM forecast_landing WHERE series = 'total' "
            "AND period_kind = 'month'"
        ).fetchall()[0]
    assert shown["Month-end landing"].value == fmt.money(landing)
    assert shown["Month-end landing"].proto.delta == (
        f"{fmt.change(landing, budget)} vs {fmt.money(budget)} budget"
    )
    cur_rows = split(rows, 30)[0]
    p95 = sum(r["latency_p95_ms"] * r["latency_count"] for r in cur_rows) / sum(
        r["latency_count"] for r in cur_rows
    )
    assert shown["Latency p95"].value == fmt.latency(p95)
    table = at.dataframe[0].value.set_index("LOB")
    assert set(table["Budget status"].dropna()) <= {"On track", "At risk", "Over budget",
                                                    "No budget"}  # fmt: skip
    assert table.loc["unattributed", "Budget status"] == "No budget"

    wealth = tiles(open_page(path, lob="wealth"))  # the landing of the LOB's own series
    with runtime.cursor() as cur:
        (lob_landing,) = cur.execute(
            "SELECT landing FROM forecast_landing WHERE series = 'lob:wealth' "
            "AND period_kind = 'month'"
        ).fetchall()[0]
    assert wealth["Month-end landing"].value == fmt.money(lob_landing)


def test_without_a_forecast_the_landing_says_how_to_get_one(make_estate, open_page, factory):
    path, _ = make_estate(factory.estate(10, lobs=["wealth"]), models=False)
    at = open_page(path)
    assert tiles(at)["Month-end landing"].value == fmt.MISSING
    assert any("No forecast yet — run `genai-lens models run`" in c.value for c in at.caption)


def test_account_and_region_filters_change_every_tile(make_warehouse, open_page, factory):
    hour = factory.this_hour() - timedelta(hours=2)
    rows = [
        factory.usage_row(hour=hour, account_id="111122223333", region="us-east-1",
                          invocations=40),
        factory.usage_row(hour=hour, account_id="444455556666", region="eu-west-1",
                          invocations=60, lob="wealth", app="research-assistant"),
    ]  # fmt: skip
    path = make_warehouse(rows)
    assert tiles(open_page(path))["Invocations"].value == "100"
    by_account = open_page(path, account="444455556666")
    assert tiles(by_account)["Invocations"].value == "60"
    assert tiles(by_account)["Estimated spend"].value == fmt.money(rows[1]["est_cost_usd"])
    by_region = open_page(path, region="us-east-1", app="advisor-chat")
    assert tiles(by_region)["Invocations"].value == "40"
    assert tiles(by_region)["Active LOBs · apps"].value == "1 · 1"


def test_a_previous_span_the_data_only_partly_covers_shows_no_change(
    make_warehouse, open_page, factory
):
    """Data starting a day before the period: one day against thirty is no baseline."""
    at = open_page(make_warehouse(factory.estate(31, seed=9)))
    shown = tiles(at)
    assert not shown["Invocations"].proto.delta and not shown["Active LOBs · apps"].proto.delta
    assert any(c.value.startswith("Data starts ") for c in at.caption)
    assert at.dataframe[0].value["vs previous"].isna().all()
