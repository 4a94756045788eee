"""The one output layer every command uses.

* stdout is data: a Rich table for people, or with ``--json`` exactly one JSON document (the
  ``model_dump(mode="json")`` of the same objects the table shows), with no colour and nothing
  else on stdout.
* stderr carries progress (a Rich progress bar), warnings and errors. Warnings and errors are
  plain lines (``warning: ...``, ``error: ...``, the prefix coloured only on a terminal), written
  without Rich so that a command printing JSON never pays for importing it, and so that text from
  user files is never read as markup; their control characters are shown as escapes.
* Nothing here imports pydantic or ``json`` at module level: ``--help`` converts no value, so
  Typer never builds its pydantic adapters, and pydantic (about 40 modules, a third of the
  ``--help`` start-up) loads only when a command runs.
* Tables are drawn by ``cli.tables`` (columns by priority, ``--wide``); values are formatted by
  ``presentation.format``, which the dashboard shares. ``--wide`` is defined here, beside
  ``--json``, so that a command module imports ``cli.tables`` only where it draws a table: a
  ``--json`` run never loads it.
"""

import os
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any

import typer

from artenic_opt.presentation.format import clean_lines

if TYPE_CHECKING:
    from rich.console import Console

_json_mode: ContextVar[bool] = ContextVar("artenic_opt_json_mode", default=False)


def _make_stdout() -> "Console":
    from rich.console import Console

    console = Console(soft_wrap=False, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped into a file or a pager: do not squeeze tables into 80 columns.
        console = Console(soft_wrap=False, highlight=False, width=200)
    return console


class _Consoles:
    """Consoles are created lazily so that tests capturing stdout see the current streams."""

    def out(self) -> "Console":
        return _make_stdout()


consoles = _Consoles()


def _set_json(value: bool) -> bool:
    if value:
        _json_mode.set(True)
    return value


def set_json_mode() -> None:
    """``--json`` was given (anywhere on the command line, or before the command)."""
    _json_mode.set(True)


def json_mode() -> bool:
    return _json_mode.get()


def reset_json_mode() -> None:
    _json_mode.set(False)


_wide_mode: ContextVar[bool] = ContextVar("artenic_opt_wide_mode", default=False)


def _set_wide(value: bool) -> bool:
    # Set on every invocation (Click runs the callback for the default too), so a --wide run
    # never leaks into the next command run in the same process.
    _wide_mode.set(bool(value))
    return value


def wide_mode() -> bool:
    return _wide_mode.get()


WideOpt = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Show every table column, however wide the terminal (default: columns that do not "
        "fit are hidden, least important first).",
        callback=_set_wide,
    ),
]


JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print exactly one JSON document on stdout instead of tables.",
        callback=_set_json,
        is_eager=True,
    ),
]


def to_jsonable(obj: Any) -> Any:
    from pydantic import BaseModel  # not needed by --help

    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    return obj


def print_json(obj: Any) -> None:
    import json  # not needed by --help or a table

    text = json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False)
    typer.echo(text)


def emit(obj: Any, render: "Callable[[Console], None]") -> None:
    """Print ``obj`` as JSON in ``--json`` mode, otherwise call ``render`` with stdout."""
    if json_mode():
        print_json(obj)
    else:
        render(consoles.out())


def _stderr_line(prefix: str, colour: str | None, message: str) -> None:
    # Messages quote user text (names, file lines): its control characters are shown as escapes.
    label = typer.style(prefix, fg=colour) if colour else prefix
    typer.echo(f"{label}{clean_lines(message)}", err=True)


def warn(message: str) -> None:
    _stderr_line("warning: ", "yellow", message)


def error_line(message: str) -> None:
    _stderr_line("error: ", None, message)


def info(message: str) -> None:
    _stderr_line("", None, message)
