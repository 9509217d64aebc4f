"""CUR 2.0 and FOCUS 1.x data exports in a landing zone: listing and reading Parquet, or CSV
(gzip or plain), the two formats AWS Data Exports deliver.

Exports lay out as <prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/<export>-00001.snappy.parquet
(older ones as .../year=YYYY/month=M/...; CSV deliveries as <export>-00001.csv.gz), not in
the YYYY/MM/DD/ folders Landing.objects() understands, so objects are listed here, with the
zone's own client or folder. A billing-period folder is the unit of replacement: AWS rewrites
its files while the month is open.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb

from ingest import aws
from ingest.landing import Landing, LandingObject, LocalLanding, S3Landing
from warehouse.bookkeeping import DATA_ERRORS
from warehouse.db import insert_rows

_PERIOD = re.compile(r"(?:BILLING_PERIOD=(\d{4})-(\d{2})|year=(\d{4})/month=(\d{1,2}))/[^/]+$")
Problem = tuple[str, int, str]

# Columns each export kind must have, and optional ones added as NULL when absent.
REQUIRED = {
    "cur": [
        "line_item_usage_start_date", "line_item_usage_account_id", "line_item_product_code",
        "line_item_usage_type", "line_item_unblended_cost", "line_item_usage_amount",
    ],
    "focus": [
        "ChargePeriodStart", "BilledCost", "EffectiveCost", "ServiceName", "SubAccountId",
        "x_UsageType",
    ],
}  # fmt: skip
OPTIONAL = {
    "cur": {
        "line_item_net_unblended_cost": "DOUBLE", "line_item_line_item_type": "VARCHAR",
        "product_region_code": "VARCHAR", "product": "MAP(VARCHAR, VARCHAR)",
        "resource_tags": "MAP(VARCHAR, VARCHAR)", "pricing_unit": "VARCHAR",
        "bill_invoice_id": "VARCHAR", "savings_plan_savings_plan_effective_cost": "DOUBLE",
        "reservation_effective_cost": "DOUBLE",
        # Who pays, which invoice, what resource, who called, at what list price (FOCUS export).
        "bill_payer_account_id": "VARCHAR", "bill_payer_account_name": "VARCHAR",
        "line_item_usage_account_name": "VARCHAR", "bill_invoicing_entity": "VARCHAR",
        "line_item_resource_id": "VARCHAR", "line_item_iam_principal": "VARCHAR",
        "pricing_public_on_demand_cost": "DOUBLE", "pricing_public_on_demand_rate": "VARCHAR",
        "product_sku": "VARCHAR", "pricing_rate_id": "VARCHAR",
        "line_item_legal_entity": "VARCHAR",
    },
    "focus": {
        "ChargeCategory": "VARCHAR", "RegionId": "VARCHAR", "ConsumedQuantity": "DOUBLE",
        "ConsumedUnit": "VARCHAR", "Tags": "MAP(VARCHAR, VARCHAR)", "InvoiceId": "VARCHAR",
        "x_ServiceCode": "VARCHAR", "BillingPeriodEnd": "TIMESTAMP",
        "BillingAccountId": "VARCHAR", "BillingAccountName": "VARCHAR",
        "SubAccountName": "VARCHAR", "InvoiceIssuerName": "VARCHAR", "ResourceId": "VARCHAR",
        "ListCost": "DOUBLE", "ListUnitPrice": "DOUBLE", "SkuId": "VARCHAR",
        "SkuPriceId": "VARCHAR", "PublisherName": "VARCHAR",
    },
}  # fmt: skip
# Columns read as naive UTC timestamps, whatever type the export wrote them in.
TIME_COLUMNS = {"cur": ["line_item_usage_start_date"],
                "focus": ["ChargePeriodStart", "BillingPeriodEnd"]}  # fmt: skip
# The column naming a line's invoice. FOCUS added InvoiceId in 1.2: a 1.0 or 1.1 file has
# none, so its rows' finality comes from the billing period (sql/ingest/cost_focus_rows.sql).
INVOICE_COLUMN = {"cur": "bill_invoice_id", "focus": "InvoiceId"}


SUFFIXES = (".parquet", ".csv.gz", ".csv")


def is_csv(path: str) -> bool:
    return path.endswith((".csv", ".csv.gz"))


def reader(path: str) -> str:
    """The DuckDB table function for one export file. CSV is read as text: digit-only ids
    (invoice, account) must stay strings, and the SQL casts amounts itself."""
    return "read_csv(?, all_varchar = true, header = true)" if is_csv(path) else "read_parquet(?)"


def period_of(key: str) -> datetime | None:
    """The billing period (its first day) an export object's folder names."""
    m = _PERIOD.search(key)
    if not m or not key.endswith(SUFFIXES):
        return None
    y, mo = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return datetime(int(y), int(mo), 1)


def folder_of(key: str) -> str:
    return key.rsplit("/", 1)[0] + "/"


def export_objects(landing: Landing) -> Iterator[LandingObject]:
    """Every export object (Parquet or CSV) of the zone, in key order, with its period as `hour`."""
    if isinstance(landing, S3Landing):
        paginated = landing.s3.get_paginator("list_objects_v2").paginate(
            Bucket=landing.bucket, Prefix=landing.root
        )
        what = f"landing zone {landing.label}"
        for page in aws.pages(paginated, what, "s3:ListBucket and s3:GetObject"):
            for item in page.get("Contents", []):
                key = item["Key"][len(landing.root) :]
                period = period_of(key)
                if period is not None:
                    uri = f"s3://{landing.bucket}/{item['Key']}"
                    etag = item["ETag"].strip('"')
                    yield LandingObject(folder_of(key), key, uri, item["Size"], etag, period)
    elif isinstance(landing, LocalLanding):
        for dirpath, dirs, files in os.walk(landing.root):
            dirs.sort()
            for name in sorted(files):
                path = Path(dirpath) / name
                key = path.relative_to(landing.root).as_posix()
                period = period_of(key)
                if period is not None:
                    st = path.stat()
                    etag = f"{st.st_mtime_ns}-{st.st_size}"
                    yield LandingObject(folder_of(key), key, str(path), st.st_size, etag, period)


def columns_of(con: duckdb.DuckDBPyConnection, path: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {reader(path)}", [path]).fetchall()
    return {r[0]: r[1] for r in rows}


def kind_of(columns: dict[str, str]) -> str | None:
    if "line_item_usage_type" in columns or "line_item_unblended_cost" in columns:
        return "cur"
    if "ChargePeriodStart" in columns or "BilledCost" in columns or "x_UsageType" in columns:
        return "focus"
    return None


def sort_files(
    con: duckdb.DuckDBPyConnection, files: dict[str, str]
) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """{kind: {local file: object uri}} of the readable files, and the quarantined ones."""
    good: dict[str, dict[str, str]] = {"cur": {}, "focus": {}}
    problems: list[Problem] = []
    for local, uri in files.items():
        try:
            cols = columns_of(con, local)
        except DATA_ERRORS as exc:
            what = "CSV" if is_csv(local) else "Parquet"
            problems.append((uri, 0, f"unreadable {what} object: {exc}"))
            continue
        kind = kind_of(cols)
        if kind is None:
            problems.append((uri, 0, "not a CUR 2.0 or FOCUS export: no column "
                             "line_item_usage_type or ChargePeriodStart"))  # fmt: skip
            continue
        missing = [c for c in REQUIRED[kind] if c not in cols]
        if missing:
            label = "CUR 2.0" if kind == "cur" else "FOCUS"
            problems.append((uri, 0, f"{label} export lacks required column {missing[0]}"))
            continue
        good[kind][local] = uri
    return good, problems


def stage_raw(con: duckdb.DuckDBPyConnection, kind: str, files: dict[str, str]) -> None:
    """cost_raw: the columns of `kind` we use from these files, absent optional ones as NULL.

    Column names come from REQUIRED/OPTIONAL above (our constants), never from the files.
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cost_files "
        "(filename VARCHAR, source_object VARCHAR, has_invoice_column BOOLEAN)"
    )
    columns = {f: columns_of(con, f) for f in files}
    insert_rows(con, "cost_files", {
        "filename": list(files), "source_object": list(files.values()),
        "has_invoice_column": [INVOICE_COLUMN[kind] in columns[f] for f in files],
    })  # fmt: skip
    present = {c for f in files for c in columns[f] if c in REQUIRED[kind] or c in OPTIONAL[kind]}
    cols = ", ".join(f'p."{c}"' for c in sorted(present))
    parquet = [f for f in files if not is_csv(f)]
    csv = [f for f in files if is_csv(f)]
    sources = (["read_parquet(?, union_by_name = true, filename = true)"] if parquet else []) + (
        ["read_csv(?, all_varchar = true, header = true, union_by_name = true, filename = true)"]
        if csv else []
    )  # fmt: skip
    select = (
        f"SELECT {cols}, f.source_object, f.has_invoice_column FROM {{}} p "
        "JOIN cost_files f USING (filename)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE cost_raw AS {select.format(sources[0])}",
        [parquet or csv],
    )
    if parquet and csv:  # one folder holding both (a format switch mid-period)
        con.execute(f"INSERT INTO cost_raw BY NAME {select.format(sources[1])}", [csv])
    for col, typ in OPTIONAL[kind].items():
        if col not in present:
            con.execute(f'ALTER TABLE cost_raw ADD COLUMN "{col}" {typ}')
    _normalize(con, kind)


def _normalize(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """UTC timestamps for the usage day and billing period, and the map columns (Tags,
    resource_tags, product) as maps where the export delivers JSON text (CSV always does)."""
    types = {r[0]: r[1] for r in con.execute("DESCRIBE cost_raw").fetchall()}
    for col in TIME_COLUMNS[kind]:
        if types[col] in {"VARCHAR", "TIMESTAMP WITH TIME ZONE"}:
            con.execute(
                f'ALTER TABLE cost_raw ALTER "{col}" TYPE TIMESTAMP '
                f"USING timezone('UTC', CAST(\"{col}\" AS TIMESTAMPTZ))"
            )
    for tags in ("Tags", "resource_tags", "product"):
        if types.get(tags) in {"VARCHAR", "JSON"}:
            con.execute(
                f'ALTER TABLE cost_raw ALTER "{tags}" TYPE MAP(VARCHAR, VARCHAR) '
                f'USING CAST(CAST("{tags}" AS JSON) AS MAP(VARCHAR, VARCHAR))'
            )
