"""The dashboard application: five views in tabs, keys, themes and the data source's life cycle.

Decisions:

* The app receives a function that opens its data source rather than the source itself: opening
  can be slow (``--demo`` simulates a whole history first), so it runs in a worker while the
  views show their loading indicators, and the keys work from the first frame.
* Each view loads its own data in its own worker group; ``r`` restarts every view's load.
* Keys are plain (non-priority) bindings, so typing in the filter box is never taken for a
  command; ``q`` quits from anywhere else.
* The theme toggles between Textual's own light and dark themes; the command palette offers the
  rest. Chart colours come from ``dashboard.tcss`` and follow the theme.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane

from artenic_opt.errors import ArtenicOptError
from artenic_opt.presentation.format import clean
from artenic_opt.tui.data import DashboardData
from artenic_opt.tui.messages import DataSourceFailed, DataSourceReady
from artenic_opt.tui.screens.help import KeysHelpScreen
from artenic_opt.tui.views.base import DashboardView
from artenic_opt.tui.views.cost_trends import CostTrendsView
from artenic_opt.tui.views.overview import OverviewView
from artenic_opt.tui.views.providers import ProvidersView
from artenic_opt.tui.views.recommendations import RecommendationsView
from artenic_opt.tui.views.storage import StorageView

DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"
#: Below this width the overview's two cards stack instead of sitting side by side.
NARROW_WIDTH = 100

VIEW_ORDER: tuple[type[DashboardView], ...] = (
    OverviewView,
    RecommendationsView,
    ProvidersView,
    StorageView,
    CostTrendsView,
)


class DashboardApp(App[None]):
    """``artenic optimizer dashboard``: the optimizer page in the terminal."""

    CSS_PATH = "dashboard.tcss"
    TITLE = "artenic-opt dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(number), f"show_view('{view.view_id}')", view.title, show=False)
            for number, view in enumerate(VIEW_ORDER, start=1)
        ),
        Binding("r", "refresh_views", "Refresh"),
        Binding("slash", "filter", "Filter"),
        Binding("t", "toggle_theme", "Theme"),
        Binding("question_mark", "keys_help", "Keys"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        open_data: Callable[[], DashboardData],
        *,
        theme: str = DARK_THEME,
        initial_view: str = "overview",
    ) -> None:
        super().__init__()
        self._open_data = open_data
        self.data: DashboardData | None = None
        self.theme = theme
        self._initial_view = initial_view

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial=f"tab-{self._initial_view}", id="views"):
            for number, view in enumerate(VIEW_ORDER, start=1):
                with TabPane(f"{number} {view.title}", id=f"tab-{view.view_id}"):
                    yield view()
        yield Footer()

    @property
    def views(self) -> list[DashboardView]:
        return list(self.query(DashboardView))

    def view(self, view_id: str) -> DashboardView:
        return self.query_one(f"#view-{view_id}", DashboardView)

    @property
    def current_view(self) -> DashboardView:
        active = self.query_one(TabbedContent).active
        return self.view(active.removeprefix("tab-"))

    def on_mount(self) -> None:
        self.sub_title = "opening…"
        for view in self.views:
            view.loading = True
        self._open_source()

    def on_resize(self, event: Resize) -> None:
        self.screen.set_class(event.size.width < NARROW_WIDTH, "-narrow")

    # -- data source --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="source")
    def _open_source(self) -> None:
        try:
            data = self._open_data()
        except ArtenicOptError as exc:
            self.post_message(DataSourceFailed(str(exc)))
            return
        self.post_message(DataSourceReady(data))

    @on(DataSourceReady)
    def _source_ready(self, event: DataSourceReady) -> None:
        self.data = event.data
        self.sub_title = clean(event.data.source)
        for view in self.views:
            view.load(event.data)

    @on(DataSourceFailed)
    def _source_failed(self, event: DataSourceFailed) -> None:
        self.sub_title = "no data"
        for view in self.views:
            view.show_error(event.message)

    def on_unmount(self) -> None:
        if self.data is not None:
            self.data.close()
            self.data = None

    # -- actions ------------------------------------------------------------------------------

    def action_show_view(self, view_id: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{view_id}"
        tables = self.view(view_id).query(DataTable)
        if tables:
            tables.first().focus()

    def action_refresh_views(self) -> None:
        if self.data is None:
            return
        self.data.refresh()
        for view in self.views:
            view.reload()
        self.notify("Reloading every view", timeout=2)

    def action_filter(self) -> None:
        if not self.current_view.start_filter():
            self.notify("This view has no table to filter", severity="warning", timeout=2)

    def action_keys_help(self) -> None:
        self.push_screen(KeysHelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME
