"""boto3 sessions and clients: the default credential chain, optional role, adaptive retry."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError
from botocore.session import get_session

from base.errors import CredentialsError, SourceError

# Throttling and 5xx are botocore's job: adaptive mode backs off and rate-limits client-side.
CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 10},
    connect_timeout=10,
    read_timeout=60,
    max_pool_connections=16,
    user_agent_extra="genai-lens",
)


class RequestCounter:
    """AWS requests sent (retries included), from whichever thread sends them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.n = 0

    def __call__(self, **_: Any) -> None:  # a botocore before-send handler
        with self._lock:
            self.n += 1


# Every request this process sent, and the run's own counter. A client counts toward the run
# that was open when it was made, whatever thread later sends through it: S3 downloads run on
# worker threads (and s3transfer's own), which a thread-local count never saw.
_process_calls = RequestCounter()
_run_calls: ContextVar[RequestCounter | None] = ContextVar("genai_lens_run_calls", default=None)


def requests_sent() -> int:
    return _process_calls.n


@contextmanager
def counting_requests() -> Iterator[RequestCounter]:
    """Count the requests of the clients made inside the block (a job run)."""
    counter = RequestCounter()
    token = _run_calls.set(counter)
    try:
        yield counter
    finally:
        _run_calls.reset(token)


def _count_requests(made: Any) -> Any:
    made.meta.events.register("before-send", _process_calls)
    run = _run_calls.get()
    if run is not None:
        made.meta.events.register("before-send", run)
    return made


def session_for(
    region: str | None = None, role_arn: str | None = None, endpoint_url: str | None = None
) -> boto3.Session:
    """A session from boto3's default chain, or one that assumes `role_arn` and refreshes."""
    base = boto3.Session(region_name=region)
    if not role_arn:
        return base
    sts = _count_requests(base.client("sts", config=CLIENT_CONFIG, endpoint_url=endpoint_url))

    def refresh() -> dict[str, str]:
        try:
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="genai-lens")["Credentials"]
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise CredentialsError(no_credentials(f"assuming {role_arn}")) from exc
        except ClientError as exc:
            raise SourceError(
                f"cannot assume role {role_arn}: {error_code(exc)}: "
                f"{exc.response['Error'].get('Message', '')}; check its trust "
                "policy allows the principal genai-lens runs as"
            ) from exc
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    botocore_session = get_session()
    # botocore has no public setter for refreshable credentials; this private slot is the
    # pattern AWS's own examples use, so the stubs do not know it.
    botocore_session._credentials = RefreshableCredentials.create_from_metadata(  # type: ignore[attr-defined]
        metadata=refresh(), refresh_using=refresh, method="sts-assume-role"
    )
    if region:
        botocore_session.set_config_variable("region", region)
    return boto3.Session(botocore_session=botocore_session)


def client(
    service: str,
    *,
    region: str | None = None,
    role_arn: str | None = None,
    endpoint_url: str | None = None,
) -> Any:
    # The stubs overload client() on literal service names; ours is chosen at run time.
    made = session_for(region, role_arn, endpoint_url).client(  # type: ignore[call-overload]
        service, config=CLIENT_CONFIG, endpoint_url=endpoint_url
    )
    return _count_requests(made)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def no_credentials(what: str) -> str:
    return (
        f"no AWS credentials found for {what}: boto3's default chain looked at the "
        "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), AWS_PROFILE and "
        "~/.aws/config (SSO, roles) and instance/container roles; configure one of them"
    )


def access_error(exc: ClientError, what: str, action: str) -> SourceError:
    """Map a ClientError to one actionable line."""
    code = error_code(exc)
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        return SourceError(
            f"access denied to {what}: grant {action} to the principal "
            "genai-lens runs as (see docs/iam-policy.json)"
        )
    if code in {"NoSuchBucket", "ResourceNotFoundException"}:
        return SourceError(f"{what} does not exist ({code}); check the name in the config")
    if code in {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }:
        return CredentialsError(
            f"the AWS credentials for {what} are invalid or expired "
            f"({code}); refresh them (e.g. `aws sso login`)"
        )
    return SourceError(f"{what}: {code}: {exc.response['Error'].get('Message', '')}")


def pages(paginated: Iterable[dict[str, Any]], what: str, action: str) -> Iterator[dict[str, Any]]:
    """A boto3 paginator's pages; missing credentials or access become one actionable line."""
    it = iter(paginated)
    while True:
        try:
            page = next(it, None)
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise CredentialsError(no_credentials(what)) from exc
        except ClientError as exc:
            raise access_error(exc, what, action) from exc
        if page is None:
            return
        yield page
