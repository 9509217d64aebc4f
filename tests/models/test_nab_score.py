"""NAB scoring by hand: window F1, the sigmoid reward, FP costs, probation, normalisation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models import nab_score as ns

START = np.datetime64("2024-01-01T00:00:00", "us")
STEP = np.timedelta64(5, "m")


def stamps(n: int) -> np.ndarray:
    return START + STEP * np.arange(n)


def window(first: int, last: int) -> tuple[np.datetime64, np.datetime64]:
    return START + STEP * first, START + STEP * last


def alerts_at(n: int, *rows: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(rows)] = True
    return out


# 100 rows: rows 0-14 are probationary, the window is rows 50-59 (10 rows).
N, WINDOW = 100, [window(50, 59)]


def score(*rows: int) -> ns.SeriesScore:
    return ns.score_series(stamps(N), alerts_at(N, *rows), WINDOW)


def nab(*rows: int) -> float:
    return ns.summarise([score(*rows)]).nab_standard


def test_probation_is_15_percent_capped_at_750_rows():
    assert ns.probation_length(100) == 15
    assert ns.probation_length(4032) == 604
    assert ns.probation_length(10_000) == 750


def test_scaled_sigmoid_matches_nab():
    assert ns.scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert ns.scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert ns.scaled_sigmoid(3.0) == -1.0


def test_perfect_detector_scores_100_and_null_detector_0():
    assert nab(50) == pytest.approx(100.0)
    assert nab() == pytest.approx(0.0)
    assert score().fn == 1 and score().raw == -1.0


def test_one_false_positive_far_from_windows_costs_its_full_weight():
    s = score(30, 50)
    assert (s.tp, s.fp) == (1, 1)
    assert s.raw == pytest.approx(1.0 - 0.11)
    assert nab(30, 50) == pytest.approx(100 * (0.89 + 1) / 2)


def test_false_positive_just_after_a_window_costs_less():
    near, far = score(50, 61), score(50, 95)
    assert far.raw == pytest.approx(1.0 - 0.11)
    # one row past a 10-row window: position 2/9, sigmoid(2/9) ~ -0.51
    assert near.raw == pytest.approx(1.0 + 0.11 * ns.scaled_sigmoid(2 / 9))
    assert far.raw < near.raw < 1.0


def test_early_detection_earns_more_than_late_and_only_the_best_counts():
    early, late = score(50), score(59)
    assert early.raw == pytest.approx(1.0)
    # last row of the window: position -1/10
    assert late.raw == pytest.approx(ns.scaled_sigmoid(-0.1) / ns.scaled_sigmoid(-1.0))
    assert late.raw < early.raw
    both = score(50, 55, 59)
    assert (both.tp, both.fp, both.raw) == (1, 0, pytest.approx(1.0))


def test_alerts_in_the_probationary_period_are_ignored():
    s = score(3, 14, 50)
    assert (s.fp, s.raw) == (0, pytest.approx(1.0))


def test_window_inside_probation_is_not_scored():
    s = ns.score_series(stamps(N), alerts_at(N), [window(2, 8), window(50, 59)])
    assert (s.windows, s.fn) == (1, 1)


def test_window_f1_counts_windows_and_fp_rows():
    ts = stamps(N)
    one = ns.score_series(ts, alerts_at(N, 50, 52, 80, 81), WINDOW)
    other = ns.score_series(ts, alerts_at(N), [window(30, 39)])
    summary = ns.summarise([one, other])
    assert summary.precision == pytest.approx(1 / 3)  # 1 TP window, 2 FP rows
    assert summary.recall == pytest.approx(1 / 2)
    assert summary.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    # normalised over both series: null -2, perfect +2
    raw = one.raw + other.raw
    assert summary.nab_standard == pytest.approx(100 * (raw + 2) / 4)


def test_summary_line_format():
    line = ns.summarise([score(50)]).line()
    assert line == "f1=1.0000 precision=1.0000 recall=1.0000 nab_standard=100.00"


def test_repeated_and_backward_timestamps_are_an_ordered_stream():
    ts = stamps(N)
    ts[40] = ts[39]  # a repeated timestamp
    ts[70:73] = ts[67:70]  # the clock steps back three rows
    bounds = ns.window_rows(ts, [(ts[50], ts[59]), (ts[71], ts[80])])
    assert bounds == [(50, 59), (68, 80)]  # window starts at the first row stamped its start
    s = ns.score_series(ts, alerts_at(N, 50, 68), [(ts[50], ts[59]), (ts[71], ts[80])])
    assert (s.tp, s.fp, s.raw) == (2, 0, pytest.approx(2.0))


def test_window_edges_between_rows_snap_inside():
    half = np.timedelta64(150, "s")
    bounds = ns.window_rows(stamps(N), [(START + STEP * 50 - half, START + STEP * 59 + half)])
    assert bounds == [(50, 59)]


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="detections"):
        ns.score_series(stamps(10), np.zeros(9, dtype=bool), [])
