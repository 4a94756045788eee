"""The dashboard under hostile conditions, driven by Textual's pilot on real SQLite states:
narrow terminals, absurdly long names, a state file deleted or replaced while it runs, and a
broken state given to the command."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widget import Widget

from artenic_opt.tui.app import DashboardApp
from artenic_opt.tui.widgets.bar_chart import BarChart
from tests.tui_support import build_fixture_state, fixture_data

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
