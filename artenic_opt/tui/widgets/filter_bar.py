"""The ``/`` filter box of a table view: type to narrow the table, Esc to clear and close.

It only edits text and announces changes; the view it belongs to applies the filter to its table.
Enter keeps the filter and hands focus back to the table, so the rows can be browsed and opened.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Clear filter", show=True),
    ]

    class Closed(Message):
        """The filter was cleared and the box closed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter rows (Enter keeps it, Esc clears)", id=id)
        self.display = False

    def open(self) -> None:
        self.display = True
        self.focus()

    def action_close(self) -> None:
        self.value = ""
        self.display = False
        self.post_message(self.Closed())
