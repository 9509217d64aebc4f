"""The Spend page says when a forecast is not Prophet and why: the real forecasting step run
on a short estate, not the factory's stand-in forecast rows."""

from __future__ import annotations

from genai_lens import model_forecasts
from genai_lens.settings import Settings
from genai_lens.warehouse import connect
from ingest.bookkeeping import RunStats
from ingest.landing import utcnow


def test_a_short_history_shows_the_fallback_note(make_estate, factory, open_page):
    path, _ = make_estate(factory.estate(21, lobs=["wealth"], seed=4), models=False, bill=False)
    con = connect(path)
    try:  # today is partial and left out: 20 days of history, under Prophet's 28
        model_forecasts.run(con, Settings(), utcnow(), RunStats(unit="model rows"))
    finally:
        con.close()
    at = open_page(path, "spend")
    notes = [c.value for c in at.caption if c.value.startswith("Model note:")]
    assert notes == [
        "Model note: only 20 days of history (Prophet needs 28): last week's level times a "
        "weekday profile, no trend"
    ]
    backtests = next(d.value for d in at.dataframe if "Naive MAPE" in d.value.columns)
    assert set(backtests["Method"]) <= {"seasonal_naive", "mean", "none"}
