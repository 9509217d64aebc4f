#!/usr/bin/env bash
# Issue 12 "behaviour unchanged" check: run the same CLI sequence (same seed, same faked clock)
# on a BEFORE and an AFTER checkout, dump every warehouse table to sorted CSV, and diff.
#
#   layout_diff.sh [BEFORE_WORKTREE] [AFTER_WORKTREE]     (defaults: /work/wt/before /work/wt/after)
#
# Each worktree must have its .venv (make install). Needs faketime (Debian package `faketime`).
# Both sides run in the SAME directory ($RUN) one after the other, so absolute paths in outputs
# and in the demo config are identical. Every command gets its own faked start time (libfaketime
# "@..." starts there and ticks), the same on both sides. Results land in $OUT/{before,after}
# and the comparison in $OUT/report.txt.
set -uo pipefail

BEFORE=${1:-/work/wt/before}
AFTER=${2:-/work/wt/after}
OUT=${OUT:-/tmp/layout_diff}
RUN=${RUN:-/tmp/layout_diff_run}
DAY="2026-06-30"

# COMPARE_ONLY=1: keep the results already in $OUT and only compare them again.
[ "${COMPARE_ONLY:-0}" = 1 ] || { rm -rf "$OUT" && mkdir -p "$OUT/data"; }
# Fixed inputs shared by both sides: NAB dev set (from BEFORE, identical in AFTER) and a small
# deterministic set of daily series for `eval forecast`.
[ "${COMPARE_ONLY:-0}" = 1 ] || { cp -r "$BEFORE/tests/data/nab-dev" "$OUT/data/nab-dev"
python3 - "$OUT/data/daily" <<'EOF'
import math, os, sys, datetime as dt
out = sys.argv[1]; os.makedirs(out)
for k, (base, trend, amp) in enumerate([(100, 0.5, 20), (40, -0.1, 5), (250, 1.5, 60)]):
    with open(f"{out}/series_{k}.csv", "w") as f:
        f.write("date,value\n")
        for i in range(120):
            d = dt.date(2026, 1, 1) + dt.timedelta(days=i)
            v = base + trend * i + amp * math.sin(2 * math.pi * i / 7) + ((i * 37 + k * 11) % 13 - 6)
            f.write(f"{d.isoformat()},{v:.3f}\n")
EOF
}
# The Python helpers, written out so this one file is all it takes.
TOOLS="$OUT/tools"; mkdir -p "$TOOLS"
cat > "$TOOLS/compare.py" <<'PYEOF'
"""Compare the BEFORE and AFTER results written by layout_diff.sh (argv[1] = its $OUT)."""

import difflib
import filecmp
import json
import re
import sys
from pathlib import Path

import duckdb

OUT = Path(sys.argv[1])
A, B = sys.argv[2], sys.argv[3]  # the two result folders to compare
SIDES = (A, B)
# Wall-clock stamps, durations and process/run ids: masked (NULL-ness kept), listed in the report
# with their range on each side so a reader sees they stay inside the faked clock.
MASK = {
    "loaded_at", "started_at", "finished_at", "applied_at", "updated_at", "run_at", "detected_at",
    "created_at", "sent_at", "status_at", "pid", "run_id", "seconds", "duration_s",
}
FLOAT = ("DOUBLE", "FLOAT", "REAL")


def norm_expr(col: str, typ: str) -> str:
    q = f'"{col}"'
    if col == "etag":  # a local file's etag is '<mtime_ns>-<size>': the mtime is wall-clock
        return f"regexp_replace({q}, '^[0-9]+-([0-9]+)$', '<mtime_ns>-\\1') AS {q}"
    if col in MASK:
        return f"CASE WHEN {q} IS NULL THEN NULL ELSE '<masked>' END AS {q}"
    if typ in FLOAT:
        return f"printf('%.9g', {q}) AS {q}"
    if typ.endswith("[]") and typ[:-2] in FLOAT:
        return f"list_transform({q}, x -> printf('%.9g', x))::VARCHAR AS {q}"
    return f"CAST({q} AS VARCHAR) AS {q}"


def dump(side: str, wh: str) -> dict[str, list[tuple[str, str]]]:
    path = OUT / side / f"{wh}.duckdb"
    dest = OUT / side / "csv" / wh
    dest.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=True)
    schemas: dict[str, list[tuple[str, str]]] = {}
    masked_ranges = []
    tables = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = 'main' ORDER BY 1"
    ).fetchall()
    for name, ttype in tables:
        cols = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [name],
        ).fetchall()
        schemas[name] = [(c, t) for c, t in cols] + [("<type>", ttype)]
        sel = ", ".join(norm_expr(c, t) for c, t in cols)
        con.execute(
            f"COPY (SELECT {sel} FROM \"{name}\" ORDER BY ALL) TO '{dest / name}.csv' (HEADER)"
        )
        for c, t in cols:
            if c in MASK:
                lo, hi, n = con.execute(
                    f'SELECT min("{c}")::VARCHAR, max("{c}")::VARCHAR, count("{c}") FROM "{name}"'
                ).fetchone()
                masked_ranges.append(f"{wh}.{name}.{c} ({t}): n={n} min={lo} max={hi}")
    (OUT / side / f"masked_{wh}.txt").write_text("\n".join(masked_ranges) + "\n")
    return schemas


def column_diffs(a: Path, b: Path, cols: list[str]) -> tuple[int, int, int, int, list[str]]:
    con = duckdb.connect()
    rd = "read_csv('{}', all_varchar=true, header=true)"
    ra, rb = rd.format(a), rd.format(b)
    na = con.execute(f"SELECT count(*) FROM {ra}").fetchone()[0]
    nb = con.execute(f"SELECT count(*) FROM {rb}").fetchone()[0]
    only_a = con.execute(f"SELECT count(*) FROM (FROM {ra} EXCEPT ALL FROM {rb})").fetchone()[0]
    only_b = con.execute(f"SELECT count(*) FROM (FROM {rb} EXCEPT ALL FROM {ra})").fetchone()[0]
    differing = []
    for c in cols:
        q = f'"{c}"'
        d = con.execute(
            f"SELECT count(*) FROM ((SELECT {q} FROM {ra} EXCEPT ALL SELECT {q} FROM {rb}) "
            f"UNION ALL (SELECT {q} FROM {rb} EXCEPT ALL SELECT {q} FROM {ra}))"
        ).fetchone()[0]
        if d:
            differing.append(f"{c}({d})")
    return na, nb, only_a, only_b, differing


def _canon(v: object) -> object:
    if isinstance(v, dict):
        return {k: _canon(x) for k, x in v.items()}
    if isinstance(v, list):
        items = [_canon(x) for x in v]
        if all(isinstance(x, dict) and "delta" in x for x in items):
            items.sort(key=lambda x: (-abs(x["delta"]), str(x.get("dimension")), str(x.get("value"))))
        return items
    if isinstance(v, float):
        return float(f"{v:.9g}")  # summation order moves the last bits of a sum
    return v


def tie_order_only(a: Path, b: Path) -> bool:
    """True when the two dumps are equal once breakdown lists are ordered by (-|delta|, dim, value)."""
    con = duckdb.connect()
    rd = "read_csv('{}', all_varchar=true, header=true)"
    rows = {}
    for side, p in (("a", a), ("b", b)):
        cur = con.execute(f"FROM {rd.format(p)}")
        names = [d[0] for d in cur.description]
        canon = []
        for r in cur.fetchall():
            vals = []
            for n, v in zip(names, r):
                try:
                    v = json.dumps(_canon(json.loads(v)), sort_keys=True) if v and v[0] in "[{" else v
                except ValueError:
                    pass
                vals.append(v)
            canon.append(tuple(str(x) for x in vals))
        rows[side] = sorted(canon)
    return rows["a"] == rows["b"]


def compare_warehouse(wh: str) -> None:
    sch = {s: dump(s, wh) for s in SIDES}
    names = sorted(set(sch[A]) | set(sch[B]))
    same = 0
    print(f"\n== warehouse {wh} ({A} vs {B}): {len(names)} tables/views")
    for name in names:
        if name not in sch[A] or name not in sch[B]:
            print(f"  {name}: ONLY IN {B if name in sch[B] else A}")
            continue
        a = OUT / A / "csv" / wh / f"{name}.csv"
        b = OUT / B / "csv" / wh / f"{name}.csv"
        schema_note = "" if sch[A][name] == sch[B][name] else (
            f" SCHEMA {sch[A][name]} -> {sch[B][name]}"
        )
        if filecmp.cmp(a, b, shallow=False) and not schema_note:
            same += 1
            print(f"  {name}: identical ({sum(1 for _ in a.open()) - 1} rows)")
            continue
        cols = [c for c, _ in sch[A][name] if c != "<type>"]
        na, nb, oa, ob, diff = column_diffs(a, b, cols)
        print(f"  {name}: DIFFERS rows {na} vs {nb}; rows only before {oa}, only after {ob};"
              f" columns {', '.join(diff) or '-'}{schema_note}")
        json_cols = [c for c, t in sch[A][name] if t == "JSON"]
        if diff and all(d.split("(")[0] in json_cols for d in diff) and tie_order_only(a, b):
            print(f"    {name}: identical once tied rows (equal |delta|) of each explanation's"
                  " breakdown are put in one order and JSON floats read to 9 significant digits")
    print(f"  -> {wh}: {len(names)} compared, {same} identical, {len(names) - same} differ")
    for s in SIDES:
        print(f"  masked columns ({s}):")
        for line in (OUT / s / f"masked_{wh}.txt").read_text().splitlines():
            print(f"    {line}")


TIMING = [
    (re.compile(r"\b\d+(\.\d+)?\s?(ms|s)\b"), "<t>"),  # durations: 'in 8.6s', '40.1s'
    (re.compile(r"\d+(\.\d+)? GiB free"), "<n> GiB free"),  # free disk space
    (re.compile(r'"(elapsed|seconds|duration)[a-z_]*": ?[0-9.]+'), r'"\1": <t>'),
    (re.compile(r'"ts": ?"[^"]*"'), '"ts": <ts>'),  # json log line stamps
    (re.compile(r"\b\d\d:\d\d:\d\d(\.\d+)?"), "<hh:mm:ss>"),
]


def mask_timing(text: str) -> str:
    for rx, rep in TIMING:
        text = rx.sub(rep, text)
    return text


def paired(kind: str) -> list[tuple[str, str, str] | tuple[str, None, None]]:
    """(file name, side A's text, side B's text) for every .txt either side wrote under `kind`;
    the texts are None where one side lacks the file (reported, not compared)."""
    names = sorted({p.name for s in SIDES for p in (OUT / s / kind).glob("*.txt")})
    out: list[tuple[str, str, str] | tuple[str, None, None]] = []
    for f in names:
        a, b = OUT / A / kind / f, OUT / B / kind / f
        both = a.exists() and b.exists()
        out.append((f, a.read_text(), b.read_text()) if both else (f, None, None))
    return out


def compare_commands() -> None:
    files = paired("cmd")
    raw_same = masked_same = 0
    print(f"\n== commands ({A} vs {B}): {len(files)}")
    for f, ta, tb in files:
        if ta is None or tb is None:
            print(f"  {f}: only one side")
            continue
        if ta == tb:
            raw_same += 1
            masked_same += 1
            print(f"  {f}: identical")
            continue
        ma, mb = mask_timing(ta), mask_timing(tb)
        if ma == mb:
            masked_same += 1
            print(f"  {f}: identical once timings are masked")
            continue
        print(f"  {f}: DIFFERS")
        diff = difflib.unified_diff(ma.splitlines(), mb.splitlines(), A, B, lineterm="", n=0)
        for line in list(diff)[:40]:
            print(f"      {line[:220]}")
    print(f"  -> {len(files)} commands, {raw_same} identical as is, {masked_same} identical with"
          f" timings masked, {len(files) - masked_same} differ")


NUM = re.compile(r"[-+]?\d+\.\d+(?:[eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+")
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+|(?<=,)\d+(?:\.\d+)?(?=,ok,)")


def close_text(ta: str, tb: str) -> bool:
    """Equal but for wall-clock stamps and numbers within 1e-8 relative (or 1e-12 absolute)."""
    ta, tb = (re.sub(r"[ \t]+", " ", STAMP.sub("<stamp>", t)) for t in (ta, tb))
    pa, pb = NUM.split(ta), NUM.split(tb)
    if pa != pb:
        return False
    for sa, sb in zip(NUM.findall(ta), NUM.findall(tb)):
        x, y = float(sa), float(sb)
        # one unit in the last printed place (numpy prints arrays to 8 decimals), or 1e-8 relative
        places = [len(t.split(".")[1]) for t in (sa, sb) if "." in t and "e" not in t.lower()]
        ulp = 10.0 ** -min(places) if places else 0.0
        if abs(x - y) > max(1.01 * ulp, 1e-8 * max(abs(x), abs(y))):
            return False
    return True


def compare_pages() -> None:
    files = paired("pages")
    same = 0
    print(f"\n== app pages ({A} vs {B}; AppTest render of the final demo warehouse): {len(files)}")
    for f, ta, tb in files:
        if ta is None or tb is None:
            print(f"  {f}: only one side")
            continue
        elements = sum(1 for line in ta.splitlines() if line.lstrip().startswith("["))
        if ta == tb:
            same += 1
            print(f"  {f}: identical ({elements} elements, tables as CSV, charts as figure JSON)")
            continue
        if close_text(ta, tb):
            same += 1
            print(f"  {f}: identical once numbers are compared to 1e-8 relative (float summation"
                  " order) and wall-clock run stamps masked")
            continue
        print(f"  {f}: DIFFERS (beyond float noise and run stamps)")
        ma, mb = (STAMP.sub("<stamp>", t) for t in (ta, tb))
        diff = difflib.unified_diff(ma.splitlines(), mb.splitlines(), A, B, lineterm="", n=0)
        for line in list(diff)[:24]:
            print(f"      {line[:220]}")
    print(f"  -> {len(files)} pages, {same} identical, {len(files) - same} differ")


def compare_files() -> None:
    print(f"\n== other outputs ({A} vs {B})")
    for rel in ("estate_files.sha256", "genai-lens.toml", "ground_truth.json"):
        a, b = OUT / A / rel, OUT / B / rel
        ok = a.exists() and b.exists() and filecmp.cmp(a, b, shallow=False)
        print(f"  {rel}: {'identical' if ok else 'DIFFERS'}")
    sa, sb = OUT / A / "scores", OUT / B / "scores"
    if sa.exists() and sb.exists():
        cmp = filecmp.dircmp(sa, sb)
        bad = []
        for root in [cmp]:
            stack = [root]
            while stack:
                d = stack.pop()
                bad += d.diff_files + d.left_only + d.right_only
                stack += d.subdirs.values()
        print(f"  eval anomaly --scores-out CSVs: {'identical' if not bad else 'DIFFER: ' + ', '.join(bad)}")


for wh in ("wh_demo", "wh_final", "wh_fresh"):
    if all((OUT / s / f"{wh}.duckdb").exists() for s in SIDES):
        compare_warehouse(wh)
compare_commands()
compare_pages()
compare_files()
PYEOF
cat > "$TOOLS/pages_dump.py" <<'PYEOF'
"""Render every app page with Streamlit's AppTest on the warehouse the config names and write
what a reader sees: headings, captions, metrics, text, every dataframe/table (CSV) and every
chart's figure spec. Run from the checkout root: pages_dump.py OUTDIR."""
import json, sys
from pathlib import Path
from streamlit.testing.v1 import AppTest

out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
PAGES = {"overview": None, "spend": "app_pages/spend.py", "reliability": "app_pages/reliability.py",
         "anomalies": "app_pages/anomalies.py", "governance": "app_pages/governance.py",
         "data-health": "app_pages/data_health.py"}


def walk(node, lines, depth=0):
    kind = getattr(node, "type", type(node).__name__)
    children = getattr(node, "children", None)
    if isinstance(children, dict) and kind not in ("dataframe", "table"):
        label = getattr(node, "label", None) or ""
        if kind not in ("main", "sidebar"):
            lines.append(f"{'  ' * depth}[{kind}] {label}")
        for c in children.values():
            walk(c, lines, depth + 1)
        return
    pad = "  " * depth
    if kind in ("dataframe", "table", "arrow_data_frame"):
        df = node.value
        lines.append(f"{pad}[{kind}] {df.shape}")
        lines.append(df.to_csv(float_format="%.9g"))
    elif kind == "metric":
        lines.append(f"{pad}[metric] {node.label} = {node.value} ({node.delta})")
    elif hasattr(node, "proto") and kind in ("plotly_chart", "vega_lite_chart", "arrow_vega_lite_chart"):
        spec = getattr(node.proto, "spec", "") or getattr(node.proto, "figure", None)
        spec = spec if isinstance(spec, str) else str(spec)
        try:
            spec = json.dumps(json.loads(spec), sort_keys=True)
        except ValueError:
            pass
        lines.append(f"{pad}[{kind}] {spec}")
    elif hasattr(node, "label") and kind not in ("metric",):  # widgets: label and value
        lines.append(f"{pad}[{kind}] {node.label!r} = {getattr(node, 'value', None)!r}")
    else:
        val = getattr(node, "value", None)
        if val is None and hasattr(node, "proto"):
            val = str(node.proto).replace("\n", " ")[:2000]
        lines.append(f"{pad}[{kind}] {val}")


for name, path in PAGES.items():
    at = AppTest.from_file(str(Path.cwd() / "app" / "main.py"), default_timeout=180)
    at.run()
    if path:
        at.switch_page(path).run()
    lines = [f"exceptions: {[e.value for e in at.exception]}"]
    walk(at.main, lines)
    lines.append("--- sidebar")
    walk(at.sidebar, lines)
    (out / f"page_{name}.txt").write_text("\n".join(lines) + "\n")
    print(name, len(lines), "lines,", len(at.exception), "exceptions")
PYEOF
cat > "$TOOLS/tie_order.py" <<'PYEOF'
# Same input, 200 calls: how many different breakdown orders does models.explain.driver give?
import sys; from datetime import datetime
import polars as pl
from models.explain import driver, MEASURE
metric = next(iter(MEASURE)); measure = MEASURE[metric]
peak = datetime(2026, 6, 30, 11)
rows = [{"dimension": "lob", "value": v, "ts": t, measure: (44.0 if v == "a" and t == peak else 0.0)}
        for v in ["a", "hr", "research", "insurance", "wealth", "legal"]
        for t in [datetime(2026, 6, d, 11) for d in range(24, 31)]]
parts = pl.DataFrame(rows)
orders = {tuple(r["value"] for r in driver(parts, metric, peak)["breakdown"]) for _ in range(200)}
print(f"{sys.argv[1]}: metric={metric} distinct breakdown orders over 200 identical calls: {len(orders)}")
PYEOF
cat > "$OUT/data/bad.toml" <<'EOF'
[invocation_logs]
overlap_hours = -1
EOF

run_side() {
  local side=$1 wt=$2 n=0
  local gl="$wt/.venv/bin/genai-lens" res="$OUT/$side"
  mkdir -p "$res/cmd"
  rm -rf "$RUN" && mkdir -p "$RUN" && cd "$RUN" || exit 1
  # Nothing from the caller's environment leaks in; wide fixed terminal for the help screens.
  unset $(env | grep -o '^GENAI_LENS_[A-Z_]*') 2>/dev/null
  export COLUMNS=120 TERM=dumb NO_COLOR=1
  step() {  # step NAME HH:MM:SS ARGS...   (stdout+stderr and the exit code into one file)
    local name=$1 t=$2; shift 2; n=$((n + 1))
    local f; f=$(printf '%s/cmd/%02d_%s.txt' "$res" "$n" "$name")
    echo "\$ genai-lens $*" >"$f"
    faketime -f "@$DAY $t" "$gl" "$@" >>"$f" 2>&1
    echo "[exit $?]" >>"$f"
  }
  step help 11:00:00 --help
  for c in ingest reattribute migrate demo serve status doctor vacuum models eval; do
    step "help_$c" 11:00:00 "$c" --help
  done
  step help_models_run 11:00:00 models run --help
  step help_eval_anomaly 11:00:00 eval anomaly --help
  step help_eval_forecast 11:00:00 eval forecast --help
  step demo 12:00:00 demo --days 7 --seed 7 --no-serve
  cp "$RUN/data/demo/warehouse.duckdb" "$res/wh_demo.duckdb"
  export GENAI_LENS_CONFIG="$RUN/data/demo/genai-lens.toml"
  step status 12:10:00 status
  step status_json 12:10:30 --log-format json status
  step doctor 12:11:00 doctor
  step migrate 12:12:00 migrate
  step ingest_rerun 12:13:00 ingest
  step ingest_rerun_json 12:14:00 --log-format json ingest invocation-logs cost
  step models_dry_run 12:15:00 models run --dry-run
  step reattribute 12:16:00 reattribute
  step vacuum 12:17:00 vacuum
  step status_end 12:20:00 status
  step eval_anomaly 12:21:00 eval anomaly "$OUT/data/nab-dev" --scores-out "$RUN/scores"
  step eval_forecast 12:22:00 eval forecast "$OUT/data/daily" --horizon 14
  # Error paths: each must stay the same one-line error and exit code.
  step err_bad_option 12:23:00 demo --days 2 --no-serve
  step err_bad_option_json 12:23:00 --log-format json demo --days 2 --no-serve
  step err_unknown_source 12:23:00 ingest no-such-source
  step err_bad_config 12:23:00 --config "$OUT/data/bad.toml" status
  step err_missing_dataset 12:23:00 eval anomaly "$RUN/no-such-dir"
  step fresh_migrate 12:24:00 --warehouse "$RUN/fresh/wh.duckdb" migrate
  step fresh_status 12:24:30 --warehouse "$RUN/fresh/wh.duckdb" status
  cp "$RUN/data/demo/warehouse.duckdb" "$res/wh_final.duckdb"
  # What a reader sees: every page rendered by Streamlit's AppTest on the final demo warehouse.
  (cd "$wt" && GENAI_LENS_WAREHOUSE="$RUN/data/demo/warehouse.duckdb" PYTHONDONTWRITEBYTECODE=1 \
    faketime -f "@$DAY 12:30:00" .venv/bin/python "$TOOLS/pages_dump.py" "$res/pages" \
    >"$res/pages_dump.log" 2>&1)
  # The anomaly explanation's tie order, same input 200 times (pure model, no warehouse).
  (cd "$wt" && PYTHONDONTWRITEBYTECODE=1 .venv/bin/python "$TOOLS/tie_order.py" "$side" \
    >>"$OUT/tie_order.txt" 2>&1)
  cp "$RUN/fresh/wh.duckdb" "$res/wh_fresh.duckdb" 2>/dev/null
  cp -r "$RUN/scores" "$res/scores" 2>/dev/null
  cp "$RUN/data/demo/genai-lens.toml" "$RUN/data/demo/ground_truth.json" "$res/" 2>/dev/null
  (cd "$RUN/data/demo" && find landing trail metric-stream bill -type f -print0 | sort -z \
    | xargs -0 sha256sum) >"$res/estate_files.sha256"
  cd / && rm -rf "$RUN"
}

echo "BEFORE $(git -C "$BEFORE" rev-parse --short HEAD)  AFTER $(git -C "$AFTER" rev-parse --short HEAD)" \
  >"$OUT/sides.txt"
if [ "${COMPARE_ONLY:-0}" != 1 ]; then
  run_side before "$BEFORE"
  run_side after "$AFTER"
  # Control: BEFORE once more. A difference BEFORE shows against itself is run-to-run noise.
  [ "${CONTROL:-1}" = 1 ] && run_side before2 "$BEFORE"
fi
{ cat "$OUT/sides.txt"; "$BEFORE/.venv/bin/python" "$TOOLS/compare.py" "$OUT" before after
  if [ -d "$OUT/before2" ]; then
    echo; echo "######## CONTROL: the BEFORE code run twice (before vs before2) ########"
    "$BEFORE/.venv/bin/python" "$TOOLS/compare.py" "$OUT" before before2
  fi
  echo; echo "== explanation breakdown tie order (models/explain.py, unchanged by the move)"
  cat "$OUT/tie_order.txt"; } >"$OUT/report.txt" 2>&1
cat "$OUT/report.txt"
