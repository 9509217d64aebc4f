"""Re-run attribution rules over history, and rebuild the rollups that carry LOB and app."""

from __future__ import annotations

import duckdb

from genai_lens.settings import Settings
from genai_lens.warehouse import sql, transaction
from ingest import attribution
from ingest.invocation_logs import prepare, refresh_hours


def reattribute(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[int, int]:
    """Returns (invocations whose attribution changed, invocations in total)."""
    prepare(con, settings)
    md_keys = attribution.metadata_keys(settings.attribution)
    con.execute(sql("ingest/reattribute_keys"), {"md_keys": md_keys})
    keys = con.execute(
        "SELECT attr_key, account_id, identity_arn, model_id, attr_metadata FROM reattr_keys"
    ).fetchall()
    frame = attribution.attribution_frame(settings.attribution, keys, attribution.profile_tags(con))
    con.register("inv_attr_frame", frame)
    con.execute("CREATE OR REPLACE TEMP TABLE inv_attr AS SELECT * FROM inv_attr_frame")
    con.unregister("inv_attr_frame")
    with transaction(con):
        changed = con.execute(sql("ingest/reattribute_apply"), {"md_keys": md_keys}).fetchone()
        hours = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT date_trunc('hour', ts) FROM invocations ORDER BY 1"
            ).fetchall()
        ]
        con.execute("DELETE FROM usage_hourly")
        if hours:
            refresh_hours(con, hours)
    total = con.execute("SELECT count(*) FROM invocations").fetchone()
    return (changed[0] if changed else 0), (total[0] if total else 0)
