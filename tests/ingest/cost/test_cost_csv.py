"""AWS Data Exports delivered as CSV (gzip or plain) load as Parquet ones do, ids kept as text
and the map columns (JSON text in CSV) as maps; a run whose every export file is quarantined
exits non-zero with one line naming why."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from test_cost import ACCOUNT, HAIKU, NOVA_PRO, cur_line, focus_row, write_parquet, zone_settings

from ingest.cost import ingester as cost

CLI = str(Path(sys.executable).parent / "genai-lens")


def text(value: Any) -> str:
    """A value as AWS's CSV writes it: maps as JSON objects, times ISO 8601, null empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(dict(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def write_csv(path: Path, rows: list[dict[str, Any]], gz: bool = True) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({k: text(v) for k, v in r.items()} for r in rows)
    data = out.getvalue().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def key(export: str, period: str, suffix: str = "csv.gz") -> str:
    return f"{export}/data/BILLING_PERIOD={period}/{export}-00001.{suffix}"


def test_cur_and_focus_csv_exports_load_like_parquet(tmp_path: Path, warehouse: Any) -> None:
    root = tmp_path / "zone"
    lines = [cur_line(bill_invoice_id="0012345678"), cur_line(line_item_unblended_cost=0.02)]
    write_csv(root / key("cur", "2025-06"), lines)
    write_csv(root / key("focus", "2025-06", "csv"), [focus_row()], gz=False)
    # The same bill as Parquet, in a second zone, for comparison.
    write_parquet(tmp_path / "pq" / key("cur", "2025-06", "snappy.parquet"), lines)
    stats = cost.run(warehouse, zone_settings(str(root)))
    assert stats.objects == 2 and stats.quarantined == 0
    rows = warehouse.execute(
        "SELECT source, usage_date, model, token_kind, tags, unblended_cost, usage_quantity, "
        "invoice_id, estimated FROM cost_daily ORDER BY source, unblended_cost"
    ).fetchall()
    assert rows == [
        ("cur", date(2025, 6, 3), NOVA_PRO, "input", {"team": "search"}, Decimal("0.01"), 12.5,
         "0012345678", False),  # the invoice id keeps its leading zeros: read as text
        ("cur", date(2025, 6, 3), NOVA_PRO, "input", {"team": "search"}, Decimal("0.02"), 12.5,
         None, True),
        ("focus", date(2025, 6, 4), HAIKU, "cache_read", {"team": "chat"}, Decimal("0.25"),
         200.0, "INV-1", False),
    ]  # fmt: skip
    csv_cur = warehouse.execute(
        "SELECT * EXCLUDE (source_object) FROM cost_daily WHERE source = 'cur' ORDER BY ALL"
    ).fetchall()
    warehouse.execute("DELETE FROM cost_daily").fetchall()
    cost.run(warehouse, zone_settings(str(tmp_path / "pq")))
    parquet_cur = warehouse.execute(
        "SELECT * EXCLUDE (source_object) FROM cost_daily ORDER BY ALL"
    ).fetchall()
    assert csv_cur == parquet_cur
    assert warehouse.execute("SELECT DISTINCT account_id FROM cost_daily").fetchall() == [
        (ACCOUNT,)
    ]


def test_a_run_that_quarantines_every_file_fails_with_one_line(tmp_path: Path) -> None:
    root = tmp_path / "zone"
    write_csv(root / key("cur", "2025-06"), [{"not_a_cur_column": "1"}])
    bad = root / key("cur", "2025-07", "snappy.parquet")
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1 truncated")
    env = {**os.environ, "GENAI_LENS_WAREHOUSE": str(tmp_path / "w.duckdb")}
    res = subprocess.run([CLI, "ingest", "cost", "--landing", str(root)], env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 2, res.stdout + res.stderr
    # Progress lines aside, one error line says why.
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("genai-lens: error:")]
    assert len(lines) == 1, res.stderr
    assert "every export file read from landing zone" in lines[0]
    assert "was quarantined (2 files), nothing loaded" in lines[0]
    assert "not a CUR 2.0 or FOCUS export" in lines[0] or "unreadable" in lines[0]
    # One good file beside the bad ones: the run loads it and succeeds.
    write_csv(
        root / key("cur", "2025-08"), [cur_line(line_item_usage_start_date=datetime(2025, 8, 1))]
    )
    ok = subprocess.run([CLI, "ingest", "cost", "--landing", str(root)], env=env,
                        capture_output=True, text=True, timeout=300)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
