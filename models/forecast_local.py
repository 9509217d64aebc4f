"""The helpers that make the spend forecast robust: one-off days left out of the fit, and
local forecasts averaged with Prophet's.

Why: Prophet fits a global trend whose changepoints may not fall in the last fifth of the
history, so after a launch ramp it keeps extrapolating the ramp, and a two-day cost runaway
pulls its trend up for weeks. A forecast that averages Prophet with "last week's level times
the weekday profile of the last three weeks" keeps Prophet's trend where it holds and pulls it
back to the recent level where it does not; forecast combination of this kind is the most
dependable gain in the forecasting literature (the M3/M4 competitions).

Over the first weeks a third member joins: last week's days themselves (`last_week`), one-off
days replaced. Prophet errs by a weekday shape averaged over months, the weekday-level model
by a profile from three noisy weeks, last week's days by last week's noise: errors that
different cancel in an equal-weight average. Its share is a third for the first week and
fades to nothing by the fourth (`last_week_share`): last week says most about the days right
after it, while weeks ahead growth has moved spend away from it and the trend must carry the
forecast. Measured on five demo seeds at two end dates (bench/forecast_seeds.py): at the
2026-06-30 clock it took the worst ratio of 7-day MAPE to seasonal-naive's from 1.02 (a LOB a
week after its launch ramp, where Prophet still climbs: the forecast lost) to 0.98, 30 days
0.93 to 0.94; at 2026-10-04, not looked at while choosing it, 7 days stayed at 0.96 and 30
days went from 0.96 to 0.97. Equal shares, not weights fitted to the benchmark: fitted weights
chase the noise of the series they were fitted on. Every member sees the history with one-off
days replaced by what the days around them expected.

Since #16 every demo plants fraud-scoring's rollout in retail-banking: its business-hours spend
ramps to about 2.5x over the ten days before the throttling storm, and once the storm is over
the team trims the prompt and the spend falls back to about 2x; the weekend does not move. On
the rebuilt series (2026-12-07) two of the 100 7-day scores lost to naive (1.046, 1.022), both
that LOB from the origin right after the ramp: the ramp's last days were left out as one-off
(`trailing_step` now keeps such a run as the new level: 1.046 went under 0.94) or the fall
after the storm cannot be told from the history (1.022, 1.013 with the profile below). That
one's origin is a Saturday: the ramp's Tuesday to Friday are flagged and the Saturday, whose
spend the rollout never touched, is not, so the run did not reach the last day. A run of four
or more flagged days followed only by one or two quiet days (weekends) is now kept too
(2026-12-08: 1.013 went to 0.948, one other score moved, 0.961 to 0.964; now no score of the
200 loses to naive, worst 0.992 at 7 days and 0.970 at 30). Tried and not kept: a run with any
one unflagged day after it (with three flagged days it lost 1.000 elsewhere; an unflagged
working day after a run is a spike ending), lifting each weekday by its own step (1.096),
keeping the whole last week when four of its days are flagged (two losses, 1.041), and
replacing a one-off day not yet followed by two normal working days only halfway (a hedge
between spike and step: 7-day worst 0.992 to 0.981 on those series, but on three seeds held
out at a third end date, 2026-08-19, 0.968 to 0.994, retail-banking worse on all three). On
those held-out series this rule moved nothing; they hold one loss, at 30 days (`lob:research`
of seed 5, 1.018, the same before this round's changes).

Three weeks behind the weekday profile, not two (chosen at 2026-06-30: median 7-day ratio
0.846 to 0.836, 30-day 0.810 to 0.801; at 2026-10-04, held out: 7 days 0.863 to 0.852, 30
days 0.815 to 0.800, its worst 0.996 to 0.970).

Pure numpy over one series' daily values (oldest first) and their weekdays (0 = Monday).
"""

from __future__ import annotations

import numpy as np

OUTLIER_RATIO = 1.5  # a day at least 1.5x (or at most 1/1.5x) what its neighbours expect...
OUTLIER_MADS = 4.0  # ... and further out than 4 robust standard deviations of such ratios
NEIGHBOURS = 7  # days either side that say what a day should have been
# Flagged days that run on to the end of the history, this many or more, are a new level: with
# no days after them, a step cannot yet be told from a spike by its neighbours.
TRAILING_STEP_DAYS = 3
# A step in business-hours spend does not show on a quiet day (a weekend: its weekday factor
# under QUIET_FACTOR), so up to QUIET_DAYS such days after the run do not end it; the run then
# needs one day more, having no unflagged day after it to confirm it.
QUIET_FACTOR = 0.75
QUIET_DAYS = 2
LAST_WEEK_SHARE = 1 / 3  # last week's days: an equal third of the forecast ...
LAST_WEEK_FULL = 7  # ... for the first week ahead,
LAST_WEEK_GONE = 28  # fading linearly to nothing four weeks ahead


def _centred_mean(y: np.ndarray, half: int) -> np.ndarray:
    cum = np.concatenate([[0.0], np.cumsum(y)])
    lo = np.clip(np.arange(len(y)) - half, 0, None)
    hi = np.clip(np.arange(len(y)) + half + 1, None, len(y))
    return (cum[hi] - cum[lo]) / (hi - lo)


def _centred_median(z: np.ndarray, half: int) -> np.ndarray:
    n = len(z)
    return np.array([np.median(z[max(0, t - half) : t + half + 1]) for t in range(n)])


def outlier_days(y: np.ndarray, weekdays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask of one-off days, what each day was expected to be).

    Expected = the median of the weekday-adjusted days within a week either side, times the
    day's weekday factor. A day is one-off when it is OUTLIER_RATIO off that and an outlier
    among all days' ratios. A new level lasting half a week or more moves the median with
    it, so a step is followed, not removed; a spike of a few days is removed. At the end of
    the history a step has only the days before it, so it is flagged like a spike: a run of
    TRAILING_STEP_DAYS or more flagged days up to the last day is kept as the new level
    (`trailing_step`), and so is a longer run followed only by quiet days, which a step in
    business-hours spend leaves alone; a two-day runaway that ends the history is still left
    out.
    """
    eps = 0.05 * max(float(np.mean(y)), 1e-12)  # log of a zero day: a twentieth of the mean
    ratio = (y + eps) / (_centred_mean(y, 3) + eps)
    factor = np.ones(7)
    for day in range(7):
        if np.any(weekdays == day):
            factor[day] = np.median(ratio[weekdays == day])
    z = np.log(y + eps) - np.log(factor[weekdays])
    local = _centred_median(z, NEIGHBOURS)
    gap = z - local
    mad = 1.4826 * float(np.median(np.abs(gap - np.median(gap))))
    mask = np.abs(gap) > max(np.log(OUTLIER_RATIO), OUTLIER_MADS * mad)
    mask[trailing_step(mask, factor[weekdays] < QUIET_FACTOR)] = False
    expected = np.clip(np.exp(local) * factor[weekdays] - eps, 0, None)
    return mask, expected


def trailing_step(mask: np.ndarray, quiet: np.ndarray | None = None) -> slice:
    """The flagged days that run on to the last day of the history, when there are
    TRAILING_STEP_DAYS or more of them; or, when the history ends in unflagged quiet days (at
    most QUIET_DAYS count), those that run on to them, TRAILING_STEP_DAYS + 1 or more (else an
    empty slice at the end)."""
    n, tail = len(mask), 0
    while (quiet is not None and tail < min(QUIET_DAYS, n) and quiet[n - 1 - tail]
           and not mask[n - 1 - tail]):  # fmt: skip
        tail += 1
    end = n - tail
    unflagged = np.flatnonzero(~mask[:end])
    run = end - (int(unflagged[-1]) + 1 if len(unflagged) else 0)
    needed = TRAILING_STEP_DAYS + (1 if tail else 0)
    return slice(end - run, end) if run >= needed else slice(n, n)


def last_week(y: np.ndarray, days: int) -> np.ndarray:
    """Each future day = the same weekday in the last 7 days of `y` (one-off days already
    replaced by the caller): the seasonal-naive forecast of a history without incidents."""
    return np.resize(y[-7:], days) if len(y) >= 7 else np.full(days, float(np.mean(y)))


def last_week_share(days: int) -> np.ndarray:
    """The weight of `last_week` on each of the next `days` days (1 = tomorrow)."""
    ahead = np.arange(1, days + 1)
    fade = np.clip((LAST_WEEK_GONE - ahead) / (LAST_WEEK_GONE - LAST_WEEK_FULL), 0, 1)
    return LAST_WEEK_SHARE * fade


def weekday_level(
    y: np.ndarray, weekdays: np.ndarray, ahead: np.ndarray, *, weeks: int = 2
) -> np.ndarray:
    """The mean of the last 7 days times each future weekday's share of the last `weeks` weeks.

    The share is the day's value over its week's mean, averaged over those weeks (weeks
    counted back from the last day). No trend: this is the half of the average that holds
    the forecast to the level spend is at now.
    """
    full = min(weeks, len(y) // 7)
    if full == 0:
        return np.full(len(ahead), float(np.mean(y)))
    tail = y[-7 * full :].reshape(full, 7)
    days = weekdays[-7 * full :].reshape(full, 7)
    means = tail.mean(axis=1, keepdims=True)
    shares = np.where(means > 0, tail / np.where(means > 0, means, 1.0), 1.0)
    profile = np.array([shares[days == d].mean() for d in range(7)])
    profile /= profile.mean()
    return float(y[-7:].mean()) * profile[ahead]
