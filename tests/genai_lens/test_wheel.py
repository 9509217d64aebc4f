"""The built wheel is the product: installed into a fresh virtual environment outside the
checkout, it migrates a warehouse and builds the demo from its own SQL and data files.

uv comes from the Makefile (GENAI_LENS_UV), else PATH, else the Makefile's bootstrap copy.
Dependencies install at the lock's versions (`uv export`), from the uv cache when it has them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

from genai_lens import PROJECT_ROOT
from warehouse.db import discover_migrations

pytestmark = pytest.mark.slow


def _uv() -> str:
    found = os.environ.get("GENAI_LENS_UV") or shutil.which("uv")
    bootstrap = PROJECT_ROOT / ".uv-bootstrap" / "bin" / "uv"
    if not found and bootstrap.exists():
        found = str(bootstrap)
    assert found, "no uv: run the tests through make (it bootstraps uv) or put uv on PATH"
    return found


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"UV_PYTHON_DOWNLOADS": "never"}
    for name in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "GENAI_LENS_CONFIG",
                 "GENAI_LENS_WAREHOUSE"):  # fmt: skip
        env.pop(name, None)
    res = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert res.returncode == 0, f"{args[:3]} failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}"
    return res


def test_the_wheel_installed_outside_the_checkout_migrates_and_builds_the_demo(tmp_path):
    uv = _uv()
    dist = tmp_path / "dist"
    _run(uv, "build", "--wheel", "--out-dir", dist, cwd=PROJECT_ROOT)
    (wheel,) = dist.glob("genai_lens-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = {f"sql/migrations/{m.path.name}" for m in discover_migrations()}
    assert migrations <= names, sorted(migrations - names)
    shipped = {p.relative_to(PROJECT_ROOT).as_posix() for p in PROJECT_ROOT.glob("sql/*/*.sql")}
    assert shipped <= names, sorted(shipped - names)
    data = {p.relative_to(PROJECT_ROOT).as_posix() for p in PROJECT_ROOT.glob("ingest/*/data/*")}
    assert data and data <= names, sorted(data - names)
    assert "genai_lens/streamlit_config.toml" in names
    assert not any(n.startswith("tests/") for n in names)

    locked = tmp_path / "requirements.txt"
    _run(uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project",
         "--output-file", locked, cwd=PROJECT_ROOT)  # fmt: skip
    venv = tmp_path / "venv"
    _run(uv, "venv", "--quiet", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(uv, "pip", "install", "--quiet", "--python", python, "-r", locked, wheel, cwd=tmp_path)

    work = tmp_path / "work"
    work.mkdir()
    where = _run(python, "-c", "import sql, genai_lens; print(sql.__file__)", cwd=work)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # not the checkout
    lens = venv / "bin" / "genai-lens"

    res = _run(lens, "migrate", cwd=work)
    assert "applied" in res.stdout and (work / "data" / "warehouse.duckdb").exists()
    res = _run(lens, "demo", "--days", "7", "--per-day", "300", "--no-serve",
               "--now", "2026-06-30T12:00:00Z", cwd=work)  # fmt: skip
    assert "demo: ready" in res.stdout, res.stdout

    with duckdb.connect(str(work / "data" / "demo" / "warehouse.duckdb"), read_only=True) as con:
        (invocations,) = con.execute("SELECT count(*) FROM invocations").fetchall()[0]
        (cost_rows,) = con.execute("SELECT count(*) FROM cost_daily").fetchall()[0]
        (forecasts,) = con.execute("SELECT count(*) FROM forecasts").fetchall()[0]
    assert invocations > 7 * 300 * 0.5
    assert cost_rows > 0 and forecasts > 0
