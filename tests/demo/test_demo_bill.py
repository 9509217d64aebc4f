"""The demo estate's bill (CUR 2.0 and FOCUS exports) goes through the production cost ingester
and agrees with the invocations: to the cent where logs exist, more where logging was off, a
spike where the runaway was, and an earlier delivery is restated, not duplicated."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from base.settings import load_settings
from demo import bill as demo_bill
from demo import world as w
from demo.estate import generate_estate, simulate
from ingest.cost import ingester as cost
from ingest.invocation_logs import ingester as invocation_logs
from warehouse.db import connect

# A month boundary inside the estate; the early delivery sees February open, the settled one
# sees it invoiced (INVOICE_DELAY after March 1).
END = datetime(2026, 3, 4, 15, tzinfo=UTC)
DAYS, SEED, PER_DAY = 9, 3, 600
EARLY = END - timedelta(days=1)
# Natural key of a cost_daily row from an export.
KEY = "source, usage_date, account_id, service, usage_type, region, tags, breakdown"


def _cost_rows(con: Any) -> list[tuple[Any, ...]]:
    # Token lines: the platform lines (ingest/demo_platform.py) have tests of their own.
    return con.execute(f"SELECT {KEY}, unblended_cost, net_unblended_cost, estimated "
                       "FROM cost_daily WHERE usage_kind = 'tokens' "
                       "ORDER BY ALL").fetchall()  # fmt: skip


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The estate; logs and an early bill delivery ingested, then the settled one, twice."""
    out = tmp_path_factory.mktemp("demo-bill")
    summary = generate_estate(out, days=DAYS, seed=SEED, end=END, per_day=PER_DAY)
    frame = simulate(days=DAYS, seed=SEED, end=END, per_day=PER_DAY)
    settings = load_settings(summary.config_path)
    con = connect(out / "w.duckdb")
    con.register("skus", demo_bill.sku_table().to_arrow())  # (service, usage type) -> model
    # invocation_logs.run and cost.run: what `genai-lens ingest` runs for the configured zones.
    invocation_logs.run(con, settings)
    assert summary.bill is not None
    settled = {p: p.read_bytes() for p in summary.bill.rglob("*") if p.is_file()}
    early = demo_bill.write_bill(frame, summary.bill, end=END, as_of=EARLY)
    cost.run(con, settings)
    early_rows = _cost_rows(con)
    for path, data in settled.items():  # the settled delivery overwrites the periods
        path.write_bytes(data)
    stats = [cost.run(con, settings), cost.run(con, settings)]
    return {"summary": summary, "con": con, "frame": frame, "early": early, "stats": stats,
            "early_rows": early_rows, "settings": settings,
            "truth": json.loads(summary.ground_truth_path.read_text())}  # fmt: skip


def incident(loaded: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(i for i in loaded["truth"]["incidents"] if i["kind"] == kind)


def days_of(inc: dict[str, Any]) -> set[date]:
    """The UTC days an incident's [start, end) touches."""
    t0, t1 = (datetime.fromisoformat(inc[k].replace("Z", "+00:00")) for k in ("start", "end"))
    last = (t1 - timedelta(seconds=1)).date()
    return {t0.date() + timedelta(days=i) for i in range((last - t0.date()).days + 1)}


def comparison(con: Any) -> pl.DataFrame:
    """Per (day, account, region, model, token kind): CUR and FOCUS billed cost, and the
    estimate from the invocations table (tokens x the price catalog in force, geo premium)."""
    profiles = pl.DataFrame({"arn": [p.arn for p in w.PROFILES],
                             "profile_model": [p.model for p in w.PROFILES]})  # fmt: skip
    con.register("profile_models", profiles.to_arrow())
    return con.sql("""
        WITH inv AS (
            SELECT CAST(ts AS DATE) AS day, account_id, region, profile_scope,
                -- The one profile the config does not list is resolved here from the estate.
                coalesce(model, p.profile_model) AS model,
                input_tokens AS input, output_tokens AS output,
                cache_read_tokens AS cache_read, cache_write_tokens AS cache_write
            FROM invocations LEFT JOIN profile_models p ON p.arn = model_id
        ), tokens AS (
            UNPIVOT inv ON input, output, cache_read, cache_write INTO NAME kind VALUE tokens
        ), est AS (
            SELECT t.day, t.account_id, t.region, t.model, t.kind,
                sum(t.tokens * CASE t.kind WHEN 'input' THEN p.input_per_1m
                    WHEN 'output' THEN p.output_per_1m WHEN 'cache_read' THEN p.cache_read_per_1m
                    ELSE p.cache_write_per_1m END
                    * CASE WHEN t.profile_scope = 'geo' THEN 1 + p.geo_premium ELSE 1 END) / 1e6
                    AS est
            FROM tokens t ASOF JOIN prices p
                ON p.model = t.model AND p.region = '*' AND p.effective_from <= t.day
            WHERE t.tokens > 0
            GROUP BY ALL
        ), billed AS (
            SELECT usage_date AS day, account_id, c.region, s.model, token_kind AS kind,
                sum(unblended_cost) FILTER (source = 'cur') AS cur,
                sum(unblended_cost) FILTER (source = 'focus') AS focus
            FROM cost_daily c LEFT JOIN skus s USING (service, usage_type)
            GROUP BY ALL
        )
        SELECT * FROM billed FULL JOIN est USING (day, account_id, region, model, kind)
        ORDER BY ALL
    """).pl()


@pytest.fixture(scope="module")
def compared(loaded: dict[str, Any]) -> pl.DataFrame:
    return comparison(loaded["con"])


def test_config_names_both_exports_and_both_load(loaded):
    s, con = loaded["summary"], loaded["con"]
    zones = loaded["settings"].cost.landing_zones
    assert [z.name for z in zones] == ["demo-cur", "demo-focus"]
    assert loaded["settings"].cost.tag_keys == ["lob", "app"]
    assert s.bill == s.out_dir / "bill" and s.bill_files == 4  # 2 periods x 2 exports
    assert loaded["truth"]["bill"]["periods"] == ["2026-02", "2026-03"]
    got = con.execute("SELECT source, count(*), count(DISTINCT usage_date) FROM cost_daily "
                      "WHERE usage_kind = 'tokens' GROUP BY 1 ORDER BY 1").fetchall()  # fmt: skip
    assert [g[0] for g in got] == ["cur", "focus"] and got[0][1] == got[1][1] > 100
    assert got[0][2] == DAYS + 1  # the estate's first and last days are partial
    assert con.execute("SELECT count(*) FROM quarantine WHERE source = 'cost'").fetchone() == (0,)


def test_every_line_classifies_and_the_model_agrees(loaded):
    rows = (
        loaded["con"]
        .execute(
            "SELECT DISTINCT c.service, c.usage_type, c.model, s.model, c.token_kind, "
            "c.pricing_scope FROM cost_daily c LEFT JOIN skus s USING (service, usage_type) "
            "WHERE c.usage_kind = 'tokens'"
        )
        .fetchall()
    )
    assert rows and all(r[3] is not None for r in rows)  # every line is a demo model's
    assert all(r[2] in (None, r[3]) for r in rows)  # the classifier never names another model
    assert {r[4] for r in rows} == {"input", "output", "cache_read", "cache_write"}
    assert {r[5] for r in rows} == {"regional", "global"}
    generations = {("_standard-" in r[1], "InputTokenCount" in r[1]) for r in rows}
    assert {(True, False), (False, True)} <= generations  # both Marketplace naming generations
    assert any(r[0] == "Amazon Bedrock" for r in rows)
    assert any(r[0].endswith(" (Amazon Bedrock Edition)") for r in rows)


def test_billed_equals_the_estimate_where_logs_exist(loaded, compared):
    gap = incident(loaded, "logging_off")
    dark = (
        pl.col("day").is_in(days_of(gap))
        & (pl.col("account_id") == gap["account"])
        & (pl.col("region") == gap["region"])
    )
    # Nova cache writes have no catalog price: neither billed nor estimated.
    unpriced = pl.col("cur").is_null() & pl.col("est").is_null()
    assert (compared.filter(unpriced)["kind"] == "cache_write").all()
    priced = compared.filter(pl.col("model") != w.UNPRICED_MODEL, ~dark, ~unpriced)
    assert priced.filter(pl.col("cur").is_null() | pl.col("est").is_null()).is_empty()
    cur, est = priced["cur"].cast(pl.Float64), priced["est"]
    assert ((cur - est).abs() <= 1e-9 + 1e-9 * est).all()  # per-line rounding only
    total = float(cur.sum())
    assert total > 50 and abs(total - est.sum()) < 1e-6


def test_focus_bills_the_enterprise_discount_on_first_party_lines(compared):
    rows = compared.filter(pl.col("cur").is_not_null()).with_columns(
        pl.col("focus", "cur").cast(pl.Float64),
        marketplace=pl.col("model").replace_strict(
            {m: s.marketplace for m, s in demo_bill.SKUS.items()}
        ),
    )
    discount = pl.when("marketplace").then(1.0).otherwise(1 - demo_bill.EDP_DISCOUNT)
    off = (pl.col("focus") - pl.col("cur") * discount).abs()
    assert rows.filter(off > 1e-8).is_empty()  # per-line rounding to 1e-10 only
    assert rows["marketplace"].any() and (~rows["marketplace"]).any()


def test_the_logging_gap_is_billed_but_not_logged(loaded, compared):
    gap = incident(loaded, "logging_off")
    frame = loaded["frame"]
    dark = compared.filter(
        pl.col("day").is_in(days_of(gap)),
        pl.col("account_id") == gap["account"],
        pl.col("region") == gap["region"],
        pl.col("model") != w.UNPRICED_MODEL,
    )
    billed, est = float(dark["cur"].cast(pl.Float64).sum()), float(dark["est"].fill_null(0).sum())
    unlogged = frame.filter(~pl.col("logged"), pl.col("model") != w.UNPRICED_MODEL)
    settled = END + timedelta(hours=demo_bill.LAG_MAX_H)
    expected = float(demo_bill.billable(unlogged, settled)["cost"].sum())
    assert expected > 0 and billed > est
    assert billed - est == pytest.approx(expected, rel=1e-6)
    assert loaded["truth"]["bill"]["logging_gap_list_usd"] >= round(expected, 6)


def test_the_cost_runaway_is_a_spend_spike(loaded, compared):
    run = incident(loaded, "cost_runaway")
    app = w.APPS[w.APP_INDEX[run["app"]]]
    # The bill does not know apps: FinOps sees the app's models spike in its account/region.
    daily = (
        compared.filter(
            pl.col("account_id") == run["account"],
            pl.col("region") == run["region"],
            pl.col("model").is_in([m for m, _ in app.models]),
        )
        .group_by("day")
        .agg(pl.col("cur").cast(pl.Float64).sum())
    )
    hit = pl.col("day").is_in(days_of(run))
    inside, outside = (daily.filter(f)["cur"].max() for f in (hit, ~hit))
    assert inside >= 2.5 * outside  # type: ignore[operator]


def test_tagged_profiles_give_tag_rows_per_lob(loaded):
    got = dict(
        loaded["con"]
        .execute(
            "SELECT tags['lob'], sum(unblended_cost) FROM cost_daily WHERE source = 'focus' "
            "AND cardinality(tags) > 0 GROUP BY 1"
        )
        .fetchall()
    )
    assert set(got) == {"insurance", "hr"} and all(v > 0 for v in got.values())
    apps = {r[0] for r in loaded["con"].execute(
        "SELECT DISTINCT tags['app'] FROM cost_daily WHERE source = 'cur'").fetchall()}  # fmt: skip
    assert {"claims-summarizer", "policy-bot", "resume-screen"} <= apps


def test_an_early_delivery_is_restated_not_duplicated(loaded):
    con, early_rows = loaded["con"], loaded["early_rows"]
    final = _cost_rows(con)
    dupes = con.execute(f"SELECT {KEY}, count(*) FROM cost_daily GROUP BY ALL "
                        "HAVING count(*) > 1").fetchall()  # fmt: skip
    assert dupes == []
    by_day = lambda rows: {  # noqa: E731
        d: sum(r[8] for r in rows if r[0] == "cur" and r[1] == d) for d in {r[1] for r in rows}
    }
    before, after = by_day(early_rows), by_day(final)
    assert float(sum(before.values())) == pytest.approx(loaded["early"].list_usd, abs=1e-5)
    restated = {d for d in before if before[d] != after[d]}
    # The delivery a day early lacks the last day and meters the day or two before it partly.
    assert max(before) == EARLY.date() and max(after) == (END - timedelta(seconds=1)).date()
    assert restated and min(restated) >= (EARLY - timedelta(hours=demo_bill.LAG_MAX_H)).date()
    assert all(after[d] > before[d] for d in restated)
    cur_total = sum(r[8] for r in final if r[0] == "cur")
    assert float(cur_total) == pytest.approx(loaded["truth"]["bill"]["list_usd"], abs=1e-5)
    # February was open (estimated) in the early delivery, invoiced in the settled one.
    feb = [r for r in early_rows if r[1] < date(2026, 3, 1)]
    assert feb and all(r[10] for r in feb)
    assert all(not r[10] for r in final if r[1] < date(2026, 3, 1))
    assert all(r[10] for r in final if r[1] >= date(2026, 3, 1))


def test_reingest_is_idempotent(loaded):
    first, again = loaded["stats"]
    # 2 periods x (CUR token lines, CUR platform lines, FOCUS)
    assert first.objects == 6 and again.objects == 0 and again.skipped == 6
    before = _cost_rows(loaded["con"])
    cost.run(loaded["con"], loaded["settings"])
    assert _cost_rows(loaded["con"]) == before


def test_same_invocations_same_bill_bytes(loaded, tmp_path: Path):
    frame = loaded["frame"].filter(pl.col("ts") < datetime(2026, 2, 27, tzinfo=UTC))
    a = demo_bill.write_bill(frame, tmp_path / "a", end=END)
    b = demo_bill.write_bill(frame, tmp_path / "b", end=END)
    files = sorted(p.relative_to(a.root) for p in a.root.rglob("*.parquet"))
    assert files and a.files == len(files) == 2
    assert all((a.root / f).read_bytes() == (b.root / f).read_bytes() for f in files)
