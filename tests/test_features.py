"""Feature extraction (artenic_opt.training_advisor.feature_extractor)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.catalog import load_catalog
from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate.candidates import (
    DESCRIPTOR_NAMES,
    build_candidates,
    estimate_candidates,
)
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.training_advisor.feature_extractor import (
    FEATURE_NAMES,
    FEATURE_SCHEMA_VERSION,
    UNKNOWN,
    extract_features,
    extract_single,
)
from artenic_opt.types import FineTuning, ModelFramework, Precision

CATALOG = load_catalog()


@st.composite
def workloads(draw: st.DrawFn) -> WorkloadProfile:
    framework = draw(st.sampled_from(list(ModelFramework)))
    fine_tuning = (
        FineTuning.FULL if framework.is_cpu_bound else draw(st.sampled_from(list(FineTuning)))
    )
    if fine_tuning is FineTuning.QLORA:
        precision = draw(st.sampled_from([Precision.INT4, Precision.INT8]))
    else:
        precision = draw(st.sampled_from(list(Precision)))
    distributed = draw(st.booleans())
    return WorkloadProfile(
        framework=framework,
        fine_tuning=fine_tuning,
        precision=precision,
        model_params_m=draw(st.floats(min_value=1, max_value=200_000)),
        dataset_size_gb=draw(st.floats(min_value=0.01, max_value=2000)),
        num_epochs=draw(st.floats(min_value=0.5, max_value=10)),
        batch_size=draw(st.integers(min_value=1, max_value=64)),
        sequence_length=draw(st.sampled_from([128, 512, 2048, 8192])),
        tokens=draw(st.one_of(st.none(), st.floats(min_value=1e6, max_value=1e12))),
        gradient_checkpointing=draw(st.booleans()),
        distributed=distributed,
        max_nodes=draw(st.integers(min_value=1, max_value=3)) if distributed else 1,
        spot_allowed=draw(st.booleans()),
        checkpointing=draw(st.booleans()),
    )


def lora_7b(**fields: Any) -> WorkloadProfile:
    base: dict[str, Any] = {
        "model_params_m": 7000,
        "dataset_size_gb": 1,
        "fine_tuning": "lora",
        "batch_size": 4,
        "gradient_checkpointing": True,
    }
    base.update(fields)
    return WorkloadProfile(**base)


def test_feature_names_and_schema() -> None:
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES)) >= 25
    assert isinstance(FEATURE_SCHEMA_VERSION, int)
    w = lora_7b()
    candidates = build_candidates(w, CATALOG.arrays)
    features = extract_features(w, candidates)
    assert features.values.shape == (len(candidates), len(FEATURE_NAMES))
    assert features.values.dtype == np.float64
    assert features.names == FEATURE_NAMES
    assert features.schema_version == FEATURE_SCHEMA_VERSION
    assert len(features) == len(candidates)


@pytest.mark.parametrize("framework", list(ModelFramework))
def test_every_framework_gives_finite_features_and_equal_single_rows(
    framework: ModelFramework,
) -> None:
    w = WorkloadProfile(framework=framework, model_params_m=300, dataset_size_gb=5, num_epochs=2)
    candidates = build_candidates(w, CATALOG.arrays)
    features = extract_features(w, candidates)
    assert np.isfinite(features.values).all()
    family = features.column("framework_family")
    expected_family = {
        ModelFramework.LIGHTGBM: 2.0,
        ModelFramework.XGBOOST: 2.0,
        ModelFramework.CATBOOST: 2.0,
        ModelFramework.SKLEARN: 3.0,
        ModelFramework.TRANSFORMERS: 0.0,
    }.get(framework, 1.0)
    assert np.all(family == expected_family)
    for row in (0, len(candidates) // 2, len(candidates) - 1):
        single = extract_single(w, candidates.row(row), context=features.context)
        np.testing.assert_array_equal(single, features.values[row])


@settings(max_examples=40, deadline=None)
@given(w=workloads(), pick=st.floats(min_value=0, max_value=1))
def test_single_row_equals_batch_row(w: WorkloadProfile, pick: float) -> None:
    candidates = build_candidates(w, CATALOG.arrays)
    features = extract_features(w, candidates)
    row = min(int(pick * len(candidates)), len(candidates) - 1)
    single = extract_single(w, candidates.row(row), context=features.context)
    np.testing.assert_array_equal(single, features.values[row])
    assert np.isfinite(features.values).all()


def test_single_without_context_is_a_set_of_one() -> None:
    w = lora_7b()
    candidates = build_candidates(w, CATALOG.arrays)
    alone = extract_single(w, candidates.row(3))
    np.testing.assert_array_equal(alone, extract_features(w, candidates.row(3)).values[0])
    assert alone[FEATURE_NAMES.index("cost_rank_pct")] == 0.0
    assert alone[FEATURE_NAMES.index("log_cost_ratio_to_min")] == 0.0


def test_features_do_not_depend_on_row_order() -> None:
    w = lora_7b(distributed=True, max_nodes=2)
    candidates = build_candidates(w, CATALOG.arrays)
    features = extract_features(w, candidates)
    perm = np.random.default_rng(7).permutation(len(candidates))
    permuted = extract_features(w, candidates.take(perm))
    np.testing.assert_array_equal(permuted.values, features.values[perm])


def test_display_currency_does_not_change_features() -> None:
    w = lora_7b()
    usd = extract_features(w, build_candidates(w, CATALOG.arrays, currency="USD"))
    eur = extract_features(
        w, build_candidates(w, CATALOG.arrays, currency="EUR", rates={"EUR": 0.92})
    )
    np.testing.assert_allclose(eur.values, usd.values, rtol=1e-12, atol=1e-12)


def test_cross_features_follow_estimates() -> None:
    w = lora_7b()
    candidates = build_candidates(w, CATALOG.arrays)
    estimates = estimate_candidates(w, candidates)
    features = extract_features(w, candidates, estimates=estimates)
    fits = features.column("fits").astype(bool)
    assert np.array_equal(fits, estimates.memory.fits & estimates.memory.host_fits)
    finite = np.isfinite(estimates.total_cost)
    np.testing.assert_allclose(
        features.column("log_estimated_cost_usd")[finite], np.log10(estimates.total_cost[finite])
    )
    spot = candidates.spot
    assert np.all(features.column("is_spot") == spot)
    assert np.all(features.column("expected_preemptions")[~spot] == 0.0)
    assert np.all(features.column("preemption_rate_per_hour")[spot] > 0)
    pct = features.column("cost_rank_pct")
    assert pct.min() == 0.0 and pct.max() <= 1.0
    cheapest = int(np.argmin(np.where(finite, estimates.total_cost, np.inf)))
    assert pct[cheapest] == 0.0


def test_unpublished_figures_are_minus_one() -> None:
    w = lora_7b()
    candidates = build_candidates(w, CATALOG.arrays)
    features = extract_features(w, candidates)
    unknown_vcpus = ~np.isfinite(candidates.vcpus)
    assert unknown_vcpus.any()
    assert np.all(features.column("vcpus")[unknown_vcpus] == UNKNOWN)
    assert np.all(
        features.column("system_memory_gb")[~np.isfinite(candidates.memory_gb)] == UNKNOWN
    )


def test_tied_costs_share_a_rank() -> None:
    w = lora_7b()
    candidates = build_candidates(w, CATALOG.arrays)
    pair = candidates.take(np.array([0, 0, 1]))
    features = extract_features(w, pair)
    pct = features.column("cost_rank_pct")
    assert pct[0] == pct[1]


def test_bad_arguments() -> None:
    w = lora_7b()
    candidates = build_candidates(w, CATALOG.arrays)
    features = extract_features(w, candidates)
    with pytest.raises(InvalidInputError, match="unknown name"):
        features.column("nope")
    with pytest.raises(InvalidInputError, match="one candidate row"):
        extract_single(w, candidates.take(np.array([0, 1])))


def test_descriptor_block_sits_in_the_feature_order() -> None:
    start = FEATURE_NAMES.index(DESCRIPTOR_NAMES[0])
    assert FEATURE_NAMES[start : start + len(DESCRIPTOR_NAMES)] == DESCRIPTOR_NAMES
