"""The README's command table names every command of the tree (walked from the Typer app)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from artenic_opt.cli.main import build_app

README = Path(__file__).resolve().parents[2] / "README.md"


def command_paths(group: Any, prefix: tuple[str, ...] = ()) -> set[str]:
    """Every runnable command as its words (``cost spot``), groups walked recursively."""
    paths: set[str] = set()
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if hasattr(command, "commands"):
            paths |= command_paths(command, (*prefix, name))
        else:
            paths.add(" ".join((*prefix, name)))
    return paths


def readme_commands() -> list[str]:
    """The first cell of each row of the README's command table (the text in backticks)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Commands", 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def documented(path: str, cells: list[str]) -> bool:
    # A cell documents a command when it starts with its words: `feedback record ID` does
    # `feedback record`, `storage analyze ID|PATH` does `storage analyze`.
    return any(cell == path or cell.startswith(path + " ") for cell in cells)


def test_readme_command_table_lists_every_command() -> None:
    tree = typer.main.get_command(build_app())
    paths = command_paths(tree)
    # The walk itself works: nested groups are reached.
    assert {"recommend", "cost spot", "feedback record", "storage analyze"} <= paths
    cells = readme_commands()
    missing = sorted(p for p in paths if not documented(p, cells))
    assert not missing, f"README.md's command table misses: {', '.join(missing)}"


def test_the_check_fails_for_a_missing_command() -> None:
    cells = ["status", "cost spot", "feedback record ID"]
    assert documented("feedback record", cells)
    assert not documented("feedback import", cells)
    assert not documented("cost", ["costly"])
