"""Settings: every key documented, bad input named in one line, environment wins."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from base.errors import ConfigError
from base.settings import Settings, load_settings
from genai_lens import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "genai-lens.example.toml"
CLI = str(Path(sys.executable).parent / "genai-lens")


def keys_of(model: type[BaseModel], prefix: str = "") -> set[str]:
    out = set()
    for name, field in model.model_fields.items():
        out.add(prefix + name)
        ann = field.annotation
        inner = (
            getattr(ann, "__args__", (ann,))[0] if getattr(ann, "__origin__", None) is list else ann
        )
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out |= keys_of(inner, f"{prefix}{name}.")
    return out


MAPS = {"tags", "request_metadata", "profile_tag", "lobs", "roles"}  # user keys, not settings


def keys_in(data: Any, prefix: str = "") -> set[str]:
    out = set()
    items = data[0].items() if isinstance(data, list) else data.items()
    for k, v in items:
        out.add(prefix + k)
        if isinstance(v, dict) and k not in MAPS:
            out |= keys_in(v, f"{prefix}{k}.")
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for entry in v:
                out |= keys_in(entry, f"{prefix}{k}.")
    return out


def test_every_setting_is_documented_in_the_example_and_the_example_is_valid():
    data = tomllib.loads(EXAMPLE.read_text())
    assert keys_of(Settings) == keys_in(data)
    Settings(**data)  # the documented example itself validates


def test_unknown_key_is_named(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[invocation_logs]\noverlap_hour = 2\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert "invocation_logs.overlap_hour: unknown key" in str(err.value)


def test_bad_value_names_key_and_expectation(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[invocation_logs]\noverlap_hours = -1\n")
    with pytest.raises(
        ConfigError,
        match=r"invocation_logs\.overlap_hours: .*greater than or "
        r"equal to 0 \(got -1\)",
    ):
        load_settings(cfg)


def test_rule_needs_exactly_one_matcher(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[attribution.rules]]\nlob = "x"\naccount = "1"\nprincipal = "arn:*"\n')
    with pytest.raises(ConfigError, match=r"attribution\.rules\.0: .*exactly one of"):
        load_settings(cfg)


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    cfg = tmp_path / "c.toml"
    cfg.write_text('warehouse = "from-file.duckdb"\n[invocation_logs]\noverlap_hours = 5\n')
    monkeypatch.setenv("GENAI_LENS_INVOCATION_LOGS__OVERLAP_HOURS", "9")
    monkeypatch.setenv("GENAI_LENS_WAREHOUSE", "from-env.duckdb")
    s = load_settings(cfg)
    assert s.invocation_logs.overlap_hours == 9 and s.warehouse == Path("from-env.duckdb")


def test_config_found_in_working_directory_or_via_env(tmp_path, monkeypatch):
    (tmp_path / "genai-lens.toml").write_text('warehouse = "here.duckdb"\n')
    assert load_settings().warehouse == Path("here.duckdb")
    other = tmp_path / "other.toml"
    other.write_text('warehouse = "there.duckdb"\n')
    monkeypatch.setenv("GENAI_LENS_CONFIG", str(other))
    assert load_settings().warehouse == Path("there.duckdb")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_bad_config_is_one_line_exit_2(tmp_path):
    (tmp_path / "genai-lens.toml").write_text("[attribution]\nrulez = []\n")
    res = run_cli("migrate", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0
    assert "attribution.rulez: unknown key" in res.stderr and "Traceback" not in res.stderr


def test_cli_missing_config_file_and_bad_toml(tmp_path):
    res = run_cli("--config", "nope.toml", "migrate", cwd=tmp_path)
    assert res.returncode == 2 and "nope.toml does not exist" in res.stderr
    (tmp_path / "broken.toml").write_text("warehouse = \n")
    res = run_cli("--config", "broken.toml", "migrate", cwd=tmp_path)
    assert res.returncode == 2 and "is not valid TOML" in res.stderr
