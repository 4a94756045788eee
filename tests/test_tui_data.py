"""The dashboard's data provider over a real (fixture) state: the numbers each view shows,
read-only access, a missing state, and the ``dashboard --json`` command."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from artenic_opt.cli import dashboard as dashboard_cmd
from artenic_opt.errors import NotFoundError
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.tui.data import StateDashboardData, dashboard_snapshot
from artenic_opt.tui.mappers import bucket_sequence, gpu_label, trend_period, workload_summary
from artenic_opt.types import FineTuning, ModelFramework, Period
from artenic_opt.workspace import Workspace, WorkspaceOptions
from tests.tui_support import EXAMPLES, NOW, RECOMMENDATIONS, build_fixture_state, fixture_data


@pytest.fixture(scope="module")
def state_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_state(tmp_path_factory.mktemp("tui-data") / "state.db")


@pytest.fixture
def data(state_path: Path) -> Iterator[StateDashboardData]:
    provider = fixture_data(state_path)
    yield provider
    provider.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_recommendations_are_newest_first_with_their_outcome(data: StateDashboardData) -> None:
    rows = data.recommendations()
    assert len(rows) == RECOMMENDATIONS
    assert [r.created_at for r in rows] == sorted((r.created_at for r in rows), reverse=True)
    newest, oldest = rows[0], rows[-1]
    assert newest.outcome is None  # the two newest have no outcome yet
    assert oldest.outcome == "completed"
    assert oldest.provider == "Lambda"
    assert oldest.gpu == "1x H100 PCIe"
    assert {r.outcome for r in rows} == {None, "completed", "failed"}


def test_detail_has_every_candidate_with_factors_and_the_outcome(
    data: StateDashboardData,
) -> None:
    detail = data.recommendation_detail("rec-0003-llm-lora-7b")
    assert [c.rank for c in detail.candidates] == [1, 2, 3]
    top = detail.candidates[0]
    assert top.factors[0].name == "cost_efficiency"
    assert top.estimated_cost == pytest.approx(top.estimated_hours * top.price_per_hour)
    assert [(o.rank, o.status, o.label) for o in detail.outcomes] == [(2, "completed", 3)]
    assert ("framework", "transformers") in detail.workload_summary


def test_unknown_recommendation_is_a_library_error(data: StateDashboardData) -> None:
    with pytest.raises(NotFoundError):
        data.recommendation_detail("no-such-recommendation")


def test_workloads_offer_the_examples_then_the_history(data: StateDashboardData) -> None:
    choices = data.workloads()
    examples = [c for c in choices if c.key.startswith("example:")]
    history = [c for c in choices if c.key.startswith("history:")]
    assert len(examples) == len(list(EXAMPLES.glob("*.toml")) + list(EXAMPLES.glob("*.json")))
    assert {c.label for c in history} == {
        "llm-lora-7b (history)",
        "vision-vit-b16 (history)",
        "tabular-gbdt (history)",
    }


def test_providers_bars_and_frontier_come_from_compare_providers(
    data: StateDashboardData,
) -> None:
    providers = data.providers("example:llm-lora-7b.toml")
    assert providers.workload == "llm-lora-7b"
    assert len({b.provider for b in providers.bars}) == len(providers.bars) >= 6
    frontier = providers.frontier
    assert sum(p.cheapest for p in frontier) == 1
    assert sum(p.fastest for p in frontier) == 1
    assert sum(p.balanced for p in frontier) == 1
    cheapest = next(p for p in frontier if p.cheapest)
    assert cheapest.estimated_cost == min(p.estimated_cost for p in providers.points)
    # Every provider's bar is its cheapest region.
    for bar in providers.bars:
        assert (
            bar.estimated_cost
            <= min(p.estimated_cost for p in providers.points if p.provider == bar.provider) + 1e-9
        )


def test_history_workload_compares_too(data: StateDashboardData) -> None:
    key = next(c.key for c in data.workloads() if c.label == "tabular-gbdt (history)")
    assert data.providers(key).workload == "tabular-gbdt"


def test_unknown_workload_key_is_refused(data: StateDashboardData) -> None:
    with pytest.raises(NotFoundError, match="neither an example"):
        data.providers("elsewhere:thing")


def test_storage_rows_biggest_saving_first(data: StateDashboardData) -> None:
    rows = data.storage()
    assert rows[0].dataset_id == "ds-clicks"
    savings = [r.monthly_savings for r in rows]
    assert savings == sorted(savings, reverse=True)
    images = next(r for r in rows if r.dataset_id == "ds-images")
    assert images.recommended_tier == "cold"  # last read four months ago
    assert "tier assumed" in images.evidence


def test_cost_trends_add_up_to_the_summary(data: StateDashboardData) -> None:
    trends = data.cost_trends()
    assert trends.bucket == "day"
    assert len(trends.buckets) == 31  # thirty days back from noon, both ends included
    assert sum(s.total for s in trends.series) == pytest.approx(trends.total_cost)
    for series in trends.series:
        assert sum(series.values) == pytest.approx(series.total)
    flagged = {(a.provider, a.metric) for a in trends.anomalies}
    assert ("AWS", "cost_per_hour") in flagged  # run 16 paid four times the usual price
    anomaly = next(a for a in trends.anomalies if a.metric == "cost_per_hour")
    aws = next(s for s in trends.series if s.provider == "AWS")
    assert anomaly.spend == aws.values[anomaly.bucket_index]


def test_overview_status_and_savings(data: StateDashboardData) -> None:
    overview = data.overview()
    status = overview.status
    assert (status.model_version, status.ndcg_at_5) == (1, 0.842)
    assert status.effective_mode == "hybrid"
    assert (status.recommendations, status.outcomes) == (RECOMMENDATIONS, RECOMMENDATIONS - 2)
    assert status.platform_state == "not configured"
    savings = overview.savings
    assert savings.records_compared > 0
    assert savings.difference_total == pytest.approx(
        savings.actual_total - savings.recommended_total
    )


def test_reading_never_changes_the_state_file(state_path: Path) -> None:
    before = _digest(state_path)
    provider = fixture_data(state_path)
    dashboard_snapshot(provider)
    provider.close()
    assert _digest(state_path) == before


def test_missing_state_shows_empty_views_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "state.db"
    provider = StateDashboardData(
        Workspace(WorkspaceOptions(state=path), read_only=True), now=NOW, examples=EXAMPLES
    )
    snapshot = dashboard_snapshot(provider)
    provider.close()
    assert not path.exists()
    assert snapshot.recommendations == ()
    assert snapshot.storage == ()
    assert snapshot.cost_trends.message
    assert snapshot.overview.status.model_version is None
    assert snapshot.providers is not None  # the examples compare on the catalog alone
    with pytest.raises(NotFoundError):
        provider.recommendation_detail("x")


def test_close_runs_the_cleanup_once(state_path: Path) -> None:
    calls: list[int] = []
    provider = StateDashboardData(
        Workspace(WorkspaceOptions(state=state_path), read_only=True),
        on_close=lambda: calls.append(1),
    )
    provider.close()
    provider.close()
    assert calls == [1]
    assert provider.source == str(state_path)
    assert provider.now.tzinfo is not None


# -- helpers ----------------------------------------------------------------------------------


def test_bucket_sequence_crosses_months_and_years() -> None:
    start = datetime(2026, 11, 15, tzinfo=UTC)
    end = datetime(2027, 2, 3, tzinfo=UTC)
    labels = [label for label, _ in bucket_sequence(start, end, Period.MONTH)]
    assert labels == ["2026-11", "2026-12", "2027-01", "2027-02"]
    weeks = bucket_sequence(start, datetime(2026, 11, 30, tzinfo=UTC), Period.WEEK)
    assert [label for label, _ in weeks] == ["2026-W46", "2026-W47", "2026-W48", "2026-W49"]


def test_trend_period_follows_the_history() -> None:
    assert trend_period([], NOW) == "30d"


def test_gpu_labels() -> None:
    assert gpu_label("H100", 8) == "8x H100"
    assert gpu_label(None, 0) == "CPU"
    assert gpu_label("A100", 8, 2) == "2 x 8x A100"


def test_workload_summary_lists_constraints_when_set() -> None:
    workload = WorkloadProfile(
        name="w",
        framework=ModelFramework.PYTORCH,
        model_params_m=1300,
        dataset_size_gb=50,
        tokens=2.6e10,
        fine_tuning=FineTuning.FULL,
        distributed=True,
        max_nodes=4,
        budget=500,
        deadline_hours=72,
        spot_allowed=False,
    )
    pairs = dict(workload_summary(workload))
    assert pairs["parameters"] == "1.3B"
    assert pairs["tokens"] == "26B"
    assert pairs["nodes"] == "up to 4"
    assert pairs["budget"] == "500 USD"
    assert pairs["deadline"] == "72 h"
    assert pairs["spot"] == "not allowed"


# -- the command ------------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Root."""

    dashboard_cmd.register(app)
    return app


def test_dashboard_json_prints_every_view(state_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["dashboard", "--state", str(state_path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["recommendations"]) == RECOMMENDATIONS
    assert document["overview"]["status"]["model_version"] == 1
    assert {"storage", "cost_trends", "providers", "workloads"} <= set(document)


def test_dashboard_demo_json_has_data_in_every_view() -> None:
    result = CliRunner().invoke(_app(), ["dashboard", "--demo", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["source"].startswith("demo:")
    assert document["recommendations"] and document["storage"]
    assert document["cost_trends"]["series"] and document["providers"]["bars"]
    assert document["overview"]["status"]["model_version"] is not None


def test_demo_and_state_together_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["dashboard", "--demo", "--state", str(tmp_path / "s.db")])
    assert result.exit_code != 0
    assert "--demo" in str(result.exception) or "--demo" in result.output


def test_dashboard_module_does_not_import_textual() -> None:
    code = (
        "import sys, json\nimport artenic_opt.cli.dashboard\n"
        "print(json.dumps('textual' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip()) is False
