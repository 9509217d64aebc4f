"""Which loaded objects a run holds in memory: only those from where its listing starts."""

from __future__ import annotations

from datetime import datetime

from ingest.landing import start_key
from warehouse.bookkeeping import loaded_objects

PREFIX = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/"


def test_loaded_objects_start_where_the_listing_starts(warehouse):
    keys = [f"{PREFIX}2026/{m:02d}/01/00/x.json.gz" for m in range(1, 13)]
    keys.append("AWSLogs/444455556666/BedrockModelInvocationLogs/us-east-1/2026/12/01/00/y.json.gz")
    for key in keys:
        warehouse.execute(
            "INSERT INTO ingest_objects VALUES ('zone', ?, 1, 'etag', 1, 0, now())", [key]
        )
    first = start_key(PREFIX, datetime(2026, 11, 1))
    loaded = loaded_objects(warehouse, "zone", PREFIX, first)
    assert sorted(loaded) == keys[10:12]  # November and December of this prefix only
    assert len(loaded_objects(warehouse, "zone", PREFIX)) == 12  # from the start: all of it
