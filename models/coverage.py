"""Coverage of the bill by usage-level records: per kind of Bedrock-family spend, the share of
billed dollars that invocation logs explain, and the fix for each gap. Pure, no I/O."""

from __future__ import annotations

import polars as pl

# Only on-demand token calls reach model invocation logs (and CloudWatch AWS/Bedrock).
LOGGED = {"tokens"}
FIXES = {
    "tokens": "turn on model invocation logging in {regions} (Bedrock settings, per region)",
    "batch": "batch inference writes no invocation logs: tag the batch jobs' role (IAM "
             "principal tags) and include caller identity in the CUR 2.0 export",
    "mantle": "bedrock-mantle calls are not in invocation logs: tag each Mantle project and "
              "read its metrics from AWS/BedrockMantle",
    "provisioned": "provisioned throughput bills by the model-unit hour, not per call: tag the "
                   "provisioned model so its hours go to its LOB",
    "custom_model": "custom-model training, storage and import bill outside any call: tag the "
                    "custom model and its customization jobs",
    "guardrails": "guardrail text units bill per policy, not per model call: tag the guardrail "
                  "or the calling role",
    "knowledge_base": "knowledge-base retrieval bills outside model calls: tag the knowledge base",
    "agentcore": "AgentCore bills vCPU-hours and GB-hours under its own service: tag each "
                 "runtime (its execution role's principal tags also work)",
    "marketplace": "Marketplace edition charges that are not tokens (subscriptions, endpoint "
                   "hours): tag the endpoint",
    "other": "an unrecognised Bedrock usage type: map it in ingest/cost/kinds.py",
}  # fmt: skip


def coverage(frame: pl.DataFrame) -> pl.DataFrame:
    """(kind, billed, with_records, gap_regions) -> + share and the fix for what is not covered.

    `with_records`: billed dollars whose (day, model, region) has logged calls (tokens only);
    `gap_regions`: regions of token spend without logs, named in the fix."""
    rows = []
    for r in frame.iter_rows(named=True):
        billed, covered = float(r["billed"] or 0), float(r["with_records"] or 0)
        regions = ", ".join(r["gap_regions"] or []) or "every region used"
        fix = None if billed and covered >= billed else FIXES.get(r["kind"], FIXES["other"])
        rows.append({
            "kind": r["kind"], "billed": billed, "with_records": covered,
            "coverage": covered / billed if billed else None,
            "fix": fix.format(regions=regions) if fix else None,
        })  # fmt: skip
    schema = {"kind": pl.Utf8, "billed": pl.Float64, "with_records": pl.Float64,
              "coverage": pl.Float64, "fix": pl.Utf8}  # fmt: skip
    return pl.DataFrame(rows, schema=schema).sort("billed", descending=True)
