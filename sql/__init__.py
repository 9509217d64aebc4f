"""The SQL files: numbered migrations, page queries, model and ingest scripts.

A package only so that a wheel ships them; `warehouse.db` reads them through importlib.resources.
"""
