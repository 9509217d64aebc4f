"""One connection per serving process, a cursor per thread: a page reading while a job writes
sees the last committed rows, never a half-written batch, and never waits on a lock."""

from __future__ import annotations

import threading

import factories as F

from base.settings import Settings
from ingest.invocation_logs import ingester as invocation_logs
from warehouse import runtime


def test_a_reader_sees_committed_rows_while_a_writer_holds_a_transaction(tmp_path):
    root = tmp_path / "landing"
    F.land(root, [F.converse(timestamp="2026-11-02T09:05:00Z") for _ in range(3)])
    con = runtime.open_warehouse(tmp_path / "w.duckdb")
    cfg = Settings(resolve_profiles_with_api=False,
                   invocation_logs={"landing_zones": [{"uri": str(root)}]})  # fmt: skip
    invocation_logs.run(con.cursor(), cfg)

    writer = runtime.cursor()
    writer.execute("BEGIN TRANSACTION")
    writer.execute("DELETE FROM invocations")  # a batch's delete-then-insert, half done
    writer.execute("DELETE FROM usage_hourly")
    seen: list[tuple] = []

    def page() -> None:  # another thread, as a Streamlit script run is
        cur = runtime.cursor()
        seen.append(cur.execute("SELECT count(*) FROM invocations").fetchone())
        seen.append(cur.execute("SELECT sum(invocations) FROM usage_hourly").fetchone())

    reader = threading.Thread(target=page)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive()  # no lock wait
    assert seen == [(3,), (3,)]  # the committed data, not the open batch
    writer.execute("COMMIT")
    assert runtime.cursor().execute("SELECT count(*) FROM invocations").fetchone() == (0,)
