"""The warehouse floor: the DuckDB connection, migrations, state tables and the run journal."""
