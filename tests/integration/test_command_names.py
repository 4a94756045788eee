"""Command functions follow one naming scheme: the command path, words joined by ``_``, then
``_command`` (``cost compare`` -> ``cost_compare_command``), so a reader finds a command's code by
its name and no command function shadows the library function it calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

from artenic_opt.cli.main import build_app


def _leaves(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _leaves(sub, (*path, name))
    else:
        yield path, command.callback


def test_every_command_function_is_named_after_its_command() -> None:
    leaves = list(_leaves(typer.main.get_command(build_app()), ()))
    assert len(leaves) >= 20
    wrong = {}
    for path, callback in leaves:
        function = getattr(callback, "__wrapped__", callback)
        expected = "_".join(path).replace("-", "_") + "_command"
        if function.__name__ != expected:
            wrong[" ".join(path)] = f"{function.__name__} (expected {expected})"
    assert wrong == {}
