"""Data-processing jobs on CPU clusters: the calibrated cluster model and how the advisor ranks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from artenic_opt.catalog import load_catalog
from artenic_opt.estimate.cluster import (
    SPARK_MEMORY_FRACTION,
    WORKING_SET_FRACTION,
    estimate_cluster,
)
from artenic_opt.estimate.runtime import PeakSource, estimate_hours
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.training_advisor import TrainingAdvisor

JOIN = WorkloadProfile(
    name="join", dataset_size_gb=187.6, gpu_required=False, distributed=True, max_nodes=48
)
# The Scout measurements the model was fitted to: (nodes, vCPUs per node, GB per node, seconds).
SCOUT_JOIN = [(4, 8, 15.0, 483.0), (10, 8, 15.0, 305.1), (48, 2, 3.75, 417.8), (12, 8, 32.0, 378.5)]


def test_cluster_model_reproduces_its_calibration_runs() -> None:
    nodes, vcpus, ram, seconds = (
        np.array(c, dtype=np.float64) for c in zip(*SCOUT_JOIN, strict=True)
    )
    estimate = estimate_cluster(JOIN, nodes=nodes, vcpus=vcpus, memory_gb=ram)
    ratio = estimate.hours * 3600 / seconds
    assert np.all(np.abs(ratio - 1) < 0.15), ratio
    assert np.all(estimate.spill_gb == 0)  # none of the calibration runs spilled


def test_a_working_set_beyond_cluster_memory_spills_and_costs_time() -> None:
    small = 1.0  # GB per node: far below the working set
    fits = JOIN.dataset_size_gb * WORKING_SET_FRACTION / (4 * SPARK_MEMORY_FRACTION) * 2
    estimate = estimate_cluster(
        JOIN, nodes=[4, 4, 4], vcpus=[8, 8, 8], memory_gb=[small, fits, np.nan]
    )
    assert estimate.spill_gb[0] > 0 and estimate.spill_gb[1] == 0 and estimate.spill_gb[2] == 0
    assert estimate.hours[0] > estimate.hours[1] == estimate.hours[2]


@given(
    data=st.floats(0.01, 1e5),
    nodes=st.integers(1, 512),
    vcpus=st.integers(1, 448),
    ram=st.floats(0.5, 4096),
)
def test_cluster_model_is_finite_positive_and_monotone_in_data(
    data: float, nodes: int, vcpus: int, ram: float
) -> None:
    job = JOIN.model_copy(update={"dataset_size_gb": data})
    bigger = JOIN.model_copy(update={"dataset_size_gb": data * 2})
    one = estimate_cluster(job, nodes=[nodes], vcpus=[vcpus], memory_gb=[ram])
    two = estimate_cluster(bigger, nodes=[nodes], vcpus=[vcpus], memory_gb=[ram])
    assert math.isfinite(one.hours[0]) and one.hours[0] > 0
    assert 0 < one.parallel_efficiency[0] <= 1
    assert two.hours[0] > one.hours[0]


def test_estimate_hours_delegates_data_processing_to_the_cluster_model() -> None:
    time = estimate_hours(
        JOIN,
        gpu_count=[0, 0],
        nodes=[4, 10],
        vcpus=[8, np.nan],
        bf16_tflops=[np.nan, np.nan],
        fp16_tflops=[np.nan, np.nan],
        fp32_tflops=[np.nan, np.nan],
        memory_gb=[15.0, 15.0],
    )
    expected = estimate_cluster(JOIN, nodes=[4], vcpus=[8], memory_gb=[15.0]).hours[0]
    assert time.hours[0] == pytest.approx(expected)
    assert list(time.vcpus_assumed) == [False, True]
    assert set(time.peak_source.tolist()) == {PeakSource.CPU}
    assert "offering.memory_gb" in time.inputs_used


def test_a_cpu_data_processing_job_is_ranked_over_cpu_offerings_with_node_counts() -> None:
    advisor = TrainingAdvisor(load_catalog())
    advice = advisor.recommend(JOIN.model_copy(update={"spot_allowed": False}), top=10).advice
    recs = advice.recommendations
    assert all(r.offering.gpu_count == 0 for r in recs)
    assert len({r.nodes for r in recs}) > 1 and max(r.nodes for r in recs) > 1
    # Minutes, not the "0 min" of a GPU FLOP model, and a few cents to a few dollars.
    assert all(1 / 60 < r.estimated_hours < 10 for r in recs)
    assert advice.candidates_considered > 48 * 10


def test_data_processing_advice_says_cpu_not_deep_learning_on_cpu() -> None:
    advice = (
        TrainingAdvisor(load_catalog())
        .recommend(JOIN.model_copy(update={"spot_allowed": False}), top=3)
        .advice
    )
    for rec in advice.recommendations:
        assert not any("deep learning on CPUs" in w for w in rec.warnings)
        assert "data processing on CPUs: no GPU to pay for" in rec.reasons
