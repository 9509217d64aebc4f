"""The one clock: real by default, fixed by GENAI_LENS_NOW, the `now` setting or `fix`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from base import clock
from base.errors import ConfigError
from base.settings import load_settings


def test_unset_it_is_the_real_utc_time():
    assert clock.fixed() is None
    assert abs(clock.utcnow() - datetime.now(UTC).replace(tzinfo=None)) < timedelta(seconds=5)


def test_the_environment_fixes_it_in_utc_whatever_the_offset(monkeypatch):
    monkeypatch.setenv("GENAI_LENS_NOW", "2026-06-30T14:30:00+02:00")
    assert clock.utcnow() == datetime(2026, 6, 30, 12, 30) == clock.fixed()
    assert clock.today().isoformat() == "2026-06-30"


def test_a_setting_fixes_it_and_the_environment_wins_over_the_file(tmp_path, monkeypatch):
    cfg = tmp_path / "c.toml"
    cfg.write_text("now = 2026-01-02T03:00:00Z\n")
    assert load_settings(cfg).now is not None
    assert clock.utcnow() == datetime(2026, 1, 2, 3)
    monkeypatch.setenv("GENAI_LENS_NOW", "2026-06-30T12:00:00Z")
    load_settings(cfg)
    assert clock.utcnow() == datetime(2026, 6, 30, 12)


def test_a_bad_value_names_the_variable_and_the_form(monkeypatch):
    monkeypatch.setenv("GENAI_LENS_NOW", "yesterday")
    with pytest.raises(ConfigError, match=r"GENAI_LENS_NOW: 'yesterday' is not an ISO 8601 .*"
                                          r"2026-06-30T12:00:00Z"):  # fmt: skip
        clock.utcnow()
