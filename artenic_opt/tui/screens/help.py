"""The ``?`` screen: every key of the dashboard on one page."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("1 … 5", "Overview, Recommendations, Providers, Storage, Cost trends"),
    ("tab / shift+tab", "move focus (the tab bar, tables, the workload selector)"),
    ("← →", "switch tab when the tab bar has focus"),
    ("↑ ↓ pgup pgdn", "move in a table"),
    ("enter", "open the recommendation under the cursor"),
    ("s, or click a header", "sort by the column (again: reverse)"),
    ("/", "filter the table of the current view (esc clears)"),
    ("r", "refresh every view from the state"),
    ("t", "switch between the light and the dark theme"),
    ("ctrl+p", "command palette (themes, keys, quit)"),
    ("esc", "close a detail or this help"),
    ("?", "this help"),
    ("q", "quit"),
)


def keys_table() -> Table:
    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, meaning in KEYS:
        table.add_row(key, meaning)
    return table


class KeysHelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        # The dialog is the Static itself: an auto-width container arranges its children in
        # zero columns, so a table inside one collapsed the dialog to an empty box.
        dialog = Static(keys_table(), id="help-dialog")
        dialog.border_title = "Keys"
        dialog.border_subtitle = "esc to close"
        yield dialog
