"""What every API source shares: a client made from its config entry, and where its read starts.

An API source (a log group, a CloudTrail lookup, a GetMetricData or Cost Explorer source)
reads a time window from its watermark less an overlap (what AWS may still deliver late or
restate), or on its first run a configured number of days back; `since` overrides both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

import duckdb

from ingest import aws
from warehouse.bookkeeping import watermark


class Endpoint(Protocol):
    """A configured source's connection settings (an ApiSource, LogGroup or LandingZone)."""

    @property
    def region(self) -> str | None: ...
    @property
    def role_arn(self) -> str | None: ...
    @property
    def endpoint_url(self) -> str | None: ...


def client_for(service: str, source: Endpoint, *, region: str | None = None) -> Any:
    """A boto3 client for a configured source: its region (or `region`), role and endpoint."""
    return aws.client(
        service,
        region=region or source.region,
        role_arn=source.role_arn,
        endpoint_url=source.endpoint_url,
    )


def start_of(
    con: duckdb.DuckDBPyConnection,
    source: str,
    label: str,
    *,
    since: datetime | None,
    overlap: timedelta,
    first_run: timedelta,
    back_from: datetime,
) -> datetime:
    """Where a read of `label` starts: `since`, else its watermark less `overlap`, else
    `first_run` before `back_from` (nothing read yet)."""
    wm = watermark(con, source, label)
    return since or (wm - overlap if wm else back_from - first_run)
