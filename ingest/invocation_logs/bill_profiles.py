"""Application inference profiles the bill names, and the stored calls they resolve.

A call through an application inference profile is logged under the profile's ARN only. Where
config does not list the ARN and Bedrock cannot be asked (no `bedrock:GetInferenceProfile`, or
`resolve_profiles_with_api = false`), its model stays NULL: the call is unpriced and its
model's spend reads low against the bill. The bill knows better: CUR 2.0 puts the profile's
ARN in `line_item_resource_id` on the lines of the model it routed to. Once a cost ingest has
loaded such lines, this learns ARN -> model (resolved_by 'bill') and resolves and prices the
stored calls of that ARN as a fresh ingest would, rebuilding their hours' rollups. Later
ingests resolve the ARN like a configured one. Run from `models run` (its rates step).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from base.settings import Settings
from ingest.invocation_logs.ingester import prepare, refresh_hours
from warehouse.bookkeeping import run_script
from warehouse.db import sql, transaction


@dataclass(frozen=True)
class BillProfiles:
    learned: int  # application profiles this run resolved from the bill
    resolved: int  # stored invocations resolved and priced since


def resolve(con: duckdb.DuckDBPyConnection, settings: Settings) -> BillProfiles:
    """Learn profiles from the bill and re-resolve their stored calls, in one transaction.

    Learning and re-resolving commit together, so no call is ever left waiting on a profile
    already learned (a crash between them used to need a scan of every invocation on each run
    to find such calls). A warehouse without an unresolved profile (most) costs one lookup in
    the small profiles table."""
    [(unresolved,)] = con.execute(
        "SELECT count(*) FROM inference_profiles WHERE resolved_by = 'unresolved'"
    ).fetchall()
    if not unresolved:
        return BillProfiles(0, 0)
    prepare(con, settings)  # macros and the price catalog the resolve view reads
    with transaction(con):
        learned = con.execute(sql("ingest/profiles_from_bill")).fetchall()
        if not learned:
            return BillProfiles(0, 0)
        run_script(con, "ingest/invocations_reresolve")
        run_script(con, "ingest/invocations_resolve")
        touched = "SELECT count(*), list(DISTINCT date_trunc('hour', ts)) FROM inv_parsed"
        [(waiting, hours)] = con.execute(touched).fetchall()
        run_script(con, "ingest/invocations_upsert")
        refresh_hours(con, sorted(hours))
    return BillProfiles(len(learned), int(waiting))
