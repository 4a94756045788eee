"""Direct tests of the services (the use cases the CLI, the dashboard and serve call), on a real
SQLite state, the embedded catalog and, for the platform, the fake gateway on loopback."""

from __future__ import annotations

import json
import tracemalloc
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


def test_an_unknown_same_as_is_warned_about_and_stored_with_the_advice(
    workspace: Workspace,
) -> None:
    store = workspace.store()
    advisor = make_advisor(store, workspace.catalog(), workspace.settings, workspace.rates())
    workload = build_workload(str(EXAMPLES / "llm-lora-7b.toml"), {})
    first = recommend_and_store(store, advisor, workload, top=1, goal=None).advice
    assert not any("same_as" in w for w in first.warnings)
    linked = workload.model_copy(update={"name": "renamed", "same_as": first.query_id})
    known = recommend_and_store(store, advisor, linked, top=1, goal=None).advice
    assert known.query_id == first.query_id
    assert not any("same_as" in w for w in known.warnings)
    typo = workload.model_copy(update={"same_as": "f" * 16})
    advice = recommend_and_store(store, advisor, typo, top=1, goal=None).advice
    (warning,) = (w for w in advice.warnings if "same_as" in w)
    assert warning.startswith(f"same_as {'f' * 16}: no stored workload has this query id")
    assert warning in stored_advice(store, advice.recommendation_id).warnings
    # Now stored, the id is known: the next recommendation under it is not warned about.
    again = recommend_and_store(store, advisor, typo, top=1, goal=None).advice
    assert not any("same_as" in w for w in again.warnings)


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


def test_sync_keeps_jobs_with_no_region_and_leaves_out_impossible_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finished job the platform files under no region or instance (its CPU jobs do) is still
    money spent that every cost analysis reads; a job with numbers no run can have is named and
    left out, and the sync goes on."""
    done = {"status": "completed", "completed_at": "2026-11-20T00:00:00", "duration_seconds": 60}
    with serve_platform() as fake:
        fake.add_job(job_id="cpu", region=None, instance_type=None, cost_actual_eur=2.5, **done)
        fake.add_job(job_id="absurd", region="eu-west", cost_actual_eur=1e308, **done)
        monkeypatch.setenv("ARTENIC_URL", fake.url)
        ws = Workspace(WorkspaceOptions(state=tmp_path / "p" / "state.db"))
        try:
            report = run_sync(ws.store(), ws.catalog(), ws.settings, ws.rates(), only={"jobs"})
            assert report.status.value == "partial"
            assert report.outcomes_recorded == 1
            (failure,) = report.failures.values()
            assert "job absurd: not recorded: cost:" in failure
            (record,) = load_history(ws.store())
            assert (record.provider, record.region, record.instance_type) == (
                "mock",
                "global",
                "not stated",
            )
            assert record.cost == pytest.approx(2.5)
            analyzer = make_analyzer(ws.catalog(), "EUR", ws.rates())
            now = datetime(2026, 11, 25, tzinfo=UTC)
            summary = analyzer.spending_summary([record], by="region", now=now)
            assert not summary.empty
            assert [group.key for group in summary.groups] == ["mock/global"]
        finally:
            ws.close()


def _check_dispatched(fake: FakePlatform, job_id: str, rec_id: str) -> None:
    job = fake.jobs[job_id]
    assert job["provider"] == "mock"
    assert job["config"]["artenic_opt_recommendation_id"] == rec_id
    assert job["config"]["artenic_opt_rank"] == 2


# -- catalog queries, catalog imports, suggest ------------------------------------------------


def test_catalog_queries_match_gpu_families_and_name_the_filters(workspace: Workspace) -> None:
    from artenic_opt.errors import InfeasibleError
    from artenic_opt.services.queries import catalog_offerings, gpu_prices

    catalog, rates = workspace.catalog(), workspace.rates()
    a100 = catalog_offerings(catalog, rates, gpu="A100")
    assert {o.gpu_type for o in a100} >= {"A100 40GB", "A100 80GB"}  # a family, every variant
    prices = [o.price_per_hour for o in a100 if o.currency == "USD"]
    assert prices == sorted(prices)  # cheapest first (one currency, so directly comparable)
    assert len(catalog_offerings(catalog, rates, gpu="A100", limit=2)) == 2
    with pytest.raises(InfeasibleError, match="--provider nowhere"):
        catalog_offerings(catalog, rates, provider="nowhere")
    rows = gpu_prices(catalog, rates, gpu="H100")
    assert rows and all(r.gpu_type.startswith("H100") for r in rows)


def test_catalog_import_is_idempotent_listed_and_removable(
    workspace: Workspace, tmp_path: Path
) -> None:
    from artenic_opt.services.catalog import (
        import_catalog_file,
        list_catalog_imports,
        remove_from_catalog,
    )

    assert list_catalog_imports(None) == []  # no state file yet
    path = tmp_path / "onprem.csv"
    path.write_text(
        "provider,region,instance_type,price_per_hour,vcpus,gpu_type,gpu_count,gpu_memory_gb\n"
        "OnPrem,lab,box-a,1.5,32,A100 80GB,4,80\nOnPrem,lab,box-b,0.5,16,,0,\n"
    )
    store = workspace.store()
    first = import_catalog_file(store, workspace.catalog(), workspace.rates(), path)
    assert (first.offerings, first.changed, first.already_present) == (2, 2, 0)
    again = import_catalog_file(store, workspace.catalog(), workspace.rates(), path)
    assert (again.changed, again.already_present) == (0, 2)
    (record,) = list_catalog_imports(store)
    assert record.rows == 2 and record.offerings_held == 2
    removed = remove_from_catalog(store, file=str(path))
    assert removed.offerings_removed == 2
    with pytest.raises(InvalidInputError, match="either --file FILE or --key KEY"):
        remove_from_catalog(store)


def test_suggest_stores_its_suggestion_as_a_recommendation(workspace: Workspace) -> None:
    from artenic_opt.services.suggest import suggest
    from artenic_opt.state import get_recommendation
    from artenic_opt.types import OptimizerMode

    store = workspace.store()
    advisor = make_advisor(
        store,
        workspace.catalog(),
        workspace.settings,
        workspace.rates(),
        mode=OptimizerMode.HEURISTIC,
    )
    workload = build_workload(str(EXAMPLES / "llm-lora-7b.toml"), {})
    result = suggest(store, advisor, workload, workspace.rates())
    assert result.measured_runs == 0 and not result.stop and result.next is not None
    assert result.recommendation_id is not None
    stored = get_recommendation(store, result.recommendation_id)
    assert stored.recommendations[0].candidate_id == result.next.candidate_id


def test_suggest_learns_its_prior_from_other_workloads_stored_runs(workspace: Workspace) -> None:
    """With no run of its own, a workload's first suggestion follows what other workloads'
    measured runs taught (the learned cost prior), not the estimator, when they disagree."""
    from artenic_opt.services.suggest import suggest
    from artenic_opt.types import OptimizationGoal, OptimizerMode

    store = workspace.store()
    advisor = make_advisor(
        store,
        workspace.catalog(),
        workspace.settings,
        workspace.rates(),
        mode=OptimizerMode.HEURISTIC,
    )
    base = build_workload(str(EXAMPLES / "llm-lora-7b.toml"), {})
    fresh = suggest(store, advisor, base.model_copy(update={"name": "target"}), workspace.rates())
    assert fresh.next is not None and fresh.other_workloads == 0
    estimator_pick = fresh.next.candidate_id
    # Three other workloads measured on the cost goal's best 12: the 6 the estimator finds
    # cheapest (its pick among them) cost 10x their estimate, the other 6 a fifth of it.
    dear: set[str] = set()
    for name in ("other-a", "other-b", "other-c"):
        workload = base.model_copy(update={"name": name})
        advice = recommend_and_store(
            store, advisor, workload, top=12, goal=OptimizationGoal.COST
        ).advice
        by_estimate = sorted(advice.recommendations, key=lambda r: r.estimated_cost)
        dear |= {r.candidate_id for r in by_estimate[:6]}
        for rec in advice.recommendations:
            factor = 10.0 if rec.candidate_id in dear else 0.2
            record_outcome(
                store,
                workspace.settings,
                JobOutcome(
                    recommendation_id=advice.recommendation_id,
                    rank=rec.rank,
                    status=JobStatus.COMPLETED,
                    hours=rec.estimated_hours,
                    cost=rec.estimated_cost * factor,
                    currency=advice.display_currency,
                    source=OutcomeSource.MANUAL,
                ),
                rates=workspace.rates(),
                auto_retrain=False,
            )
    assert estimator_pick in dear
    learned = suggest(store, advisor, base.model_copy(update={"name": "target"}), workspace.rates())
    assert learned.measured_runs == 0 and learned.other_workloads == 3
    assert learned.next is not None and learned.next.candidate_id not in dear


def test_retrain_reads_the_heuristics_rank_of_a_hybrid_recommendation(
    workspace: Workspace,
) -> None:
    import numpy as np
    import numpy.typing as npt

    from artenic_opt.services.training import heuristic_ranked
    from artenic_opt.state import list_training_samples
    from artenic_opt.training_advisor import FEATURE_NAMES, FEATURE_SCHEMA_VERSION
    from artenic_opt.training_advisor.advisor import TrainingAdvisor
    from artenic_opt.types import OptimizerMode

    class DearestFirst:
        """A stand-in model that reverses the heuristic's cost preference."""

        feature_schema_version = FEATURE_SCHEMA_VERSION
        blend_weight = 1.0

        def predict(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            scores: npt.NDArray[np.float64] = features[
                :, FEATURE_NAMES.index("log_estimated_cost_usd")
            ]
            return scores

    store = workspace.store()
    advisor = TrainingAdvisor(
        workspace.catalog(), ltr_model=DearestFirst(), mode=OptimizerMode.HYBRID
    )
    workload = build_workload(str(EXAMPLES / "llm-lora-7b.toml"), {})
    advice = recommend_and_store(store, advisor, workload, top=5, goal=None).advice
    heuristic_order = sorted(advice.recommendations, key=lambda r: (-r.heuristic_score, r.rank))
    expected = {r.rank: k for k, r in enumerate(heuristic_order, start=1)}
    assert any(shown != ranked for shown, ranked in expected.items())  # the blend reordered
    for rec in advice.recommendations:
        record_outcome(
            store,
            workspace.settings,
            JobOutcome(
                recommendation_id=advice.recommendation_id,
                rank=rec.rank,
                status=JobStatus.COMPLETED,
                hours=rec.estimated_hours,
                cost=rec.estimated_cost,
                currency=advice.display_currency,
                source=OutcomeSource.MANUAL,
            ),
            rates=workspace.rates(),
            auto_retrain=False,
        )
    samples = list_training_samples(store)
    ranked = heuristic_ranked(store, samples)
    assert [s.rank for s in ranked] == [expected[s.rank] for s in samples]
    # A heuristic-mode recommendation, or an unknown one, keeps its ranks.
    plain = _recommend(workspace)
    stray = samples[0].model_copy(update={"recommendation_id": "0123456789abcdef"})
    kept = [s.model_copy(update={"recommendation_id": plain}) for s in samples[:2]]
    assert [s.rank for s in heuristic_ranked(store, [stray, *kept])] == [
        stray.rank,
        *(s.rank for s in kept),
    ]


def test_access_import_streams_into_the_state(workspace: Workspace, tmp_path: Path) -> None:
    """A million-line log took 2.4 GB of memory: every event was parsed into a list before the
    first was stored. Events now go to the state in batches inside one transaction, so memory
    stays bounded and a failing file still stores nothing."""
    log = tmp_path / "big.csv"
    with log.open("w") as handle:
        handle.write("timestamp,dataset,operation\n")
        for i in range(60_000):
            handle.write(f"2026-11-01T00:00:00.{i:06d},ds{i % 3},read\n")
        handle.write("bad line\n")
    store = workspace.store()
    tracemalloc.start()
    try:
        result = import_access_file(store, log)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.events_read, result.events_added, result.already_present) == (60_000, 60_000, 0)
    assert result.datasets == ("ds0", "ds1", "ds2")
    assert [e.line for e in result.errors] == [60_002]
    assert peak < 40 * 1024 * 1024, peak
    # Duplicates across batches are found, as within one.
    again = import_access_file(store, log)
    assert (again.events_added, again.already_present) == (0, 60_000)


def test_access_import_is_all_or_nothing(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import artenic_opt.services.storage as storage_service

    log = tmp_path / "a.jsonl"
    line = '{{"timestamp": "2026-11-01T00:00:{:02d}", "dataset": "ds", "operation": "read"}}\n'
    log.write_text("".join(line.format(i % 60) for i in range(25_000)))
    calls: list[int] = []
    real = storage_service.add_access_events

    def failing(store: object, events: list[object]) -> int:
        calls.append(len(events))
        if len(calls) == 2:
            raise InvalidInputError("disk said no")
        return real(store, events)  # type: ignore[arg-type]

    monkeypatch.setattr(storage_service, "add_access_events", failing)
    store = workspace.store()
    with pytest.raises(InvalidInputError, match="disk said no"):
        import_access_file(store, log)
    monkeypatch.setattr(storage_service, "add_access_events", real)
    assert import_access_file(store, tmp_path / "a.jsonl").events_added == 60
