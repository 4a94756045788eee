"""User text in the dashboard is data: a workload named with markup and ANSI escapes, stored by a
real ``recommend`` run, renders literally in the table, the filter line and the detail screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static
from typer.testing import CliRunner

from artenic_opt.cli.main import build_app
from artenic_opt.tui.app import DashboardApp
from artenic_opt.tui.data import StateDashboardData
from artenic_opt.tui.screens.recommendation_detail import RecommendationDetailScreen
from artenic_opt.tui.widgets.view_table import ViewTable
from artenic_opt.workspace import Workspace, WorkspaceOptions

pytestmark = pytest.mark.anyio

HOSTILE = "[/bold] oops \x1b[31mred[link=x] \u202e"
#: How it must read on screen: brackets as typed, control characters as visible escapes.
SHOWN = "[/bold] oops \\x1b[31mred[link=x] \\u202e"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def hostile_state(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    args = ["--state", str(path), "recommend", "--params", "1B", "--dataset-gb", "1"]
    result = CliRunner().invoke(build_app(), [*args, "--name", HOSTILE, "--top", "2"])
    assert result.exit_code == 0, result.output
    return path


def plain(widget: Static) -> str:
    console = Console(width=200, color_system=None)
    with console.capture() as captured:
        console.print(widget.content)
    return captured.get()


async def test_markup_and_ansi_in_a_name_render_literally(hostile_state: Path) -> None:
    def open_data() -> StateDashboardData:
        workspace = Workspace(WorkspaceOptions(state=hostile_state), read_only=True)
        return StateDashboardData(workspace, source=f"{hostile_state} [b]")

    app = DashboardApp(open_data)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("2")
        await pilot.pause()
        table = app.query_one("#recommendations-table", ViewTable)
        assert [row.workload for row in table.visible_rows] == [HOSTILE]
        cells = [cell.plain for cell in table.get_row_at(0)]
        assert SHOWN in cells
        assert not any("\x1b" in cell for cell in cells)
        # A filter typed with markup in it is shown as typed, and still matches.
        await pilot.press("slash", *"[/bold]")
        await pilot.pause()
        summary = plain(app.query_one("#view-recommendations .view-summary", Static))
        assert "1 recommendation matching “[/bold]”" in summary
        await pilot.press("enter", "enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RecommendationDetailScreen)
        header = plain(screen.query_one("#detail-header", Static))
        assert SHOWN in header
        assert "\x1b" not in header


async def test_a_very_long_name_is_cut_and_still_filters(tmp_path: Path) -> None:
    """A 199-character workload name took the whole width at 80 columns and pushed the top
    pick, cost and outcome off screen for every row."""
    path = tmp_path / "long.db"
    long_name = "w" * 190 + "-needle99"
    args = ["--state", str(path), "recommend", "--params", "1B", "--dataset-gb", "1"]
    result = CliRunner().invoke(build_app(), [*args, "--name", long_name, "--top", "1"])
    assert result.exit_code == 0, result.output

    def open_data() -> StateDashboardData:
        return StateDashboardData(
            Workspace(WorkspaceOptions(state=path), read_only=True), source=str(path)
        )

    app = DashboardApp(open_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("2")
        await pilot.pause()
        table = app.query_one("#recommendations-table", ViewTable)
        workload = table.get_row_at(0)[1]
        assert workload.cell_len == 40 and workload.plain.endswith("\u2026")
        # The top pick starts on an 80-column screen, and at 120 the cost is on it too.
        widths = [column.get_render_width(table) for column in table.columns.values()]
        keys = [str(key.value) for key in table.columns]
        assert sum(widths[: keys.index("workload") + 1]) < 80
        assert sum(widths[: keys.index("cost") + 1]) <= 120
        # The filter still reads the whole name, the cut-off end included.
        await pilot.press("slash", *"needle99", "enter")
        await pilot.pause()
        assert [row.workload for row in table.visible_rows] == [long_name]
