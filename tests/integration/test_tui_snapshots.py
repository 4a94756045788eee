"""SVG snapshots of every dashboard view on the fixture state (fixed clock, no cursor blink).

The pictures depend on the catalog and the estimators as well as on the TUI: when either changes
on purpose, review the new pictures and accept them with
``pytest tests/integration/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from artenic_opt.tui.app import LIGHT_THEME, DashboardApp
from tests.tui_support import build_fixture_state, fixture_data

Compare = Callable[..., bool]
WIDE = (100, 30)
SMALL = (80, 24)


@pytest.fixture(scope="module")
def state_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_state(tmp_path_factory.mktemp("tui-snapshots") / "state.db")


@pytest.fixture(autouse=True)
def stable_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Colour on, and no price-age warning whose text would change with the calendar."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    config = tmp_path / "config" / "optimizer.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("max_price_age_days = 100000\n", encoding="utf-8")
    monkeypatch.setenv("ARTENIC_OPT_CONFIG", str(config))


def dashboard(state_path: Path, **kwargs: Any) -> DashboardApp:
    return DashboardApp(lambda: fixture_data(state_path), **kwargs)


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for field in pilot.app.query(Input):
        field.cursor_blink = False


def after(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Settle, press ``keys`` (each followed by settling), for ``run_before``."""

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


def keys(text: str) -> Iterable[str]:
    return list(text)


def test_overview(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(dashboard(state_path), terminal_size=WIDE, run_before=after())


def test_recommendations(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(dashboard(state_path), terminal_size=WIDE, run_before=after("2"))


def test_recommendations_filtered(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(
        dashboard(state_path),
        terminal_size=WIDE,
        run_before=after("2", "slash", *keys("vision")),
    )


def test_recommendation_detail(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(dashboard(state_path), terminal_size=WIDE, run_before=after("2", "enter"))


def test_providers(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(dashboard(state_path), terminal_size=WIDE, run_before=after("3"))


def test_storage(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(dashboard(state_path), terminal_size=WIDE, run_before=after("4"))


def test_cost_trends(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(dashboard(state_path), terminal_size=WIDE, run_before=after("5"))


def test_keys_help(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(
        dashboard(state_path), terminal_size=WIDE, run_before=after("question_mark")
    )


def test_overview_light_theme_small_terminal(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(
        dashboard(state_path, theme=LIGHT_THEME), terminal_size=SMALL, run_before=after()
    )


def test_cost_trends_small_terminal(snap_compare: Compare, state_path: Path) -> None:
    assert snap_compare(dashboard(state_path), terminal_size=SMALL, run_before=after("5"))


def test_providers_frontier(snap_compare: Compare, state_path: Path) -> None:
    async def scrolled(pilot: Pilot[Any]) -> None:
        await after("3")(pilot)
        pilot.app.query_one("#view-providers").scroll_end(animate=False)
        await settle(pilot)

    assert snap_compare(dashboard(state_path), terminal_size=WIDE, run_before=scrolled)
