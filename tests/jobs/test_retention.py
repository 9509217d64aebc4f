"""Retention: old raw invocations go once the rollup covers them; the rest stays."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import factories as F
import pytest

from base.clock import utcnow
from base.settings import Settings
from ingest.invocation_logs import ingester as invocation_logs
from jobs import retention
from warehouse.db import connect

CLI = str(Path(sys.executable).parent / "genai-lens")
# Retention counts back from now: a fixed instant (half past noon) makes every cutoff the same
# on any day, for the CLI's processes too (they inherit the environment).
NOW = datetime(2026, 12, 1, 12, 30)


@pytest.fixture(autouse=True)
def _fixed_clock(clock_at: Callable[[datetime], None]) -> None:
    clock_at(NOW)


def test_vacuum_deletes_covered_old_rows_and_keeps_rollups_cost_and_recent(tmp_path):
    root = tmp_path / "landing"
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    old, recent = now - timedelta(days=500), now - timedelta(days=3)
    for ts in (old, old + timedelta(hours=1), recent):
        recs = [F.converse(timestamp=f"{ts:%Y-%m-%dT%H}:10:00Z") for _ in range(4)]
        F.land(root, recs, ts)
    path = tmp_path / "w.duckdb"
    con = connect(path)
    cfg = Settings(resolve_profiles_with_api=False,
                   invocation_logs={"landing_zones": [{"uri": str(root)}]})  # fmt: skip
    invocation_logs.run(con, cfg, since=old - timedelta(hours=1))
    # an old hour whose rollup is missing keeps its raw rows: nothing would be left of it
    con.execute("DELETE FROM usage_hourly WHERE hour = ?", [old + timedelta(hours=1)])
    con.execute(
        "INSERT INTO invocation_text VALUES ('r-old', ?, '[EMAIL]', 'ok', 1, 'x'), "
        "('r-new', ?, 'hi', 'ok', 0, 'x')",
        [now - timedelta(days=40), now - timedelta(days=2)],
    )
    before_rollup = con.execute("SELECT sum(invocations) FROM usage_hourly").fetchone()
    con.close()
    res = subprocess.run([CLI, "--warehouse", str(path), "vacuum"], capture_output=True,
                         text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "vacuum: 5 rows deleted" in res.stdout  # 4 raw invocations + 1 old text row
    assert "deleted 4 raw invocations older than" in res.stdout
    con = connect(path)
    hours = con.execute(
        "SELECT date_trunc('hour', ts), count(*) FROM invocations GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert hours == [(old + timedelta(hours=1), 4), (recent, 4)]
    assert con.execute("SELECT sum(invocations) FROM usage_hourly").fetchone() == before_rollup
    assert con.execute("SELECT request_id FROM invocation_text").fetchall() == [("r-new",)]
    (status,) = con.execute("SELECT status FROM ingest_runs WHERE source = 'vacuum'").fetchone()
    assert status == "ok"


SUPPORT = f"arn:aws:sts::{F.ACCOUNT}:assumed-role/support-triage/i-0abc"
ROLLUPS = ("usage_hourly", "usage_errors_hourly", "usage_principals_hourly")


def rules_config(path: Path, lob: str) -> Path:
    path.write_text(
        "resolve_profiles_with_api = false\n[[attribution.rules]]\n"
        f'lob = "{lob}"\nprincipal = "arn:aws:iam::*:role/support-*"\n'
    )
    return path


def rollups(con, hours: list) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    return {
        t: con.execute(
            f"SELECT * FROM {t} WHERE hour IN (SELECT unnest(?::TIMESTAMP[])) ORDER BY ALL",
            [hours],
        ).fetchall()
        for t in ROLLUPS
    }


def test_reattribute_after_vacuum_keeps_vacuumed_hours_and_recomputes_the_rest(tmp_path):
    root = tmp_path / "landing"
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    vacuumed = [now - timedelta(days=500), now - timedelta(days=500, hours=-1)]
    edge = now - timedelta(days=400, hours=-2)  # past the cutoff by two hours: it stays
    recent = [now - timedelta(days=3), now - timedelta(days=2)]
    for ts in (*vacuumed, edge, *recent):
        at = [f"{ts:%Y-%m-%dT%H}:{m}:00Z" for m in (10, 20, 40, 50)]
        F.land(root, [F.converse(timestamp=at[0], identity={"arn": SUPPORT}),
                      F.error_record(timestamp=at[1], identity={"arn": SUPPORT}),
                      F.converse(timestamp=at[2]), F.converse(timestamp=at[3])], ts)  # fmt: skip
    path = tmp_path / "w.duckdb"
    base = [CLI, "--warehouse", str(path)]
    before = rules_config(tmp_path / "before.toml", "support")
    con = connect(path)
    cfg = Settings(resolve_profiles_with_api=False, attribution={"rules": [
        {"lob": "support", "principal": "arn:aws:iam::*:role/support-*"}]},
        invocation_logs={"landing_zones": [{"uri": str(root)}]})  # fmt: skip
    invocation_logs.run(con, cfg, since=vacuumed[0] - timedelta(hours=1))
    # Before vacuum cut whole hours, a cutoff inside an hour left it half deleted: its
    # rollup still counts all four calls, its raw rows two.
    half = [edge, edge + timedelta(minutes=30)]
    con.execute("DELETE FROM invocations WHERE ts >= ? AND ts < ?", half)
    kept = [*vacuumed, edge]
    old = rollups(con, kept)
    assert all(old.values())
    totals = con.execute("SELECT sum(invocations), sum(input_tokens) FROM usage_hourly").fetchone()
    con.close()
    vac = subprocess.run([*base, "--config", str(before), "vacuum"], capture_output=True,
                         text=True)  # fmt: skip
    assert vac.returncode == 0, vac.stderr
    assert "vacuum: 8 rows deleted" in vac.stdout  # the two old hours, whole
    after = rules_config(tmp_path / "after.toml", "customer-care")
    res = subprocess.run([*base, "--config", str(after), "reattribute"], capture_output=True,
                         text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "4 of 10 invocations changed attribution" in res.stdout  # the recent support calls
    assert "rollups of 2 hours rebuilt" in res.stdout
    assert "3 hours past retention kept their old attribution" in res.stdout

    con = connect(path)
    assert rollups(con, kept) == old  # nothing left to recompute them from: as they were
    assert (
        con.execute("SELECT sum(invocations), sum(input_tokens) FROM usage_hourly").fetchone()
        == totals
    )
    by_lob = con.execute(
        "SELECT hour, lob, sum(invocations) FROM usage_hourly "
        "WHERE hour >= ? GROUP BY ALL ORDER BY ALL", [recent[0]]
    ).fetchall()  # fmt: skip
    assert by_lob == [(h, lob, 2) for h in recent for lob in ("customer-care", "unattributed")]
    for table in ("usage_errors_hourly", "usage_principals_hourly"):
        lobs = con.execute(f"SELECT DISTINCT lob FROM {table} WHERE hour >= ?", [recent[0]])
        assert "support" not in {r[0] for r in lobs.fetchall()}, table


def test_vacuum_keeps_old_cost_cloudtrail_and_their_rollups(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    long_ago = utcnow() - timedelta(days=900)
    con.execute(
        "INSERT INTO cost_daily (usage_date, token_kind, tags, breakdown, unblended_cost, "
        "source, source_object) VALUES (?, 'input', MAP {}, 'total', 12.34, 'cur', 's3://b/x')",
        [long_ago.date()],
    )
    for event_id, kind in (("e-call", "invocation"), ("e-edit", "guardrail")):
        con.execute(
            "INSERT INTO cloudtrail_events (event_id, event_time, event_source, change_kind, "
            "source_object) VALUES (?, ?, 'bedrock.amazonaws.com', ?, 's3://b/t')",
            [event_id, long_ago, kind],
        )
    con.execute(
        "INSERT INTO usage_changes (event_id, event_time, change_kind) "
        "VALUES ('e-edit', ?, 'guardrail')",
        [long_ago],
    )
    tables = ("cost_daily", "cloudtrail_events", "usage_changes")
    before = {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
    con.close()
    res = subprocess.run([CLI, "--warehouse", str(path), "vacuum"], capture_output=True,
                         text=True)  # fmt: skip
    assert res.returncode == 0, res.stderr
    con = connect(path)
    assert {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in tables} == before
    (deleted, freed, inserted) = con.execute(
        "SELECT rows_deleted, bytes_freed, rows_inserted FROM ingest_runs WHERE source = 'vacuum'"
    ).fetchone()
    assert deleted == 0 and freed is not None and inserted == 0


def test_vacuum_takes_an_hour_whole_or_not_at_all(warehouse, tmp_path):
    root = tmp_path / "landing"
    cut = (utcnow() - timedelta(days=400)).replace(minute=0, second=0, microsecond=0)
    F.land(root, [F.converse(timestamp=f"{cut:%Y-%m-%dT%H}:{m}:30Z") for m in ("00", "59")], cut)
    cfg = Settings(resolve_profiles_with_api=False,
                   invocation_logs={"landing_zones": [{"uri": str(root)}]})  # fmt: skip
    invocation_logs.run(warehouse, cfg, since=cut - timedelta(hours=1))
    retention.vacuum(warehouse, cfg)
    (left,) = warehouse.execute("SELECT count(*) FROM invocations").fetchone()
    # The cutoff (now less 400 days, 12:30) falls between the hour's two calls (12:00:30 and
    # 12:59:30): a cutoff to the second cut the hour in two; the hour stays whole.
    assert cut + timedelta(days=400, minutes=30) == utcnow() == NOW
    assert left == 2
