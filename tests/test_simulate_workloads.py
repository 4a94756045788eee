"""Synthetic workloads: deterministic for a seed, varied, and realistic."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from artenic_opt.errors import InvalidInputError
from artenic_opt.simulate import WORKLOAD_FAMILIES, _physics as phys, generate_workloads
from artenic_opt.types import FineTuning, ModelFramework, Precision


@pytest.fixture(scope="module")
def mix() -> list:  # type: ignore[type-arg]
    return generate_workloads(42, 400, providers=("AWS", "GCP", "RunPod", "Lambda"))


def test_same_seed_same_workloads_and_other_seeds_differ() -> None:
    assert generate_workloads(3, 50) == generate_workloads(3, 50)
    assert generate_workloads(3, 50) != generate_workloads(4, 50)
    assert generate_workloads(np.random.default_rng(3), 50) == generate_workloads(3, 50)


def test_a_generator_keeps_drawing_new_workloads() -> None:
    rng = np.random.default_rng(0)
    first = generate_workloads(rng, 10)
    second = generate_workloads(rng, 10)
    assert {w.query_id for w in first}.isdisjoint({w.query_id for w in second})


def test_the_mix_covers_every_family_and_framework_kind(mix: list) -> None:  # type: ignore[type-arg]
    prefixes = Counter(w.name.split("-")[0] for w in mix)
    for prefix in ("lora", "qlora", "full", "pretrain", "vision", "speech", "gbdt", "sklearn"):
        assert prefixes[prefix] >= 5, prefix
    frameworks = {w.framework for w in mix}
    assert {
        ModelFramework.LIGHTGBM,
        ModelFramework.XGBOOST,
        ModelFramework.CATBOOST,
        ModelFramework.SKLEARN,
        ModelFramework.TRANSFORMERS,
        ModelFramework.PYTORCH,
    } <= frameworks
    assert len({w.query_id for w in mix}) > 0.95 * len(mix)


def test_constraints_are_sometimes_set(mix: list) -> None:  # type: ignore[type-arg]
    share = len(mix)
    assert 0.2 * share < sum(w.deadline_hours is not None for w in mix) < 0.4 * share
    assert 0.1 * share < sum(w.budget is not None for w in mix) < 0.3 * share
    assert 0.1 * share < sum(not w.spot_allowed for w in mix) < 0.3 * share
    restricted = [w for w in mix if w.allowed_providers]
    assert restricted
    assert all(set(w.allowed_providers) <= {"AWS", "GCP", "RunPod", "Lambda"} for w in restricted)
    assert any(w.estimated_hours is not None and w.reference_gpu for w in mix)


def test_language_models_are_realistic(mix: list) -> None:  # type: ignore[type-arg]
    adapters = [w for w in mix if w.fine_tuning is not FineTuning.FULL]
    assert adapters
    for w in adapters:
        assert 1_000 <= w.model_params_m <= 70_000
        assert w.tokens is not None
        if w.fine_tuning is FineTuning.QLORA:
            assert w.precision is Precision.INT4
    assert any(w.model_params_m == 70_000 for w in adapters)
    pretrain = [w for w in mix if w.name.startswith("pretrain")]
    for w in pretrain:
        assert w.tokens is not None
        assert 10 <= w.tokens / (w.model_params_m * 1e6) <= 30
        assert w.distributed and w.max_nodes >= 2


def test_models_that_cannot_fit_one_gpu_are_distributed(mix: list) -> None:  # type: ignore[type-arg]
    from artenic_opt.simulate.workloads import _ONE_A100

    for w in mix:
        if w.framework.is_cpu_bound or w.distributed:
            continue
        assert phys.gpu_memory_needed_gb(w, _ONE_A100, 1) <= 80, w.name


def test_cpu_jobs_do_not_ask_for_gpus(mix: list) -> None:  # type: ignore[type-arg]
    cpu = [w for w in mix if w.framework.is_cpu_bound]
    assert cpu
    assert all(not w.gpu_required and w.fine_tuning is FineTuning.FULL for w in cpu)
    assert sum(not w.checkpointing for w in cpu) > len(cpu) / 2


def test_families_restrict_the_mix() -> None:
    only = generate_workloads(1, 30, families=["tabular"])
    assert {w.framework for w in only} <= {
        ModelFramework.LIGHTGBM,
        ModelFramework.XGBOOST,
        ModelFramework.CATBOOST,
    }
    assert set(WORKLOAD_FAMILIES) >= {"llm-lora", "sklearn"}


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((1, -1), {}, "n:"),
        ((-1, 3), {}, "seed"),
        ((1, 3), {"families": ["quantum"]}, "families: unknown quantum"),
        ((1, 3), {"families": []}, "families"),
    ],
)
def test_bad_arguments_name_the_field(args: tuple, kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInputError, match=message):
        generate_workloads(*args, **kwargs)


def test_zero_workloads_is_an_empty_list() -> None:
    assert generate_workloads(0, 0) == []
