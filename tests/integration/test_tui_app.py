"""The dashboard driven by Textual's pilot on the fixture state: every view by tab and by number
key, sorting, filtering, the detail screen, refresh, theme, help, quitting, and 80x24."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import DataTable, Select, Static, TabbedContent

from artenic_opt.errors import StateError
from artenic_opt.tui.app import DashboardApp
from artenic_opt.tui.data import DashboardData
from artenic_opt.tui.demo_setup import open_demo_data
from artenic_opt.tui.messages import ViewLoadFailed
from artenic_opt.tui.screens.help import KEYS, KeysHelpScreen
from artenic_opt.tui.screens.recommendation_detail import RecommendationDetailScreen
from artenic_opt.tui.view_models import RecommendationRow
from artenic_opt.tui.views.base import DashboardView
from artenic_opt.tui.widgets.bar_chart import BarChart
from artenic_opt.tui.widgets.filter_bar import FilterBar
from artenic_opt.tui.widgets.line_chart import LineChart
from artenic_opt.tui.widgets.view_table import ViewTable
from tests.tui_support import RECOMMENDATIONS, build_fixture_state, fixture_data

pytestmark = pytest.mark.anyio

SIZE = (100, 30)
VIEWS = ("overview", "recommendations", "providers", "storage", "trends")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def state_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_state(tmp_path_factory.mktemp("tui-app") / "state.db")


@pytest.fixture
def make_app(state_path: Path) -> Callable[[], DashboardApp]:
    def make() -> DashboardApp:
        return DashboardApp(lambda: fixture_data(state_path))

    return make


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text (its content may be any Rich renderable)."""
    console = Console(width=160, no_color=True)
    with console.capture() as captured:
        console.print(widget.content)
    return captured.get()


def rows(app: DashboardApp, selector: str) -> list[object]:
    table: ViewTable[object] = app.query_one(selector, ViewTable)
    return table.visible_rows


async def test_number_keys_and_tabs_reach_every_view(make_app: Callable[[], DashboardApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        tabs = app.query_one(TabbedContent)
        for number, view in enumerate(VIEWS, start=1):
            await pilot.press(str(number))
            assert tabs.active == f"tab-{view}"
            assert app.current_view.view_id == view
        await pilot.press("1")
        # Clicking a tab works as well as the number keys.
        await pilot.click("#--content-tab-tab-storage")
        assert tabs.active == "tab-storage"


async def test_every_view_shows_data(make_app: Callable[[], DashboardApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.sub_title == "fixture state"
        assert all(view.loaded for view in app.query(DashboardView))
        assert not any(view.loading for view in app.query(DashboardView))
        status = text_of(app.query_one("#status-body", Static))
        assert "NDCG@5" in status and "0.842" in status
        assert len(rows(app, "#recommendations-table")) == RECOMMENDATIONS
        assert rows(app, "#frontier-table")
        assert app.query_one("#price-bars", BarChart).bars
        assert rows(app, "#storage-table")
        assert app.query_one("#trends-chart", LineChart).series
        assert rows(app, "#anomalies-table")


async def test_sort_by_header_and_by_key(make_app: Callable[[], DashboardApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("2")
        await pilot.pause()
        table: ViewTable[object] = app.query_one("#recommendations-table", ViewTable)
        assert table.sort_key == "created" and table.sort_reverse
        # Select the "Est. cost" header: ascending cost.
        table.post_message(
            DataTable.HeaderSelected(
                table, table.ordered_columns[6].key, 6, table.ordered_columns[6].label
            )
        )
        await pilot.pause()
        costs = [r.estimated_cost for r in table.visible_rows]  # type: ignore[attr-defined]
        assert costs == sorted(costs)
        # "s" on the same column flips the order.
        table.move_cursor(column=6)
        await pilot.press("s")
        costs = [r.estimated_cost for r in table.visible_rows]  # type: ignore[attr-defined]
        assert costs == sorted(costs, reverse=True)
        assert "▼" in str(table.ordered_columns[6].label)


async def test_filter_narrows_the_table_and_escape_clears(
    make_app: Callable[[], DashboardApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("slash")
        bar = app.query_one("#recommendations-filter", FilterBar)
        assert bar.display and bar.has_focus
        await pilot.press(*"gbdt")
        visible = rows(app, "#recommendations-table")
        assert 0 < len(visible) < RECOMMENDATIONS
        assert all(r.workload == "tabular-gbdt" for r in visible)  # type: ignore[attr-defined]
        summary = text_of(app.query_one("#view-recommendations .view-summary", Static))
        assert "matching “gbdt”" in summary
        # Enter keeps the filter and gives the table the keys back.
        await pilot.press("enter")
        assert app.query_one("#recommendations-table", ViewTable).has_focus
        assert len(rows(app, "#recommendations-table")) == len(visible)
        await pilot.press("slash", "escape")
        assert not bar.display
        assert len(rows(app, "#recommendations-table")) == RECOMMENDATIONS


async def test_filter_on_a_view_without_table_says_so(
    make_app: Callable[[], DashboardApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("1", "slash")
        await pilot.pause()
        assert any("no table" in n.message for n in app._notifications)


async def test_enter_opens_the_detail_and_escape_returns(
    make_app: Callable[[], DashboardApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("2")
        await pilot.pause()
        table = app.query_one("#recommendations-table", ViewTable)
        first = table.visible_rows[0]
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RecommendationDetailScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.detail is not None
        assert screen.detail.recommendation_id == first.recommendation_id
        explained = text_of(screen.query_one("#detail-candidate", Static))
        assert "#1" in explained and "cost efficiency" in explained
        # Moving down explains the second candidate.
        await pilot.press("down")
        assert "#2" in text_of(screen.query_one("#detail-candidate", Static))
        await pilot.press("escape")
        assert not isinstance(app.screen, RecommendationDetailScreen)


async def test_detail_of_a_missing_recommendation_shows_the_error(state_path: Path) -> None:
    app = DashboardApp(lambda: fixture_data(state_path))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        assert app.data is not None
        app.push_screen(RecommendationDetailScreen(app.data, "no-such-id"))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no-such-id" in text_of(app.screen.query_one("#detail-header", Static))


async def test_refresh_reloads_every_view(make_app: Callable[[], DashboardApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        calls: list[str] = []
        assert app.data is not None
        original = app.data.recommendations

        def counted() -> list[RecommendationRow]:
            calls.append("recommendations")
            return original()

        app.data.recommendations = counted  # type: ignore[method-assign]
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == ["recommendations"]
        assert len(rows(app, "#recommendations-table")) == RECOMMENDATIONS


async def test_choosing_another_workload_compares_it(make_app: Callable[[], DashboardApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("3")
        await pilot.pause()
        select: Select[str] = app.query_one("#workload-select", Select)
        select.value = "example:tabular-gbdt.json"
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        note = text_of(app.query_one("#providers-summary", Static))
        assert note.startswith("tabular-gbdt")


async def test_infeasible_workload_is_explained_in_place(
    state_path: Path, make_app: Callable[[], DashboardApp]
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("3")
        view = app.view("providers")
        view.post_message(ViewLoadFailed("providers", "no offering holds 900 GB of GPU memory"))
        await pilot.pause()
        assert "900 GB" in text_of(app.query_one("#providers-summary", Static))
        assert rows(app, "#frontier-table") == []


async def test_help_theme_and_quit(make_app: Callable[[], DashboardApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("question_mark")
        assert isinstance(app.screen, KeysHelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, KeysHelpScreen)
        assert app.current_theme.dark
        await pilot.press("t")
        assert not app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark
        await pilot.press("q")
    assert app.return_code == 0
    assert app.data is None  # closed on the way out


async def test_small_terminal_still_shows_every_view(
    make_app: Callable[[], DashboardApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        for number, view in enumerate(VIEWS, start=1):
            await pilot.press(str(number))
            await pilot.pause()
            widget = app.view(view)
            assert widget.size.width >= 70 and widget.size.height >= 15


async def test_unusable_state_is_shown_in_every_view() -> None:
    def broken() -> DashboardData:
        raise StateError("/tmp/x.db is not an artenic-opt state database (empty file)")

    app = DashboardApp(broken)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.sub_title == "no data"
        for view in app.query(DashboardView):
            errors = view.query(".view-error")
            assert errors and "empty file" in text_of(errors.first(Static))
        await pilot.press("r")  # nothing to refresh; must not crash


async def test_demo_mode_shows_every_view_with_data() -> None:
    app = DashboardApp(lambda: open_demo_data(jobs=24, seed=5))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert app.sub_title == "demo: 24 simulated jobs, seed 5"
        for view in app.query(DashboardView):
            assert view.loaded, view.view_id
            assert not view.query(".view-error"), view.view_id
        assert rows(app, "#recommendations-table")
        assert rows(app, "#frontier-table")
        assert rows(app, "#storage-table")
        assert app.query_one("#trends-chart", LineChart).series
        assert app.data is not None
        state_dir = app.data._workspace.state_path.parent  # type: ignore[attr-defined]
    assert not state_dir.exists()


async def test_keys_help_shows_every_key(make_app: Callable[[], DashboardApp]) -> None:
    """The ``?`` dialog sizes itself to its keys table (it used to collapse to an empty box:
    an auto-width dialog around a full-width child leaves the child zero cells wide)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("question_mark")
        await pilot.pause()
        body = app.screen.query_one("#help-dialog", Static)
        assert body.content_size.height >= len(KEYS)
        widest = max(len(key) + 2 + len(meaning) for key, meaning in KEYS)
        assert body.content_size.width >= min(widest, 60)
        assert "refresh every view from the state" in text_of(body)
