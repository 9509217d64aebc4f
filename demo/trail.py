"""The demo estate's CloudTrail: the same invocations as management events, plus control plane.

Every simulated call is one `bedrock.amazonaws.com` management event (CloudTrail sees calls
even while invocation logging is off), built as one `concat_str` per row like demo_render.
Control-plane events (the planted guardrail edit, the logging config switched off and on,
routine reads, profile and model-access changes) are a handful of dicts. Files follow the trail
layout: one object per account/region per delivery slot, named by the delivery time.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from demo import world as w

SLOT_S = 10 * 60  # CloudTrail delivers a region's events about every 5-15 minutes
ADMIN_ROLE = "platform-admin"
ADMIN_SESSION = "terraform-ci"
ERROR_MESSAGES = {
    "ThrottlingException": "Too many requests, please wait before trying again.",
    "ValidationException": "Malformed input request, please reformat your input and try again.",
    "AccessDeniedException": "You don't have access to the model with the specified model ID.",
    "ModelErrorException": "The model encountered an error processing the request.",
    "ModelTimeoutException": "Model has timed out in processing the request.",
    "ServiceUnavailableException": "Bedrock is unable to process your request.",
}
AGENTS = (
    "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12",
    "aws-sdk-java/2.28.11 Linux/5.10 OpenJDK_64-Bit_Server_VM/21 Java/21 vendor/Amazon.com",
    "aws-sdk-js/3.687.0 ua/2.1 os/linux#5.10 lang/js md/nodejs#20.18.0 api/bedrock-runtime",
)
CONSOLE_AGENT = "AWS Internal"


def _hex(text: str, n: int = 16) -> str:
    return hashlib.blake2b(text.encode(), digest_size=n // 2 if n <= 128 else 64).hexdigest()[:n]


def event_id(key: str) -> str:
    """A deterministic UUID-shaped eventID."""
    h = _hex(key, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _role_of(principal: str) -> str:
    return principal.rsplit("/", 1)[-1]


def _identity(identity_arn: str, issuer_arn: str, when: datetime) -> dict[str, Any]:
    acct = identity_arn.split(":")[4]
    role_id = "AROA" + _hex(issuer_arn, 16).upper()
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{_role_of(identity_arn)}",
        "arn": identity_arn,
        "accountId": acct,
        "accessKeyId": "ASIA" + _hex(identity_arn + "key", 16).upper(),
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": issuer_arn,
                              "accountId": acct, "userName": _role_of(issuer_arn)},
            "attributes": {"creationDate": _iso(when - timedelta(minutes=20)),
                           "mfaAuthenticated": "false"},
        },
    }  # fmt: skip


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _principal_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Per identity: the JSON userIdentity (minus creationDate), source IP and user agent."""
    pairs = frame.select("identity_arn", "principal_arn").unique().sort("identity_arn")
    rows = []
    for i, (ident, issuer) in enumerate(pairs.rows()):
        head = json.dumps(_identity(ident, issuer, datetime(2000, 1, 1)), separators=(",", ":"))
        head = head.split('"creationDate":')[0] + '"creationDate":"'
        ip = f"10.{20 + i % 40}.{(i * 37) % 250 + 1}.{(i * 91) % 250 + 2}"
        rows.append((ident, head, ip, AGENTS[int(_hex(ident, 2), 16) % len(AGENTS)]))
    return pl.DataFrame(rows, schema=["identity_arn", "ui_head", "ip", "agent"], orient="row")


def invocation_events(frame: pl.DataFrame) -> pl.DataFrame:
    """One management event per invocation: columns account_id, region, ts, line."""
    ts = pl.col("ts")
    rid = pl.col("request_id").str.replace_all("-", "").str.reverse()
    eid = pl.concat_str(rid.str.slice(0, 8), pl.lit("-"), rid.str.slice(8, 4), pl.lit("-4"),
                        rid.str.slice(13, 3), pl.lit("-b"), rid.str.slice(17, 3), pl.lit("-"),
                        rid.str.slice(20, 12))  # fmt: skip
    err = pl.col("error_code")
    error = pl.when(err.is_not_null()).then(
        pl.concat_str(pl.lit(',"errorCode":"'), err, pl.lit('","errorMessage":"'),
                      err.replace_strict(ERROR_MESSAGES, default="Internal error"), pl.lit('"'))
    ).otherwise(pl.lit(""))  # fmt: skip
    cross = pl.when(pl.col("inference_region") != pl.col("region")).then(
        pl.concat_str(pl.lit(',"additionalEventData":{"inferenceRegion":"'),
                      pl.col("inference_region"), pl.lit('"}'))
    ).otherwise(pl.lit(""))  # fmt: skip
    line = pl.concat_str(
        pl.lit('{"eventVersion":"1.11","userIdentity":'), pl.col("ui_head"),
        (ts - pl.duration(minutes=20)).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.lit('","mfaAuthenticated":"false"}}},"eventTime":"'),
        ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.lit('","eventSource":"bedrock.amazonaws.com","eventName":"'), pl.col("operation"),
        pl.lit('","awsRegion":"'), pl.col("region"), pl.lit('","sourceIPAddress":"'),
        pl.col("ip"), pl.lit('","userAgent":"'), pl.col("agent"),
        pl.lit('","requestParameters":{"modelId":"'), pl.col("model_id"),
        pl.lit('"},"responseElements":null'), cross, error, pl.lit(',"requestID":"'),
        pl.col("request_id"), pl.lit('","eventID":"'), eid,
        pl.lit('","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,'
               '"recipientAccountId":"'), pl.col("account_id"),
        pl.lit('","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3",'
               '"cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":'
               '"bedrock-runtime.'), pl.col("region"), pl.lit('.amazonaws.com"}}'),
    )  # fmt: skip
    table = _principal_table(frame)
    lookup = {c: dict(zip(table["identity_arn"], table[c], strict=True)) for c in table.columns}
    principal = {c: pl.col("identity_arn").replace_strict(lookup[c]) for c in table.columns[1:]}
    # Each record ends with "," (write_trail trims the last one of a file).
    return frame.with_columns(**principal).select(line=pl.concat_str(line, pl.lit(",")))


def _control(name: str, when: datetime, acct: str, region: str, identity: str, issuer: str,
             *, read_only: bool = False, params: dict | None = None,
             response: dict | None = None, console: bool = False) -> dict[str, Any]:  # fmt: skip
    key = f"{name}/{acct}/{region}/{when.isoformat()}"
    rec = {
        "eventVersion": "1.11", "userIdentity": _identity(identity, issuer, when),
        "eventTime": _iso(when), "eventSource": "bedrock.amazonaws.com", "eventName": name,
        "awsRegion": region, "sourceIPAddress": "198.51.100.24" if console else "10.9.0.17",
        "userAgent": CONSOLE_AGENT if console else AGENTS[0], "requestParameters": params,
        "responseElements": response, "requestID": event_id(key + "/request"),
        "eventID": event_id(key), "readOnly": read_only, "eventType": "AwsApiCall",
        "managementEvent": True, "recipientAccountId": acct, "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": f"bedrock.{region}.amazonaws.com"},
    }  # fmt: skip
    if console:
        rec["sessionCredentialFromConsole"] = "true"
    return rec


def admin(acct: str) -> tuple[str, str]:
    """(session ARN, role ARN) of the platform team's automation in an account."""
    return (f"arn:aws:sts::{acct}:assumed-role/{ADMIN_ROLE}/{ADMIN_SESSION}",
            f"arn:aws:iam::{acct}:role/{ADMIN_ROLE}")  # fmt: skip


Events = list[dict[str, Any]]


def control_events(
    windows: dict[str, tuple[int, int]], start: datetime, end: datetime, seed: int
) -> tuple[Events, dict[str, dict[str, Any]]]:
    """Control-plane records, and the planted ones by role (for the ground truth)."""
    at = lambda t: datetime.fromtimestamp(t, UTC)  # noqa: E731
    planted: dict[str, dict[str, Any]] = {}
    spec = w.INCIDENTS["guardrail_burst"]
    acct, region = spec["account"], spec["region"]
    gid, _ = w.GUARDRAIL_APPS[spec["app"]]
    arn = f"arn:aws:bedrock:{region}:{acct}:guardrail/{gid}"
    when = at(windows["guardrail_burst"][0] - 40 * 60)
    sso_issuer = f"arn:aws:iam::{acct}:role/aws-reserved/sso.amazonaws.com/{w.SSO_ROLE}"
    planted["guardrail_edit"] = _control(
        "UpdateGuardrail", when, acct, region, w.GUARDRAIL_EDITOR, sso_issuer, console=True,
        params={"guardrailIdentifier": arn, "name": f"{spec['app']}-guardrail",
                "blockedInputMessaging": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "blockedOutputsMessaging": "HIDDEN_DUE_TO_SECURITY_REASONS"},
        response={"guardrailArn": arn, "guardrailId": gid, "version": "DRAFT",
                  "updatedAt": when.strftime("%Y-%m-%dT%H:%M:%S.") + "482913077Z"},
    )  # fmt: skip
    off = w.INCIDENTS["logging_off"]
    t0, t1 = windows["logging_off"]
    ident, issuer = admin(off["account"])
    planted["logging_off"] = _control(
        "DeleteModelInvocationLoggingConfiguration", at(t0 - 30), off["account"],
        off["region"], ident, issuer)  # fmt: skip
    planted["logging_on"] = _control(
        "PutModelInvocationLoggingConfiguration", at(t1), off["account"], off["region"],
        ident, issuer, params={"loggingConfig": {
            "s3Config": {"bucketName": w.LOG_BUCKET, "keyPrefix": ""},
            "textDataDeliveryEnabled": True, "imageDataDeliveryEnabled": False,
            "embeddingDataDeliveryEnabled": False}})  # fmt: skip
    out = list(planted.values()) + _routine(start, end, seed)
    return out, planted


def _routine(start: datetime, end: datetime, seed: int) -> list[dict[str, Any]]:
    """Reads every few days per account, profile creation and model access at the start."""
    rng = np.random.default_rng(seed + 3)
    out: list[dict[str, Any]] = []
    reads = ("ListGuardrails", "ListFoundationModels", "GetModelInvocationLoggingConfiguration",
             "ListInferenceProfiles", "GetFoundationModelAvailability")  # fmt: skip
    days = max(1, (end - start).days)
    for acct in w.ACCOUNTS:
        ident, issuer = admin(acct)
        out.append(_control("PutUseCaseForModelAccess", start + timedelta(minutes=7), acct,
                            "us-east-1", ident, issuer,
                            params={"formData": "HIDDEN_DUE_TO_SECURITY_REASONS"}))  # fmt: skip
        for day in range(0, days, 3):
            when = start + timedelta(days=day, seconds=int(rng.integers(8 * 3600, 20 * 3600)))
            name = reads[int(rng.integers(len(reads)))]
            out.append(_control(name, when, acct, "us-east-1", ident, issuer, read_only=True))
    for i, p in enumerate(w.PROFILES):
        ident, issuer = admin(p.account)
        when = start + timedelta(minutes=30 + 3 * i)
        out.append(_control(
            "CreateInferenceProfile", when, p.account, p.region, ident, issuer,
            params={"inferenceProfileName": p.key, "modelSource": {"copyFrom": p.model},
                    "tags": [{"key": k, "value": v} for k, v in p.tags]},
            response={"inferenceProfileArn": p.arn, "status": "ACTIVE"}))  # fmt: skip
    return out


Piece = bytes | memoryview


def buffer_of(lines: pl.Series) -> tuple[np.ndarray, memoryview]:
    """The byte offsets and data buffer of a string column (one copy, as Arrow large_string)."""
    arr = lines.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    _, offset_buf, data_buf = arr.buffers()[:3]  # validity, offsets, bytes of a string array
    if offset_buf is None or data_buf is None:
        raise ValueError("the line column has no string buffers")
    return np.frombuffer(memoryview(offset_buf), dtype=np.int64)[arr.offset :], memoryview(data_buf)


def write_objects(paths: list[Path], pieces: list[list[Piece]]) -> None:
    """Gzip each file's pieces (slices of column buffers, no per-file copies), one after the
    other: threads creating small files in the same folders contend on the folder's lock and
    the GIL (the 90-day trail: 13.1 s and 15.5 CPU-s on one thread, 17.8 s and 29.5 on two)."""
    for folder in {p.parent for p in paths}:
        folder.mkdir(parents=True, exist_ok=True)
    for path, parts in zip(paths, pieces, strict=True):
        z = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip, mtime 0: deterministic bytes
        path.write_bytes(b"".join([*(z.compress(p) for p in parts), z.flush()]))


def write_trail(frame: pl.DataFrame, root: Path, control: Events) -> int:
    """Write trail files under `root` (the trail bucket); returns the number of files."""
    slot = pl.col("ts").dt.epoch("s") // SLOT_S
    keys = ["account_id", "region", "slot"]
    cols = ("request_id", "ts", "account_id", "region", "inference_region", "operation",
            "model_id", "identity_arn", "principal_arn", "error_code")  # fmt: skip
    calls = frame.select(*cols, slot=slot).sort(*keys, "ts", maintain_order=True)
    offsets, data = buffer_of(invocation_events(calls)["line"])
    runs = calls.group_by(keys, maintain_order=True).len()
    files: dict[tuple, list[Piece]] = {}
    row = 0
    for acct, region, s, n in runs.iter_rows():
        files[(acct, region, s)] = [data[int(offsets[row]) : int(offsets[row + n])]]
        row += n
    for rec in control:
        t = datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        key = (rec["recipientAccountId"], rec["awsRegion"], int(t.timestamp()) // SLOT_S)
        files.setdefault(key, []).append((json.dumps(rec, separators=(",", ":")) + ",").encode())
    paths, pieces = [], []
    for (acct, region, s), body in sorted(files.items()):
        # Delivered a few minutes after the slot closes; the name and folder use that time.
        delivered = datetime.fromtimestamp((s + 1) * SLOT_S + 180 + s % 300, UTC)
        name = (f"{acct}_CloudTrail_{region}_{delivered:%Y%m%dT%H%M}Z_"
                f"{_hex(f'{acct}/{region}/{s}', 16)}.json.gz")  # fmt: skip
        paths.append(root / f"AWSLogs/{acct}/CloudTrail/{region}/{delivered:%Y/%m/%d}/{name}")
        pieces.append([b'{"Records":[', *body[:-1], body[-1][:-1], b"]}"])  # drop the last ","
    write_objects(paths, pieces)
    return len(paths)
