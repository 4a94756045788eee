"""Human tables of every command: columns by priority, fitted to the terminal, ``--wide`` for all.

A command describes its table as a list of ``Col`` specs (header, how to get the cell from a row,
priority, how far it may shrink) and calls ``draw``. Rich is imported only there, when a table is
really drawn, so ``--json`` runs and ``--help`` never load it.

Decisions:

* Columns are dropped, not squeezed. A priority 0 column (the ones a table is for) needs its full
  width; any other column needs its header and, unless it may be ellipsised, its longest cell.
  While those needs do not fit the console, the column with the highest ``priority`` number
  (rightmost first among equals) is hidden. Priority 0 columns are never hidden: only when they
  alone do not fit are their long names ellipsised. One line on stderr names the hidden columns
  and points at ``--wide``.
* Cells never wrap mid-word: names that may shrink (``min_width``) end in an ellipsis; sentences
  (a ``wrap`` column, such as a verdict's reason) wrap between words, a word too long for the
  column ends in an ellipsis; numbers and codes keep their full width. When the minimums fit but the
  natural widths do not, the widest shrinkable column gives way first.
* Cells, titles and captions are drawn as Rich ``Text`` after ``presentation.format.clean``: text
  from users and files (workload, dataset and instance names) is never read as markup, and its
  control characters are shown as escapes instead of reaching the terminal.
* ``--wide`` is defined once, in ``output`` beside ``--json`` (re-exported here), and read
  through ``wide_mode``; command modules import this module only where they draw a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

import typer

from artenic_opt.cli.output import WideOpt as WideOpt, wide_mode
from artenic_opt.presentation.format import clean

if TYPE_CHECKING:
    from rich.console import Console

R = TypeVar("R")


@dataclass(frozen=True)
class Col(Generic[R]):
    """One column of a human table.

    ``priority`` 0 is always shown; higher numbers are hidden first when space runs out.
    ``min_width`` lets a text column shrink to that many cells with an ellipsis; ``None`` keeps
    the column at its full width (numbers, dates, ids). ``wrap`` (for sentences such as a
    reason) wraps a shrunk cell at word boundaries instead of ellipsising it.
    """

    header: str
    cell: Callable[[R], object]
    priority: int = 0
    min_width: int | None = None
    justify: Literal["left", "right"] = "left"
    wrap: bool = False


@dataclass(frozen=True)
class Layout:
    """Which columns a table shows, at which widths (content cells, without padding)."""

    shown: tuple[int, ...]
    widths: tuple[int, ...]
    hidden: tuple[str, ...]


def _overhead(columns: int) -> int:
    # Rich's default box: one border each side, one rule between columns, one space of padding
    # each side of every cell.
    return 3 * columns + 1 if columns else 0


def fit_columns(
    columns: Sequence[Col[R]], natural: Sequence[int], width: int, *, wide: bool = False
) -> Layout:
    """The columns that fit ``width`` console cells, and their widths (see the module notes)."""
    shown = list(range(len(columns)))

    def minimum(index: int) -> int:
        col = columns[index]
        header = _cell_len(col.header)
        if col.min_width is None:
            return max(natural[index], header)
        return max(min(natural[index], col.min_width), header)

    def needed(index: int) -> int:
        # What a column needs to stay: its full width for the columns that are always shown (so
        # they are never cut to make room for optional ones), its minimum for the others.
        # A wrapping column loses nothing by narrowing, so it needs only its minimum.
        if columns[index].priority == 0 and not columns[index].wrap:
            return max(natural[index], _cell_len(columns[index].header))
        return minimum(index)

    if not wide:
        while sum(needed(i) for i in shown) + _overhead(len(shown)) > width:
            droppable = [i for i in shown if columns[i].priority > 0]
            if not droppable:
                break
            # Highest priority number first; among equals, the rightmost.
            victim = max(droppable, key=lambda i: (columns[i].priority, i))
            shown.remove(victim)
    widths = {i: max(natural[i], _cell_len(columns[i].header)) for i in shown}
    excess = sum(widths.values()) + _overhead(len(shown)) - width
    if not wide:
        while excess > 0:
            shrinkable = [i for i in shown if widths[i] > minimum(i)]
            if not shrinkable:
                break
            # Optional columns give way first, then wrapping ones (they lose nothing but
            # height), then the names a table is for; among those, the one with most to give.
            widest = max(
                shrinkable,
                key=lambda i: (
                    columns[i].priority > 0,
                    columns[i].wrap,
                    widths[i] - minimum(i),
                    widths[i],
                ),
            )
            widths[widest] -= 1
            excess -= 1
    hidden = tuple(columns[i].header for i in range(len(columns)) if i not in shown)
    return Layout(tuple(shown), tuple(widths[i] for i in shown), hidden)


def _cell_len(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


def _text(value: object) -> str:
    return "" if value is None else clean(value)


def draw(
    out: Console,
    title: str | None,
    columns: Sequence[Col[R]],
    rows: Iterable[R],
    *,
    caption: str | None = None,
    wide: bool | None = None,
) -> Layout:
    """Print ``rows`` as a table fitted to ``out``'s width; return the layout it used."""
    from rich.table import Table
    from rich.text import Text

    wide = wide_mode() if wide is None else wide
    cells = [[_text(col.cell(row)) for col in columns] for row in rows]
    natural = [max((_cell_len(r[i]) for r in cells), default=0) for i in range(len(columns))]
    layout = fit_columns(columns, natural, out.width, wide=wide)
    table = Table(
        title=Text(clean(title)) if title else None,
        caption=Text(clean(caption)) if caption else None,
        header_style="bold",
        expand=False,
    )
    for index, width in zip(layout.shown, layout.widths, strict=True):
        col = columns[index]
        table.add_column(
            Text(col.header),
            justify=col.justify,
            no_wrap=not col.wrap,
            overflow="ellipsis",
            width=width,
        )
    for row in cells:
        table.add_row(*(Text(row[i]) for i in layout.shown))
    needed = sum(layout.widths) + _overhead(len(layout.shown))
    out.print(table, width=max(out.width, needed) if wide else None)
    if layout.hidden:
        typer.echo(
            f"{len(layout.hidden)} columns hidden to fit {out.width} columns "
            f"({', '.join(layout.hidden)}); --wide shows all",
            err=True,
        )
    return layout


def draw_pairs(out: Console, title: str | None, rows: Iterable[tuple[str, object]]) -> None:
    """A two-column ``name  value`` table (status, metrics): the value may wrap, never the name."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(clean(title)) if title else None, show_header=False, expand=False)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(Text(clean(name)), Text(_text(value)))
    out.print(table)


def line(out: Console, text: str, *, style: str | None = None) -> None:
    """Print one line of text that may hold user data: never read as markup, controls escaped."""
    from rich.text import Text

    out.print(Text("\n".join(clean(part) for part in text.split("\n")), style=style or ""))
