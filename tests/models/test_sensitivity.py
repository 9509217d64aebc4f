"""The rule that turns triage verdicts into a series' band widening (models/sensitivity.py),
and the detector's `widen` input that applies it."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from models import anomaly, sensitivity

NOW = datetime(2026, 6, 30, 12)
NOISY, OTHER = "invocations|marketing|nova-micro", "cost|legal|sonnet"


def verdicts(*rows: tuple[str, int, str]) -> pl.DataFrame:
    """(series, days before NOW the alert started, status) per alert a person triaged."""
    return pl.DataFrame(
        [{"series_key": k, "start_ts": NOW - timedelta(days=d), "status": s} for k, d, s in rows],
        schema=sensitivity.FEEDBACK,
    )


def history(*rows: tuple[str, datetime, float, str, bool]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"series_key": k, "set_at": t, "factor": f, "why": "", "set_by": by, "reverted": r}
         for k, t, f, by, r in rows],
        schema=sensitivity.HISTORY,
    )  # fmt: skip


NONE = history()


def learned(feedback: pl.DataFrame, past: pl.DataFrame = NONE) -> dict[str, dict]:
    out = sensitivity.learn(feedback, past, now=NOW)
    return {r["series_key"]: r for r in out.iter_rows(named=True)}


def test_repeated_expected_or_muted_verdicts_widen_the_band_and_say_why():
    got = learned(verdicts((NOISY, 20, "expected"), (NOISY, 10, "muted"), (NOISY, 3, "open")))
    assert got[NOISY]["factor"] == 1.5
    assert got[NOISY]["quiet"] == 2
    assert got[NOISY]["why"] == ("band 1.5× wider: 2 alerts in the last 42 days were marked "
                                 "expected or muted, none confirmed as an incident")  # fmt: skip


def test_one_verdict_is_no_pattern():
    got = learned(verdicts((NOISY, 5, "expected")))
    assert got[NOISY]["factor"] == 1.0
    assert "it takes 2 to widen the band" in got[NOISY]["why"]


def test_widening_is_capped_however_many_verdicts():
    many = verdicts(*[(NOISY, d, "expected") for d in range(1, 30)])
    assert learned(many)[NOISY]["factor"] == sensitivity.CAP == 2.0
    assert "(the cap)" in learned(many)[NOISY]["why"]
    assert [sensitivity.factor_for(q, 0) for q in range(6)] == [1.0, 1.0, 1.5, 2.0, 2.0, 2.0]


@pytest.mark.parametrize("confirmed", ["acknowledged", "resolved"])
def test_a_series_with_a_real_incident_keeps_its_sensitivity(confirmed):
    feedback = verdicts(*[(NOISY, d, "expected") for d in (2, 4, 6, 8)], (NOISY, 9, confirmed),
                        (OTHER, 3, "expected"), (OTHER, 4, "expected"))  # fmt: skip
    got = learned(feedback)
    assert got[NOISY]["factor"] == 1.0 and got[NOISY]["incidents"] == 1
    assert "confirmed as a real incident" in got[NOISY]["why"]
    assert got[OTHER]["factor"] == 1.5  # one series' incident does not pin another


def test_verdicts_decay_after_the_memory():
    old = sensitivity.MEMORY.days + 1
    got = learned(
        verdicts((NOISY, old, "expected"), (NOISY, old + 2, "muted"), (NOISY, 1, "muted"))
    )
    assert got[NOISY]["factor"] == 1.0 and got[NOISY]["quiet"] == 1
    # ... and an incident older than the memory no longer pins a series that is noisy since
    got = learned(verdicts((NOISY, old, "resolved"), (NOISY, 2, "expected"), (NOISY, 1, "muted")))
    assert got[NOISY]["factor"] == 1.5


def test_a_revert_starts_the_evidence_afresh():
    feedback = verdicts(*[(NOISY, d, "expected") for d in (10, 8, 6)])
    reverted_at = NOW - timedelta(days=5)
    past = history((NOISY, NOW - timedelta(days=7), 2.0, "automatic", False),
                   (NOISY, reverted_at, 1.0, "ines", True))  # fmt: skip
    got = learned(feedback, past)
    assert got[NOISY]["factor"] == 1.0 and got[NOISY]["quiet"] == 0
    assert got[NOISY]["why"] == sensitivity.revert_reason("ines", reverted_at)
    # Two new quiet verdicts after the revert widen it again: it keeps learning.
    again = pl.concat([feedback, verdicts((NOISY, 2, "expected"), (NOISY, 1, "expected"))])
    assert learned(again, past)[NOISY]["factor"] == 1.5


def test_decisions_are_appended_only_when_factor_or_reason_changes():
    feedback = verdicts((NOISY, 3, "expected"), (NOISY, 2, "expected"))
    first = sensitivity.decisions(sensitivity.learn(feedback, NONE, now=NOW), NONE, now=NOW)
    assert first.select("series_key", "factor", "set_by").rows() == [(NOISY, 1.5, "automatic")]
    past = first.select(*sensitivity.HISTORY)
    later = NOW + timedelta(hours=1)
    same = sensitivity.decisions(sensitivity.learn(feedback, past, now=later), past, now=later)
    assert same.is_empty()  # nothing new: nothing recorded
    # A series with no verdict and no history is not recorded at all.
    quiet = verdicts((OTHER, 400, "expected"))
    assert sensitivity.decisions(sensitivity.learn(quiet, NONE, now=NOW), NONE, now=NOW).is_empty()


def test_widening_applies_from_the_hour_it_was_decided_in_never_before():
    ts = np.array([np.datetime64("2026-06-30T10:00") + np.timedelta64(h, "h") for h in range(6)])
    past = history((NOISY, datetime(2026, 6, 30, 12, 20), 1.5, "automatic", False),
                   (NOISY, datetime(2026, 6, 30, 14, 5), 1.0, "ines", True))  # fmt: skip
    assert sensitivity.widening(past, ts).tolist() == [1.0, 1.0, 1.5, 1.5, 1.0, 1.0]
    assert sensitivity.widening(NONE, ts).tolist() == [1.0] * 6


def hourly(days: int = 30, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(days * 24)
    values = 1000 * (1 + 0.5 * np.sin(2 * np.pi * t / 24)) * (1 + rng.normal(0, 0.04, t.size))
    return np.datetime64("2026-06-01T00:00") + t * np.timedelta64(1, "h"), values


def test_the_detector_widens_the_band_and_nothing_else():
    ts, values = hourly()
    widen = np.where(np.arange(len(ts)) >= 20 * 24, 2.0, 1.0)
    base = anomaly.detect(ts, values, params=anomaly.BUSINESS)
    wide = anomaly.detect(ts, values, params=anomaly.BUSINESS, widen=widen)
    assert base.equals(anomaly.detect(ts, values, params=anomaly.BUSINESS, widen=widen * 0 + 1))
    assert wide["expected"].equals(base["expected"])  # the same forecast ...
    half = (wide["upper"] - wide["expected"]) / (base["upper"] - base["expected"])
    assert np.allclose(half.drop_nans().drop_nulls().to_numpy()[-24:], 2.0)  # ... a wider band
    assert np.allclose(wide["severity"].to_numpy(), base["severity"].to_numpy() / widen)
    # Before the widening, every figure is as it was: the past is not rewritten.
    assert wide.head(20 * 24).equals(base.head(20 * 24))


def test_a_spike_that_alerts_at_base_is_kept_quiet_by_a_wide_enough_band_and_counted():
    ts, values = hourly()
    row = 25 * 24 + 14
    values[row] *= 1.7  # severity 1.57 at base (medium), 0.78 in a band twice as wide
    base = anomaly.episodes(anomaly.detect(ts, values, params=anomaly.BUSINESS))
    assert base.filter(pl.col("start") == ts[row].astype("datetime64[us]").item()).height == 1
    widen = np.where(np.arange(len(ts)) >= 20 * 24, sensitivity.CAP, 1.0)
    wide = anomaly.episodes(anomaly.detect(ts, values, params=anomaly.BUSINESS, widen=widen))
    quiet = sensitivity.quieted(base, wide, ts, widen)
    assert quiet["start"].to_list() == [ts[row].astype("datetime64[us]").item()]
    assert quiet["factor"].to_list() == [2.0]
    # Nothing counts as kept quiet where the band was not widened.
    assert sensitivity.quieted(base, base.clear(), ts, np.ones(len(ts))).is_empty()
