"""Explanations: the dimension that drove an anomaly (app, model, LOB, region, account) and the
cost decomposition with its model mix computed, not assumed."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import polars as pl
import pytest

from models.explain import decompose_cost, driver

PEAK = datetime(2026, 11, 20, 14)
HOURS = [PEAK - timedelta(days=d) for d in range(8)]  # the peak and the same hour before


Figures = tuple[float, float, float]  # cost, tokens, invocations


def breakdown(usual: dict[tuple[str, str], Figures], at_peak: dict) -> pl.DataFrame:  # type: ignore[type-arg]
    """(dimension, value) -> figures every hour, `at_peak` instead of them at PEAK."""
    out = []
    for ts in HOURS:
        for key, figures in usual.items():
            cost, tokens, calls = at_peak.get(key, figures) if ts == PEAK else figures
            out.append({"ts": ts, "dimension": key[0], "value": key[1], "cost": cost,
                        "tokens": tokens, "invocations": calls, "errors": 0.0,
                        "throttles": 0.0, "interventions": 0.0, "latency_sum": 0.0})  # fmt: skip
    return pl.DataFrame(out)


def test_a_shift_to_a_dearer_model_is_model_mix():
    # Same calls, same tokens per call, same prices: half of the cheap model's tokens moved to
    # a model five times the price.
    models = breakdown(
        {
            ("model", "haiku"): (1.0, 1_000_000.0, 100.0),
            ("model", "sonnet"): (5.0, 1_000_000.0, 100.0),
        },
        {
            ("model", "haiku"): (0.5, 500_000.0, 50.0),
            ("model", "sonnet"): (7.5, 1_500_000.0, 150.0),
        },
    )
    got = decompose_cost(models, PEAK)
    assert got is not None
    f = got["factors"]
    assert f["volume"] == 1.0 and f["tokens_per_call"] == 1.0 and f["price_per_token"] == 1.0
    assert f["model_mix"] == pytest.approx(8.0 / 6.0, abs=1e-4)
    assert max(got["shares"], key=got["shares"].get) == "model_mix"
    assert math.prod(f.values()) == pytest.approx(got["actual_cost"] / got["expected_cost"], 1e-3)


def test_a_dearer_price_with_the_same_mix_is_price_and_one_model_has_no_mix():
    models = breakdown({("model", "sonnet"): (3.0, 1_000_000.0, 100.0)},
                       {("model", "sonnet"): (3.3, 1_000_000.0, 100.0)})  # fmt: skip
    f = decompose_cost(models, PEAK)["factors"]  # type: ignore[index]
    assert f["model_mix"] == 1.0 and f["price_per_token"] == pytest.approx(1.1)


def test_a_per_model_series_is_driven_by_the_lob_that_moved():
    parts = breakdown(
        {("lob", "retail"): (0, 0, 100.0), ("lob", "wealth"): (0, 0, 300.0),
         ("app", "chat"): (0, 0, 50.0), ("app", "advisor"): (0, 0, 50.0),
         ("app", "research"): (0, 0, 300.0), ("model", "haiku"): (0, 0, 400.0)},
        {("lob", "retail"): (0, 0, 900.0), ("app", "chat"): (0, 0, 450.0),
         ("app", "advisor"): (0, 0, 450.0), ("model", "haiku"): (0, 0, 1200.0)},
    )  # fmt: skip
    got = driver(parts, "cw_invocations", PEAK)
    assert got is not None and got["label"] == "lob=retail" and got["share"] == 1.0
    # the model is what the series is cut by: one value, it explains nothing
    assert got["dimension"] != "model"


def test_within_a_lob_x_model_series_the_app_drives():
    parts = breakdown(
        {("lob", "eng"): (0, 0, 100.0), ("model", "m"): (0, 0, 100.0),
         ("app", "review"): (0, 0, 40.0), ("app", "docs"): (0, 0, 60.0)},
        {("lob", "eng"): (0, 0, 400.0), ("model", "m"): (0, 0, 400.0),
         ("app", "review"): (0, 0, 340.0)},
    )  # fmt: skip
    assert driver(parts, "invocations", PEAK)["label"] == "app=review"  # type: ignore[index]


def test_the_app_beats_the_region_that_holds_it_unless_the_region_explains_much_more():
    usual = {("app", "chat"): (0, 0, 100.0), ("app", "faq"): (0, 0, 100.0),
             ("region", "us-east-1"): (0, 0, 150.0),
             ("region", "us-west-2"): (0, 0, 50.0)}  # fmt: skip
    burst = {("app", "chat"): (0, 0, 190.0), ("app", "faq"): (0, 0, 105.0),
             ("region", "us-east-1"): (0, 0, 245.0)}  # fmt: skip
    # us-east-1 holds all the change (share 1.0), chat 90% of it: the app says more
    assert driver(breakdown(usual, burst), "invocations", PEAK)["label"] == "app=chat"  # type: ignore[index]
    spread = {("app", "chat"): (0, 0, 150.0), ("app", "faq"): (0, 0, 150.0),
              ("region", "us-east-1"): (0, 0, 250.0)}  # fmt: skip
    # every app moved alike, all of it in one region: the region it is
    assert driver(breakdown(usual, spread), "invocations", PEAK)["label"] == "region=us-east-1"  # type: ignore[index]
