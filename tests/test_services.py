"""Direct tests of the services (the use cases the CLI, the dashboard and serve call), on a real
SQLite state, the embedded catalog and, for the platform, the fake gateway on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import DemoSummary, JobOutcome, StorageAnalysis
from artenic_opt.services.cost import load_history, make_analyzer
from artenic_opt.services.demo import build_demo_state
from artenic_opt.services.platform import dispatch_recommendation, make_client, run_sync
from artenic_opt.services.storage import (
    analyze_target,
    import_access_file,
    storage_recommendations,
)
from artenic_opt.services.training import (
    make_advisor,
    recommend_and_store,
    record_outcome,
    stored_advice,
)
from artenic_opt.services.workload_reader import build_workload
from artenic_opt.types import JobStatus, OutcomeSource
from artenic_opt.workspace import Workspace, WorkspaceOptions
from tests.platform_server import FakePlatform, serve_platform

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(WorkspaceOptions(state=tmp_path / "svc" / "state.db"))
    try:
        yield ws
    finally:
        ws.close()


def _recommend(workspace: Workspace) -> str:
    store = workspace.store()
    advisor = make_advisor(store, workspace.catalog(), workspace.settings, workspace.rates())
    workload = build_workload(str(EXAMPLES / "llm-lora-7b.toml"), {})
    result = recommend_and_store(store, advisor, workload, top=3, goal=None)
    return result.advice.recommendation_id


def test_training_recommend_store_and_record_an_outcome(workspace: Workspace) -> None:
    rec_id = _recommend(workspace)
    store = workspace.store()
    advice = stored_advice(store, rec_id[:10])
    assert advice.recommendation_id == rec_id and len(advice.recommendations) == 3
    top = advice.recommendations[0]
    outcome = JobOutcome(
        recommendation_id=rec_id,
        rank=1,
        status=JobStatus.COMPLETED,
        hours=top.estimated_hours,
        cost=top.estimated_cost,
        currency=advice.display_currency,
        source=OutcomeSource.MANUAL,
    )
    recorded = record_outcome(store, workspace.settings, outcome, rates=workspace.rates())
    # At the prediction: label 4 (optimal) by the DESIGN's relevance scale.
    assert recorded.label == 4


def test_cost_history_from_the_state(workspace: Workspace) -> None:
    rec_id = _recommend(workspace)
    store = workspace.store()
    advice = stored_advice(store, rec_id)
    top = advice.recommendations[0]
    record_outcome(
        store,
        workspace.settings,
        JobOutcome(
            recommendation_id=rec_id,
            rank=1,
            status=JobStatus.COMPLETED,
            hours=2.0,
            cost=10.0,
            currency=advice.display_currency,
            source=OutcomeSource.MANUAL,
        ),
        rates=workspace.rates(),
    )
    (record,) = load_history(store)
    assert (record.provider, record.instance_type) == (
        top.offering.provider,
        top.offering.instance_type,
    )
    assert record.cost == 10.0 and record.recommended_candidate == top.candidate_id
    analyzer = make_analyzer(workspace.catalog(), "EUR", workspace.rates())
    assert analyzer.display_currency == "EUR"


def test_storage_import_access_and_recommendations(workspace: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "access.jsonl"
    log.write_text(
        "\n".join(
            json.dumps(
                {
                    "timestamp": f"2026-11-{day:02d}T10:00:00Z",
                    "dataset": "ds-a",
                    "operation": "read",
                }
            )
            for day in range(1, 11)
        )
        + "\nnot json\n"
    )
    store = workspace.store()
    result = import_access_file(store, log)
    assert (result.events_read, result.events_added, result.datasets) == (10, 10, ("ds-a",))
    assert [e.line for e in result.errors] == [11]
    again = import_access_file(store, log)
    assert again.events_added == 0
    data = tmp_path / "data"
    data.mkdir()
    (data / "part-0.csv").write_text("a,b\n1,2\n" * 100)
    analysis = analyze_target(store, workspace.catalog(), str(data), provider="AWS")
    assert isinstance(analysis, StorageAnalysis)
    assert analysis.advice.size_bytes == (data / "part-0.csv").stat().st_size
    advices = storage_recommendations(store, workspace.catalog(), provider="AWS", now=NOW)
    assert "data" in {a.dataset_name for a in advices}


def test_demo_state_summary(workspace: Workspace) -> None:
    summary = build_demo_state(
        workspace.store(),
        workspace.catalog(),
        workspace.settings,
        workspace.rates(),
        jobs=12,
        seed=1,
        now=NOW,
    )
    assert isinstance(summary, DemoSummary)
    assert summary.jobs == 12 and summary.outcomes == 12
    assert len(load_history(workspace.store())) == 12


def test_platform_sync_and_dispatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_platform() as fake:
        fake.seed()
        monkeypatch.setenv("ARTENIC_URL", fake.url)
        ws = Workspace(WorkspaceOptions(state=tmp_path / "p" / "state.db"))
        try:
            with make_client(ws.settings) as client:
                assert client.url.rstrip("/") == fake.url.rstrip("/")
            report = run_sync(ws.store(), ws.catalog(), ws.settings, ws.rates(), only={"jobs"})
            assert report.status.value == "ok"
            with pytest.raises(InvalidInputError, match="--only: unknown part"):
                run_sync(ws.store(), ws.catalog(), ws.settings, ws.rates(), only={"prices"})
            rec_id = _recommend(ws)
            with pytest.raises(InvalidInputError, match="has ranks 1 to 3"):
                dispatch_recommendation(ws.store(), ws.settings, rec_id, 4, service="s", model="m")
            sent = dispatch_recommendation(
                ws.store(), ws.settings, rec_id, 2, service="s", model="m", provider="mock"
            )
            _check_dispatched(fake, sent.job_id, rec_id)
        finally:
            ws.close()


def _check_dispatched(fake: FakePlatform, job_id: str, rec_id: str) -> None:
    job = fake.jobs[job_id]
    assert job["provider"] == "mock"
    assert job["config"]["artenic_opt_recommendation_id"] == rec_id
    assert job["config"]["artenic_opt_rank"] == 2
