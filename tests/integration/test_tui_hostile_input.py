"""The dashboard under hostile conditions, driven by Textual's pilot on real SQLite states:
narrow terminals, absurdly long names, a state file deleted or replaced while it runs, and a
broken state given to the command."""

from __future__ import annotations

import os
import pty
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from artenic_opt.tui.app import DashboardApp
from artenic_opt.tui.views.base import DashboardView
from artenic_opt.tui.widgets.bar_chart import BarChart
from artenic_opt.tui.widgets.line_chart import LineChart
from artenic_opt.tui.widgets.view_table import ViewTable
from tests.tui_support import RECOMMENDATIONS, build_fixture_state, fixture_data

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def state_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_state(tmp_path_factory.mktemp("tui-hostile") / "state.db")


def screen_lines(widget: Widget) -> list[str]:
    """What ``widget`` draws, line by line, as Textual renders it (wrapping included)."""
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return ["".join(segment.text for segment in strip).rstrip() for strip in strips]


@pytest.mark.parametrize("size", [(60, 20), (40, 12)])
async def test_provider_bars_keep_one_line_per_bar_in_a_narrow_terminal(
    state_path: Path, size: tuple[int, int]
) -> None:
    app = DashboardApp(lambda: fixture_data(state_path))
    async with app.run_test(size=size) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        for chart in app.view("providers").query(BarChart):
            assert chart.bars, chart.id
            lines = screen_lines(chart)
            # The title, then one line per bar holding its value: a line that wrapped pushed
            # the last bars out of the chart's height.
            assert len(lines) == len(chart.bars) + 1, (chart.id, lines)
            for bar, line in zip(chart.bars, lines[1:], strict=True):
                assert bar.value_text in line, (chart.id, lines)


def copy_state(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


def remove_state(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def settle(app: DashboardApp, pilot: Pilot[None]) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def plain(widget: Static) -> str:
    console = Console(width=200, no_color=True)
    with console.capture() as captured:
        console.print(widget.content)
    return captured.get()


def error_of(view: DashboardView) -> str:
    notices = view.query(".view-error")
    return plain(notices.first(Static)) if notices else ""


async def test_refresh_after_the_state_was_deleted_shows_it_empty(
    state_path: Path, tmp_path: Path
) -> None:
    """An open SQLite connection keeps reading a deleted file: ``r`` used to show the deleted
    history in every table while the status card (which looks at the path) said 0 samples."""
    path = copy_state(state_path, tmp_path / "state.db")
    app = DashboardApp(lambda: fixture_data(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#recommendations-table", ViewTable)
        assert len(table.visible_rows) == RECOMMENDATIONS
        remove_state(path)
        await pilot.press("r")
        await settle(app, pilot)
        assert table.visible_rows == []
        assert app.query_one("#storage-table", ViewTable).visible_rows == []
        assert app.query_one("#trends-chart", LineChart).series == ()
        assert "0 recommendations" in plain(app.query_one("#status-body", Static))
        assert not path.exists()  # read-only: looking never recreates it


async def test_refresh_after_the_state_was_replaced_reads_the_new_file(
    state_path: Path, tmp_path: Path
) -> None:
    """A file replaced under the dashboard (restored backup, ``mv``) is read on ``r``: a file
    that is not a state is reported in every view instead of the old data staying on screen."""
    path = copy_state(state_path, tmp_path / "state.db")
    app = DashboardApp(lambda: fixture_data(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        remove_state(path)
        path.write_bytes(b"not a database at all\n" * 100)
        await pilot.press("r")
        await settle(app, pilot)
        for view in app.views:
            assert "is not an artenic-opt state database" in error_of(view), view.view_id
        remove_state(path)
        copy_state(state_path, path)
        await pilot.press("r")
        await settle(app, pilot)
        for view in app.views:
            assert not error_of(view), view.view_id
        assert (
            len(app.query_one("#recommendations-table", ViewTable).visible_rows) == RECOMMENDATIONS
        )


def run_dashboard_in_a_terminal(*args: str) -> tuple[int, str]:
    """``artenic-opt dashboard`` in a real pseudo-terminal (stdin and stdout are terminals);
    returns its exit code and stderr. A UI that opens gets ``q`` after a while and fails."""
    primary, secondary = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "artenic_opt", *args],
            stdin=secondary,
            stdout=secondary,
            stderr=subprocess.PIPE,
            env=env,
        )
        os.close(secondary)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.write(primary, b"q")
            proc.wait(timeout=30)
            pytest.fail("the dashboard opened its UI on a state it cannot read")
        assert proc.stderr is not None
        return proc.returncode, proc.stderr.read().decode()
    finally:
        os.close(primary)


@pytest.mark.parametrize("broken", ["garbage"])
def test_dashboard_on_a_broken_state_exits_2_with_one_line(
    state_path: Path, tmp_path: Path, broken: str
) -> None:
    """Like every command, and like ``dashboard --json``: a one-line error and exit 2 before
    the UI takes the terminal (the UI used to open with the error in every view, exit 0)."""
    path = tmp_path / "state.db"
    if broken == "garbage":
        path.write_bytes(b"\x00garbage" * 512)
    else:
        copy_state(state_path, path)
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO _migrations VALUES (999, 'from the future', '2030-01-01')")
    before = path.read_bytes()
    code, stderr = run_dashboard_in_a_terminal("--state", str(path), "dashboard")
    assert code == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert str(path) in lines[0]
    assert "Traceback" not in stderr
    assert path.read_bytes() == before
