"""LOB attribution rules: every matcher kind, first match wins, re-attribution of history."""

from __future__ import annotations

from typing import Any

import factories as F
import pytest
from botocore.exceptions import ClientError

from base.settings import Attribution, Settings
from ingest.invocation_logs import ingester as invocation_logs
from ingest.invocation_logs import profiles, reattribution
from ingest.invocation_logs.attribution import UNATTRIBUTED, attribute, principal_of

RULES = [
    {"lob": "risk", "request_metadata": {"lob": "risk", "team": "kyc-*"}},
    {"lob": "payments", "app": "checkout-bot", "inference_profile": F.APP_PROFILE},
    {"lob": "marketing", "profile_tag": {"cost-center": "mkt-*"}},
    {"lob": "support", "principal": "arn:aws:iam::*:role/support-*"},
    {"lob": "data-science", "account": "444455556666"},
]
CFG = Attribution(rules=RULES)
SUPPORT = "arn:aws:sts::111122223333:assumed-role/support-triage/i-0abc"


def who(**kw: Any) -> tuple[str, str | None, int | None]:
    args = {
        "account": "111122223333",
        "identity": F.ROLE,
        "model_id": F.HAIKU,
        "md": None,
        "profile_tags": {},
    } | kw
    a = attribute(
        CFG, args["account"], args["identity"], args["model_id"], args["md"], args["profile_tags"]
    )
    return a.lob, a.app, a.rule


def test_principal_of_assumed_role_session():
    assert principal_of(SUPPORT) == "arn:aws:iam::111122223333:role/support-triage"
    user = "arn:aws:iam::111122223333:user/alice"
    assert principal_of(user) == user and principal_of(None) is None


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        (
            {"md": {"lob": "risk", "team": "kyc-emea", "app": "onboarding"}},
            ("risk", "onboarding", 0),
        ),
        ({"md": {"lob": "risk", "team": "fraud"}}, (UNATTRIBUTED, "payments-chat", None)),
        ({"model_id": F.APP_PROFILE}, ("payments", "checkout-bot", 1)),
        (
            {
                "model_id": "arn:x",
                "profile_tags": {"arn:x": {"cost-center": "mkt-eu", "app": "ads"}},
            },
            ("marketing", "ads", 2),
        ),
        ({"identity": SUPPORT}, ("support", "support-triage", 3)),
        ({"identity": "arn:aws:iam::111122223333:role/support-bot"}, ("support", "support-bot", 3)),
        ({"account": "444455556666"}, ("data-science", "payments-chat", 4)),
        ({}, (UNATTRIBUTED, "payments-chat", None)),
    ],
)
def test_each_matcher_kind(kw, expected):
    assert who(**kw) == expected


def test_first_match_wins_in_the_order_listed():
    # Matches the principal rule (3) and the account rule (4): the earlier one wins.
    assert who(identity=SUPPORT, account="444455556666")[0] == "support"
    swapped = Attribution(rules=[RULES[4], RULES[3]])
    a = attribute(swapped, "444455556666", SUPPORT, F.HAIKU, None, {})
    assert (a.lob, a.rule) == ("data-science", 0)


def test_ingest_attributes_and_reattribute_recomputes_history(warehouse, tmp_path):
    root = tmp_path / "landing"
    recs = [
        F.converse(identity={"arn": SUPPORT}),
        F.converse(requestMetadata={"lob": "risk", "team": "kyc-1"}),
        F.converse(accountId="444455556666"),
        F.converse(),
    ]
    F.land(root, recs)
    cfg = Settings(resolve_profiles_with_api=False, attribution={"rules": RULES})
    invocation_logs.run(warehouse, cfg, landing=str(root))
    lobs = dict(warehouse.execute("SELECT request_id, lob FROM invocations").fetchall())
    assert [lobs[r["requestId"]] for r in recs] == ["support", "risk", "data-science", UNATTRIBUTED]
    # The rules change: support moves to "customer-care" and the catch-all account goes.
    new_rules = [
        {"lob": "customer-care", "principal": "arn:aws:iam::*:role/support-*"},
        {"lob": "risk", "request_metadata": {"lob": "risk"}},
    ]
    done = reattribution.reattribute(
        warehouse, Settings(resolve_profiles_with_api=False, attribution={"rules": new_rules})
    )
    assert (done.changed, done.total) == (3, 4)  # risk kept its LOB but now matches rule 1
    assert (done.rebuilt_hours, done.kept_hours) == (1, 0)
    lobs = dict(warehouse.execute("SELECT request_id, lob FROM invocations").fetchall())
    assert [lobs[r["requestId"]] for r in recs] == [
        "customer-care",
        "risk",
        UNATTRIBUTED,
        UNATTRIBUTED,
    ]
    rollup = dict(
        warehouse.execute("SELECT lob, sum(invocations) FROM usage_hourly GROUP BY lob").fetchall()
    )
    assert rollup == {"customer-care": 1, "risk": 1, UNATTRIBUTED: 2}


def test_an_unresolved_profile_keeps_its_row_across_runs_and_is_asked_again_once(
    warehouse, tmp_path
):
    root = tmp_path / "landing"
    F.land(root, [F.converse(modelId=F.APP_PROFILE), F.converse(modelId=F.APP_PROFILE)])
    offline = Settings(resolve_profiles_with_api=False)
    invocation_logs.run(warehouse, offline, landing=str(root))
    row = "SELECT arn, model, resolved_by, error FROM inference_profiles"
    first = warehouse.execute(row).fetchall()
    assert [r[:3] for r in first] == [(F.APP_PROFILE, None, "unresolved")]
    invocation_logs.run(warehouse, offline, landing=str(root))  # nothing new: the row stays
    assert warehouse.execute(row).fetchall() == first

    asked: list[str] = []

    class Denied:
        def get_inference_profile(self, inferenceProfileIdentifier: str) -> dict:
            asked.append(inferenceProfileIdentifier)
            raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "Get")

    online = Settings(resolve_profiles_with_api=True)
    profiles.load_configured(warehouse, online)  # what a run does first
    for _ in range(3):  # three batches name the profile: Bedrock is asked again once
        profiles.resolve_new(warehouse, [F.APP_PROFILE], online, lambda region: Denied())
    assert asked == [F.APP_PROFILE]
    ((arn, model, by, error),) = warehouse.execute(row).fetchall()
    assert (arn, model, by) == (F.APP_PROFILE, None, "unresolved")
    assert "AccessDeniedException" in error
