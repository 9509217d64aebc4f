"""The two helpers that make the spend forecast robust: one-off days left out of the fit, and
a local weekday-profile forecast averaged with Prophet's.

Why: Prophet fits a global trend whose changepoints may not fall in the last fifth of the
history, so after a launch ramp it keeps extrapolating the ramp, and a two-day cost runaway
pulls its trend up for weeks. A forecast that averages Prophet with "last week's level times
the weekday profile of the last two weeks" keeps Prophet's trend where it holds and pulls it
back to the recent level where it does not; forecast combination of this kind is the most
dependable gain in the forecasting literature (the M3/M4 competitions). Both see the history
with one-off days replaced by what the days around them expected.

Pure numpy over one series' daily values (oldest first) and their weekdays (0 = Monday).
"""

from __future__ import annotations

import numpy as np

OUTLIER_RATIO = 1.5  # a day at least 1.5x (or at most 1/1.5x) what its neighbours expect...
OUTLIER_MADS = 4.0  # ... and further out than 4 robust standard deviations of such ratios
NEIGHBOURS = 7  # days either side that say what a day should have been


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
    it, so a step is followed, not removed; a spike of a few days is removed.
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
    expected = np.clip(np.exp(local) * factor[weekdays] - eps, 0, None)
    return mask, expected


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
