"""Candidate expansion and per-row estimates (artenic_opt.estimate.candidates)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates
from artenic_opt.catalog import CatalogArrays, load_catalog
from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate.candidates import (
    as_exchange_rates,
    build_candidates,
    estimate_candidates,
    resolve_reference,
)
from artenic_opt.schemas import Offering, WorkloadProfile
from artenic_opt.training_advisor import TrainingAdvisor
from artenic_opt.types import Precision
from tests.factories import make_a100_offering

CATALOG = load_catalog()


def _without_figures(gpu_type: str) -> CatalogArrays:
    """The catalog's arrays with ``gpu_type``'s throughput figures removed (a GPU with no data)."""
    specs = dict(CATALOG.gpu_specs)
    specs[gpu_type] = specs[gpu_type].model_copy(
        update={"bf16_tflops": None, "fp16_tflops": None, "fp32_tflops": None}
    )
    return CatalogArrays.from_offerings(CATALOG.offerings, specs)


def offering(**fields: Any) -> Offering:
    return make_a100_offering(**{"spot_price_per_hour": 0.8, **fields})


def arrays(*offerings: Offering) -> CatalogArrays:
    return CatalogArrays.from_offerings(offerings, CATALOG.gpu_specs)


def small_llm(**fields: Any) -> WorkloadProfile:
    base: dict[str, Any] = {"model_params_m": 100, "dataset_size_gb": 1, "tokens": 1e8}
    base.update(fields)
    return WorkloadProfile(framework="transformers", **base)


def test_candidates_expand_nodes_and_spot() -> None:
    catalog = arrays(
        offering(instance_type="a"), offering(instance_type="b", spot_price_per_hour=None)
    )
    single = build_candidates(small_llm(), catalog)
    assert len(single) == 3  # two on-demand, one spot
    assert single.spot.tolist() == [False, False, True]
    no_spot = build_candidates(small_llm(spot_allowed=False), catalog)
    assert not no_spot.spot.any() and len(no_spot) == 2
    multi = build_candidates(small_llm(distributed=True, max_nodes=3), catalog)
    assert len(multi) == 9
    assert sorted(multi.nodes.tolist()) == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    ids = {multi.candidate_id(i) for i in range(len(multi))}
    assert "AWS/us-east-1/a#3#spot" in ids and "AWS/us-east-1/b#2#on_demand" in ids
    assert multi.price_per_hour[multi.spot].tolist() == [0.8, 0.8, 0.8]


def test_provider_figures_are_attached_case_insensitively() -> None:
    catalog = arrays(offering(provider="AWS"), offering(provider="Lambda", instance_type="l"))
    candidates = build_candidates(
        small_llm(),
        catalog,
        reliability={"aws": 0.5},
        preemption_rates={"LAMBDA": 0.4},
    )
    by_provider = {
        str(p): (r, q)
        for p, r, q in zip(
            candidates.provider,
            candidates.reliability,
            candidates.preemption_rate_per_hour,
            strict=True,
        )
    }
    assert by_provider["AWS"] == (0.5, 0.01)
    assert by_provider["Lambda"] == (1.0, 0.4)


def test_rates_tables() -> None:
    assert as_exchange_rates(None) is DEFAULT_RATES
    table = ExchangeRates({"EUR": 0.5}, source="test")
    assert as_exchange_rates(table) is table
    assert as_exchange_rates({"GBP": 0.8})["GBP"] == 0.8
    candidates = build_candidates(small_llm(), arrays(offering()), currency="EUR", rates=table)
    assert candidates.on_demand_price_per_hour[0] == pytest.approx(1.0)
    assert candidates.usd_per_unit == pytest.approx(2.0)


def test_reference_gpu_resolution() -> None:
    assert resolve_reference(small_llm(), CATALOG.arrays) is None
    cpu_bound = WorkloadProfile(
        framework="lightgbm",
        model_params_m=1,
        dataset_size_gb=1,
        estimated_hours=2,
        reference_gpu="A100",
    )
    assert resolve_reference(cpu_bound, CATALOG.arrays) is None
    reference = resolve_reference(
        small_llm(estimated_hours=2, reference_gpu="NVIDIA H100-SXM5-80GB", reference_gpu_count=8),
        CATALOG.arrays,
    )
    assert reference is not None
    assert reference.gpu_type == "H100 SXM" and reference.peak_tflops_per_gpu == 989.0
    t4g = resolve_reference(small_llm(estimated_hours=2, reference_gpu="T4G"), CATALOG.arrays)
    assert t4g is not None and t4g.peak_tflops_per_gpu == 65.1
    with pytest.raises(InvalidInputError, match="no throughput figure for T4G"):
        no_figures = _without_figures("T4G")
        resolve_reference(small_llm(estimated_hours=2, reference_gpu="T4G"), no_figures)
    with pytest.raises(InvalidInputError, match=r"known GPU types: .*H100 SXM"):
        resolve_reference(small_llm(estimated_hours=2, reference_gpu="TPU v5"), CATALOG.arrays)


def test_take_and_estimates_stay_aligned() -> None:
    w = small_llm(distributed=True, max_nodes=2)
    candidates = build_candidates(w, CATALOG.arrays)
    estimates = estimate_candidates(w, candidates)
    rows = np.array([5, 0, 3])
    sub = estimates.take(rows)
    np.testing.assert_array_equal(sub.total_cost, estimates.total_cost[rows])
    np.testing.assert_array_equal(sub.memory.needed_gb, estimates.memory.needed_gb[rows])
    np.testing.assert_array_equal(sub.time.hours, estimates.time.hours[rows])
    mask = np.zeros(len(candidates), dtype=bool)
    mask[[1, 2]] = True
    assert len(candidates.take(mask)) == 2
    with pytest.raises(InvalidInputError, match="mask"):
        candidates.take(np.ones(3, dtype=bool))
    spot = candidates.spot
    np.testing.assert_array_equal(estimates.hours[spot], estimates.cost.spot_hours[spot])
    np.testing.assert_array_equal(estimates.hours[~spot], estimates.time.hours[~spot])


def _without_tensor_figures(catalog: CatalogArrays) -> CatalogArrays:
    blank = np.full(len(catalog), np.nan)
    return dataclasses.replace(catalog, gpu_bf16_tflops=blank, gpu_fp16_tflops=blank.copy())


def test_advisor_warns_when_throughput_is_substituted_or_estimated() -> None:
    w = small_llm(spot_allowed=False)
    v100 = arrays(offering(gpu_type="V100 32GB", instance_type="v100"))
    rec = TrainingAdvisor(v100).recommend(w).advice.recommendations[0]
    assert any("no native bf16" in warning and "fp16" in warning for warning in rec.warnings)
    fallback = _without_tensor_figures(arrays(offering(instance_type="a100")))
    rec = TrainingAdvisor(fallback).recommend(w).advice.recommendations[0]
    assert any("2 x its fp32 rate" in warning for warning in rec.warnings)
    # Overrides applied with model_copy are re-validated (a plain string becomes the enum).
    rec16 = TrainingAdvisor(v100).recommend(w.model_copy(update={"precision": "fp16"}))
    assert rec16.advice.workload.precision is Precision.FP16
    assert not rec16.advice.recommendations[0].warnings
    with pytest.raises(InvalidInputError, match="qlora"):
        TrainingAdvisor(v100).recommend(w.model_copy(update={"fine_tuning": "qlora"}))


def test_advisor_warns_about_cpu_training_and_thin_headroom() -> None:
    cpu = arrays(offering(gpu_type=None, gpu_count=0, instance_type="c", vcpus=None))
    rec = (
        TrainingAdvisor(cpu)
        .recommend(small_llm(gpu_required=False, spot_allowed=False))
        .advice.recommendations[0]
    )
    assert any("deep learning on CPUs only" in warning for warning in rec.warnings)
    assert any("vCPU count not published" in warning for warning in rec.warnings)
    assert rec.estimated_hours > 0
