"""What every dashboard view shares: its tab identity, its data source and its worker plumbing.

A view loads its data in a thread worker (``exclusive`` within its own group, so a refresh
cancels that view's earlier load and no other) and receives it through a message; the event loop
is never blocked by SQLite, the catalog or the analyzers. Library errors (``ArtenicOptError``)
are shown in place of the view with their one-line message; anything else is a bug and is left
to Textual's worker error handling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from artenic_opt.errors import ArtenicOptError
from artenic_opt.tui.data import DashboardData
from artenic_opt.tui.messages import ViewLoadFailed
from artenic_opt.tui.safe_text import safe, safe_lines
from artenic_opt.tui.widgets.filter_bar import FilterBar
from artenic_opt.tui.widgets.view_table import ViewTable

T = TypeVar("T")


class DashboardView(Vertical):
    """A tab of the dashboard. Subclasses set ``view_id`` and ``title`` and implement ``reload``."""

    view_id: ClassVar[str] = ""
    title: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__(id=f"view-{self.view_id}", classes="dashboard-view")
        self.data: DashboardData | None = None
        self.loaded = False

    def load(self, data: DashboardData) -> None:
        """Attach the data source and start the first load."""
        self.data = data
        self.reload()

    def reload(self) -> None:
        """Start loading this view's data again (``r``)."""
        raise NotImplementedError

    def start_filter(self) -> bool:
        """Open this view's filter box; False when the view has no table to filter."""
        return False

    def fetch(self, call: Callable[[], T], message: Callable[[T], Message]) -> None:
        """Run ``call`` (in the worker thread) and post its result, or the error, to this view."""
        try:
            result = call()
        except ArtenicOptError as exc:
            outcome: Message = ViewLoadFailed(self.view_id, str(exc))
        else:
            outcome = message(result)
        # A refresh cancels this load and closes what it was reading: its late result (or its
        # "closed" error) must not land over the new load's.
        if not get_current_worker().is_cancelled:
            self.post_message(outcome)

    def show_error(self, message: str) -> None:
        """Put the error where the view's content would be."""
        self.loading = False
        for widget in self.query("*"):
            if widget.loading:
                widget.loading = False
        # Error messages quote user input (names, paths): literal text, never markup.
        notices = self.query_children(".view-error")
        if notices:
            notices.first(Static).update(safe_lines(message))
        else:
            self.mount(Static(safe_lines(message), classes="view-error"), before=0)

    def clear_error(self) -> None:
        self.query_children(".view-error").remove()

    def on_view_load_failed(self, event: ViewLoadFailed) -> None:
        event.stop()
        self.show_error(event.message)


class TableView(DashboardView):
    """A view built around one ``ViewTable``, with the ``/`` filter box under it."""

    noun: ClassVar[str] = "rows"
    noun_one: ClassVar[str] = "row"
    hint: ClassVar[str] = "s or a header: sort  ·  /: filter"

    @property
    def table(self) -> ViewTable[Any]:
        table: ViewTable[Any] = self.query_one(ViewTable)
        return table

    def start_filter(self) -> bool:
        self.query_one(FilterBar).open()
        return True

    def summarise(self) -> None:
        """Update the line above the table: row count, active filter and keys."""
        table = self.table
        total = len(table.visible_rows)
        noun = self.noun_one if total == 1 else self.noun
        text = f"{total} {noun}" if total or table.query_text else f"no {self.noun} yet"
        if table.query_text:
            text += f" matching “{table.query_text}”"
        if total:
            text += f"  ·  {self.hint}"
        # The filter is typed by the user: ``[b`` must show as typed.
        self.query_one(".view-summary", Static).update(safe(text))

    @on(Input.Changed, "FilterBar")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.table.set_filter(event.value)
        self.summarise()

    @on(Input.Submitted, "FilterBar")
    def _filter_kept(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    @on(FilterBar.Closed)
    def _filter_cleared(self, event: FilterBar.Closed) -> None:
        event.stop()
        self.table.set_filter("")
        self.summarise()
        self.table.focus()
