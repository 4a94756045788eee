"""Test data factories shared by the test modules: one place for the fields every ``Offering``,
``WorkloadProfile``, ``JobOutcome`` and stored advice needs, so a schema change is made once.
Callers pass what their test is about."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from artenic_opt.schemas import (
    FactorScore,
    InstanceRecommendation,
    JobOutcome,
    Offering,
    TrainingAdvice,
    TrainingSample,
    WorkloadProfile,
)
from artenic_opt.types import JobStatus, OptimizationGoal, OptimizerMode, OutcomeSource

#: The price date of every test offering (any fixed date: the tests never age prices).
TEST_PRICE_DATE = date(2026, 1, 1)


def make_offering(
    provider: str = "P1", region: str = "r1", instance_type: str = "i1", **fields: Any
) -> Offering:
    """A valid offering: 1.0 an hour, source ``test``, ``TEST_PRICE_DATE``; ``fields`` on top."""
    values: dict[str, Any] = {
        "provider": provider,
        "region": region,
        "instance_type": instance_type,
        "price_per_hour": 1.0,
        "source": "test",
        "price_date": TEST_PRICE_DATE,
    }
    values.update(fields)
    return Offering.model_validate(values)


def make_a100_offering(**fields: Any) -> Offering:
    """One A100 80GB on AWS us-east-1 (16 vCPUs, 128 GB) at 2.0 an hour; ``fields`` on top."""
    values: dict[str, Any] = {
        "provider": "AWS",
        "region": "us-east-1",
        "instance_type": "g1",
        "vcpus": 16,
        "memory_gb": 128.0,
        "gpu_type": "A100 80GB",
        "gpu_count": 1,
        "price_per_hour": 2.0,
    }
    values.update(fields)
    return make_offering(**values)


def make_transformers_workload(**fields: Any) -> WorkloadProfile:
    """A 7B-parameter transformers job on 1 GB of data; ``fields`` on top."""
    values: dict[str, Any] = {
        "framework": "transformers",
        "model_params_m": 7000,
        "dataset_size_gb": 1,
    }
    values.update(fields)
    return WorkloadProfile(**values)


# -- Stored advice, outcomes and samples (the state tests)


T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_p4d_offering(
    provider: str = "aws",
    region: str = "us-east-1",
    instance_type: str = "p4d.24xlarge",
    *,
    gpu_type: str | None = "A100-40GB",
    gpu_count: int = 8,
    price_per_hour: float = 32.77,
    spot_price_per_hour: float | None = 12.5,
    currency: str = "USD",
) -> Offering:
    return Offering(
        provider=provider,
        region=region,
        instance_type=instance_type,
        vcpus=96,
        memory_gb=1152.0,
        gpu_type=gpu_type,
        gpu_count=gpu_count if gpu_type else 0,
        gpu_memory_gb=40.0 if gpu_type else None,
        price_per_hour=price_per_hour,
        spot_price_per_hour=spot_price_per_hour,
        currency=currency,
        source="https://aws.amazon.com/ec2/pricing/on-demand/",
        price_date=date(2026, 2, 1),
    )


def make_candidate(
    rank: int, offering: Offering | None = None, *, spot: bool = False
) -> InstanceRecommendation:
    offering = offering or make_p4d_offering(instance_type=f"type-{rank}")
    return InstanceRecommendation(
        rank=rank,
        offering=offering,
        nodes=1,
        spot=spot,
        score=1.0 / rank,
        heuristic_score=1.0 / rank,
        factors=(FactorScore(name="cost", value=0.5, weight=0.4, contribution=0.2),),
        price_per_hour=offering.price_per_hour,
        estimated_hours=10.0 * rank,
        estimated_cost=offering.price_per_hour * 10.0 * rank,
        estimated_cost_on_demand=offering.price_per_hour * 10.0 * rank,
        currency="USD",
        memory_needed_gb=30.0,
        memory_available_gb=40.0,
        reasons=("cheapest that fits",),
    )


def make_workload(name: str = "llama-ft", params_m: float = 7000) -> WorkloadProfile:
    return WorkloadProfile(name=name, model_params_m=params_m, dataset_size_gb=20)


def make_advice(
    rec_id: str = "rec-0001-aaaa",
    *,
    candidates: int = 3,
    created_at: datetime = T0,
    workload: WorkloadProfile | None = None,
) -> TrainingAdvice:
    workload = workload or make_workload()
    return TrainingAdvice(
        recommendation_id=rec_id,
        query_id=workload.query_id,
        created_at=created_at,
        workload=workload,
        mode=OptimizerMode.HEURISTIC,
        goal=OptimizationGoal.BALANCED,
        candidates_considered=40,
        candidates_feasible=candidates,
        display_currency="USD",
        recommendations=tuple(make_candidate(rank) for rank in range(1, candidates + 1)),
        warnings=("prices are list prices",),
    )


def feature_rows(count: int, width: int = 4) -> list[list[float]]:
    return [[float(rank * 10 + column) for column in range(width)] for rank in range(count)]


def make_outcome(
    rec_id: str = "rec-0001-aaaa",
    rank: int = 1,
    *,
    status: JobStatus = JobStatus.COMPLETED,
    job_id: str | None = None,
    recorded_at: datetime = T0 + timedelta(hours=12),
) -> JobOutcome:
    return JobOutcome(
        recommendation_id=rec_id,
        rank=rank,
        status=status,
        hours=9.5,
        cost=311.3,
        currency="USD",
        preemptions=1,
        metric_before=0.61,
        metric_after=0.74,
        source=OutcomeSource.MANUAL,
        job_id=job_id,
        recorded_at=recorded_at,
    )


def make_sample(
    rec_id: str = "rec-0001-aaaa",
    rank: int = 1,
    *,
    query_id: str = "q1",
    label: int = 3,
    created_at: datetime = T0,
) -> TrainingSample:
    return TrainingSample(
        query_id=query_id,
        recommendation_id=rec_id,
        rank=rank,
        candidate_id=f"aws/us-east-1/type-{rank}#1#on_demand",
        features=(1.0, 2.5, float("nan"), 4.0),
        feature_schema_version=2,
        label=label,
        source=OutcomeSource.MANUAL,
        created_at=created_at,
    )
