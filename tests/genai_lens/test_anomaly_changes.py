"""The CloudTrail changes an anomaly's explanation lists: the hours before it, through the end of
its first hour (an hourly bucket holds the calls made after a change inside it)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from genai_lens.model_anomalies import Series, explain

START = datetime(2026, 11, 20, 13, 0)


def _event(con, event_id: str, when: datetime, kind: str = "guardrail") -> None:
    con.execute(
        "INSERT INTO cloudtrail_events (event_id, event_time, event_source, event_name, "
        "change_kind, source_object) VALUES (?, ?, 'bedrock.amazonaws.com', 'UpdateGuardrail', ?, "
        "'s3://trail/x.json.gz')",
        [event_id, when, kind],
    )


def test_changes_run_from_hours_before_to_the_end_of_the_first_hour(warehouse):
    _event(warehouse, "seven-hours-before", START - timedelta(hours=7))
    _event(warehouse, "two-hours-before", START - timedelta(hours=2))
    _event(warehouse, "inside-first-hour", START + timedelta(minutes=20))
    _event(warehouse, "an-invocation", START + timedelta(minutes=5), kind="invocation")
    _event(warehouse, "after-first-hour", START + timedelta(hours=1, minutes=5))
    series = Series("cw|x", "cw_invocations", None, "m", np.array([]), np.array([]))
    episode = {"start": START, "peak": START + timedelta(hours=1), "expected": 1.0, "actual": 9.0}
    found = [c["event_id"] for c in explain(warehouse, series, episode)["cloudtrail_changes"]]
    assert found == ["inside-first-hour", "two-hours-before"]
