"""The price catalog: versioned CSVs in the repo, refreshed from the Price List API, extended
or overridden from config.

Two files, both data: `bedrock_prices.csv` holds the standard on-demand price per model,
region and effective date; `bedrock_price_rules.csv` the multipliers on it (service tier,
batch, latency-optimised, long context, cache TTL). `genai-lens prices refresh` writes a dated
catalog beside the shipped one (`bedrock_prices.YYYY-MM-DD.csv`); the newest dated catalog's
rows win over the shipped rows with the same key, and config rows win over both.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb

from base.errors import ConfigError
from base.settings import Price, PriceRule

DATA = Path(__file__).parent / "data"
CATALOG = DATA / "bedrock_prices.csv"
RULES = DATA / "bedrock_price_rules.csv"
DATED_GLOB = "bedrock_prices.????-??-??.csv"


def _records(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines))


def _num(text: str | None) -> float | None:
    return float(text) if text else None


def catalog_rows(path: Path = CATALOG) -> list[Price]:
    """Rows of a catalog file; `#` lines are its provenance header."""
    rows = []
    for n, rec in enumerate(_records(path), start=2):
        try:
            rows.append(
                Price(
                    model=rec["model"],
                    region=rec["region"] or "*",
                    input=float(rec["input_per_1m"]),
                    output=float(rec["output_per_1m"]),
                    cache_read=_num(rec["cache_read_per_1m"]),
                    cache_write=_num(rec["cache_write_per_1m"]),
                    cache_write_1h=_num(rec.get("cache_write_1h_per_1m")),
                    geo_premium=float(rec["geo_premium"] or 0),
                    effective_from=date.fromisoformat(rec["effective_from"]),
                    source=rec["source"],
                )
            )
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"{path}: data row {n} is malformed ({exc})") from None
    return rows


def rule_rows(path: Path = RULES) -> list[tuple[PriceRule, bool]]:
    """(rule, confirmed) per row of the rules file."""
    out = []
    for n, rec in enumerate(_records(path), start=2):
        try:
            rule = PriceRule(
                rule=rec["rule"], value=rec["value"], model=rec["model"] or "*",
                input_factor=float(rec["input_factor"]), output_factor=float(rec["output_factor"]),
                min_input_tokens=int(rec["min_input_tokens"]) if rec["min_input_tokens"] else None,
                source=rec["source"],
            )  # fmt: skip
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"{path}: data row {n} is malformed ({exc})") from None
        out.append((rule, rec["confirmed"].strip().lower() == "yes"))
    return out


def catalog_version(path: Path = CATALOG) -> str:
    for ln in path.read_text().splitlines():
        if ln.startswith("# catalog_version:"):
            return ln.split(":", 1)[1].strip()
    return "unknown"


def dated_catalogs(folder: Path = DATA) -> list[Path]:
    """Catalogs `prices refresh` wrote, oldest first."""
    return sorted(folder.glob(DATED_GLOB))


def merged_prices(overrides: list[Price], folder: Path = DATA) -> list[Price]:
    """Shipped catalog, then the newest refreshed one, then config: later wins on a key."""
    dated = dated_catalogs(folder)
    layers = [catalog_rows(CATALOG), catalog_rows(dated[-1]) if dated else []]
    merged: dict[tuple[str, str, date], Price] = {}
    for p in [*layers[0], *layers[1], *overrides]:
        merged[(p.model, p.region, p.effective_from)] = p
    return list(merged.values())


def load_prices(
    con: duckdb.DuckDBPyConnection,
    overrides: list[Price],
    rules: list[PriceRule] | None = None,
    folder: Path = DATA,
) -> int:
    """Replace the prices and price_rules tables with catalog + config (config wins on a tie)."""
    prices = merged_prices(overrides, folder)
    con.execute("DELETE FROM prices")
    con.executemany(
        "INSERT INTO prices BY NAME SELECT ? AS model, ? AS region, ? AS effective_from, "
        "? AS input_per_1m, ? AS output_per_1m, ? AS cache_read_per_1m, ? AS cache_write_per_1m, "
        "? AS cache_write_1h_per_1m, ? AS geo_premium, ? AS source",
        [
            [p.model, p.region, p.effective_from, p.input, p.output, p.cache_read,
             p.cache_write, p.cache_write_1h, p.geo_premium, p.source]
            for p in prices
        ],
    )  # fmt: skip
    merged: dict[tuple[str, str, str], tuple[PriceRule, bool]] = {}
    for r, ok in [*rule_rows(RULES), *((r, True) for r in rules or [])]:
        merged[(r.rule, r.value, r.model)] = (r, ok)
    con.execute("DELETE FROM price_rules")
    con.executemany(
        "INSERT INTO price_rules VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [r.rule, r.value, r.model, r.input_factor, r.output_factor, r.min_input_tokens, ok,
             r.source]
            for r, ok in merged.values()
        ],
    )  # fmt: skip
    return len(prices)
