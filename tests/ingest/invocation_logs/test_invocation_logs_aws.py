"""The same ingest through boto3 against moto-served S3, CloudWatch Logs and STS (HTTP)."""

from __future__ import annotations

import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import factories as F
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from test_invocation_logs import estate, snapshot
from urllib3.exceptions import ProtocolError

from base.errors import SourceError
from base.settings import Settings
from ingest import aws
from ingest.invocation_logs import ingester as invocation_logs
from ingest.invocation_logs import profiles
from warehouse.bookkeeping import watermark
from warehouse.db import connect


def upload_tree(s3: Any, bucket: str, root: Path, prefix: str) -> int:
    n = 0
    for path in sorted(root.rglob("*")):
        if path.is_file():
            s3.put_object(
                Bucket=bucket, Key=prefix + str(path.relative_to(root)), Body=path.read_bytes()
            )
            n += 1
    return n


def s3_settings(uri: str, endpoint: str, **zone: Any) -> Settings:
    return Settings(
        resolve_profiles_with_api=False,
        invocation_logs={
            "landing_zones": [
                {"uri": uri, "endpoint_url": endpoint, "region": "us-east-1", **zone}
            ],
            "batch_files": 4,
        },
    )


def test_s3_landing_equals_local_folder(tmp_path, moto_endpoint, aws_client):
    root = tmp_path / "landing"
    estate(root, hours=8)
    F.land(root, ["not json"], datetime(2025, 6, 2, 4))
    # Offloaded bodies and stray files sit beside the logs and must be skipped.
    F.write_object(
        root,
        "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2025/06/02/"
        "03/data/abc_input.json.gz",
        F.ndjson_gz([{"messages": []}]),
    )
    F.write_object(
        root,
        "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2025/06/02/03/readme.txt",
        b"hello",
    )
    s3 = aws_client("s3")
    bucket = f"logs-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    upload_tree(s3, bucket, root, "bedrock/")

    local = connect(tmp_path / "local.duckdb")
    invocation_logs.run(
        local,
        Settings(resolve_profiles_with_api=False, invocation_logs={"batch_files": 4}),
        landing=str(root),
    )
    remote = connect(tmp_path / "remote.duckdb")
    cfg = s3_settings(f"s3://{bucket}/bedrock", moto_endpoint)
    stats = invocation_logs.run(remote, cfg)
    assert stats.records == 80 and stats.quarantined == 1
    strip = "SELECT * EXCLUDE (source_object) FROM invocations ORDER BY request_id"
    assert remote.execute(strip).fetchall() == local.execute(strip).fetchall()
    assert (
        remote.execute("SELECT min(source_object) FROM invocations")
        .fetchone()[0]
        .startswith(f"s3://{bucket}/bedrock/AWSLogs/")
    )
    # Second run: nothing new is downloaded or loaded; the tables do not change.
    before = snapshot(remote)
    again = invocation_logs.run(remote, cfg)
    assert again.objects == 0 and snapshot(remote) == before


def test_s3_role_is_assumed_before_reading(tmp_path, moto_endpoint, aws_client):
    iam = aws_client("iam")
    role = iam.create_role(
        RoleName=f"reader-{uuid.uuid4().hex[:6]}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    s3 = aws_client("s3")
    bucket = f"logs-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    root = tmp_path / "landing"
    estate(root, hours=2)
    upload_tree(s3, bucket, root, "")
    con = connect(tmp_path / "w.duckdb")
    stats = invocation_logs.run(con, s3_settings(f"s3://{bucket}", moto_endpoint, role_arn=role))
    assert stats.records == 20
    session = aws.session_for("us-east-1", role, moto_endpoint)
    creds = session.get_credentials().get_frozen_credentials()
    assert creds.access_key != "testing"  # temporary credentials from STS, not the base ones


def test_missing_bucket_is_one_clear_error(tmp_path, moto_endpoint):
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(SourceError) as err:
        invocation_logs.run(con, s3_settings("s3://no-such-bucket-x/logs", moto_endpoint))
    assert "does not exist" in str(err.value) and "\n" not in str(err.value)


def test_missing_local_landing_is_one_clear_error(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(SourceError, match="is not a folder"):
        invocation_logs.run(con, Settings(), landing=str(tmp_path / "nowhere"))


def put_events(logs: Any, group: str, records: list[Any], when: datetime) -> None:
    stream = "aws/bedrock/modelinvocations"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    ms = int((when - datetime(1970, 1, 1)).total_seconds() * 1000)
    events = [
        {"timestamp": ms + i, "message": r if isinstance(r, str) else json.dumps(r)}
        for i, r in enumerate(records)
    ]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def test_cloudwatch_logs_group_paginated_by_time_window(tmp_path, moto_endpoint, aws_client):
    logs = aws_client("logs")
    group = f"/bedrock/invocations-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=group)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    recs = [
        F.converse(timestamp=f"{now - timedelta(minutes=30):%Y-%m-%dT%H:%M:%S}Z")
        for _ in range(120)
    ]
    put_events(logs, group, [*recs[:60], "{broken", *recs[60:]], now - timedelta(minutes=30))
    cfg = Settings(
        resolve_profiles_with_api=False,
        invocation_logs={
            "log_groups": [{"name": group, "region": "us-east-1", "endpoint_url": moto_endpoint}]
        },
    )
    con = connect(tmp_path / "w.duckdb")
    stats = invocation_logs.ingest_log_group(
        con, cfg, cfg.invocation_logs.log_groups[0], events_per_batch=50, page_size=25
    )
    assert stats.records == 120 and stats.quarantined == 1 and stats.batches >= 3
    ((obj, line, reason),) = con.execute(
        "SELECT source_object, line, reason FROM quarantine"
    ).fetchall()
    assert obj.startswith(f"cwlogs://us-east-1{group}/aws/bedrock/modelinvocations/")
    assert line == 1 and reason.startswith("not JSON")
    wm = watermark(con, invocation_logs.SOURCE, cfg.invocation_logs.log_groups[0].label)
    assert wm is not None and wm >= now - timedelta(minutes=1)
    before = snapshot(con)
    invocation_logs.run(con, cfg)  # re-reads the overlap window: harmless
    after = snapshot(con)
    assert after.pop("watermarks")[0][2] >= before.pop("watermarks")[0][2]  # time moved on
    assert after == before


def test_cloudwatch_logs_missing_group_is_one_clear_error(tmp_path, moto_endpoint):
    cfg = Settings(
        invocation_logs={
            "log_groups": [{"name": "/nope", "region": "us-east-1", "endpoint_url": moto_endpoint}]
        }
    )
    with pytest.raises(SourceError, match="does not exist"):
        invocation_logs.run(connect(tmp_path / "w.duckdb"), cfg)


def test_application_profile_resolved_through_bedrock_api(warehouse):
    import boto3

    client = boto3.client("bedrock", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response(
        "get_inference_profile",
        {
            "inferenceProfileName": "payments-chat",
            "inferenceProfileArn": F.APP_PROFILE,
            "inferenceProfileId": "a1b2c3d4e5f6",
            "status": "ACTIVE",
            "type": "APPLICATION",
            "models": [
                {
                    "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/"
                    "anthropic.claude-3-5-haiku-20241022-v1:0"
                }
            ],
        },
        {"inferenceProfileIdentifier": F.APP_PROFILE},
    )
    stub.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "lob", "value": "payments"}]},
        {"resourceARN": F.APP_PROFILE},
    )
    stub.add_client_error("get_inference_profile", "AccessDeniedException")
    other = F.APP_PROFILE.replace("a1b2c3d4e5f6", "zzzzzzzzzzzz")
    with stub:
        profiles.resolve_new(
            warehouse, [F.APP_PROFILE, other], Settings(), client_for=lambda region: client
        )
    rows = dict(warehouse.execute("SELECT arn, model FROM inference_profiles").fetchall())
    assert rows[F.APP_PROFILE] == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert rows[other] is None
    (error,) = warehouse.execute(
        "SELECT error FROM inference_profiles WHERE arn = ?", [other]
    ).fetchone()
    assert "AccessDeniedException" in error and "bedrock:GetInferenceProfile" in error
    assert warehouse.execute(
        "SELECT tags FROM inference_profiles WHERE arn = ?", [F.APP_PROFILE]
    ).fetchone()[0] == {"lob": "payments"}
    time.sleep(0)


def test_access_denied_names_the_permission_to_grant(tmp_path, moto_endpoint):
    from ingest.landing import S3Landing

    landing = S3Landing(
        s3_settings("s3://locked-bucket/logs", moto_endpoint).invocation_logs.landing_zones[0]
    )
    stub = Stubber(landing.s3)
    stub.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
    with stub, pytest.raises(SourceError) as err:
        landing.children("AWSLogs/")
    msg = str(err.value)
    assert "access denied to landing zone s3://locked-bucket/logs" in msg
    assert "s3:ListBucket" in msg and "\n" not in msg


class _CutOff(io.RawIOBase):
    """An HTTP body that breaks after `good` bytes, as a dropped connection does."""

    def __init__(self, data: bytes, good: int) -> None:
        self.data, self.good, self.pos = data, good, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.pos >= self.good:
            raise ProtocolError("Connection broken: IncompleteRead")
        n = min(len(buf), self.good - self.pos)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def _body(data: bytes, cut_at: int | None = None) -> StreamingBody:
    raw = io.BytesIO(data) if cut_at is None else _CutOff(data, cut_at)
    return StreamingBody(raw, len(data))


def test_a_download_cut_off_mid_body_is_fetched_again_whole(tmp_path, moto_endpoint):
    """One GetObject an object (no HeadObject first); a body that breaks part way is asked for
    again, and the file holds the whole object, not the part that arrived."""
    from ingest.landing import LandingObject, S3Landing

    zone = s3_settings("s3://logs/bedrock", moto_endpoint).invocation_logs.landing_zones[0]
    landing = S3Landing(zone)
    data = F.ndjson_gz([F.converse() for _ in range(50)])
    key = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/11/02/09/a.json.gz"
    obj = LandingObject(
        "", key, f"s3://logs/bedrock/{key}", len(data), "e", datetime(2026, 11, 2, 9)
    )
    expected = {"Bucket": "logs", "Key": f"bedrock/{key}"}
    stub = Stubber(landing.s3)
    stub.add_response("get_object", {"Body": _body(data, cut_at=len(data) // 3)}, expected)
    stub.add_response("get_object", {"Body": _body(data)}, expected)
    with stub:
        got = landing.fetch([obj], tmp_path)
    stub.assert_no_pending_responses()
    assert got[obj.uri].read_bytes() == data

    for _ in range(5):  # cut off every time: one clear error naming the object, no part file used
        stub.add_response("get_object", {"Body": _body(data, cut_at=10)}, expected)
    with stub, pytest.raises(SourceError) as err:
        landing.fetch([obj], tmp_path)
    assert f"s3://logs/bedrock/{key} was cut off 5 times" in str(err.value)
