"""A small, deterministic state for the dashboard tests, written through the state repositories.

Twenty-four recommendations over four weeks for three workloads, each ranked over real catalog
offerings, with outcomes (one of them a cost anomaly), a trained-model record, and four datasets
with access events. Everything is a function of ``NOW``, so every figure the dashboard derives
from it (windows, buckets, anomalies, savings) is the same on every run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from artenic_opt.catalog import load_catalog
from artenic_opt.schemas import (
    FactorScore,
    InstanceRecommendation,
    JobOutcome,
    ModelInfo,
    Offering,
    RankingMetrics,
    TrainingAdvice,
    WorkloadProfile,
)
from artenic_opt.state.datasets import add_access_events, replace_dataset_files, upsert_datasets
from artenic_opt.state.model_versions import record_model_version
from artenic_opt.state.outcomes import insert_outcome
from artenic_opt.state.platform_records import AccessEvent, DatasetFileRecord, DatasetRecord
from artenic_opt.state.recommendations import save_recommendation
from artenic_opt.state.store import open_state
from artenic_opt.tui.data import StateDashboardData
from artenic_opt.types import FineTuning, JobStatus, ModelFramework, OptimizerMode, OutcomeSource
from artenic_opt.workspace import Workspace, WorkspaceOptions

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

WORKLOADS = (
    WorkloadProfile(
        name="llm-lora-7b",
        framework=ModelFramework.TRANSFORMERS,
        model_params_m=7000,
        dataset_size_gb=2,
        tokens=5e8,
        num_epochs=3,
        fine_tuning=FineTuning.LORA,
    ),
    WorkloadProfile(name="vision-vit-b16", model_params_m=86, dataset_size_gb=140, num_epochs=10),
    WorkloadProfile(
        name="tabular-gbdt",
        framework=ModelFramework.LIGHTGBM,
        model_params_m=1,
        dataset_size_gb=20,
        gpu_required=False,
    ),
)
# Per workload: the offerings it is ranked over (provider, region, instance type), best first.
CANDIDATES = (
    (
        ("Lambda", "us-east-1", "gpu_1x_h100_pcie"),
        ("AWS", "us-east-1", "p5.4xlarge"),
        ("Azure", "eastus", "Standard_NC24ads_A100_v4"),
    ),
    (
        ("AWS", "us-east-1", "g6e.4xlarge"),
        ("GCP", "us-central1", "a3-highgpu-1g"),
        ("Lambda", "us-east-1", "gpu_1x_h100_sxm5"),
    ),
    (
        ("GCP", "us-central1", "n2d-standard-32"),
        ("AWS", "us-east-1", "m7i.16xlarge"),
        ("Azure", "eastus", "Standard_D32s_v5"),
    ),
)
BASE_HOURS = (6.0, 20.0, 1.5)
RECOMMENDATIONS = 24


def _offering(key: tuple[str, str, str]) -> Offering:
    for offering in load_catalog().offerings:
        if (offering.provider, offering.region, offering.instance_type) == key:
            return offering
    raise LookupError(key)


def _advice(index: int) -> TrainingAdvice:
    kind = index % 3
    workload = WORKLOADS[kind]
    hours = BASE_HOURS[kind] * (1 + (index % 4) * 0.1)
    ranked = []
    for rank, key in enumerate(CANDIDATES[kind], start=1):
        offering = _offering(key)
        run_hours = hours * (1 + 0.15 * (rank - 1))
        cost = run_hours * offering.price_per_hour
        cost_value = 1.0 / rank
        ranked.append(
            InstanceRecommendation(
                rank=rank,
                offering=offering,
                score=round(0.9 - 0.1 * rank, 3),
                heuristic_score=round(0.85 - 0.1 * rank, 3),
                ltr_score=round(0.8 - 0.05 * rank, 3),
                factors=(
                    FactorScore(
                        name="cost_efficiency",
                        value=cost_value,
                        weight=0.4,
                        contribution=0.4 * cost_value,
                    ),
                    FactorScore(name="gpu_match", value=0.8, weight=0.3, contribution=0.24),
                    FactorScore(name="memory_headroom", value=0.6, weight=0.2, contribution=0.12),
                    FactorScore(
                        name="provider_reliability", value=1.0, weight=0.1, contribution=0.1
                    ),
                ),
                price_per_hour=offering.price_per_hour,
                estimated_hours=run_hours,
                estimated_cost=cost,
                estimated_cost_on_demand=cost,
                estimated_cost_spot=None
                if offering.spot_price_per_hour is None
                else run_hours * offering.spot_price_per_hour,
                currency="USD",
                memory_needed_gb=30.0 if offering.gpu_count else 48.0,
                memory_available_gb=offering.gpu_memory_gb or offering.memory_gb or 64.0,
                reasons=(f"fits with {rank * 10}% to spare",),
                warnings=("no spot price listed",) if offering.spot_price_per_hour is None else (),
            )
        )
    return TrainingAdvice(
        recommendation_id=f"rec-{index:04d}-{workload.name}",
        query_id=workload.query_id,
        created_at=NOW - timedelta(days=27) + timedelta(days=index, hours=index % 5),
        workload=workload,
        mode=OptimizerMode.HYBRID if index >= 12 else OptimizerMode.HEURISTIC,
        model_version=1 if index >= 12 else None,
        candidates_considered=310 + index,
        candidates_feasible=120 + index,
        recommendations=tuple(ranked),
    )


def build_fixture_state(path: Path) -> Path:
    """Write the fixture history into a new state at ``path``; return the path."""
    store = open_state(path)
    try:
        for index in range(RECOMMENDATIONS):
            advice = _advice(index)
            save_recommendation(store, advice)
            if index >= RECOMMENDATIONS - 2:
                continue  # the newest two have no outcome yet
            rank = 2 if index % 7 == 3 else 1
            ran = advice.recommendations[rank - 1]
            failed = index % 9 == 5
            # Run 16 (a vision job) paid four times its usual price: the cost anomaly.
            overrun = 4.0 if index == 16 else 1.0 + (index % 4) * 0.05
            hours = ran.estimated_hours * (0.4 if failed else 1.05)
            insert_outcome(
                store,
                JobOutcome(
                    recommendation_id=advice.recommendation_id,
                    rank=rank,
                    status=JobStatus.FAILED if failed else JobStatus.COMPLETED,
                    hours=hours,
                    cost=hours * ran.price_per_hour * overrun,
                    source=OutcomeSource.SIMULATOR,
                    recorded_at=advice.created_at + timedelta(hours=hours),
                ),
                provider=ran.offering.provider,
                region=ran.offering.region,
                instance_type=ran.offering.instance_type,
                spot=False,
                label=0 if failed else 3,
            )
        record_model_version(
            store,
            ModelInfo(
                version=1,
                path="models/ltr-1.txt",
                trained_at=NOW - timedelta(days=15),
                sample_count=12,
                query_count=3,
                feature_schema_version=1,
                metrics=RankingMetrics(ndcg_at_5=0.842, ndcg_at_10=0.871, mrr=0.79, groups=3),
                sha256="0" * 64,
            ),
        )
        _datasets(store)
    finally:
        store.close()
    return path


def _datasets(store: object) -> None:
    gib = 1024**3
    specs = (
        ("ds-clicks", "clickstream", "csv", 180 * gib, 120),
        ("ds-images", "imagenet-subset", "parquet", 140 * gib, 2),
        ("ds-logs", "training-logs", "json", 60 * gib, 200),
        ("ds-small", "labels", "csv", 5 * 1024**2, 1),
    )
    datasets = [
        DatasetRecord(
            id=dataset_id,
            name=name,
            version=1,
            format=fmt,
            total_size_bytes=size,
            created_at=NOW - timedelta(days=age_days + 30),
        )
        for dataset_id, name, fmt, size, age_days in specs
    ]
    upsert_datasets(store, datasets, synced_at=NOW)  # type: ignore[arg-type]
    for dataset_id, _, fmt, size, _ in specs:
        replace_dataset_files(
            store,  # type: ignore[arg-type]
            dataset_id,
            [
                DatasetFileRecord(
                    dataset_id=dataset_id, path=f"part-{part}.{fmt}", size_bytes=size // 4
                )
                for part in range(4)
            ],
        )
    events = []
    for day in range(0, 60, 3):  # the clickstream is read every third day: hot
        events.append(
            AccessEvent(
                dataset_id="ds-clicks",
                timestamp=NOW - timedelta(days=day),
                operation="read",
                source="import",
            )
        )
    events.append(  # the image subset was last read four months ago: cold
        AccessEvent(
            dataset_id="ds-images",
            timestamp=NOW - timedelta(days=120),
            operation="read",
            source="import",
        )
    )
    add_access_events(store, events)  # type: ignore[arg-type]


def fixture_data(path: Path) -> StateDashboardData:
    """The dashboard's real data provider over the fixture state, with a fixed clock."""
    workspace = Workspace(WorkspaceOptions(state=path), read_only=True)
    return StateDashboardData(workspace, source="fixture state", now=NOW, examples=EXAMPLES)
