"""The CloudTrail changes an anomaly's explanation lists: the hours before it, through the end of
its first hour (an hourly bucket holds the calls made after a change inside it)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from jobs.model_anomalies import Series, detect_all, explain

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


def _hours(n: int) -> np.ndarray:
    return np.array([np.datetime64("2026-11-01T00:00", "us") + np.timedelta64(h, "h")
                     for h in range(n)])  # fmt: skip


def _daily_rhythm(n: int, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hours = np.arange(n)
    return level * (1 + 0.3 * np.sin(hours * 2 * np.pi / 24)) * rng.normal(1, 0.03, n)


def test_a_rate_episode_needs_events_not_just_percent():
    n = 24 * 21
    rate = np.clip(np.random.default_rng(1).normal(0.01, 0.003, n), 0, 1)
    rate[-3] = 0.2  # 19 points up at one hour
    few = Series("error_rate|a|m", "error_rate", "a", "m", _hours(n), rate,
                 {"calls": np.full(n, 21.0)})  # fmt: skip
    many = Series("error_rate|b|m", "error_rate", "b", "m", _hours(n), rate,
                  {"calls": np.full(n, 400.0)})  # fmt: skip
    found = {s.key for s, _, _ in detect_all([few, many])}
    assert found == {"error_rate|b|m"}  # 4 surplus errors of 21 calls: an accident


def test_a_rate_that_falls_back_is_a_recovery_and_pennies_are_not_news():
    n = 24 * 21
    rate = np.clip(np.random.default_rng(2).normal(0.30, 0.01, n), 0, 1)
    rate[-3:] = 0.0  # throttling stopped
    recovered = Series("throttle_rate|a|m", "throttle_rate", "a", "m", _hours(n), rate,
                       {"calls": np.full(n, 500.0)})  # fmt: skip
    pennies = _daily_rhythm(n, 0.004, 3)
    pennies[-2] = 0.05  # 12x, and five cents
    cheap = Series("cost|a|nova-micro", "cost", "a", "nova-micro", _hours(n), pennies)
    dollars = _daily_rhythm(n, 20.0, 4)
    dollars[-2] = 120.0
    dear = Series("cost|a|sonnet", "cost", "a", "sonnet", _hours(n), dollars)
    assert {s.key for s, _, _ in detect_all([recovered, cheap, dear])} == {"cost|a|sonnet"}
