"""`genai-lens doctor` against moto-served AWS (HTTP), with Stubber only where moto cannot.

moto 5.2 implements neither CloudTrail LookupEvents, Cost Explorer GetCostForecast nor Bedrock
GetInferenceProfile (it answers 500), and its IAM enforcement rejects Bedrock's signatures; those
calls are stubbed with botocore's Stubber on an otherwise real client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from moto.core.authorization import enable_iam_authentication

from base.settings import Settings
from jobs import doctor
from jobs.doctor import Check
from warehouse.db import connect

REGION = "us-east-1"


@pytest.fixture
def estate(aws_client: Callable[..., Any]) -> Iterator[dict[str, str]]:
    """A bucket with one delivered object, a log group, logging on into the bucket."""
    bucket, group = f"lens-{uuid.uuid4().hex[:12]}", f"/aws/bedrock/{uuid.uuid4().hex[:8]}"
    s3 = aws_client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="bedrock/AWSLogs/111122223333/x.json.gz", Body=b"{}")
    aws_client("logs").create_log_group(logGroupName=group)
    aws_client("cloudwatch").put_metric_data(
        Namespace="AWS/Bedrock", MetricData=[{"MetricName": "Invocations", "Value": 1.0}]
    )
    logging_to(aws_client, {"s3Config": {"bucketName": bucket, "keyPrefix": "bedrock"}})
    yield {"bucket": bucket, "group": group}
    aws_client("bedrock").delete_model_invocation_logging_configuration()


def logging_to(aws_client: Callable[..., Any], config: dict[str, Any]) -> None:
    aws_client("bedrock").put_model_invocation_logging_configuration(
        loggingConfig={**config, "textDataDeliveryEnabled": True}
    )


def lens(endpoint: str, bucket: str, group: str, **overrides: Any) -> Settings:
    where = {"region": REGION, "endpoint_url": endpoint}
    config: dict[str, Any] = {
        "resolve_profiles_with_api": False,
        "invocation_logs": {
            "landing_zones": [{"uri": f"s3://{bucket}/bedrock", **where}],
            "log_groups": [{"name": group, **where}],
        },
        "metrics": {"apis": [where]},
        "cloudtrail": {"lookups": [where]},
        "cost": {"apis": [where], "forecast": False},
    }
    return Settings(**(config | overrides))


def stubbing(**answers: list[tuple[str, dict[str, Any] | str]]) -> Callable[..., Any]:
    """Real clients from doctor_client; for the named services, canned answers in order
    (a dict is a response, a string an error code)."""

    def make(service: str, **kw: Any) -> Any:
        client = doctor.doctor_client(service, **kw)
        if service in answers:
            stub = Stubber(client)
            for operation, answer in answers[service]:
                if isinstance(answer, str):
                    stub.add_client_error(operation, answer, f"{answer} (stubbed)")
                else:
                    stub.add_response(operation, answer)
            stub.activate()
        return client

    return make


CLOUDTRAIL = [("lookup_events", {"Events": []})]
FORECAST = [("get_cost_forecast", "DataUnavailableException")]


def by_what(checks: list[Check], prefix: str) -> Check:
    found = [c for c in checks if c.what.startswith(prefix)]
    assert len(found) == 1, (prefix, [c.what for c in checks])
    return found[0]


def test_everything_configured_and_working_is_all_ok(tmp_path, moto_endpoint, estate):
    connect(tmp_path / "w.duckdb").close()
    settings = lens(moto_endpoint, estate["bucket"], estate["group"])
    lines: list[str] = []
    make = stubbing(cloudtrail=CLOUDTRAIL)
    code = doctor.main(settings, tmp_path / "w.duckdb", lines.append, cost_explorer=True, make=make)
    assert code == 0, "\n".join(lines)
    assert all(line.startswith("ok ") for line in lines[:-1]), "\n".join(lines)
    assert lines[-1] == f"doctor: {len(lines) - 1} ok, 0 warnings, 0 failed"
    text = "\n".join(lines)
    for expected in [
        "AWS credentials (endpoint",
        f"landing zone s3://{estate['bucket']}/bedrock: listed and read",
        "ListMetrics: AWS/Bedrock: 1 series",
        "GetMetricData: readable",
        "cloudtrail lookups",
        "GetCostAndUsage: readable (USD 0.01 billed)",
        f"bedrock invocation logging in us-east-1: on, delivering to s3://{estate['bucket']}",
        "schema: current",
    ]:
        assert expected in text


def test_cost_explorer_is_not_called_unless_asked(tmp_path, moto_endpoint, estate):
    settings = lens(moto_endpoint, estate["bucket"], estate["group"])
    checks = doctor.run_checks(
        settings, tmp_path / "w.duckdb", make=stubbing(cloudtrail=CLOUDTRAIL)
    )
    skipped = by_what(checks, "cost explorer")
    assert skipped.status == "warn"
    assert "USD 0.01 per request" in skipped.detail
    assert "--cost-explorer" in skipped.fix


def test_cost_forecast_without_history_still_proves_the_permission(tmp_path, moto_endpoint, estate):
    settings = lens(
        moto_endpoint,
        estate["bucket"],
        estate["group"],
        cost={"apis": [{"endpoint_url": moto_endpoint}], "forecast": True},
    )
    usage = {"ResultsByTime": [], "DimensionValueAttributes": []}
    make = stubbing(
        cloudtrail=CLOUDTRAIL,
        ce=[("get_cost_and_usage", usage), ("get_cost_forecast", "DataUnavailableException")],
    )
    checks = doctor.run_checks(settings, tmp_path / "w.duckdb", cost_explorer=True, make=make)
    assert by_what(checks, "cost explorer default|default-chain GetCostAndUsage").status == "ok"
    forecast = by_what(checks, "cost explorer default|default-chain GetCostForecast")
    assert (forecast.status, forecast.detail) == ("ok", "allowed (USD 0.01 billed)")


def test_logging_off_fails_with_how_to_turn_it_on(tmp_path, moto_endpoint, estate, aws_client):
    aws_client("bedrock").delete_model_invocation_logging_configuration()
    settings = lens(moto_endpoint, estate["bucket"], estate["group"])
    lines: list[str] = []
    code = doctor.main(
        settings, tmp_path / "w.duckdb", lines.append, make=stubbing(cloudtrail=CLOUDTRAIL)
    )
    assert code == 1
    [line] = [x for x in lines if "invocation logging" in x]
    assert line.startswith("FAIL  bedrock invocation logging in us-east-1: off")
    assert "put-model-invocation-logging-configuration --region us-east-1" in line
    assert f"delivering to s3://{estate['bucket']}/bedrock" in line


def test_logging_to_a_place_no_source_reads_warns(tmp_path, moto_endpoint, estate, aws_client):
    logging_to(aws_client, {"cloudWatchConfig": {"logGroupName": "/elsewhere", "roleArn": "r"}})
    settings = lens(moto_endpoint, estate["bucket"], estate["group"])
    checks = doctor.run_checks(
        settings, tmp_path / "w.duckdb", make=stubbing(cloudtrail=CLOUDTRAIL)
    )
    check = by_what(checks, "bedrock invocation logging")
    assert check.status == "warn"
    assert check.detail == "on, delivering to log group /elsewhere, which no source reads"
    logging_to(aws_client, {"cloudWatchConfig": {"logGroupName": estate["group"], "roleArn": "r"}})
    checks = doctor.run_checks(
        settings, tmp_path / "w.duckdb", make=stubbing(cloudtrail=CLOUDTRAIL)
    )
    assert by_what(checks, "bedrock invocation logging").status == "ok"


def test_missing_bucket_log_group_and_empty_prefix(tmp_path, moto_endpoint, estate, aws_client):
    where = {"region": REGION, "endpoint_url": moto_endpoint}
    settings = Settings(
        resolve_profiles_with_api=False,
        invocation_logs={
            "landing_zones": [
                {"uri": f"s3://{estate['bucket']}/bedrock", **where},
                {"uri": "s3://no-such-bucket-for-lens/x", **where},
                {"uri": f"s3://{estate['bucket']}/nothing-here", **where},
            ],
            "log_groups": [{"name": "/no/such/group", **where}],
        },
    )
    checks = doctor.run_checks(settings, tmp_path / "w.duckdb")
    missing = by_what(checks, "invocation logs landing zone s3://no-such-bucket-for-lens/x")
    assert (missing.status, missing.detail) == ("FAIL", "the bucket does not exist")
    empty = by_what(checks, f"invocation logs landing zone s3://{estate['bucket']}/nothing-here")
    assert (empty.status, empty.detail) == ("warn", "listable, but nothing is under the prefix yet")
    group = by_what(checks, "log group cwlogs://us-east-1/no/such/group")
    assert (group.status, group.detail) == ("FAIL", "does not exist")


@pytest.fixture
def reader(aws_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """An IAM user allowed everything but what the test denies; its keys in the environment."""
    name = f"lens-{uuid.uuid4().hex[:8]}"
    iam = aws_client("iam")
    iam.create_user(UserName=name)
    deny = ["s3:ListBucket", "logs:FilterLogEvents", "sts:AssumeRole"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": deny, "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName=name, PolicyName="doctor", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    return f"arn:aws:iam::123456789012:user/{name}"


def test_access_denied_names_the_permission_resource_and_principal(
    tmp_path, moto_endpoint, estate, reader
):
    role = "arn:aws:iam::123456789012:role/lens-reader"
    where = {"region": REGION, "endpoint_url": moto_endpoint}
    settings = Settings(
        resolve_profiles_with_api=False,
        invocation_logs={
            "landing_zones": [{"uri": f"s3://{estate['bucket']}/bedrock", **where}],
            "log_groups": [{"name": estate["group"], **where}],
        },
        cloudtrail={
            "landing_zones": [{"uri": f"s3://{estate['bucket']}/t", "role_arn": role, **where}]
        },
    )
    logging = {"loggingConfig": {"s3Config": {"bucketName": estate["bucket"]}}}
    make = stubbing(bedrock=[("get_model_invocation_logging_configuration", logging)])
    with enable_iam_authentication():  # moto now checks every request against IAM
        checks = doctor.run_checks(settings, tmp_path / "w.duckdb", make=make)
    s3 = by_what(checks, f"invocation logs landing zone s3://{estate['bucket']}/bedrock")
    assert s3.status == "FAIL"
    assert s3.detail == "access denied (s3:ListBucket)"
    assert s3.fix.startswith(
        f"grant s3:ListBucket on arn:aws:s3:::{estate['bucket']} for prefix bedrock/* to {reader}"
    )
    logs = by_what(checks, "log group")
    assert logs.fix.startswith(
        "grant logs:FilterLogEvents on arn:aws:logs:us-east-1:123456789012:log-group:"
        f"{estate['group']}:* to {reader}"
    )
    assume = by_what(checks, f"assume role {role}")
    assert assume.status == "FAIL"
    assert assume.fix.startswith(f"grant sts:AssumeRole on {role}")
    not_run = by_what(checks, "AWS sources")
    assert not_run.detail.startswith("1 checks not run")
    assert by_what(checks, "bedrock invocation logging").status == "ok"


def test_access_denied_by_stubbed_bedrock(tmp_path, moto_endpoint, estate):
    settings = lens(
        moto_endpoint, estate["bucket"], estate["group"], resolve_profiles_with_api=True
    )
    denied = "AccessDeniedException"
    make = stubbing(
        cloudtrail=CLOUDTRAIL,
        bedrock=[
            ("get_model_invocation_logging_configuration", denied),
            ("get_inference_profile", denied),
        ],
    )
    checks = doctor.run_checks(settings, tmp_path / "w.duckdb", make=make)
    logging = by_what(checks, "bedrock invocation logging")
    assert logging.status == "FAIL"
    assert logging.fix.startswith(
        "grant bedrock:GetModelInvocationLoggingConfiguration on * to "
        "arn:aws:sts::123456789012:user/moto"
    )
    profiles = by_what(checks, "bedrock inference profiles")
    assert profiles.fix.startswith(
        "grant bedrock:GetInferenceProfile and bedrock:ListTagsForResource on "
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/*"
    )


def test_inference_profile_permissions_proved_by_not_found(tmp_path, moto_endpoint, estate):
    settings = lens(
        moto_endpoint, estate["bucket"], estate["group"], resolve_profiles_with_api=True
    )
    logging = {"loggingConfig": {"s3Config": {"bucketName": estate["bucket"]}}}
    make = stubbing(
        cloudtrail=CLOUDTRAIL,
        bedrock=[
            ("get_model_invocation_logging_configuration", logging),
            ("get_inference_profile", "ResourceNotFoundException"),
            ("list_tags_for_resource", "ResourceNotFoundException"),
        ],
    )
    checks = doctor.run_checks(settings, tmp_path / "w.duckdb", make=make)
    profiles = by_what(checks, "bedrock inference profiles")
    assert (profiles.status, profiles.detail) == (
        "ok",
        "GetInferenceProfile and ListTagsForResource allowed",
    )


def test_no_credentials_says_what_the_chain_lacked(tmp_path, moto_endpoint, estate, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to wait for
    settings = lens(moto_endpoint, estate["bucket"], estate["group"])
    lines: list[str] = []
    assert doctor.main(settings, tmp_path / "w.duckdb", lines.append) == 1
    creds = next(x for x in lines if "AWS credentials" in x)
    assert creds.startswith("FAIL")
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set" in creds
    assert "AWS_PROFILE is not set" in creds
    assert any(x.startswith("FAIL  AWS sources: 6 checks not run") for x in lines)


def test_half_a_key_pair_names_the_missing_half(tmp_path, moto_endpoint, estate, monkeypatch):
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    settings = lens(moto_endpoint, estate["bucket"], estate["group"])
    checks = doctor.run_checks(settings, tmp_path / "w.duckdb")
    creds = by_what(checks, "AWS credentials")
    assert creds.status == "FAIL"
    assert creds.detail == "env has part of a key pair: AWS_SECRET_ACCESS_KEY is missing"


# --- config and warehouse ---------------------------------------------------------------


def test_nothing_configured_warns_and_touches_no_aws(tmp_path):
    checks = doctor.run_checks(Settings(), tmp_path / "w.duckdb")
    assert [c.what for c in checks] == [
        "config",
        f"warehouse {tmp_path / 'w.duckdb'}",
        "disk space",
        "sign-in",  # not configured, serving localhost: ok, and said so
    ]
    assert checks[0].status == "warn" and checks[-1].status == "ok"
    assert "genai-lens demo" in checks[0].fix


def test_local_landing_zone_must_be_a_folder(tmp_path):
    settings = Settings(
        invocation_logs={"landing_zones": [{"uri": str(tmp_path)}, {"uri": str(tmp_path / "no")}]}
    )
    checks = doctor.run_checks(settings, tmp_path / "w.duckdb")
    zones = [c for c in checks if "landing zone" in c.what]
    assert [c.status for c in zones] == ["ok", "FAIL"]
    assert not [c for c in checks if "AWS" in c.what]  # local folders need no credentials


def test_pending_and_edited_migrations(tmp_path):
    path = tmp_path / "w.duckdb"
    connect(path, migrate=False).close()  # an empty database: every migration pending
    schema = by_what(doctor.warehouse_checks(path), f"warehouse {path} schema")
    assert schema.status == "warn"
    assert "genai-lens migrate" in schema.fix
    con = connect(path)
    con.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    con.close()
    schema = by_what(doctor.warehouse_checks(path), f"warehouse {path} schema")
    assert schema.status == "FAIL"
    assert "0001_" in schema.detail


def test_warehouse_held_by_another_process_is_a_warning(tmp_path):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        checks = doctor.warehouse_checks(path)
    finally:
        holder.kill()
        holder.wait()
    assert checks[0].status == "warn"
    assert f"in use by process {holder.pid}" in checks[0].detail


HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('holding', flush=True); "
HOLD += "time.sleep(60)"


def test_a_working_warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    checks = doctor.warehouse_checks(path)
    assert [c.status for c in checks] == ["ok", "ok", "ok", "ok"]
    assert [c.what for c in checks][:3] == [f"warehouse {path}", f"warehouse {path} schema",
                                          f"warehouse {path} writes"]  # fmt: skip


@pytest.mark.parametrize(
    ("free_gib", "size_gib", "status"),
    [(50, 1, "ok"), (1.5, 1, "warn"), (0.9, 0, "warn"), (0.2, 0, "FAIL")],
)
def test_disk_space_thresholds(tmp_path: Path, free_gib: float, size_gib: float, status: str):
    gib = 1024**3
    check = doctor.disk_check(tmp_path, int(size_gib * gib), free=int(free_gib * gib))
    assert check.status == status


def test_a_line_per_check() -> None:
    assert Check("ok", "config", "3 sources").line() == "ok    config: 3 sources"
    failed = Check("FAIL", "log group x", "does not exist", "check the name").line()
    assert failed == "FAIL  log group x: does not exist; fix: check the name"


def test_model_catalog_reads_are_checked_and_a_denied_quota_read_names_its_action(
    tmp_path, moto_endpoint
):
    where = {"region": "us-east-1", "endpoint_url": moto_endpoint}
    settings = Settings(resolve_profiles_with_api=False, capacity={"apis": [where]})
    model = "amazon.nova-lite-v1:0"
    summary = {"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model}",
               "modelId": model, "modelLifecycle": {"status": "ACTIVE"}}  # fmt: skip
    make = stubbing(
        bedrock=[("list_foundation_models", {"modelSummaries": [summary]})],
        **{"service-quotas": [("list_service_quotas", "AccessDeniedException")]},
    )
    checks = doctor.run_checks(settings, tmp_path / "w.duckdb", make=make)
    models = by_what(checks, "model catalog in us-east-1 ListFoundationModels")
    assert (models.status, models.detail) == ("ok", "1 models")
    quotas = by_what(checks, "model catalog in us-east-1 ListServiceQuotas")
    assert quotas.status == "FAIL"
    assert quotas.fix.startswith("grant servicequotas:ListServiceQuotas on * to ")
