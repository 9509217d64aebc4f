"""Re-run attribution rules over history, and rebuild the rollups that carry LOB and app.

Only hours whose raw invocations are all still in the warehouse are rebuilt. Retention deletes
raw rows once the rollups cover them, so an hour past it lives on in the rollups alone: it keeps
the attribution it was rolled up with, and the figures say how many such hours there were.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from base.settings import Settings
from ingest.invocation_logs import attribution
from ingest.invocation_logs.ingester import prepare, refresh_hours
from warehouse.db import sql, transaction


@dataclass(frozen=True)
class Reattributed:
    changed: int  # invocations whose LOB, app or matching rule changed
    total: int  # invocations in the warehouse
    rebuilt_hours: int  # hours whose rollups were recomputed from raw rows
    kept_hours: int  # hours past retention: raw rows gone, rollups left as they were


def reattribute(con: duckdb.DuckDBPyConnection, settings: Settings) -> Reattributed:
    """Apply the current rules to every raw invocation and the rollups of their hours."""
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
        hours = con.execute(sql("ingest/reattribute_hours")).fetchall()
        rebuild = [hour for hour, ok in hours if ok]
        if rebuild:  # each refresh replaces only the hours it is given
            refresh_hours(con, rebuild)
    total = con.execute("SELECT count(*) FROM invocations").fetchone()
    return Reattributed(
        changed=changed[0] if changed else 0,
        total=total[0] if total else 0,
        rebuilt_hours=len(rebuild),
        kept_hours=len(hours) - len(rebuild),
    )
