"""Whole-job cost of every candidate row, on-demand and spot, vectorised.

* On-demand: hours x price per node-hour x nodes.
* Spot: the expected wall-clock time under preemptions, times the spot price x nodes. A job on
  ``n`` nodes is interrupted when any node is, so its preemption rate is ``n`` times the
  per-instance rate. With checkpoints every ``c`` hours a run of ``T`` hours is ``T/c`` segments,
  and each segment of length ``c`` takes ``(1/mu + r) * (exp(mu*c) - 1)`` hours in expectation
  under preemptions at rate ``mu`` with restart overhead ``r`` (the classic restart-under-
  exponential-failures result). For small ``mu*c`` that is ``c * (1 + mu*(c/2 + r))``: each
  preemption loses half an interval plus the restart, as expected. Without checkpointing the
  whole run is one segment, so every preemption loses all the work done so far. Restart time is
  billed, conservatively.
* Preemption rates: the per-provider priors of ``assumptions``, overridden per provider by
  measured rates (``preemption_rates``; provider names compare case-insensitively).
* A segment expecting more than ``MAX_HAZARD_PER_SEGMENT`` preemptions never finishes in
  practice: such rows get infinite spot hours and cost, which the ranker treats as infeasible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import FloatArray
from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate import assumptions as asm


@dataclass(frozen=True, slots=True, eq=False)
class CostArrays:
    """Per-row cost estimate, in the currency of the prices given."""

    on_demand_cost: FloatArray
    #: NaN where the row has no spot price.
    spot_cost: FloatArray
    #: Expected wall-clock hours on spot, retries included (NaN without a spot price).
    spot_hours: FloatArray
    expected_preemptions: FloatArray
    #: Preemption rate of the whole job (all nodes), per hour.
    job_preemption_rate: FloatArray
    inputs_used: tuple[str, ...]


def preemption_rate_for(provider: str, overrides: Mapping[str, float] | None = None) -> float:
    """Preemption rate per instance-hour of ``provider``: a measured override, else the prior."""
    key = provider.strip().lower()
    if overrides:
        for name, rate in overrides.items():
            if name.strip().lower() == key:
                return float(rate)
    return asm.PREEMPTION_RATE_PRIORS_PER_HOUR.get(key, asm.DEFAULT_PREEMPTION_RATE_PER_HOUR)


def validate_preemption_rates(rates: Mapping[str, float] | None) -> dict[str, float]:
    """Lower-case provider keys and check every rate is a finite, non-negative number."""
    checked: dict[str, float] = {}
    for name, rate in (rates or {}).items():
        value = float(rate)
        if not np.isfinite(value) or value < 0:
            raise InvalidInputError(
                f"preemption_rates.{name}: must be a non-negative number per hour, got {rate!r}"
            )
        checked[name.strip().lower()] = value
    return checked


def expected_spot_hours(
    hours: npt.ArrayLike,
    *,
    job_preemption_rate: npt.ArrayLike,
    checkpointing: bool,
    checkpoint_interval_hours: float,
    restart_overhead_hours: float = asm.RESTART_OVERHEAD_HOURS,
) -> tuple[FloatArray, FloatArray]:
    """Expected wall-clock hours and expected preemptions of runs of ``hours`` on spot."""
    run = np.asarray(hours, dtype=np.float64)
    mu = np.asarray(job_preemption_rate, dtype=np.float64)
    segment = np.minimum(checkpoint_interval_hours, run) if checkpointing else run
    # A zero-hour run is one segment (not 0 / 0).
    segments = np.divide(run, segment, out=np.ones_like(run), where=segment > 0)
    hazard = mu * segment
    # Cap the hazard before ``expm1`` so nothing overflows; capped rows become infinite below.
    capped = np.minimum(hazard, asm.MAX_HAZARD_PER_SEGMENT)
    per_segment = np.expm1(capped)
    # (1/mu) * expm1(mu*c) = c * expm1(x)/x with x = mu*c, which is c when mu = 0 (and never
    # divides by a subnormal rate).
    growth = np.divide(per_segment, capped, out=np.ones(run.shape), where=capped > 0)
    preemptions: FloatArray = segments * per_segment
    expected: FloatArray = run * growth + restart_overhead_hours * preemptions
    diverges = hazard > asm.MAX_HAZARD_PER_SEGMENT
    if diverges.any():
        expected = np.where(diverges, np.inf, expected)
        preemptions = np.where(diverges, np.inf, preemptions)
    return expected, preemptions


def estimate_cost(
    hours: npt.ArrayLike,
    *,
    nodes: npt.ArrayLike,
    on_demand_price_per_hour: npt.ArrayLike,
    spot_price_per_hour: npt.ArrayLike,
    preemption_rate_per_hour: npt.ArrayLike,
    checkpointing: bool,
    checkpoint_interval_hours: float,
    restart_overhead_hours: float = asm.RESTART_OVERHEAD_HOURS,
) -> CostArrays:
    """Whole-job cost on-demand and on spot for every row.

    Prices are per node-hour; ``preemption_rate_per_hour`` is per instance (node).
    """
    run = np.asarray(hours, dtype=np.float64)
    node_count = np.asarray(nodes, dtype=np.float64)
    on_demand = np.asarray(on_demand_price_per_hour, dtype=np.float64)
    spot_price = np.asarray(spot_price_per_hour, dtype=np.float64)
    rate = np.asarray(preemption_rate_per_hour, dtype=np.float64)
    job_rate = rate * node_count
    # NaN spot prices (no spot sold) propagate to NaN spot costs.
    has_spot = spot_price == spot_price
    any_spot = bool(has_spot.any())
    if any_spot:
        spot_hours, preemptions = expected_spot_hours(
            run,
            job_preemption_rate=job_rate,
            checkpointing=checkpointing,
            checkpoint_interval_hours=checkpoint_interval_hours,
            restart_overhead_hours=restart_overhead_hours,
        )
        spot_cost = spot_hours * spot_price * node_count
        spot_hours = np.where(has_spot, spot_hours, np.nan)
        preemptions = np.where(has_spot, preemptions, 0.0)
    else:
        spot_cost = spot_hours = np.full(run.shape, np.nan)
        preemptions = np.zeros(run.shape)
    used: tuple[str, ...] = ("offering.price_per_hour", "nodes")
    if any_spot:
        used += (
            "offering.spot_price_per_hour",
            "offering.provider",
            "checkpointing",
            "checkpoint_interval_hours",
        )
    return CostArrays(
        on_demand_cost=run * on_demand * node_count,
        spot_cost=spot_cost,
        spot_hours=spot_hours,
        expected_preemptions=preemptions,
        job_preemption_rate=job_rate,
        inputs_used=used,
    )
