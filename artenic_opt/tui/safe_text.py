"""User text as dashboard text: never markup, control characters shown as escapes.

Textual reads a plain ``str`` given to ``Static``, a label, a ``Select`` option or a Rich table
cell as markup, so a workload called ``[/bold] oops`` would fail to render or restyle the screen,
and an ANSI escape in a dataset name would reach the terminal. Every string that may hold user or
file text goes through ``safe`` and is drawn as a Rich ``Text`` (never parsed as markup), after
``presentation.format.clean`` (control characters as visible escapes).
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from artenic_opt.presentation.format import clean, clean_lines


def safe(value: object, style: str | Style = "") -> Text:
    """``value`` as literal text on one line (line breaks shown as ``\\n``)."""
    return Text(clean(value), style=style)


def safe_lines(value: str, style: str | Style = "") -> Text:
    """Like ``safe`` but keeps line breaks (messages meant to span lines)."""
    return Text(clean_lines(value), style=style)
