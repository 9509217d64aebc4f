"""Ingesters: one module per AWS source, each incremental, idempotent and quarantining."""
