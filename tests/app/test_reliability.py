"""The Reliability page: log and CloudWatch latency, errors by code, throttle pressure, and
which filters each panel honours."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from app import view
from base import format as fmt
from warehouse import runtime


def tile(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def sql_row(query: str, params: list) -> tuple:
    with runtime.cursor() as cur:
        return cur.execute(query, params).fetchall()[0]


def since() -> datetime:
    return datetime.combine(view.today() - timedelta(days=29), datetime.min.time())


@pytest.fixture
def estate(make_estate, factory):
    path, _ = make_estate(factory.estate(40, seed=13))
    return path


def test_error_and_throttle_rates_follow_the_lob_filter(estate, open_page):
    everyone = open_page(estate, "reliability")
    n, errors, throttles = sql_row(
        "SELECT sum(invocations), sum(errors), sum(throttles) FROM usage_hourly WHERE hour >= ?",
        [since()],
    )
    assert tile(everyone, "Error rate") == fmt.percent(errors / n)
    assert tile(everyone, "Throttle rate") == fmt.percent(throttles / n)

    at = open_page(estate, "reliability", lob="customer-service")
    n, errors = sql_row(
        "SELECT sum(invocations), sum(errors) FROM usage_hourly WHERE hour >= ? AND lob = ?",
        [since(), "customer-service"],
    )
    assert tile(at, "Error rate") == fmt.percent(errors / n)
    assert tile(at, "Invocations") == fmt.compact(n) != tile(everyone, "Invocations")


def test_cloudwatch_latency_per_model_is_the_sample_weighted_percentile(estate, open_page, factory):
    at = open_page(estate, "reliability")
    table = next(d.value for d in at.dataframe if "Latency p99" in d.value.columns)
    (p99,) = sql_row(
        "SELECT sum(p99 * samples) / sum(samples) FROM usage_metrics_hourly "
        "WHERE metric_name = 'InvocationLatency' AND model = ? AND hour >= ?",
        [factory.SONNET, since()],
    )
    row = table[table["Model"] == "claude-sonnet-4"].iloc[0]
    assert row["Latency p99"] == pytest.approx(p99 / 1000)  # shown in seconds
    assert row["TTFT p99"] < row["Latency p99"]
    trend = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in trend["data"]} <= set(table["Model"])


def test_cloudwatch_panels_say_the_lob_filter_does_not_apply(estate, open_page):
    at = open_page(estate, "reliability", lob="wealth")
    notes = [c.value for c in at.caption if c.value.startswith("CloudWatch metrics")]
    assert notes and all("**LOB and application filters do not apply" in n for n in notes)
    quiet = open_page(estate, "reliability")  # no LOB picked: said, but not in bold
    assert any(
        "LOB and application filters do not apply" in c.value and "**" not in c.value
        for c in quiet.caption
    )


def test_errors_by_code_follow_the_model_filter(estate, open_page, factory):
    at = open_page(estate, "reliability", model=factory.HAIKU)
    per_day = json.loads(at.get("plotly_chart")[2].proto.spec)
    shown = sum(sum(t["y"]) for t in per_day["data"])
    (expected,) = sql_row(
        "SELECT sum(errors) FROM usage_errors_hourly WHERE hour >= ? AND model = ?",
        [since(), factory.HAIKU],
    )
    assert shown == expected > 0
    assert {t["name"] for t in per_day["data"]} <= {
        "ThrottlingException", "ValidationException", "ModelErrorException",
    }  # fmt: skip


def test_slowest_and_most_failing_applications(estate, open_page):
    at = open_page(estate, "reliability")
    slow, failing = (d.value for d in at.dataframe if "Application" in d.value.columns)
    assert slow["p99"].is_monotonic_decreasing
    assert failing["Error rate"].is_monotonic_decreasing
    assert (failing["Invocations"] >= 50).all()


def test_throttle_pressure_against_quota(estate, open_page, make_estate, factory):
    at = open_page(estate, "reliability")
    quota = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert quota["data"][0]["name"] == "Throttles"
    assert len(quota["data"]) > 1  # and a quota line per model

    path, _ = make_estate(factory.estate(5, lobs=["wealth"]), metrics=False, name="no-cw.duckdb")
    bare = open_page(path, "reliability")
    assert any("EstimatedTPMQuotaUsage" in i.value for i in bare.info)
    assert any("No CloudWatch latency" in i.value for i in bare.info)


def invoke_model_rows(factory, days: int = 10) -> list[dict]:
    """An InvokeModel-only application: its log records carry no latency at all."""
    rows = []
    for d in range(days):
        hour = factory.this_hour() - timedelta(days=d, hours=2)
        rows.append(factory.usage_row(
            hour=hour, lob="marketing", app="social-listening", operation="InvokeModel",
            invocations=400, latency_count=0, latency_ms_sum=None, latency_p50_ms=None,
            latency_p90_ms=None, latency_p95_ms=None, latency_p99_ms=None,
        ))  # fmt: skip
    return rows


def test_an_app_without_logged_latency_is_not_the_slowest(make_estate, open_page, factory):
    """polars sums an all-null column to 0 and 0/0 is NaN, which sorted first: the busiest app
    without latency topped "Slowest applications" with blank figures."""
    rows = factory.estate(20, seed=4) + invoke_model_rows(factory)
    path, _ = make_estate(rows)
    at = open_page(path, "reliability")
    slow = next(d.value for d in at.dataframe if "Application" in d.value.columns)
    assert "social-listening" not in set(slow["Application"])
    assert slow["p99"].notna().all() and slow["p99"].is_monotonic_decreasing
    assert any("No latency logged for 1 application(s)" in c.value and "social-listening"
               in c.value for c in at.caption)  # fmt: skip
    assert any("averaged with calls as weight" in c.value for c in at.caption)  # said, not hidden

    alone = open_page(path, "reliability", app="social-listening")
    assert any("No latency logged" in i.value and "InvokeModel" in i.value for i in alone.info)
    titles = [m.value for m in alone.markdown]
    assert "**Latency p99 per day, by LOB**" not in titles  # no chart of nothing


def test_app_reliability_gives_null_not_nan_without_latency(factory):
    import polars as pl

    from app import reduce

    timings = reduce.LOG_PERCENTILES
    usage = pl.DataFrame([
        {"day": r["hour"].date(), "lob": r["lob"], "app": r["app"], "model": r["model"],
         "invocations": r["invocations"], "errors": 0, "throttles": 0,
         **{f"{t}_count": 0 for t in timings}, **{f"{t}_ms_sum": None for t in timings},
         **{f"{t}_{p}_{k}": None for t, kept in timings.items() for p in kept
            for k in ("weighted", "count")}}
        for r in invoke_model_rows(factory, 2)
    ], schema_overrides={
        **{f"{t}_ms_sum": pl.Float64 for t in timings},
        **{f"{t}_{p}_weighted": pl.Float64 for t, kept in timings.items() for p in kept},
    })  # fmt: skip
    out = reduce.app_reliability(usage)
    columns = [f"{t}_mean_ms" for t in timings]
    columns += [f"{t}_{p}_ms" for t, kept in timings.items() for p in kept]
    assert len(columns) == 9
    for column in columns:
        assert out[column].null_count() == len(out) and not out[column].is_nan().any()


def test_quota_hint_names_what_the_loaded_metrics_lack(make_estate, open_page, factory):
    path, _ = make_estate(factory.estate(5, lobs=["wealth"]), name="no-quota.duckdb")
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("DELETE FROM usage_metrics_hourly WHERE metric_name = 'EstimatedTPMQuotaUsage'")
    con.close()
    at = open_page(path, "reliability")
    hint = next(i.value for i in at.info if "EstimatedTPMQuotaUsage" in i.value)
    assert "do not include EstimatedTPMQuotaUsage" in hint and "InvocationLatency" in hint
    assert "Is the metrics source configured" not in hint  # the metrics are loaded


def weighted(pct: str, lob: str | None = None, timing: str = "latency") -> float:
    """The page's definition, computed here from the rollup: hourly values weighted by calls."""
    column, calls = f"{timing}_{pct}_ms", f"{timing}_count"
    (value,) = sql_row(
        f"SELECT sum({column} * {calls}) / sum({calls}) FILTER (WHERE {column} IS NOT NULL) "
        "FROM usage_hourly WHERE hour >= ? AND (? IS NULL OR lob = ?)",
        [since(), lob, lob],
    )
    return value


def per_lob_table(at):
    cols = [set(d.value.columns) for d in at.dataframe]
    return at.dataframe[cols.index({"LOB", "Timed calls", "Mean", "p50", "p90", "p99"})].value


def test_p50_p90_p99_per_lob_and_application_from_the_logs(estate, open_page):
    at = open_page(estate, "reliability")
    per_lob = per_lob_table(at)
    assert len(per_lob) > 1
    for row in per_lob.itertuples():
        for pct in ("p50", "p90", "p99"):
            assert getattr(row, pct) == pytest.approx(weighted(pct, row.LOB) / 1000)
        assert row.p50 < row.p90 < row.p99
    assert per_lob["p99"].is_monotonic_decreasing  # slowest first
    assert len(set(per_lob["p99"].round(6))) > 1  # the LOBs differ, not one constant
    slow = next(d.value for d in at.dataframe if "Application" in d.value.columns)
    assert list(slow.columns[-5:]) == ["Timed calls", "Mean", "p50", "p90", "p99"]


def test_the_percentile_picker_redraws_the_lob_chart_and_reranks_the_applications(
    estate, open_page
):
    at = open_page(estate, "reliability")
    titles = [m.value for m in at.markdown]
    assert "**Latency p99 per day, by LOB**" in titles
    assert "**Slowest applications** (latency p99, at least 50 timed calls)" in titles
    at.segmented_control(key="log_pct").set_value("p50").run()
    assert not at.exception
    titles = [m.value for m in at.markdown]
    assert "**Latency p50 per day, by LOB**" in titles
    assert "**Slowest applications** (latency p50, at least 50 timed calls)" in titles
    slow = next(d.value for d in at.dataframe if "Application" in d.value.columns)
    assert slow["p50"].is_monotonic_decreasing
    assert len(slow) > 1


def test_time_to_first_byte_per_lob_and_application_from_streamed_calls(estate, open_page):
    at = open_page(estate, "reliability")
    at.segmented_control(key="log_timing").set_value("first_byte").run()
    assert not at.exception
    titles = [m.value for m in at.markdown]
    assert "**First byte p99 per day, by LOB**" in titles
    per_lob = per_lob_table(at)
    (streamed,) = sql_row(
        "SELECT count(DISTINCT lob) FROM usage_hourly WHERE hour >= ? AND first_byte_count > 0",
        [since()],
    )
    assert len(per_lob) == streamed > 0
    for row in per_lob.itertuples():
        assert row.p99 == pytest.approx(weighted("p99", row.LOB, "first_byte") / 1000)
        (calls,) = sql_row(
            "SELECT sum(first_byte_count) FROM usage_hourly WHERE hour >= ? AND lob = ?",
            [since(), row.LOB],
        )
        assert row[2] == calls  # "Timed calls": the streamed calls, not every invocation
    slow = next(d.value for d in at.dataframe if "Application" in d.value.columns)
    assert (slow["Timed calls"] >= 50).all() and slow["p99"].is_monotonic_decreasing
    # Apps that never stream are named, not ranked with blank figures
    assert any("No first-byte latency logged" in c.value for c in at.caption)
