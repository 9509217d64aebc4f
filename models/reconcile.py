"""Three-way reconciliation per day and model: invocation logs vs CloudWatch vs the bill, each
difference named instead of one drift figure. Pure, no I/O.

Findings, in the order they are judged (a row can carry several):
- "unlogged endpoint": billed, yet neither the logs nor CloudWatch AWS/Bedrock saw a call
  (bedrock-mantle, batch, an account or region not logged/monitored);
- "logging gap": CloudWatch counted more calls than the logs hold (logging off for a while, or
  a log group not ingested): the logs explain only logged/cw of the calls;
- "price drift": with the logs scaled to CloudWatch's calls, the estimate still differs from
  the bill by more than TOLERANCE (a price change, a discount, a tier the catalog lacks);
- "bill not final": the day's bill lines are still estimated, so AWS may restate them;
- "matches" otherwise; "no bill yet" where only the logs have the day.
"""

from __future__ import annotations

import polars as pl

TOLERANCE = 0.03  # a 3% gap between estimate and bill is rounding, tiers and metering lag
CALLS_SLACK = 0.02  # CloudWatch and the logs may differ by a few calls at hour edges


def findings(frame: pl.DataFrame) -> pl.DataFrame:
    """spend_reconciliation_sources rows + `finding` (comma-separated) and `explained`
    (the estimate scaled to CloudWatch's calls)."""
    out = []
    for r in frame.iter_rows(named=True):
        billed, est = r["billed_cost"], r["est_cost"]
        logged, cw = r["logged_calls"] or 0.0, r["cw_calls"] or 0.0
        names: list[str] = []
        scaled = est
        if billed is None:
            names.append("no bill yet")
        elif logged == 0 and cw == 0:
            names.append("unlogged endpoint")
        else:
            if cw > logged * (1 + CALLS_SLACK) + 1:
                names.append("logging gap")
                scaled = est * cw / logged if est is not None and logged else None
            if scaled is not None and billed and abs(billed - scaled) / abs(billed) > TOLERANCE:
                names.append("price drift")
        if billed is not None and r["bill_estimated"]:
            names.append("bill not final")
        out.append({**r, "explained": scaled, "finding": ", ".join(names) or "matches"})
    schema = dict(frame.schema) | {"explained": pl.Float64, "finding": pl.Utf8}
    return pl.DataFrame(out, schema=schema)
