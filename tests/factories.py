"""Factories for realistic Bedrock records, by variant, with overrides (no pasted blobs)."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/payments-chat/botocore-session-1700000000"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"
APP_PROFILE = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/a1b2c3d4e5f6"


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge overrides; a value of ... deletes the key."""
    out = dict(base)
    for k, v in overrides.items():
        if v is ...:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def converse(**overrides: Any) -> dict[str, Any]:
    rec = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2025-06-02T10:15:30Z",
        "accountId": ACCOUNT,
        "identity": {"arn": ROLE},
        "region": "us-east-1",
        "requestId": str(uuid.uuid4()),
        "operation": "Converse",
        "modelId": SONNET4,
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {
                "messages": [{"role": "user", "content": [{"text": "Summarise this"}]}]
            },
            "inputTokenCount": 1200,
            "cacheReadInputTokenCount": 300,
            "cacheWriteInputTokenCount": 50,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "output": {"message": {"role": "assistant", "content": [{"text": "Here it is"}]}},
                "stopReason": "end_turn",
                "metrics": {"latencyMs": 1834},
                "usage": {
                    "inputTokens": 1200,
                    "outputTokens": 240,
                    "cacheReadInputTokens": 300,
                    "cacheWriteInputTokens": 50,
                    "totalTokens": 1790,
                },
            },
            "outputTokenCount": 240,
        },
    }
    return deep_merge(rec, overrides)


def token_counts(input_tokens: int, output_tokens: int = 0) -> dict[str, Any]:
    """Overrides for a record with exactly these counts and no cache fields (price checks)."""
    return {
        "input": {
            "inputTokenCount": input_tokens,
            "cacheReadInputTokenCount": ...,
            "cacheWriteInputTokenCount": ...,
        },
        "output": {"outputTokenCount": output_tokens},
    }


def invoke_model(**overrides: Any) -> dict[str, Any]:
    rec = converse(operation="InvokeModel", modelId=HAIKU)
    rec["input"] = {
        "inputContentType": "application/json",
        "inputTokenCount": 800,
        "inputBodyJson": {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 512,
            "messages": [{"role": "user", "content": "Classify"}],
        },
    }
    rec["output"] = {
        "outputContentType": "application/json",
        "outputTokenCount": 60,
        "outputBodyJson": {
            "id": "msg_bdrk_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-3-haiku",
            "content": [{"type": "text", "text": "positive"}],
            "stop_reason": "max_tokens",
            "stop_sequence": None,
            "usage": {"input_tokens": 800, "output_tokens": 60},
        },
    }
    return deep_merge(rec, overrides)


def invoke_stream(done_marker: bool = True, **overrides: Any) -> dict[str, Any]:
    rec = invoke_model(operation="InvokeModelWithResponseStream")
    chunks: list[Any] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_bdrk_02",
                "role": "assistant",
                "usage": {"input_tokens": 800, "output_tokens": 1},
            },
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "Hello"},
        },
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 60},
        },
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": 800,
                "outputTokenCount": 60,
                "invocationLatency": 2450,
                "firstByteLatency": 310,
            },
        },
    ]
    if done_marker:
        chunks.append("[DONE]")
    rec["output"]["outputBodyJson"] = chunks
    return deep_merge(rec, overrides)


def converse_guardrail(intervened: bool = True, **overrides: Any) -> dict[str, Any]:
    action = "BLOCKED" if intervened else "NONE"
    trace = {
        "guardrail": {
            "inputAssessment": {
                "gr-abc123": {
                    "topicPolicy": {
                        "topics": [{"name": "Investment advice", "type": "DENY", "action": action}]
                    },
                    "invocationMetrics": {
                        "guardrailProcessingLatency": 120,
                        "usage": {"topicPolicyUnits": 1},
                    },
                }
            },
            "outputAssessments": [
                {
                    "gr-abc123": {
                        "sensitiveInformationPolicy": {
                            "piiEntities": [
                                {
                                    "type": "EMAIL",
                                    "match": "x@example.com",
                                    "action": "ANONYMIZED" if intervened else "NONE",
                                }
                            ]
                        }
                    }
                }
            ],
        }
    }
    rec = converse(
        output={
            "outputBodyJson": {
                "stopReason": "guardrail_intervened" if intervened else "end_turn",
                "trace": trace,
            }
        }
    )
    return deep_merge(rec, overrides)


def invoke_guardrail(intervened: bool = True, **overrides: Any) -> dict[str, Any]:
    rec = invoke_model()
    body = rec["output"]["outputBodyJson"]
    body["amazon-bedrock-guardrailAction"] = "INTERVENED" if intervened else "NONE"
    body["amazon-bedrock-trace"] = {
        "guardrail": {
            "input": {
                "gr-xyz": {
                    "contentPolicy": {
                        "filters": [
                            {
                                "type": "VIOLENCE",
                                "confidence": "HIGH",
                                "filterStrength": "HIGH",
                                "action": "BLOCKED" if intervened else "NONE",
                            }
                        ]
                    }
                }
            },
            "outputs": [],
        }
    }
    return deep_merge(rec, overrides)


def error_record(code: str = "ThrottlingException", **overrides: Any) -> dict[str, Any]:
    rec = converse(errorCode=code)
    rec["output"] = {"outputContentType": "application/json", "outputTokenCount": 0}
    rec["input"].pop("cacheReadInputTokenCount")
    rec["input"].pop("cacheWriteInputTokenCount")
    return deep_merge(rec, overrides)


def newer_key_order(rec: dict[str, Any]) -> dict[str, Any]:
    """The 2025-26 layout: timestamp first; identity, inferenceRegion, schema* last."""
    tail = ["identity", "inferenceRegion", "schemaType", "schemaVersion"]
    head = {"timestamp": rec["timestamp"]}
    mid = {k: v for k, v in rec.items() if k not in tail and k != "timestamp"}
    return head | mid | {k: rec[k] for k in tail if k in rec}


def log_key(
    ts: datetime, account: str = ACCOUNT, region: str = "us-east-1", name: str | None = None
) -> str:
    name = name or f"{ts:%Y%m%dT%H%M%S}Z_{uuid.uuid4().hex[:16]}.json.gz"
    return f"AWSLogs/{account}/BedrockModelInvocationLogs/{region}/{ts:%Y/%m/%d/%H}/{name}"


def ndjson_gz(records: list[Any]) -> bytes:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    return gzip.compress(("\n".join(lines) + "\n").encode())


def write_object(root: Path, key: str, data: bytes) -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def land(root: Path, records: list[Any], ts: datetime | None = None, **key_args: Any) -> Path:
    """Write records as one log object of a local landing zone; returns the object path."""
    ts = ts or datetime(2025, 6, 2, 10)
    return write_object(root, log_key(ts, **key_args), ndjson_gz(records))


def auth_secrets(
    folder: Path, issuer: str, app_port: int, *, names: tuple[str, ...] = (), **overrides: Any
) -> Path:
    """A `.streamlit/secrets.toml` with a working [auth] for the provider at `issuer` and an app
    on 127.0.0.1:`app_port` (mode 600, as the README asks); keys overridden or (None) left out.
    With `names`, the provider's keys go into a named [auth.<name>] table per name (as an
    organisation with Okta and Entra writes it) instead of [auth] itself."""
    keys: dict[str, Any] = {
        "redirect_uri": f"http://127.0.0.1:{app_port}/oauth2callback",
        "cookie_secret": "a-long-random-string-only-the-server-knows-0123456789",
        "client_id": "genai-lens",
        "client_secret": "genai-lens-client-secret",
        "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
    } | overrides
    shared = {k: v for k, v in keys.items() if k in ("redirect_uri", "cookie_secret") or not names}
    client = {k: v for k, v in keys.items() if k not in shared}
    scope = 'client_kwargs = { scope = "openid profile email" }\n'

    def table(header: str, values: dict[str, Any]) -> str:
        lines = [f"{k} = {json.dumps(v)}" for k, v in values.items() if v is not None]
        return f"[{header}]\n" + "\n".join(lines) + "\n"

    text = table("auth", shared) + ("" if names else scope)
    text += "".join(table(f"auth.{name}", client) + scope for name in names)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secrets.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path
