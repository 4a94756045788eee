"""Whole-job cost and spot retries (artenic_opt.estimate.cost)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate import assumptions as asm
from artenic_opt.estimate.cost import (
    estimate_cost,
    expected_spot_hours,
    preemption_rate_for,
    validate_preemption_rates,
)

NAN = math.nan


def test_on_demand_cost_is_hours_times_price_times_nodes() -> None:
    cost = estimate_cost(
        [10.0, 4.0],
        nodes=[1, 3],
        on_demand_price_per_hour=[2.5, 10.0],
        spot_price_per_hour=[NAN, NAN],
        preemption_rate_per_hour=[0.01, 0.01],
        checkpointing=True,
        checkpoint_interval_hours=1.0,
    )
    assert cost.on_demand_cost.tolist() == [25.0, 120.0]
    assert np.isnan(cost.spot_cost).all() and np.isnan(cost.spot_hours).all()
    assert cost.expected_preemptions.tolist() == [0.0, 0.0]
    assert "offering.spot_price_per_hour" not in cost.inputs_used


def test_spot_with_checkpoints_loses_half_an_interval_per_preemption() -> None:
    # Small hazard: E[T] ~ T * (1 + mu * (c/2 + restart)).
    run, mu, interval = 100.0, 0.001, 2.0
    hours, preemptions = expected_spot_hours(
        [run], job_preemption_rate=[mu], checkpointing=True, checkpoint_interval_hours=interval
    )
    approx = run * (1 + mu * (interval / 2 + asm.RESTART_OVERHEAD_HOURS))
    assert float(hours[0]) == pytest.approx(approx, rel=1e-3)
    assert float(preemptions[0]) == pytest.approx(mu * run, rel=1e-2)


def test_spot_without_checkpoints_loses_the_elapsed_run() -> None:
    # Small hazard: E[T] ~ T + mu * T^2 / 2 (each preemption loses half the run on average).
    run, mu = 10.0, 0.001
    hours, _ = expected_spot_hours(
        [run], job_preemption_rate=[mu], checkpointing=False, checkpoint_interval_hours=1.0
    )
    approx = run + mu * run**2 / 2 + mu * run * asm.RESTART_OVERHEAD_HOURS
    assert float(hours[0]) == pytest.approx(approx, rel=1e-3)
    exact = (1 / mu + asm.RESTART_OVERHEAD_HOURS) * math.expm1(mu * run)
    assert float(hours[0]) == pytest.approx(exact)


def test_zero_rate_and_divergence() -> None:
    hours, preemptions = expected_spot_hours(
        [5.0, 1000.0],
        job_preemption_rate=[0.0, 1.0],
        checkpointing=False,
        checkpoint_interval_hours=1.0,
    )
    assert hours[0] == 5.0 and preemptions[0] == 0.0
    assert math.isinf(hours[1]) and math.isinf(preemptions[1])


def test_spot_cost_uses_spot_price_and_all_nodes() -> None:
    cost = estimate_cost(
        [10.0, 10.0],
        nodes=[1, 4],
        on_demand_price_per_hour=[3.0, 3.0],
        spot_price_per_hour=[1.0, 1.0],
        preemption_rate_per_hour=[0.02, 0.02],
        checkpointing=True,
        checkpoint_interval_hours=1.0,
    )
    # Four nodes are preempted four times as often and pay four prices.
    assert cost.job_preemption_rate.tolist() == pytest.approx([0.02, 0.08])
    assert cost.spot_hours[1] > cost.spot_hours[0] > 10.0
    assert cost.spot_cost[0] == pytest.approx(cost.spot_hours[0] * 1.0)
    assert cost.spot_cost[1] == pytest.approx(cost.spot_hours[1] * 4.0)
    assert cost.spot_cost[0] < cost.on_demand_cost[0]
    assert "checkpointing" in cost.inputs_used


def test_preemption_rates_priors_and_overrides() -> None:
    assert preemption_rate_for("AWS") == asm.PREEMPTION_RATE_PRIORS_PER_HOUR["aws"]
    assert preemption_rate_for("gcp") == asm.PREEMPTION_RATE_PRIORS_PER_HOUR["gcp"]
    assert preemption_rate_for("Vast.ai") == asm.DEFAULT_PREEMPTION_RATE_PER_HOUR
    assert preemption_rate_for("aws", {"AWS": 0.2}) == 0.2
    assert validate_preemption_rates({" AWS ": 0.1}) == {"aws": 0.1}
    with pytest.raises(InvalidInputError, match=r"preemption_rates\.aws"):
        validate_preemption_rates({"aws": -1})
    with pytest.raises(InvalidInputError, match=r"preemption_rates\.gcp"):
        validate_preemption_rates({"gcp": float("nan")})


@settings(max_examples=100, deadline=None)
@given(
    run=st.floats(min_value=0.01, max_value=5000),
    rate=st.floats(min_value=0.0, max_value=0.5),
    interval=st.floats(min_value=0.05, max_value=24),
)
def test_spot_time_properties(run: float, rate: float, interval: float) -> None:
    with_ckpt, _ = expected_spot_hours(
        [run], job_preemption_rate=[rate], checkpointing=True, checkpoint_interval_hours=interval
    )
    without, _ = expected_spot_hours(
        [run], job_preemption_rate=[rate], checkpointing=False, checkpoint_interval_hours=interval
    )
    higher, _ = expected_spot_hours(
        [run],
        job_preemption_rate=[rate * 2 + 0.001],
        checkpointing=True,
        checkpoint_interval_hours=interval,
    )
    assert with_ckpt[0] >= run * (1 - 1e-12)
    assert with_ckpt[0] <= without[0] * (1 + 1e-9)
    assert higher[0] >= with_ckpt[0] * (1 - 1e-12)
