"""A DataTable over a list of view-model rows that sorts by column and filters by text.

The table keeps the rows it was given and re-populates itself from ``filter(sort(rows))``, rather
than using ``DataTable.sort`` on rendered cells: cells are styled text, while sorting must compare
the underlying numbers and dates, and an unknown value (``None``) must stay at the bottom in both
directions. Selecting a column header, or pressing ``s`` on a column, sorts by it; doing it again
reverses the order. The filter keeps rows whose displayed text contains every word typed,
case-insensitively, so that ``/`` ``aws h100`` narrows the table the way a person expects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from artenic_opt.presentation.format import clean

R = TypeVar("R")
SortValue = str | int | float | bool | datetime | date | None


@dataclass(frozen=True)
class Column(Generic[R]):
    """A column: its key, its header, the value it sorts by and the text it shows."""

    key: str
    label: str
    value: Callable[[R], SortValue]
    text: Callable[[R], str | Text]
    justify: Literal["left", "right"] = "left"
    #: Widest the cell is drawn (terminal cells, ``…`` marks a cut); the filter still matches
    #: the whole text. For names: a 199-character workload name otherwise took the whole width
    #: and pushed every other column off screen.
    max_width: int | None = None


def sort_rows(rows: Sequence[R], column: Column[R], *, reverse: bool = False) -> list[R]:
    """Rows ordered by ``column``'s value, unknown values last in either direction."""
    known = [row for row in rows if column.value(row) is not None]
    unknown = [row for row in rows if column.value(row) is None]
    known.sort(key=lambda row: _sort_key(column.value(row)), reverse=reverse)
    return known + unknown


def _sort_key(value: SortValue) -> Any:
    # Strings compare case-insensitively; everything else by its own order.
    return value.casefold() if isinstance(value, str) else value


def matches(texts: Sequence[str], query: str) -> bool:
    """True when every word of ``query`` occurs in one of ``texts`` (case-insensitive)."""
    haystack = " ".join(texts).casefold()
    return all(word in haystack for word in query.casefold().split())


class ViewTable(DataTable[Text], Generic[R]):
    """A row-cursor table of ``R`` rows with sorting and filtering."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort_column", "Sort", tooltip="Sort by the column under the cursor"),
    ]

    class Sorted(Message):
        """The table was sorted by ``column`` (``reverse`` for descending)."""

        def __init__(self, table: ViewTable[Any], column: str, reverse: bool) -> None:
            super().__init__()
            self.table = table
            self.column = column
            self.reverse = reverse

        @property
        def control(self) -> ViewTable[Any]:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column[R]],
        row_key: Callable[[R], str],
        *,
        sort: str | None = None,
        reverse: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, name=name, id=id, classes=classes)
        self._columns = {column.key: column for column in columns}
        self._row_key = row_key
        self._rows: list[R] = []
        self._by_key: dict[str, R] = {}
        self._query = ""
        self.sort_key = sort
        self.sort_reverse = reverse

    # -- public -------------------------------------------------------------------------------

    @property
    def query_text(self) -> str:
        return self._query

    @property
    def visible_rows(self) -> list[R]:
        """The rows on screen, in screen order."""
        return [self._by_key[str(key.value)] for key in self._row_keys_in_order()]

    def row(self, key: str) -> R:
        return self._by_key[key]

    def set_columns(self, columns: Sequence[Column[R]]) -> None:
        """Replace the column definitions (keys should stay the same for sorting to persist)."""
        self._columns = {column.key: column for column in columns}
        if self.sort_key not in self._columns:
            self.sort_key, self.sort_reverse = None, False
        self._populate()

    def set_rows(self, rows: Sequence[R]) -> None:
        self._rows = list(rows)
        self._by_key = {self._row_key(row): row for row in self._rows}
        self._populate()

    def set_filter(self, query: str) -> None:
        self._query = query.strip()
        self._populate()

    def sort_by(self, key: str, *, reverse: bool | None = None) -> None:
        """Sort by column ``key``; without ``reverse``, the same column again flips the order."""
        if key not in self._columns:
            raise KeyError(key)
        if reverse is None:
            reverse = not self.sort_reverse if key == self.sort_key else False
        self.sort_key, self.sort_reverse = key, reverse
        self._populate()
        self.post_message(self.Sorted(self, key, reverse))

    def action_sort_column(self) -> None:
        if not self.columns:
            return
        column_key = list(self.columns)[self.cursor_column]
        self.sort_by(str(column_key.value))

    # -- internals ----------------------------------------------------------------------------

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def _row_keys_in_order(self) -> list[Any]:
        return [row.key for row in self.ordered_rows]

    def _label(self, column: Column[R]) -> Text:
        arrow = ""
        if column.key == self.sort_key:
            arrow = " ▼" if self.sort_reverse else " ▲"
        return Text(column.label + arrow, justify=column.justify)

    def _populate(self) -> None:
        selected = self._selected_key()
        column_index = self.cursor_column
        keys = [str(key.value) for key in self.columns]
        if keys == list(self._columns):
            # Same columns: keep them (and their measured widths), only relabel and refill.
            self.clear()
            for key, shown in self.columns.items():
                shown.label = self._label(self._columns[str(key.value)])
        else:
            self.clear(columns=True)
            for spec in self._columns.values():
                self.add_column(self._label(spec), key=spec.key)
        rows = self._rows
        if self.sort_key is not None:
            rows = sort_rows(rows, self._columns[self.sort_key], reverse=self.sort_reverse)
        for row in rows:
            cells = [self._cell(column, row) for column in self._columns.values()]
            if self._query and not matches([_plain(cell) for cell in cells], self._query):
                continue
            for cell, column in zip(cells, self._columns.values(), strict=True):
                if column.max_width is not None and cell.cell_len > column.max_width:
                    cell.truncate(column.max_width, overflow="ellipsis")
            self.add_row(*cells, key=self._row_key(row))
        if self.row_count:
            target = 0
            if selected is not None and selected in self.rows:
                target = self.get_row_index(selected)
            self.move_cursor(row=target, column=min(column_index, len(self.columns) - 1))

    @staticmethod
    def _cell(column: Column[R], row: R) -> Text:
        # Always Text: DataTable reads a plain string as markup, and a dataset or workload
        # name with brackets in it must show as typed; its control characters as escapes.
        text = column.text(row)
        cell = text.copy() if isinstance(text, Text) else Text(clean(text))
        if column.justify == "right":
            cell.justify = "right"
        return cell

    def _selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        except CellDoesNotExist:
            return None
        return None if key.value is None else str(key.value)


def _plain(cell: Text) -> str:
    return cell.plain
