"""The one output layer every command uses.

* stdout is data: a Rich table for people, or with ``--json`` exactly one JSON document (the
  ``model_dump(mode="json")`` of the same objects the table shows), with no colour and nothing
  else on stdout.
* stderr carries progress (a Rich progress bar), warnings and errors. Warnings and errors are
  plain lines (``warning: ...``, ``error: ...``, the prefix coloured only on a terminal), written
  without Rich so that a command printing JSON never pays for importing it, and so that text from
  user files is never read as markup.
"""

import json
import os
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

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
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    return obj


def print_json(obj: Any) -> None:
    text = json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False)
    typer.echo(text)


def emit(obj: Any, render: "Callable[[Console], None]") -> None:
    """Print ``obj`` as JSON in ``--json`` mode, otherwise call ``render`` with stdout."""
    if json_mode():
        print_json(obj)
    else:
        render(consoles.out())


def _stderr_line(prefix: str, colour: str | None, message: str) -> None:
    label = typer.style(prefix, fg=colour) if colour else prefix
    typer.echo(f"{label}{message}", err=True)


def warn(message: str) -> None:
    _stderr_line("warning: ", "yellow", message)


def error_line(message: str) -> None:
    _stderr_line("error: ", None, message)


def info(message: str) -> None:
    _stderr_line("", None, message)


def make_table(
    title: str | None,
    columns: Sequence[str | tuple[str, str]],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
) -> "Table":
    """A Rich table; a column given as ``(name, "right")`` is right-aligned (numbers)."""
    from rich.table import Table

    table = Table(title=title, caption=caption, header_style="bold", expand=False)
    for col in columns:
        if isinstance(col, tuple):
            table.add_column(col[0], justify="right" if col[1] == "right" else "left", no_wrap=True)
        else:
            table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def fmt_money(amount: float | None, currency: str) -> str:
    if amount is None:
        return "-"
    if abs(amount) >= 1000:
        return f"{amount:,.0f} {currency}"
    if abs(amount) >= 1:
        return f"{amount:,.2f} {currency}"
    return f"{amount:.4f} {currency}"


def fmt_hours(hours: float | None) -> str:
    if hours is None:
        return "-"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def fmt_float(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def describe_gpus(count: int, gpu_type: str | None, memory_gb: float | None) -> str:
    """``8x H100 SXM 80GB``, or ``CPU`` for machines without accelerators."""
    if not count or not gpu_type:
        return "CPU"
    memory = f" {memory_gb:g}GB" if memory_gb and f"{memory_gb:g}GB" not in gpu_type else ""
    return f"{count}x {gpu_type}{memory}"
