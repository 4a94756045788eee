"""Rendering helpers of the views and screens (plain Rich output), and demo mode's life cycle."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console, RenderableType

from artenic_opt.errors import InvalidInputError
from artenic_opt.tui import data as data_module, demo_setup
from artenic_opt.tui.screens.help import KEYS, keys_table
from artenic_opt.tui.screens.recommendation_detail import (
    candidate_text,
    header_text,
    outcomes_text,
)
from artenic_opt.tui.view_models import (
    AnomalyPoint,
    RecommendationRow,
    SavingsCard,
    SavingsLine,
    StatusCard,
)
from artenic_opt.tui.views.cost_trends import _value
from artenic_opt.tui.views.overview import OverviewView, savings_rows, status_rows
from artenic_opt.tui.views.recommendations import outcome_text, pick_text
from tests.tui_support import build_fixture_state, fixture_data

WHEN = datetime(2026, 11, 27, 12, tzinfo=UTC)


def plain(renderable: RenderableType) -> str:
    console = Console(width=120, no_color=True)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


@pytest.fixture(scope="module")
def state_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_state(tmp_path_factory.mktemp("tui-render") / "state.db")


def test_detail_renders_workload_candidate_and_outcomes(state_path: Path) -> None:
    provider = fixture_data(state_path)
    detail = provider.recommendation_detail("rec-0003-llm-lora-7b")
    provider.close()
    header = plain(header_text(detail))
    assert "llm-lora-7b" in header and "framework" in header and "transformers" in header
    candidate = plain(candidate_text(detail.candidates[1]))
    assert "#2" in candidate and "cost efficiency" in candidate and "LTR" in candidate
    assert "GB needed of" in candidate
    outcomes = plain(outcomes_text(detail))
    assert "completed" in outcomes and "Outcomes" in outcomes
    empty = plain(outcomes_text(detail.model_copy(update={"outcomes": ()})))
    assert "No outcome recorded" in empty


def status(**changes: object) -> StatusCard:
    base = StatusCard(
        source="s",
        mode="auto",
        effective_mode="heuristic",
        recommendations=0,
        outcomes=0,
        training_samples=0,
        catalog_offerings=1,
        catalog_providers=1,
        price_date_oldest=WHEN.date(),
        price_date_newest=WHEN.date(),
        platform_url="http://x",
        platform_state="not configured",
    )
    return base.model_copy(update=changes)


def test_status_rows_without_a_model_or_sync() -> None:
    rows = dict(status_rows(status()))
    assert rows["Model"] == "none yet: heuristic ranking"
    assert rows["Mode"] == "heuristic (configured: auto)"
    assert rows["Price date"] == "2026-11-27"
    assert rows["Last sync"] == "never"
    synced = dict(status_rows(status(mode="hybrid", effective_mode="hybrid", last_sync_at=WHEN)))
    assert synced["Mode"] == "hybrid"
    assert synced["Last sync"] == "2026-11-27 12:00"


def savings(**changes: object) -> SavingsCard:
    base = SavingsCard(
        period="90d",
        currency="EUR",
        records_compared=3,
        actual_total=90,
        recommended_total=100,
        difference_total=-10,
        overspend_total=0,
        estimated_monthly_savings=0,
    )
    return base.model_copy(update=changes)


def test_savings_under_the_estimate_and_actions() -> None:
    rows = dict(savings_rows(savings()))
    assert plain(rows["Difference"]).strip() == "-10.00 EUR under the estimate"
    assert "no change suggested" in plain(OverviewView._actions_text(savings()))
    with_actions = savings(
        message="nothing new", actions=(SavingsLine(title="Use spot", monthly_savings=12.5),)
    )
    text = plain(OverviewView._actions_text(with_actions))
    assert "nothing new" in text and "Use spot" in text and "12.50 EUR/mo" in text


def test_recommendation_cells() -> None:
    row = RecommendationRow(
        recommendation_id="r",
        created_at=WHEN,
        workload="w",
        mode="heuristic",
        goal="cost",
        gpu="",
        candidates=0,
    )
    assert pick_text(row) == "-"
    assert outcome_text(row).plain == "no outcome"
    ran = row.model_copy(update={"outcome": "failed", "outcome_rank": 2})
    assert outcome_text(ran).plain == "failed #2"


def test_anomaly_values_in_their_unit() -> None:
    point = AnomalyPoint(
        bucket_index=0,
        timestamp=WHEN,
        provider="AWS",
        metric="hours_per_run",
        value=30,
        unit="h",
        reason="r",
        spend=1,
    )
    assert _value(point) == "30.0 h"
    assert _value(point.model_copy(update={"unit": "USD"})) == "30.00 USD"


def test_help_lists_every_key() -> None:
    text = plain(keys_table())
    for key, _ in KEYS:
        assert key in text


# -- demo mode --------------------------------------------------------------------------------


def test_demo_state_has_every_view_and_is_removed_on_close() -> None:
    provider = demo_setup.open_demo_data(jobs=24, seed=3)
    assert provider.source == "demo: 24 simulated jobs, seed 3"
    state_file = provider._workspace.state_path
    assert state_file.exists()
    snapshot = data_module.dashboard_snapshot(provider)
    assert snapshot.recommendations and snapshot.storage and snapshot.cost_trends.series
    assert snapshot.overview.status.outcomes == 24
    provider.close()
    assert not state_file.parent.exists()


def test_failed_demo_build_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []

    def failing(store: Any, *args: Any, **kwargs: Any) -> object:
        made.append(store.path.parent)
        raise InvalidInputError("--jobs: simulated failure")

    monkeypatch.setattr(demo_setup, "build_demo_state", failing)
    with pytest.raises(InvalidInputError):
        demo_setup.open_demo_data()
    assert made and not made[0].exists()
