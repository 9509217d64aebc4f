"""CloudTrail ingest: trail files (local and moto-served S3) and LookupEvents (Stubber)."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from factories import deep_merge
from wire import Wire

from base.errors import ConfigError, SourceError
from base.settings import ApiSource, Settings, load_settings
from ingest import aws
from ingest.cloudtrail import ingester as cloudtrail
from warehouse.db import connect

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admin/alice"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
GUARDRAIL = "abc123xyz789"

TABLES = {
    "events": "SELECT * FROM cloudtrail_events ORDER BY event_id",
    "quarantine": "SELECT * FROM quarantine ORDER BY ALL",
    "ingest_objects": "SELECT zone, object_key, size, etag, records, quarantined "
    "FROM ingest_objects ORDER BY ALL",
    "watermarks": "SELECT source, zone, covered_until FROM watermarks ORDER BY ALL",
}


def snapshot(con: Any) -> dict[str, list[tuple]]:
    return {name: con.execute(q).fetchall() for name, q in TABLES.items()}


# ---------------------------------------------------------------- record factories


def event(**overrides: Any) -> dict[str, Any]:
    """A Bedrock control-plane management event as a trail records it."""
    region = overrides.get("awsRegion", "us-east-1")
    rec = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEID:alice",
            "arn": SESSION,
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEKEY",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEID",
                    "arn": ROLE,
                    "accountId": ACCOUNT,
                    "userName": "platform-admin",
                },
                "attributes": {
                    "creationDate": "2025-06-02T09:00:00Z",
                    "mfaAuthenticated": "false",
                },
            },
        },
        "eventTime": "2025-06-02T10:15:30Z",
        "eventSource": "bedrock.amazonaws.com",
        "eventName": "ListGuardrails",
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux",
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"bedrock.{region}.amazonaws.com",
        },
    }
    return deep_merge(rec, overrides)


def invoke_model(**overrides: Any) -> dict[str, Any]:
    return event(
        **deep_merge(
            {
                "eventName": "InvokeModel",
                "readOnly": True,
                "requestParameters": {"modelId": HAIKU},
                "additionalEventData": {"inferenceRegion": "us-west-2"},
                "tlsDetails": {
                    "clientProvidedHostHeader": "bedrock-runtime.us-east-1.amazonaws.com"
                },
            },
            overrides,
        )
    )


def update_guardrail(**overrides: Any) -> dict[str, Any]:
    arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/{GUARDRAIL}"
    return event(
        **deep_merge(
            {
                "eventName": "UpdateGuardrail",
                "readOnly": False,
                "requestParameters": {
                    "guardrailIdentifier": arn,
                    "name": "pii-filter",
                    "blockedInputMessaging": "HIDDEN_DUE_TO_SECURITY_REASONS",
                },
                "responseElements": {
                    "guardrailArn": arn,
                    "guardrailId": GUARDRAIL,
                    "updatedAt": "2025-06-02T10:15:30.123456789Z",
                    "version": "DRAFT",
                },
            },
            overrides,
        )
    )


def write_event(name: str, **overrides: Any) -> dict[str, Any]:
    return event(**deep_merge({"eventName": name, "readOnly": False}, overrides))


def delete_logging_config(**overrides: Any) -> dict[str, Any]:
    return write_event("DeleteModelInvocationLoggingConfiguration", **overrides)


def model_access(**overrides: Any) -> dict[str, Any]:
    return write_event(
        "PutUseCaseForModelAccess",
        requestParameters={"formData": "HIDDEN_DUE_TO_SECURITY_REASONS"},
        **overrides,
    )


def provisioned_throughput(**overrides: Any) -> dict[str, Any]:
    return write_event(
        "CreateProvisionedModelThroughput",
        requestParameters={"modelUnits": 1, "provisionedModelName": "pt-1", "modelId": HAIKU},
        responseElements={"provisionedModelArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:pt/x"},
        **overrides,
    )


def inference_profile(**overrides: Any) -> dict[str, Any]:
    return write_event(
        "CreateInferenceProfile",
        requestParameters={"inferenceProfileName": "payments", "modelSource": {"copyFrom": "x"}},
        **overrides,
    )


def access_denied(**overrides: Any) -> dict[str, Any]:
    return invoke_model(
        errorCode="AccessDenied",
        errorMessage="User is not authorized to perform bedrock:InvokeModel",
        **overrides,
    )


def s3_event(**overrides: Any) -> dict[str, Any]:
    return event(eventSource="s3.amazonaws.com", eventName="CreateBucket", **overrides)


def trail_key(
    day: datetime, account: str = ACCOUNT, region: str = "us-east-1", org: str | None = None
) -> str:
    top = f"AWSLogs/{org}/{account}" if org else f"AWSLogs/{account}"
    stamp = f"{day:%Y%m%dT%H%M}Z"
    return (
        f"{top}/CloudTrail/{region}/{day:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{stamp}_{uuid.uuid4().hex[:16]}.json.gz"
    )


def land(root: Path, records: list[dict[str, Any]], day: datetime, **key: Any) -> Path:
    path = root / trail_key(day, **key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    return path


def settings(**kw: Any) -> Settings:
    return Settings(cloudtrail={"batch_files": 2, **kw})


# ---------------------------------------------------------------- trail files


def mixed_estate(root: Path) -> dict[str, dict[str, Any]]:
    """A realistic few days of trail files, including an org trail and a duplicate."""
    day = datetime(2025, 6, 2)
    recs = {
        "invoke": invoke_model(),
        "guardrail": update_guardrail(),
        "logging": delete_logging_config(),
        "access": model_access(),
        "pt": provisioned_throughput(),
        "profile": inference_profile(),
        "denied": access_denied(),
        "list": event(),
    }
    land(root, [recs["invoke"], recs["guardrail"], s3_event()], day)
    land(root, [recs["logging"], recs["access"], recs["guardrail"]], day + timedelta(days=1))
    land(root, [recs["pt"], recs["profile"]], day, org="o-a1b2c3d4e5", account="444455556666")
    land(root, [recs["denied"], recs["list"]], day, region="eu-west-1")
    return recs


def expect_empty_lookup(stub: Stubber, start: datetime, end: datetime) -> None:
    """Expect one LookupEvents call for Bedrock events over [start, end), answering none."""
    stub.add_response(
        "lookup_events",
        {"Events": []},
        {
            "LookupAttributes": [
                {"AttributeKey": "EventSource", "AttributeValue": "bedrock.amazonaws.com"}
            ],
            "StartTime": start,
            "EndTime": end,
        },
    )


def test_trail_files_load_with_fields_kinds_and_dedupe(warehouse, tmp_path):
    recs = mixed_estate(tmp_path / "landing")
    stats = cloudtrail.run(warehouse, settings(), landing=str(tmp_path / "landing"))
    assert stats.records == 8 and stats.quarantined == 0 and stats.objects == 4
    kinds = dict(
        warehouse.execute("SELECT event_name, change_kind FROM cloudtrail_events").fetchall()
    )
    assert kinds == {
        "InvokeModel": "invocation",
        "UpdateGuardrail": "guardrail",
        "DeleteModelInvocationLoggingConfiguration": "logging_config",
        "PutUseCaseForModelAccess": "model_access",
        "CreateProvisionedModelThroughput": "provisioned_throughput",
        "CreateInferenceProfile": "inference_profile",
        "ListGuardrails": "read",
    }
    assert warehouse.execute(
        "SELECT count(*) FROM cloudtrail_events WHERE event_source <> 'bedrock.amazonaws.com'"
    ).fetchone() == (0,)
    row = warehouse.execute(
        """SELECT event_time, read_only, principal_arn, principal_type, session_issuer_arn,
                  request_id, model_id, response_elements, additional_event_data->>'inferenceRegion'
           FROM cloudtrail_events WHERE event_id = ?""",
        [recs["invoke"]["eventID"]],
    ).fetchone()
    assert row[:7] == (
        datetime(2025, 6, 2, 10, 15, 30),
        True,
        SESSION,
        "AssumedRole",
        ROLE,
        recs["invoke"]["requestID"],
        HAIKU,
    )
    assert row[7] is None and row[8] == "us-west-2"
    guard = warehouse.execute(
        "SELECT guardrail_id, response_elements->>'version', response_elements->>'updatedAt' "
        "FROM cloudtrail_events WHERE event_name = 'UpdateGuardrail'"
    ).fetchall()
    assert guard == [(GUARDRAIL, "DRAFT", "2025-06-02T10:15:30.123456789Z")]  # deduped
    err = warehouse.execute(
        "SELECT error_code, error_message, change_kind FROM cloudtrail_events "
        "WHERE error_code IS NOT NULL"
    ).fetchall()
    assert err == [("AccessDenied", recs["denied"]["errorMessage"], "invocation")]
    org = warehouse.execute(
        "SELECT DISTINCT source_object FROM cloudtrail_events "
        "WHERE event_name = 'CreateInferenceProfile'"
    ).fetchone()[0]
    assert "/AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/" in org


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-01-21T17:39:10Z", datetime(2025, 1, 21, 17, 39, 10)),
        ("2025-01-21T17:39:10.1234567Z", datetime(2025, 1, 21, 17, 39, 10, 123456)),
        ("2025-01-21 17:39:10.000000000", datetime(2025, 1, 21, 17, 39, 10)),
        ("2025-01-21T17:39:10.5Z", datetime(2025, 1, 21, 17, 39, 10, 500000)),
        ("2025-01-21T19:39:10+02:00", datetime(2025, 1, 21, 17, 39, 10)),
    ],
)
def test_event_time_is_parsed_leniently_as_utc(warehouse, tmp_path, raw, expected):
    warehouse.execute("SET TimeZone = 'America/New_York'")  # must not shift naive times
    land(tmp_path, [event(eventTime=raw)], datetime(2025, 1, 21))
    cloudtrail.run(warehouse, settings(), landing=str(tmp_path))
    assert warehouse.execute("SELECT event_time FROM cloudtrail_events").fetchall() == [(expected,)]


def test_other_kinds_and_failed_changes_keep_their_kind(warehouse, tmp_path):
    names = {
        "CreateGuardrailVersion": "guardrail",
        "PutModelInvocationLoggingConfiguration": "logging_config",
        "CreateFoundationModelAgreement": "model_access",
        "DeleteProvisionedModelThroughput": "provisioned_throughput",
        "DeleteInferenceProfile": "inference_profile",
        "CreateModelCustomizationJob": "custom_model",
        "DeleteCustomModel": "custom_model",
        "TagResource": "other",
        "GetFoundationModelAvailability": "read",
        "Converse": "invocation",
        "ApplyGuardrail": "invocation",
    }
    recs = [write_event(n, errorCode="AccessDenied") for n in names]
    land(tmp_path, recs, datetime(2025, 6, 2))
    cloudtrail.run(warehouse, settings(), landing=str(tmp_path))
    got = dict(
        warehouse.execute("SELECT event_name, change_kind FROM cloudtrail_events").fetchall()
    )
    assert got == names


def test_unreadable_files_and_bad_records_are_quarantined_and_the_rest_loads(warehouse, tmp_path):
    day = datetime(2025, 6, 2)
    good = land(tmp_path, [invoke_model(), update_guardrail()], day)
    anonymous = invoke_model()
    del anonymous["eventID"]
    no_id = land(tmp_path, [invoke_model(), anonymous], day)
    bad_time = land(tmp_path, [invoke_model(eventTime="yesterday-ish")], day)
    not_json = tmp_path / trail_key(day)
    not_json.write_bytes(gzip.compress(b"<html>AccessDenied</html>"))
    truncated = tmp_path / trail_key(day)
    truncated.write_bytes(gzip.compress(json.dumps({"Records": [event()] * 50}).encode())[:200])
    no_records = tmp_path / trail_key(day)
    no_records.write_bytes(gzip.compress(b'{"CloudTrailDigest": true}'))
    stats = cloudtrail.run(warehouse, settings(batch_files=10), landing=str(tmp_path))
    assert stats.records == 3
    rows = warehouse.execute(
        "SELECT source_object, line, reason FROM quarantine WHERE source = 'cloudtrail'"
    ).fetchall()
    by_file = {Path(r[0]).name: (r[1], r[2]) for r in rows}
    assert good.name not in by_file
    assert by_file[no_id.name] == (2, "record has no eventID")
    assert by_file[bad_time.name] == (1, "unparseable eventTime: yesterday-ish")
    assert by_file[not_json.name][0] == 0 and by_file[not_json.name][1].startswith("not JSON")
    assert "truncated" in by_file[truncated.name][1]
    assert 'no "Records" array' in by_file[no_records.name][1]
    assert stats.quarantined == 5


def test_rerun_is_idempotent_and_incremental_with_overlap(warehouse, tmp_path):
    root = tmp_path / "landing"
    mixed_estate(root)
    cfg = settings()
    cloudtrail.run(warehouse, cfg, landing=str(root))
    before = snapshot(warehouse)
    again = cloudtrail.run(warehouse, cfg, landing=str(root))
    assert again.objects == 0 and again.skipped == 4 and snapshot(warehouse) == before
    # A late file for an already covered day (inside the overlap) and a new day both load.
    late = invoke_model(eventTime="2025-06-03T23:59:00Z")
    new = invoke_model(eventTime="2025-06-04T01:00:00Z")
    land(root, [late], datetime(2025, 6, 3))
    land(root, [new], datetime(2025, 6, 4))
    third = cloudtrail.run(warehouse, cfg, landing=str(root))
    assert third.objects == 2 and third.records == 2
    assert warehouse.execute("SELECT count(*) FROM cloudtrail_events").fetchone() == (10,)
    wm = warehouse.execute(
        "SELECT max(covered_until) FROM watermarks WHERE source = 'cloudtrail'"
    ).fetchone()[0]
    assert wm == datetime(2025, 6, 4)


def test_reloading_a_changed_file_replaces_its_events(warehouse, tmp_path):
    rec = update_guardrail()
    path = land(tmp_path, [rec], datetime(2025, 6, 2))
    cloudtrail.run(warehouse, settings(), landing=str(tmp_path))
    path.write_bytes(
        gzip.compress(
            json.dumps({"Records": [{**rec, "errorCode": "ValidationException"}]}).encode()
        )
    )
    cloudtrail.run(warehouse, settings(), landing=str(tmp_path))
    assert warehouse.execute("SELECT event_id, error_code FROM cloudtrail_events").fetchall() == [
        (rec["eventID"], "ValidationException")
    ]


CALLS = (
    "SELECT hour, account_id, region, ct_calls, ct_failed_calls FROM ct_calls_hourly ORDER BY ALL"
)


def calls_estate(root: Path) -> None:
    """Runtime calls in two hours (one failed, one delivered twice) beside control events."""
    hour = "2025-06-02T10:{:02d}:00Z"
    twice = invoke_model(eventTime=hour.format(5))
    land(root, [invoke_model(eventTime=hour.format(1)), twice, update_guardrail(),
                invoke_model(eventName="Converse", eventTime="2025-06-02T11:30:00Z"),
                invoke_model(eventTime=hour.format(9), errorCode="ThrottlingException")],
         datetime(2025, 6, 2))  # fmt: skip
    land(root, [twice, delete_logging_config()], datetime(2025, 6, 2))


@pytest.mark.parametrize("mode", ["keep", "count"])
def test_runtime_calls_are_counted_per_hour_whether_or_not_their_events_are_kept(
    warehouse, tmp_path, mode
):
    calls_estate(tmp_path)
    cfg = settings(invocation_events=mode)
    cloudtrail.run(warehouse, cfg, landing=str(tmp_path))
    # The event delivered in both files counts once (the last object in key order has it).
    expected = [(datetime(2025, 6, 2, 10), ACCOUNT, "us-east-1", 3, 1),
                (datetime(2025, 6, 2, 11), ACCOUNT, "us-east-1", 1, 0)]  # fmt: skip
    assert warehouse.execute(CALLS).fetchall() == expected
    kinds = warehouse.execute(
        "SELECT change_kind, count(*) FROM cloudtrail_events GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    control = [("guardrail", 1), ("logging_config", 1)]
    assert kinds == sorted([*control, ("invocation", 4)] if mode == "keep" else control)
    # The governance audit trail reads the same either way.
    assert warehouse.execute("SELECT count(*) FROM usage_changes").fetchone() == (2,)
    # Re-reading (a changed file is read again) replaces the counts, never adds to them.
    warehouse.execute("DELETE FROM ingest_objects")
    cloudtrail.run(warehouse, cfg, landing=str(tmp_path))
    assert warehouse.execute(CALLS).fetchall() == expected


def test_a_bad_invocation_events_value_names_the_key_and_the_choices(tmp_path):
    cfg = tmp_path / "genai-lens.toml"
    cfg.write_text('[cloudtrail]\ninvocation_events = "drop"\n')
    with pytest.raises(ConfigError, match=r"cloudtrail\.invocation_events: .*'keep' or 'count'"):
        load_settings(cfg)


def test_s3_landing_equals_local_folder(tmp_path, moto_endpoint, aws_client):
    root = tmp_path / "landing"
    mixed_estate(root)
    s3 = aws_client("s3")
    bucket = f"trail-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        s3.put_object(Bucket=bucket, Key=f"trails/{path.relative_to(root)}", Body=path.read_bytes())
    local = connect(tmp_path / "local.duckdb")
    cloudtrail.run(local, settings(), landing=str(root))
    remote = connect(tmp_path / "remote.duckdb")
    zone = {"uri": f"s3://{bucket}/trails", "endpoint_url": moto_endpoint, "region": "us-east-1"}
    cfg = settings(landing_zones=[zone])
    stats = cloudtrail.run(remote, cfg)
    assert stats.records == 8
    strip = "SELECT * EXCLUDE (source_object) FROM cloudtrail_events ORDER BY event_id"
    assert remote.execute(strip).fetchall() == local.execute(strip).fetchall()
    assert (
        remote.execute("SELECT min(source_object) FROM cloudtrail_events")
        .fetchone()[0]
        .startswith(f"s3://{bucket}/trails/AWSLogs/")
    )
    before = snapshot(remote)
    assert cloudtrail.run(remote, cfg).objects == 0 and snapshot(remote) == before


def test_no_source_configured_is_a_config_error(warehouse):
    with pytest.raises(ConfigError, match=r"\[\[cloudtrail.lookups\]\]"):
        cloudtrail.run(warehouse, Settings())


# ---------------------------------------------------------------- LookupEvents


class FakeClock:
    """Time that moves only when the code sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def lookup_event(rec: dict[str, Any]) -> dict[str, Any]:
    """What LookupEvents returns for a record: a summary plus the record as a JSON string."""
    return {
        "EventId": rec["eventID"],
        "EventName": rec["eventName"],
        "ReadOnly": str(rec["readOnly"]).lower(),
        "AccessKeyId": "ASIAEXAMPLEKEY",
        "EventTime": datetime.fromisoformat(rec["eventTime"].replace("Z", "+00:00")),
        "EventSource": rec["eventSource"],
        "Username": "alice",
        "Resources": [{"ResourceType": "AWS::Bedrock::Guardrail", "ResourceName": GUARDRAIL}],
        "CloudTrailEvent": json.dumps(rec),
    }


def ct_client() -> Any:
    return boto3.client("cloudtrail", region_name="us-east-1")


START, END = datetime(2025, 6, 1), datetime(2025, 6, 3)


def expect(stub: Stubber, src: str, events: list[dict], token: str | None, next_: str | None):
    params: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": src}],
        "StartTime": START,
        "EndTime": END,
    }
    if token:
        params["NextToken"] = token
    response: dict[str, Any] = {"Events": events}
    if next_:
        response["NextToken"] = next_
    stub.add_response("lookup_events", response, params)


def test_lookup_paginates_each_event_source_and_parses_the_record(warehouse):
    cfg = Settings(
        cloudtrail={
            "event_sources": ["bedrock.amazonaws.com", "sts.amazonaws.com"],
            "requests_per_second": 2.0,
        }
    )
    recs = [invoke_model(), update_guardrail(), delete_logging_config()]
    sts = event(eventSource="sts.amazonaws.com", eventName="AssumeRole", readOnly=False)
    client, clock = ct_client(), FakeClock()
    with Stubber(client) as stub:
        expect(stub, "bedrock.amazonaws.com", [lookup_event(recs[0])], None, "t1")
        expect(stub, "bedrock.amazonaws.com", [lookup_event(recs[1])], "t1", "t2")
        expect(stub, "bedrock.amazonaws.com", [lookup_event(recs[2])], "t2", None)
        expect(stub, "sts.amazonaws.com", [lookup_event(sts)], None, None)
        stats = cloudtrail.lookup(
            warehouse,
            cfg,
            ApiSource(name="prod"),
            since=START,
            until=END,
            client=client,
            clock=clock,
        )
        stub.assert_no_pending_responses()
    assert stats.records == 4
    rows = warehouse.execute(
        "SELECT event_name, change_kind, principal_arn, source_object FROM cloudtrail_events "
        "ORDER BY event_time, event_name"
    ).fetchall()
    assert {r[0] for r in rows} == {
        "InvokeModel",
        "UpdateGuardrail",
        "DeleteModelInvocationLoggingConfiguration",
        "AssumeRole",
    }
    assert all(r[2] == SESSION and r[3].startswith("lookup://prod/") for r in rows)
    # 4 requests at 2/s with a bucket of 1: the 2nd, 3rd and 4th wait half a second each.
    assert clock.sleeps == [0.5, 0.5, 0.5]
    assert warehouse.execute(
        "SELECT covered_until FROM watermarks WHERE zone = 'lookup://prod'"
    ).fetchone() == (END,)


def test_lookup_window_starts_at_watermark_minus_overlap(warehouse):
    cfg = Settings(cloudtrail={"overlap_hours": 24})
    client = ct_client()
    with Stubber(client) as stub:
        expect(stub, "bedrock.amazonaws.com", [], None, None)
        cloudtrail.lookup(
            warehouse,
            cfg,
            ApiSource(name="p"),
            since=START,
            until=END,
            client=client,
            clock=FakeClock(),
        )
        later = END + timedelta(days=2)
        expect_empty_lookup(stub, END - timedelta(hours=24), later)
        cloudtrail.lookup(
            warehouse, cfg, ApiSource(name="p"), until=later, client=client, clock=FakeClock()
        )
        stub.assert_no_pending_responses()


def test_lookup_rerun_is_idempotent_and_bad_events_are_quarantined(warehouse):
    cfg = Settings()
    rec = update_guardrail()
    broken = {**lookup_event(invoke_model()), "CloudTrailEvent": "{not json"}
    no_id = lookup_event(invoke_model())
    no_id["CloudTrailEvent"] = json.dumps({**invoke_model(), "eventID": None})
    client = ct_client()

    def once() -> Any:
        with Stubber(client) as stub:
            expect(stub, "bedrock.amazonaws.com", [lookup_event(rec), broken, no_id], None, None)
            return cloudtrail.lookup(
                warehouse,
                cfg,
                ApiSource(name="p"),
                since=START,
                until=END,
                client=client,
                clock=FakeClock(),
            )

    stats = once()
    assert stats.records == 1 and stats.quarantined == 2
    reasons = sorted(r[0] for r in warehouse.execute("SELECT reason FROM quarantine").fetchall())
    assert reasons == ["CloudTrailEvent is not a JSON object", "record has no eventID"]
    before = snapshot(warehouse)
    once()
    assert snapshot(warehouse) == before


def test_token_bucket_never_exceeds_the_rate():
    clock = FakeClock()
    bucket = cloudtrail.TokenBucket(2.0, capacity=2, clock=clock)
    stamps = []
    for _ in range(10):
        bucket.acquire()
        stamps.append(clock.now)
    # Any window of one second holds at most rate + capacity - 1... here: burst of 2, then 2/s.
    assert clock.sleeps == [0.5] * 8
    for i in range(len(stamps)):
        in_window = [t for t in stamps if stamps[i] <= t < stamps[i] + 1.0]
        assert len(in_window) <= 3
    assert stamps[-1] - stamps[0] == pytest.approx((10 - 2) / 2.0)


def test_throttling_that_outlasts_retries_is_one_clear_error(warehouse):
    # Stubber answers before botocore's retry handler runs: this tests what the user sees once
    # adaptive retries give up (the retry itself: test_throttled_lookup_is_retried_...).
    client = ct_client()
    with Stubber(client) as stub:
        stub.add_client_error("lookup_events", "ThrottlingException", "Rate exceeded")
        with pytest.raises(SourceError, match="requests_per_second") as err:
            cloudtrail.lookup(
                warehouse,
                Settings(),
                ApiSource(name="p"),
                since=START,
                until=END,
                client=client,
                clock=FakeClock(),
            )
    assert "\n" not in str(err.value)
    assert warehouse.execute("SELECT count(*) FROM watermarks").fetchone() == (0,)


def test_throttled_lookup_is_retried_by_botocore_and_loads_every_event(warehouse, moto_endpoint):
    # The product's own client (adaptive retry), throttled at the HTTP layer: moto lacks
    # LookupEvents, so tests/wire.py answers the pages after the 429.
    client = aws.client("cloudtrail", region="us-east-1", endpoint_url=moto_endpoint)
    recs = [invoke_model(), update_guardrail(), delete_logging_config()]
    wire = Wire(client).throttle("LookupEvents")
    wire.answer("LookupEvents", {"Events": [lookup_event(r) for r in recs[:2]], "NextToken": "t1"})
    wire.answer("LookupEvents", {"Events": [lookup_event(recs[2])]})
    clock, sent_before = FakeClock(), aws.requests_sent()
    stats = cloudtrail.lookup(warehouse, Settings(), ApiSource(name="p"), since=START,
                              until=END, client=client, clock=clock)  # fmt: skip
    assert wire.sent("LookupEvents") == [429, 200, 200] and not wire.pending()
    assert aws.requests_sent() - sent_before == 3  # the api_calls a run reports count retries
    assert [p.get("NextToken") for _, p in wire.calls] == [None, "t1"]
    assert clock.sleeps == [0.5]  # the bucket paces calls; botocore paces its own retries
    assert stats.records == 3 and stats.quarantined == 0
    got = warehouse.execute("SELECT event_id FROM cloudtrail_events ORDER BY 1").fetchall()
    assert got == sorted((r["eventID"],) for r in recs)
    assert warehouse.execute(
        "SELECT covered_until FROM watermarks WHERE zone = 'lookup://p'"
    ).fetchone() == (END,)


def test_access_denied_names_the_permission(warehouse):
    client = ct_client()
    with Stubber(client) as stub:
        stub.add_client_error("lookup_events", "AccessDeniedException", "no")
        with pytest.raises(SourceError, match="cloudtrail:LookupEvents"):
            cloudtrail.lookup(
                warehouse,
                Settings(),
                ApiSource(name="p"),
                since=START,
                until=END,
                client=client,
                clock=FakeClock(),
            )


def test_first_run_starts_first_run_days_back(warehouse):
    client = ct_client()
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with Stubber(client) as stub:
        expect_empty_lookup(stub, now - timedelta(days=7), now)
        cloudtrail.lookup(
            warehouse, Settings(), ApiSource(name="p"), until=now, client=client, clock=FakeClock()
        )
        stub.assert_no_pending_responses()


def test_cli_ingests_a_trail_landing_and_reports_it(tmp_path):
    import subprocess
    import sys

    mixed_estate(tmp_path / "trail")
    cli = str(Path(sys.executable).parent / "genai-lens")
    res = subprocess.run([cli, "--warehouse", "w.duckdb", "ingest", "cloudtrail", "--landing",
                          str(tmp_path / "trail")], cwd=tmp_path, capture_output=True, text=True,
                         timeout=180)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("cloudtrail: 8 events loaded from 4 objects")
