"""Every command documents itself, and the root help states the exit codes."""

from __future__ import annotations

from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from artenic_opt.cli.main import build_app

app = build_app()

runner = CliRunner()


def walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found.extend(walk(sub, (*path, name)))
    return found


COMMANDS = [path for path, _ in walk(get_command(app)) if path]


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_help_and_json(path: tuple[str, ...]) -> None:
    command = dict(walk(get_command(app)))[path]
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0
    if not hasattr(command, "commands"):
        assert "--json" in result.stdout, f"{' '.join(path)} lacks --json"


def test_root_help_lists_exit_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for fragment in ("0 success", "2 bad usage", "3 platform", "4 no feasible"):
        assert fragment in " ".join(result.stdout.split())
