"""Landing zones: an S3 prefix or a local folder with the very same AWSLogs/ layout.

The reader lists objects newest-first-safe (in key order per account/region prefix) from a
starting hour, and fetches S3 objects to a scratch folder so DuckDB's own readers parse them
(no httpfs: boto3 moves the bytes).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from base.errors import SourceError
from base.settings import LandingZone
from ingest import aws
from ingest.window import client_for

_TIME = re.compile(r"(\d{4})/(\d{2})/(\d{2})/(?:(\d{2})/)?[^/]+$")


@dataclass(frozen=True)
class LandingObject:
    prefix: str  # AWSLogs/<acct>/<service>/<region>/ — the unit a watermark covers
    key: str  # path below the zone root, as in the bucket
    uri: str  # what rows record as source_object
    size: int
    etag: str
    hour: datetime


def time_of(key: str) -> datetime | None:
    """The UTC hour (or day) a key's YYYY/MM/DD[/HH]/ folders name."""
    m = _TIME.search(key)
    if not m:
        return None
    y, mo, d, h = m.groups()
    return datetime(int(y), int(mo), int(d), int(h or 0))


def start_key(prefix: str, since: datetime, hourly: bool = True) -> str:
    """The key every object at or after `since` sorts after (S3 StartAfter semantics)."""
    stamp = since.strftime("%Y/%m/%d/%H" if hourly else "%Y/%m/%d")
    # '/' < any digit, so "…/HH" sorts before "…/HH/file" but after every earlier hour.
    return f"{prefix}{stamp}"


class Landing(Protocol):
    label: str

    def children(self, prefix: str) -> list[str]: ...

    def objects(
        self, prefix: str, start_after: str, keep: Callable[[str], bool] = ...
    ) -> Iterator[LandingObject]: ...

    def fetch(self, objs: list[LandingObject], scratch: Path) -> dict[str, Path]: ...


def service_prefixes(landing: Landing, service: str) -> list[str]:
    """Every AWSLogs/[o-org/]<acct>/<service>/<region>/ prefix in the zone, sorted."""
    out: list[str] = []
    for top in landing.children("AWSLogs/"):
        accounts = landing.children(top) if re.search(r"/o-[a-z0-9]+/$", top) else [top]
        for acct in accounts:
            out.extend(landing.children(f"{acct}{service}/"))
    return sorted(out)


def wanted(key: str) -> bool:
    """Log objects only: *.json.gz directly in a time folder (not the data/ offload folder)."""
    return key.endswith(".json.gz") and _TIME.search(key) is not None and "/data/" not in key


class LocalLanding:
    def __init__(self, root: Path, label: str) -> None:
        self.root, self.label = root, label
        if not root.is_dir():
            raise SourceError(
                f"landing zone {label}: {root} is not a folder; check "
                "invocation_logs.landing_zones[].uri"
            )

    def children(self, prefix: str) -> list[str]:
        folder = self.root / prefix
        if not folder.is_dir():
            return []
        return sorted(f"{prefix}{e.name}/" for e in os.scandir(folder) if e.is_dir())

    def objects(
        self, prefix: str, start_after: str, keep: Callable[[str], bool] = wanted
    ) -> Iterator[LandingObject]:
        # Walk in key order, pruning whole years/months/days/hours before start_after.
        yield from self._walk(prefix, start_after, keep)

    def _walk(
        self, folder: str, start_after: str, keep: Callable[[str], bool]
    ) -> Iterator[LandingObject]:
        try:
            entries = sorted(os.scandir(self.root / folder), key=lambda e: e.name)
        except FileNotFoundError:
            return
        for e in entries:
            key = f"{folder}{e.name}"
            if e.is_dir():
                if e.name == "data" and keep is wanted:  # Bedrock's offloaded bodies
                    continue
                if start_after.startswith(key + "/") or key + "/" > start_after:
                    yield from self._walk(key + "/", start_after, keep)
            elif key > start_after and keep(key):
                st = e.stat()
                hour = time_of(key)
                assert hour is not None
                yield LandingObject(
                    _prefix_of(key), key, str(self.root / key), st.st_size,
                    f"{st.st_mtime_ns}-{st.st_size}", hour,
                )  # fmt: skip

    def fetch(self, objs: list[LandingObject], scratch: Path) -> dict[str, Path]:
        return {o.uri: Path(o.uri) for o in objs if Path(o.uri).exists()}


def _prefix_of(key: str) -> str:
    m = _TIME.search(key)
    assert m is not None
    return key[: m.start()]


BODY_ATTEMPTS = 5  # s3transfer's own number of attempts at a body
STREAM_ERRORS = (
    IncompleteReadError, ReadTimeoutError, ResponseStreamingError, ConnectionClosedError,
)  # fmt: skip


class S3Landing:
    def __init__(self, zone: LandingZone) -> None:
        m = re.match(r"^s3://([^/]+)/?(.*)$", zone.uri)
        if not m:
            raise SourceError(f"landing zone uri {zone.uri!r} is not s3://bucket/prefix")
        self.bucket, root = m.group(1), m.group(2)
        self.root = root if not root or root.endswith("/") else root + "/"
        self.label = zone.label
        self.s3: Any = client_for("s3", zone)

    def _pages(self, **kw: Any) -> Iterator[dict[str, Any]]:
        paginated = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, **kw)
        return aws.pages(paginated, f"landing zone {self.label}", "s3:ListBucket and s3:GetObject")

    def children(self, prefix: str) -> list[str]:
        out: list[str] = []
        for page in self._pages(Prefix=self.root + prefix, Delimiter="/"):
            out.extend(p["Prefix"][len(self.root) :] for p in page.get("CommonPrefixes", []))
        return sorted(out)

    def objects(
        self, prefix: str, start_after: str, keep: Callable[[str], bool] = wanted
    ) -> Iterator[LandingObject]:
        for page in self._pages(Prefix=self.root + prefix, StartAfter=self.root + start_after):
            for item in page.get("Contents", []):
                key = item["Key"][len(self.root) :]
                if keep(key):
                    hour = time_of(key)
                    assert hour is not None
                    yield LandingObject(
                        _prefix_of(key),
                        key,
                        f"s3://{self.bucket}/{item['Key']}",
                        item["Size"],
                        item["ETag"].strip('"'),
                        hour,
                    )

    def fetch(self, objs: list[LandingObject], scratch: Path) -> dict[str, Path]:
        """Download in parallel; an object deleted since it was listed is simply absent."""

        def one(i_obj: tuple[int, LandingObject]) -> tuple[str, Path | None]:
            i, obj = i_obj
            dest = scratch / f"{i:06d}-{Path(obj.key).name}"  # keep the suffix readers look at
            try:
                self._get(obj.key, dest)
            except ClientError as exc:
                if aws.error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                    return obj.uri, None
                raise aws.access_error(exc, f"landing zone {self.label}", "s3:GetObject") from exc
            return obj.uri, dest

        with ThreadPoolExecutor(max_workers=8) as pool:
            got = list(pool.map(one, enumerate(objs)))
        return {uri: path for uri, path in got if path is not None}

    def _get(self, key: str, dest: Path) -> None:
        """One GetObject, its body streamed to `dest`. Not `download_file`: its transfer
        manager sends a HeadObject first, two requests an object where Bedrock writes
        thousands of small ones a day (and AWS bills each). botocore retries a throttled or
        failed request; a body cut off mid-stream is fetched again here, as s3transfer would."""
        for attempt in range(BODY_ATTEMPTS):
            try:
                body = self.s3.get_object(Bucket=self.bucket, Key=self.root + key)["Body"]
                with dest.open("wb") as out:
                    for chunk in body.iter_chunks(1 << 20):
                        out.write(chunk)
                return
            except STREAM_ERRORS as exc:
                if attempt == BODY_ATTEMPTS - 1:
                    raise SourceError(
                        f"landing zone {self.label}: s3://{self.bucket}/{self.root}{key} was cut "
                        f"off {BODY_ATTEMPTS} times while downloading ({exc}); the next run "
                        "reads it again"
                    ) from exc


@dataclass
class Copied:
    """A batch copied to a scratch folder of its own: the objects still there (one deleted since
    it was listed is left out, and counted), and each one's local copy by URI."""

    present: list[LandingObject]
    local: dict[str, Path]
    missing: int
    folder: Path


def copy_batch(landing: Landing, batch: list[LandingObject], scratch: Path) -> Copied:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    local = landing.fetch(batch, folder)
    present = [o for o in batch if o.uri in local]
    return Copied(present, local, len(batch) - len(present), folder)


def open_landing(zone: LandingZone) -> Landing:
    if zone.uri.startswith("s3://"):
        return S3Landing(zone)
    return LocalLanding(Path(zone.uri).expanduser().resolve(), zone.label)
