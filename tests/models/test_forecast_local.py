"""The forecast's robust parts: one-off days found (a spike, not a step), the weekday level."""

from __future__ import annotations

import numpy as np

from models.forecast_local import (
    last_week,
    last_week_share,
    outlier_days,
    trailing_step,
    weekday_level,
)

WEEKDAYS = np.arange(70) % 7  # day 0 is a Monday


def weekly(level: np.ndarray, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = np.where(WEEKDAYS[: len(level)] >= 5, 0.3, 1.0)
    return level * shape * rng.lognormal(0, 0.08, len(level))


def test_a_spike_is_one_off_and_a_step_is_not() -> None:
    y = weekly(np.full(70, 100.0))
    y[40:42] *= 6  # two days of runaway
    y[55:] *= 1.8  # a new level that lasts
    odd, expected = outlier_days(y, WEEKDAYS)
    assert np.flatnonzero(odd).tolist() == [40, 41]
    assert 0.7 < expected[40] / (y[33] + y[47]) * 2 < 1.3  # what a normal Friday would be


def test_a_step_in_the_last_days_is_a_new_level_and_a_spike_there_is_one_off() -> None:
    # With no days after it, a step at the very end looks like a spike to its neighbours.
    y = weekly(np.full(70, 100.0), seed=3)
    stepped = y.copy()
    stepped[-4:] *= 2.5  # a new workload, four days old
    odd, _ = outlier_days(stepped, WEEKDAYS)
    assert not odd[-4:].any()  # kept: the forecast starts from the new level
    spiked = y.copy()
    spiked[-2:] *= 2.5  # two days of runaway, still going at the end
    odd, _ = outlier_days(spiked, WEEKDAYS)
    assert odd[-2:].all()  # left out: two days do not make a level


def test_the_trailing_step_is_the_flagged_run_that_reaches_the_last_day() -> None:
    def run(flags: str) -> list[int]:
        mask = np.array([c == "x" for c in flags])
        return list(range(len(mask)))[trailing_step(mask)]

    assert run("..x..xxx") == [5, 6, 7]
    assert run("xxxxxxx") == list(range(7))
    assert run("..xxxx.") == []  # a day after it came back: a spike, not a step
    assert run("....xx") == []  # shorter than TRAILING_STEP_DAYS
    assert run("......") == []


def test_quiet_days_after_a_run_do_not_end_it_but_it_needs_a_day_more() -> None:
    # x flagged; q an unflagged quiet day (a weekend, where business-hours spend never moved)
    def run(flags: str) -> list[int]:
        mask = np.array([c == "x" for c in flags])
        quiet = np.array([c == "q" for c in flags])
        return list(range(len(mask)))[trailing_step(mask, quiet)]

    assert run("..xxxxq") == [2, 3, 4, 5]
    assert run(".xxxxqq") == [1, 2, 3, 4]
    assert run("..xxxqq") == []  # three days and no day after them to confirm: not yet
    assert run("xxxxqqq") == []  # three quiet days: the run has ended
    assert run("..xxxx.") == []  # a working day came back: a spike, not a step
    assert run(".xxxx.q") == []


def test_a_weekday_only_step_before_a_weekend_is_a_new_level() -> None:
    y = weekly(np.full(70, 100.0), seed=0)
    monday = 56  # of the last working week (day 0 is a Monday)
    y[monday : monday + 5] *= np.linspace(1.2, 3.0, 5)  # a rollout ramp, working days only
    # Tuesday to Friday are flagged against their neighbours; the Saturday is not.
    odd, _ = outlier_days(y[:62], WEEKDAYS[:62])  # history ends on the Saturday after it
    assert not odd[monday:].any()


def test_a_quiet_weekend_is_not_an_outlier() -> None:
    y = weekly(np.full(70, 50.0), seed=1)
    y[WEEKDAYS >= 5] = 0.0  # no spend at weekends at all
    odd, _ = outlier_days(y, WEEKDAYS)
    assert not odd.any()


def test_weekday_level_is_last_weeks_level_times_the_recent_profile() -> None:
    y = weekly(np.linspace(50, 120, 70), seed=2)
    ahead = np.arange(7)  # Monday to Sunday
    got = weekday_level(y, WEEKDAYS, ahead)
    assert abs(got.mean() - y[-7:].mean()) < 1e-9  # the profile averages to one
    assert got[5] / got[0] < 0.45  # the weekend share of the last two weeks
    assert weekday_level(y[:5], WEEKDAYS[:5], ahead).tolist() == [y[:5].mean()] * 7


def test_last_week_repeats_the_last_seven_days_in_weekday_order() -> None:
    y = np.arange(1.0, 16.0)  # 15 days: the last seven are 9..15
    assert last_week(y, 10).tolist() == [9, 10, 11, 12, 13, 14, 15, 9, 10, 11]
    assert last_week(y[:3], 2).tolist() == [2.0, 2.0]  # under a week: the mean


def test_last_weeks_share_is_a_third_for_a_week_then_fades_out_by_four() -> None:
    share = last_week_share(40)
    assert np.allclose(share[:7], 1 / 3)
    assert 0 < share[14] < share[7] < 1 / 3
    assert not share[27:].any()
