"""Three-way reconciliation names each difference between logs, CloudWatch and the bill."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from models.reconcile import findings

COLS = ["day", "model", "est_cost", "billed_cost", "logged_calls", "cw_calls", "bill_estimated"]
DAY = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("est", "billed", "logged", "cw", "estimated", "expected"),
    [
        (10.0, 10.1, 100.0, 100.0, False, "matches"),
        (None, 4.0, None, None, False, "unlogged endpoint"),  # e.g. bedrock-mantle, batch
        (5.0, 10.0, 50.0, 100.0, False, "logging gap"),  # half the calls unlogged: $ agree
        (5.0, 14.0, 50.0, 100.0, False, "logging gap, price drift"),
        (10.0, 12.0, 100.0, 101.0, False, "price drift"),
        (10.0, 10.0, 100.0, 100.0, True, "bill not final"),
        (10.0, None, 100.0, 100.0, False, "no bill yet"),
    ],
)
def test_each_difference_is_named(est, billed, logged, cw, estimated, expected):
    frame = pl.DataFrame([(DAY, "m", est, billed, logged, cw, estimated)], schema=COLS,
                         orient="row")  # fmt: skip
    row = findings(frame).row(0, named=True)
    assert row["finding"] == expected
    if expected == "logging gap":
        assert row["explained"] == pytest.approx(10.0)  # the logs scaled to CloudWatch's calls
