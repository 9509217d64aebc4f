"""The Spend page: allocated spend honouring every filter, forecasts and their absence, unit
economics with cache savings, estimate vs bill, and the chargeback downloads (FOCUS 1.2)."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from app import data, view
from base import format as fmt
from models import focus
from warehouse import runtime

FOCUS_COLUMNS = json.loads(Path(__file__).with_name("focus_1_2_columns.json").read_text())


def tile(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def sql_one(query: str, params: list) -> float:
    with runtime.cursor() as cur:
        return float(cur.execute(query, params).fetchall()[0][0] or 0)


@pytest.fixture
def estate(make_estate, factory):
    rows = factory.estate(40, seed=8)
    path, info = make_estate(rows)
    return path, rows, info


def test_billed_spend_follows_the_lob_filter_to_the_cent(estate, open_page):
    path, _, _ = estate
    everyone = open_page(path, "spend")
    first = view.today() - timedelta(days=29)
    total = sql_one("SELECT sum(allocated_cost) FROM cost_allocated WHERE usage_date >= ?", [first])
    assert tile(everyone, "Billed") == fmt.money(total)

    wealth = open_page(path, "spend", lob="wealth")
    billed = sql_one(
        "SELECT sum(allocated_cost) FROM cost_allocated WHERE usage_date >= ? AND lob = ?",
        [first, "wealth"],
    )
    assert tile(wealth, "Billed") == fmt.money(billed) != tile(everyone, "Billed")
    spend_chart = wealth.get("plotly_chart")[0]
    assert [t["name"] for t in json.loads(spend_chart.proto.spec)["data"]] == ["wealth"]


def test_an_application_filter_splits_the_bill_by_its_share_of_the_estimate(estate, open_page):
    path, rows, _ = estate
    at = open_page(path, "spend", app="advisor-chat")  # one of retail-banking's two apps
    first = view.today() - timedelta(days=29)
    est = defaultdict(float)  # (day, lob, model) -> estimate, and the app's part of it
    mine = defaultdict(float)
    for r in rows:
        if r["est_cost_usd"] is not None and r["hour"].date() >= first:
            key = (r["hour"].date(), r["lob"], r["model"])
            est[key] += r["est_cost_usd"]
            mine[key] += r["est_cost_usd"] if r["app"] == "advisor-chat" else 0
    with runtime.cursor() as cur:
        allocated = cur.execute(
            "SELECT usage_date, lob, model, sum(allocated_cost)::DOUBLE FROM cost_allocated "
            "WHERE usage_date >= ? GROUP BY ALL", [first]
        ).fetchall()  # fmt: skip
    expected = sum(cost * mine[(d, lob, m)] / est[(d, lob, m)] for d, lob, m, cost in allocated)
    assert expected > 0 and tile(at, "Billed") == fmt.money(expected)


def test_days_after_the_bill_are_estimated_and_said_so(make_estate, factory, open_page):
    path, _ = make_estate(factory.estate(20, lobs=["wealth"], seed=3), bill=False)
    at = open_page(path, "spend")
    assert tile(at, "Billed") == fmt.MISSING
    assert tile(at, "Not billed yet") == tile(at, "Spend")
    assert any("No bill yet: estimated from invocation logs" in c.value for c in at.caption)
    assert any("No allocated bill" in i.value for i in at.info)


def test_forecast_landing_backtests_and_cost_explorer_beside_ours(estate, open_page):
    path, _, _ = estate
    at = open_page(path, "spend")
    assert at.selectbox(key="series").value == "total"
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    forecast = next(c for c in charts if any(t.get("name") == "Forecast" for t in c["data"]))
    assert {"Actual", "Forecast", "80% interval", "95% interval"} <= {
        t.get("name") for t in forecast["data"]
    }
    landing = next(d.value for d in at.dataframe if "P(over budget)" in d.value.columns)
    assert set(landing["Period"]) == {"Month", "Quarter"}
    assert "All LOBs (total)" in set(landing["Series"])
    backtests = next(d.value for d in at.dataframe if "Naive MAPE" in d.value.columns)
    beats = backtests["MAPE"] < backtests["Naive MAPE"]
    assert (backtests["Beats naive"] == beats.map({True: "yes", False: "no"})).all()
    assert beats.any() and not beats.all()  # the factory's series do both
    beside = next(d.value for d in at.dataframe if "Month end" in d.value.columns)
    assert list(beside["Forecast"]) == ["genai-lens (Prophet)", "AWS Cost Explorer"]
    assert beside["Month end"].iloc[1] == 1000.0

    wealth = open_page(path, "spend", lob="wealth")
    assert wealth.selectbox(key="series").options == ["wealth"]  # label of 'lob:wealth'


def test_without_a_model_run_each_model_panel_says_how_to_get_one(make_estate, factory, open_page):
    path, _ = make_estate(factory.estate(15, lobs=["wealth"], seed=2), models=False)
    at = open_page(path, "spend")
    told = [i.value for i in at.info if "No forecast yet — run `genai-lens models run`" in i.value]
    assert len(told) == 3  # forecast, landing, backtests
    assert "Spend per day" in [s.value for s in at.subheader]


def test_cache_savings_price_the_cache_reads_at_input_minus_cache_price(
    make_estate, factory, open_page
):
    hour = factory.this_hour() - timedelta(hours=3)
    rows = [factory.usage_row(hour=hour, cache_read_tokens=2_000_000, invocations=100)]
    path, _ = make_estate(rows, models=False, bill=False)
    at = open_page(path, "spend")
    assert tile(at, "Cache savings") == fmt.money(2_000_000 * (3.00 - 0.30) / 1e6) == "$5.40"
    units = next(d.value for d in at.dataframe if "Cache savings" in d.value.columns)
    assert units["Cache savings"].tolist() == pytest.approx([5.40])


def test_reconciliation_shows_the_drift_per_model(estate, open_page):
    path, _, _ = estate
    at = open_page(path, "spend")
    table = next(d.value for d in at.dataframe if "Drift %" in d.value.columns)
    billed = table.dropna(subset=["Bill"])
    assert ((billed["Drift"] / billed["Bill"] * 100 - billed["Drift %"]).abs() < 1e-9).all()
    assert billed["Drift %"].round(2).eq(2.91).all()  # the factory's bill runs 3% over


def test_chargeback_downloads_match_the_allocation(estate, open_page):
    path, _, _ = estate
    at = open_page(path, "spend")
    assert [b.label for b in at.get("download_button")] == [
        "Chargeback CSV", "FOCUS 1.2 Parquet", "FOCUS 1.2 CSV",
    ]  # fmt: skip
    frame = data.chargeback(view.window(view.Filters(view.today() - timedelta(29), view.today()),
                                        data.freshness()))  # fmt: skip
    total = sql_one(
        "SELECT sum(allocated_cost) FROM cost_allocated WHERE usage_date >= ?",
        [view.today() - timedelta(days=29)],
    )
    plain = pl.read_csv(io.BytesIO(focus.chargeback_csv(frame)))
    assert plain["Allocated cost (USD)"].sum() == pytest.approx(total, abs=0.005)
    rows = pl.read_parquet(io.BytesIO(focus.focus_parquet(frame)))
    assert float(rows["BilledCost"].cast(pl.Float64).sum()) == pytest.approx(total, abs=0.005)
    as_csv = pl.read_csv(io.BytesIO(focus.focus_csv(frame)))
    assert as_csv.columns == rows.columns


def test_focus_rows_carry_every_mandatory_and_recommended_1_2_column(estate, use_warehouse):
    path, _, _ = estate
    use_warehouse(path)
    frame = data.chargeback(view.window(view.Filters(view.today() - timedelta(29), view.today()),
                                        data.freshness()))  # fmt: skip
    rows = focus.focus_rows(frame)
    spec = {c["ColumnId"]: c for c in FOCUS_COLUMNS["columns"]}
    required = {n for n, c in spec.items() if c["FeatureLevel"] in ("Mandatory", "Recommended")}
    assert required <= set(rows.columns)
    for name in rows.columns:
        assert name in spec or name.startswith("x_"), f"{name}: not a FOCUS 1.2 column"
        if name in spec and spec[name]["AllowsNulls"] == "False":
            assert rows[name].null_count() == 0, name
        if name in spec and spec[name]["DataType"] == "Decimal":
            dtype = rows[name].dtype  # the bill's precision: 10 decimals, never cents
            assert isinstance(dtype, pl.Decimal) and dtype.scale == 10, name
        if name in spec and spec[name]["DataType"] == "Date/Time":
            assert rows[name].dtype == pl.Datetime("us", "UTC"), name
    assert {"x_Lob", "x_Model", "x_TokenKind"} <= set(rows.columns)
    first = rows.row(0, named=True)
    assert first["ChargePeriodEnd"] - first["ChargePeriodStart"] == timedelta(days=1)
    assert first["ServiceName"] == "Amazon Bedrock" and first["BillingCurrency"] == "USD"
    assert focus.publisher("us.anthropic.claude-sonnet-4-20250514-v1:0") == "Anthropic"


def test_forecast_chart_keeps_actuals_readable_and_says_what_it_cuts(
    estate, open_page, use_warehouse
):
    """A 95% band fanning out to forty times the spend flattened the actuals into a line along
    zero: the axis stops a quarter above the highest actual or forecast, the chart reaches the
    month end unless asked for more, and the cut is said."""
    path, _, _ = estate
    use_warehouse(path)
    with runtime.cursor() as cur:
        cur.execute("UPDATE forecasts SET hi95 = hi95 * 40 WHERE actual IS NULL")
        (top95,) = cur.execute(
            "SELECT max(hi95) FROM forecasts WHERE series = 'total' "
            "AND day <= greatest(last_day(current_date), current_date + 7)"
        ).fetchone()
        (last_day,) = cur.execute("SELECT max(day) FROM forecasts").fetchone()
    runtime.close()

    def forecast_of(at) -> dict:
        charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        return next(c for c in charts if any(t.get("name") == "Forecast" for t in c["data"]))

    at = open_page(path, "spend")
    chart = forecast_of(at)
    actual = next(t for t in chart["data"] if t["name"] == "Actual")
    forecast = next(t for t in chart["data"] if t["name"] == "Forecast")
    assert chart["layout"]["yaxis"]["range"][1] < top95 / 10
    assert chart["layout"]["yaxis"]["range"][1] > max(actual["y"] + forecast["y"])
    month_end = view.month_end(view.today())
    assert chart["layout"]["xaxis"]["range"][1][:10] <= str(
        max(month_end, view.today() + timedelta(days=7))
    )
    assert any(c.value.startswith("The intervals run past the chart") for c in at.caption)

    whole = forecast_of(open_page(path, "spend", horizon="Whole forecast"))
    assert whole["layout"]["xaxis"]["range"][1][:10] == str(last_day)


def test_landing_backtests_and_cost_explorer_say_what_they_are(estate, open_page, use_warehouse):
    path, _, _ = estate
    use_warehouse(path)
    with runtime.cursor() as cur:
        cur.execute(
            "UPDATE forecast_backtests SET origins = 0, mape = NULL, naive_mape = NULL, "
            "coverage80 = NULL, coverage95 = NULL WHERE horizon_days = 30"
        )
        cur.execute("DELETE FROM cost_forecast")
        (through,) = cur.execute(
            "SELECT max(day) FROM forecasts WHERE series = 'total' AND actual IS NOT NULL"
        ).fetchone()
    runtime.close()
    at = open_page(path, "spend")
    backtests = next(d.value for d in at.dataframe if "Naive MAPE" in d.value.columns)
    no_origin = backtests[backtests["Origins"] == 0]
    assert len(no_origin) and set(no_origin["Beats naive"]) == {fmt.MISSING}  # not "no"
    assert set(backtests[backtests["Origins"] > 0]["Beats naive"]) <= {"yes", "no"}
    beside = next(d.value for d in at.dataframe if "Month end" in d.value.columns)
    assert list(beside["Forecast"]) == ["genai-lens (Prophet)"]
    assert any("Cost Explorer: no forecast for this month" in c.value for c in at.caption)
    landing = next(d.value for d in at.dataframe if "P(over budget)" in d.value.columns)
    total = landing[(landing["Series"] == "All LOBs (total)") & (landing["Period"] == "Month")]
    assert str(total["Actuals to"].iloc[0])[:10] == str(through)
    assert any(c.value.startswith("To date: the forecast's actuals") for c in at.caption)


def test_spend_says_how_much_was_allocated_by_tag_principal_share_and_unattributed(
    estate, open_page
):
    path, _, _ = estate
    con = duckdb.connect(str(path))
    day = con.execute("SELECT max(usage_date) FROM cost_allocated").fetchone()[0]
    con.execute(
        "INSERT INTO cost_allocated (usage_date, lob, model, token_kind, basis, allocated_cost, "
        "bill_source, principal_arn) VALUES "
        "(?, 'risk', 'amazon.nova-pro-v1:0', 'input', 'principal', 12.3456789012, 'cur', 'r1'), "
        "(?, 'unattributed', 'amazon.nova-pro-v1:0', 'input', 'principal', 1.5, 'cur', 'r2'), "
        "(?, 'wealth', 'amazon.nova-pro-v1:0', 'input', 'tag', 4.25, 'cur', NULL)",
        [day, day, day],
    )
    bases = con.execute(
        "SELECT sum(allocated_cost) FILTER (basis = 'share' AND lob <> 'unattributed'), "
        "sum(allocated_cost) FILTER (lob = 'unattributed') FROM cost_allocated "
        "WHERE usage_date >= ?",
        [view.today() - timedelta(days=29)],
    ).fetchone()
    con.close()
    at = open_page(path, "spend")
    text = next(m.value for m in at.markdown if "Allocated:" in m.value)
    assert f"{fmt.money(4.25)} by the bill's tags" in text
    assert f"{fmt.money(12.3456789012)} by the bill's caller (IAM principal)" in text
    assert f"{fmt.money(float(bases[0]))} by estimated share of logged usage" in text
    assert f"{fmt.money(float(bases[1]))} unattributed" in text
