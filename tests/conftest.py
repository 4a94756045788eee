"""Shared fixtures: every test runs against its own empty home, state and config."""

from __future__ import annotations

from pathlib import Path

import pytest

ISOLATED_ENV = (
    "ARTENIC_URL",
    "ARTENIC_API_KEY",
    "ARTENIC_TIMEOUT",
    "ARTENIC_PROFILE",
    "ARTENIC_OPT_MODE",
    "ARTENIC_OPT_CURRENCY",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every path the tool uses at ``tmp_path`` so no test touches real user files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("ARTENIC_OPT_STATE", str(tmp_path / "state" / "state.db"))
    monkeypatch.setenv("ARTENIC_OPT_CONFIG", str(tmp_path / "config" / "optimizer.toml"))
    monkeypatch.setenv("ARTENIC_CONFIG_FILE", str(home / ".artenic" / "config.toml"))
    monkeypatch.setenv("NO_COLOR", "1")
    # No terminal width is inherited: piped output is 200 columns wide (cli/output.py), and a test
    # that draws a table at a given width says so (tests/integration/test_cli_tables.py).
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    return home
