"""The price catalog: a versioned CSV in the repo, extended or overridden from config."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb

from base.errors import ConfigError
from base.settings import Price

CATALOG = Path(__file__).parent / "data" / "bedrock_prices.csv"


def catalog_rows(path: Path = CATALOG) -> list[Price]:
    """Rows of the catalog file; `#` lines are its provenance header."""
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    rows = []
    for n, rec in enumerate(csv.DictReader(lines), start=2):
        try:
            rows.append(
                Price(
                    model=rec["model"],
                    region=rec["region"] or "*",
                    input=float(rec["input_per_1m"]),
                    output=float(rec["output_per_1m"]),
                    cache_read=float(rec["cache_read_per_1m"])
                    if rec["cache_read_per_1m"]
                    else None,
                    cache_write=(
                        float(rec["cache_write_per_1m"]) if rec["cache_write_per_1m"] else None
                    ),
                    geo_premium=float(rec["geo_premium"] or 0),
                    effective_from=date.fromisoformat(rec["effective_from"]),
                    source=rec["source"],
                )
            )
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"{path}: data row {n} is malformed ({exc})") from None
    return rows


def catalog_version(path: Path = CATALOG) -> str:
    for ln in path.read_text().splitlines():
        if ln.startswith("# catalog_version:"):
            return ln.split(":", 1)[1].strip()
    return "unknown"


def load_prices(con: duckdb.DuckDBPyConnection, overrides: list[Price]) -> int:
    """Replace the prices table with the catalog plus config rows (config wins on a tie)."""
    merged: dict[tuple[str, str, date], Price] = {}
    for p in [*catalog_rows(), *overrides]:
        merged[(p.model, p.region, p.effective_from)] = p
    con.execute("DELETE FROM prices")
    con.executemany(
        "INSERT INTO prices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                p.model,
                p.region,
                p.effective_from,
                p.input,
                p.output,
                p.cache_read,
                p.cache_write,
                p.geo_premium,
                p.source,
            ]
            for p in merged.values()
        ],
    )
    return len(merged)
