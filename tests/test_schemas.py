"""Contracts: validation names the bad field; query ids are stable and ignore constraints."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import JobOutcome, Offering, WorkloadProfile, parse_model
from artenic_opt.types import FineTuning, JobStatus, ModelFramework, Precision

BASE: dict[str, Any] = {"model_params_m": 7000, "dataset_size_gb": 2}


def test_defaults_are_sensible() -> None:
    w = WorkloadProfile(**BASE)
    assert w.framework is ModelFramework.PYTORCH
    assert w.precision is Precision.BF16
    assert w.fine_tuning is FineTuning.FULL
    assert w.max_nodes == 1 and not w.distributed


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"model_params_m": -1}, "model_params_m"),
        ({"model_params_m": 0}, "model_params_m"),
        ({"dataset_size_gb": 0}, "dataset_size_gb"),
        ({"num_epochs": -3}, "num_epochs"),
        ({"framework": "torchx"}, "framework"),
        ({"precision": "fp4"}, "precision"),
        ({"batch_size": 0}, "batch_size"),
        ({"deadline_hours": 1e9}, "deadline_hours"),
        ({"model_params_m": float("nan")}, "model_params_m"),
        # Subnormal sizes made every estimate 0 hours and 0 cost (hypothesis, 2026-12-04).
        ({"dataset_size_gb": 5e-324}, "dataset_size_gb"),
        ({"num_epochs": 5e-324}, "num_epochs"),
        ({"model_params_m": 5e-324}, "model_params_m"),
        ({"tokens": 0.5}, "tokens"),
        ({"estimated_hours": 5e-324, "reference_gpu": "A100"}, "estimated_hours"),
        ({"budget_currency": "dollars"}, "budget_currency"),
        ({"max_nodes": 4}, "max_nodes"),
        ({"fine_tuning": "qlora", "precision": "bf16"}, "precision"),
        ({"framework": "lightgbm", "fine_tuning": "lora"}, "fine_tuning"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_workloads_name_the_field(patch: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_model(WorkloadProfile, {**BASE, **patch}, context="workload")
    message = str(info.value)
    assert message.startswith("workload: ")
    assert field in message
    assert "\n" not in message


def test_qlora_without_a_precision_quantises_the_base_to_4_bit() -> None:
    assert WorkloadProfile(**{**BASE, "fine_tuning": "qlora"}).precision is Precision.INT4
    given = WorkloadProfile(**{**BASE, "fine_tuning": "qlora", "precision": "int8"})
    assert given.precision is Precision.INT8
    assert WorkloadProfile(**{**BASE, "fine_tuning": "lora"}).precision is Precision.BF16


def test_unknown_framework_lists_allowed_values() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_model(WorkloadProfile, {**BASE, "framework": "torchx"})
    for framework in ModelFramework:
        assert framework.value in str(info.value)


def test_provider_lists_accept_comma_strings() -> None:
    w = WorkloadProfile(**BASE, allowed_providers="AWS, GCP,,")  # type: ignore[arg-type]
    assert w.allowed_providers == ("AWS", "GCP")


def test_query_id_ignores_constraints_but_not_the_name() -> None:
    a = WorkloadProfile(**BASE, name="a")
    b = WorkloadProfile(**BASE, name="a", budget=100, deadline_hours=5, allowed_providers=("AWS",))
    c = WorkloadProfile(**{**BASE, "num_epochs": 2}, name="a")
    other = WorkloadProfile(**BASE, name="b")
    assert a.query_id == b.query_id
    assert a.query_id != c.query_id
    # Two differently named workloads with the same fields are different queries...
    assert other.query_id != a.query_id
    assert len(a.query_id) == 16
    # ...unless the user says they are the same job.
    linked = WorkloadProfile(**BASE, name="b", same_as=a.query_id)
    assert linked.query_id == a.query_id


def test_model_params_optional_only_where_there_is_no_model() -> None:
    data = {"dataset_size_gb": 188.0, "gpu_required": False, "name": "join"}
    job = WorkloadProfile(**data)  # type: ignore[arg-type]
    assert job.model_params_m is None and job.is_data_processing
    tabular = WorkloadProfile(dataset_size_gb=5.0, framework="xgboost")  # type: ignore[arg-type]
    assert tabular.model_params_m is None and not tabular.is_data_processing
    with pytest.raises(ValidationError, match="model_params_m"):
        WorkloadProfile(dataset_size_gb=5.0)


@given(
    params=st.floats(min_value=0.001, max_value=1e6, allow_nan=False),
    data=st.floats(min_value=0.001, max_value=1e6, allow_nan=False),
    name=st.text(min_size=1, max_size=30),
)
def test_query_id_is_a_pure_function_of_canonical_fields(
    params: float, data: float, name: str
) -> None:
    w1 = WorkloadProfile(model_params_m=params, dataset_size_gb=data, name=name)
    w2 = WorkloadProfile.model_validate_json(w1.model_dump_json())
    assert w1.query_id == w2.query_id


def offering(**patch: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "provider": "AWS",
        "region": "us-east-1",
        "instance_type": "g5.xlarge",
        "gpu_type": "A10G",
        "gpu_count": 1,
        "gpu_memory_gb": 24,
        "price_per_hour": 1.006,
        "source": "test",
        "price_date": date(2026, 11, 1),
    }
    return {**base, **patch}


def test_offering_ids_and_gpu_consistency() -> None:
    o = Offering(**offering())
    assert o.offering_id == "AWS/us-east-1/g5.xlarge"
    assert o.total_gpu_memory_gb == 24
    with pytest.raises(InvalidInputError, match="gpu_type"):
        parse_model(Offering, offering(gpu_type=None))
    with pytest.raises(InvalidInputError, match="gpu_count"):
        parse_model(Offering, offering(gpu_count=0))
    with pytest.raises(InvalidInputError, match="price_per_hour"):
        parse_model(Offering, offering(price_per_hour=0))


def test_outcome_needs_final_status_and_metric_pairs() -> None:
    ok = JobOutcome(recommendation_id="r", rank=1, status=JobStatus.COMPLETED, hours=1, cost=2)
    assert ok.currency == "USD"
    with pytest.raises(InvalidInputError, match="status"):
        parse_model(
            JobOutcome,
            {"recommendation_id": "r", "rank": 1, "status": "running", "hours": 1, "cost": 1},
        )
    with pytest.raises(InvalidInputError, match="metric_after"):
        parse_model(
            JobOutcome,
            {
                "recommendation_id": "r",
                "rank": 1,
                "status": "completed",
                "hours": 1,
                "cost": 1,
                "metric_before": 0.5,
            },
        )
    with pytest.raises(InvalidInputError, match="cost"):
        parse_model(
            JobOutcome,
            {"recommendation_id": "r", "rank": 1, "status": "completed", "hours": 1, "cost": -5},
        )


def test_storage_and_cost_models_load_on_first_use() -> None:
    code = (
        "import sys, artenic_opt.schemas as s\n"
        "before = {m for m in ('storage', 'cost') if f'artenic_opt.schemas.{m}' in sys.modules}\n"
        "advice = s.StorageAdvice\n"
        "after = {m for m in ('storage', 'cost') if f'artenic_opt.schemas.{m}' in sys.modules}\n"
        "print(sorted(before), sorted(after), advice.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["[]", "['storage']", "artenic_opt.schemas.storage"]


def test_every_lazy_name_resolves_and_is_listed() -> None:
    import artenic_opt.schemas as schemas
    from artenic_opt.schemas import catalog, cost, feedback, results, status, storage

    modules = {
        "storage": storage,
        "cost": cost,
        "results": results,
        "feedback": feedback,
        "status": status,
        "catalog": catalog,
    }
    for name, module in schemas._LAZY.items():
        assert getattr(schemas, name) is getattr(modules[module], name)
        assert name in dir(schemas)
    for module in modules.values():
        tree = ast.parse(Path(str(module.__file__)).read_text())
        own = {
            target.id if isinstance(node, ast.Assign | ast.AnnAssign) else node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.Assign | ast.AnnAssign)
            for target in (
                node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", node)]
            )
            if isinstance(target, ast.Name) or not isinstance(node, ast.Assign | ast.AnnAssign)
        }
        public = {name for name in own if not name.startswith("_")}
        assert public <= set(schemas._LAZY), public - set(schemas._LAZY)
    with pytest.raises(AttributeError, match="NoSuchModel"):
        _ = schemas.NoSuchModel
