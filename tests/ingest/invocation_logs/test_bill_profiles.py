"""Application inference profiles the bill names: calls logged under a profile ARN nobody could
resolve are resolved and priced once a bill line carries that ARN as its resource id, exactly
as a fresh ingest prices them; an ARN the bill ties to two models stays unresolved."""

from __future__ import annotations

from pathlib import Path

import duckdb
import factories as F

from base.settings import Settings
from ingest.invocation_logs import bill_profiles
from ingest.invocation_logs import ingester as invocation_logs

OFFLINE = Settings(resolve_profiles_with_api=False)  # Bedrock cannot be asked
OTHER = F.APP_PROFILE.replace("a1b2c3d4e5f6", "z9y8x7w6v5u4")


def bill_line(con: duckdb.DuckDBPyConnection, arn: str, model: str) -> None:
    """One CUR token line whose resource id is the profile (as `cost` ingests it)."""
    con.execute(
        "INSERT INTO cost_daily BY NAME SELECT DATE '2026-11-30' AS usage_date, "
        "? AS account_id, ? AS model, 'input' AS token_kind, MAP() AS tags, "
        "'total' AS breakdown, 'cur' AS source, 'o' AS source_object, "
        "'USE1-MP:USE1_InputTokenCount-Units' AS usage_type, 'tokens' AS usage_kind, "
        "0.25 AS unblended_cost, 1000.0 AS usage_quantity, '1K tokens' AS usage_unit, "
        "'us-east-1' AS region, ? AS resource_id",
        [F.ACCOUNT, model, arn],
    )


def calls(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = con.execute(
        "SELECT request_id, model, model_unresolved, est_cost_usd, price_basis, lob, app "
        "FROM invocations"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_the_bill_resolves_and_prices_a_profile_nobody_could(warehouse, tmp_path: Path):
    via = [F.converse(modelId=F.APP_PROFILE), F.converse(modelId=F.APP_PROFILE)]
    direct = F.converse()  # the same tokens, called by the model id itself
    model = direct["modelId"]
    F.land(tmp_path / "landing", [*via, direct])
    invocation_logs.run(warehouse, OFFLINE, landing=str(tmp_path / "landing"))
    before = calls(warehouse)
    assert all(before[r["requestId"]][0] is None for r in via)  # unresolved, unpriced
    assert all(before[r["requestId"]][2] is None for r in via)
    # No bill line names it yet (a line for a profile no call used teaches nothing either).
    bill_line(warehouse, OTHER, "amazon.nova-pro-v1:0")
    assert bill_profiles.resolve(warehouse, OFFLINE) == bill_profiles.BillProfiles(0, 0)

    bill_line(warehouse, F.APP_PROFILE, model)
    assert bill_profiles.resolve(warehouse, OFFLINE) == bill_profiles.BillProfiles(1, 2)
    after = calls(warehouse)
    plain = after[direct["requestId"]]
    assert plain == before[direct["requestId"]]  # a call that needed nothing is untouched
    for r in via:  # priced as the direct call is: same model, cost and basis; attribution kept
        got, unresolved, cost, basis, lob, app = after[r["requestId"]]
        assert (got, unresolved, basis) == (model, None, plain[3])
        assert cost is not None and abs(cost - plain[2]) < 1e-12
        assert (lob, app) == before[r["requestId"]][4:]
    assert warehouse.execute(
        "SELECT arn, model, resolved_by FROM inference_profiles WHERE arn = ?", [F.APP_PROFILE]
    ).fetchall() == [(F.APP_PROFILE, model, "bill")]
    rollup = warehouse.execute(
        "SELECT model, sum(invocations), sum(est_cost_usd) FROM usage_hourly GROUP BY ALL"
    ).fetchall()
    assert [(m, n) for m, n, _ in rollup] == [(model, 3)]
    assert abs(rollup[0][2] - 3 * plain[2]) < 1e-9
    assert warehouse.execute("SELECT count(*) FROM invocations").fetchone() == (3,)

    # Re-running changes nothing; a later call through the profile resolves at ingest.
    assert bill_profiles.resolve(warehouse, OFFLINE) == bill_profiles.BillProfiles(0, 0)
    assert calls(warehouse) == after
    later = F.converse(modelId=F.APP_PROFILE)
    F.land(tmp_path / "later", [later])
    invocation_logs.run(warehouse, OFFLINE, landing=str(tmp_path / "later"))
    assert calls(warehouse)[later["requestId"]][0] == model


def test_a_profile_the_bill_ties_to_two_models_stays_unresolved(warehouse, tmp_path: Path):
    F.land(tmp_path / "landing", [F.converse(modelId=F.APP_PROFILE)])
    invocation_logs.run(warehouse, OFFLINE, landing=str(tmp_path / "landing"))
    bill_line(warehouse, F.APP_PROFILE, F.HAIKU)
    bill_line(warehouse, F.APP_PROFILE, "anthropic.claude-3-5-haiku-20241022-v1:0")
    assert bill_profiles.resolve(warehouse, OFFLINE) == bill_profiles.BillProfiles(0, 0)
    assert warehouse.execute(
        "SELECT resolved_by, model FROM inference_profiles WHERE arn = ?", [F.APP_PROFILE]
    ).fetchall() == [("unresolved", None)]
    assert warehouse.execute("SELECT count(*) FROM invocations WHERE model IS NULL").fetchone() == (
        1,
    )
