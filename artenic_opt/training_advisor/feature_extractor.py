"""Feature rows for learning to rank: one row per (workload, candidate) pair.

``extract_features`` builds the whole ``(n_candidates x n_features)`` float64 matrix in one
vectorised pass over ``CandidateArrays`` (reusing the estimates when the caller already has them);
``extract_single`` builds one row through the same code path, so the two always agree.

The columns (``FEATURE_NAMES``; bump ``FEATURE_SCHEMA_VERSION`` whenever their meaning or order
changes, so stored models and samples of another schema are refused):

* workload: log10 of parameters, trainable parameters, dataset size, epochs and training work
  (PFLOPs for deep learning, GB x epochs for CPU-bound frameworks), bytes per parameter of the
  precision, fine-tuning method (0 full, 1 LoRA, 2 QLoRA), framework family (0 token-based deep
  learning, 1 sample-based deep learning, 2 gradient boosting, 3 scikit-learn), distributed and
  gradient-checkpointing flags;
* offering: log10 price per hour of the candidate (all nodes, USD), spot flag, nodes, GPUs per
  node, GPU memory, GPU memory bandwidth, vCPUs, system memory, provider reliability, spot
  preemption rate of the job (these ten depend on the candidate alone and come precomputed as
  ``CandidateArrays.descriptors``), and the dense peak TFLOPS for the workload's precision;
* cross: memory headroom ratio, fits flag, log10 estimated hours, log10 estimated cost (USD),
  cost rank percentile and log10 cost ratio to the cheapest candidate (both relative to the set
  the row is ranked in), log10 work per dollar, expected preemptions.

Decisions:

* Every value is finite: unknown figures (bandwidth, vCPUs, system memory not published) are
  -1, a value no real row takes, so tree models can split on "unknown". Money is in USD via the
  candidates' rate (``usd_per_unit``), so the display currency never changes a feature.
* The two set-relative features need the costs of the whole candidate set. ``FeatureMatrix``
  keeps them as a ``FeatureContext``; ``extract_single`` given that context reproduces the batch
  row exactly, and without it treats the candidate as a set of one (rank 0, ratio 1).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

import numpy as np

from artenic_opt._internal.arrays import FloatArray
from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate.candidates import (
    DESCRIPTOR_NAMES,
    UNKNOWN as _UNKNOWN,
    CandidateArrays,
    CandidateEstimates,
    estimate_candidates,
)
from artenic_opt.estimate.workload import WorkloadKind, describe_workload
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.types import CheckpointMode, FineTuning, ModelFramework

FEATURE_SCHEMA_VERSION: Final = 1

FEATURE_NAMES: Final[tuple[str, ...]] = (
    # workload
    "log_model_params_m",
    "log_trainable_params_m",
    "log_dataset_gb",
    "log_epochs",
    "log_training_work",
    "precision_bytes",
    "fine_tuning",
    "framework_family",
    "distributed",
    "gradient_checkpointing",
    # offering (``candidates.DESCRIPTOR_NAMES``, one block, in that order)
    "log_price_per_hour_usd",
    "is_spot",
    "nodes",
    "gpus_per_node",
    "gpu_memory_gb",
    "gpu_bandwidth_gbps",
    "vcpus",
    "system_memory_gb",
    "provider_reliability",
    "preemption_rate_per_hour",
    "gpu_peak_tflops",
    # cross
    "memory_headroom_ratio",
    "fits",
    "log_estimated_hours",
    "log_estimated_cost_usd",
    "cost_rank_pct",
    "log_cost_ratio_to_min",
    "log_work_per_dollar",
    "expected_preemptions",
)

#: Value of a figure the catalog does not publish.
UNKNOWN: Final = _UNKNOWN
_WORKLOAD_COLUMNS: Final = 10
_DESCRIPTORS = slice(_WORKLOAD_COLUMNS, _WORKLOAD_COLUMNS + len(DESCRIPTOR_NAMES))
_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
_FINE_TUNING_CODE = {FineTuning.FULL: 0.0, FineTuning.LORA: 1.0, FineTuning.QLORA: 2.0}
#: Pinned checkpointing as a number (unpinned and ``off`` read 0, as the old ``false``).
_CHECKPOINT_CODE: dict[CheckpointMode | None, float] = {
    None: 0.0,
    CheckpointMode.OFF: 0.0,
    CheckpointMode.SELECTIVE: 0.5,
    CheckpointMode.FULL: 1.0,
}
_GBDT = frozenset({ModelFramework.LIGHTGBM, ModelFramework.XGBOOST, ModelFramework.CATBOOST})
# Floors keep logarithms finite for zero or degenerate amounts.
_TINY: Final = 1e-9
_COST_DECIMALS: Final = 6


@dataclass(frozen=True, slots=True, eq=False)
class FeatureContext:
    """What set-relative features need to know about the whole candidate set."""

    #: Estimated costs (USD, rounded to the micro-dollar) of the whole set, sorted ascending.
    sorted_costs_usd: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class FeatureMatrix:
    """A ``(n_candidates x n_features)`` float64 matrix with its column names and schema."""

    values: FloatArray
    context: FeatureContext
    names: tuple[str, ...] = FEATURE_NAMES
    schema_version: int = FEATURE_SCHEMA_VERSION

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def column(self, name: str) -> FloatArray:
        try:
            return self.values[:, _COLUMN[name]]
        except KeyError:
            raise InvalidInputError(
                f"feature: unknown name {name!r}; known: {', '.join(FEATURE_NAMES)}"
            ) from None


def framework_family(workload: WorkloadProfile, kind: WorkloadKind) -> float:
    """0 token-based deep learning, 1 sample-based, 2 gradient boosting, 3 scikit-learn."""
    if workload.framework in _GBDT:
        return 2.0
    if workload.framework is ModelFramework.SKLEARN:
        return 3.0
    return 0.0 if kind is WorkloadKind.TOKENS else 1.0


def _log10_floor(values: FloatArray) -> FloatArray:
    """log10 of values that may be zero."""
    result: FloatArray = np.log10(np.maximum(values, _TINY))
    return result


@functools.lru_cache(maxsize=256)
def _workload_vector(workload: WorkloadProfile) -> FloatArray:
    """The workload columns, identical on every row; cached per workload (read-only)."""
    facts = describe_workload(workload)
    if facts.kind is WorkloadKind.TABULAR:
        work = workload.dataset_size_gb * workload.num_epochs
    else:
        work = facts.training_flops / 1e15
    vector = np.array(
        [
            np.log10(max(workload.model_params_m or 0.0, _TINY)),
            np.log10(max(facts.trainable_params / 1e6, _TINY)),
            np.log10(max(workload.dataset_size_gb, _TINY)),
            np.log10(max(workload.num_epochs, _TINY)),
            np.log10(max(work, _TINY)),
            workload.precision.bytes_per_param,
            _FINE_TUNING_CODE[workload.fine_tuning],
            framework_family(workload, facts.kind),
            float(workload.distributed),
            _CHECKPOINT_CODE[workload.gradient_checkpointing],
        ],
        dtype=np.float64,
    )
    vector.flags.writeable = False
    return vector


def _context_for(costs_usd: FloatArray) -> FeatureContext:
    return FeatureContext(sorted_costs_usd=np.sort(costs_usd.round(_COST_DECIMALS)))


def extract_features(
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    *,
    estimates: CandidateEstimates | None = None,
    context: FeatureContext | None = None,
) -> FeatureMatrix:
    """Feature matrix of every candidate; ``context`` defaults to this candidate set itself."""
    estimates = estimates or estimate_candidates(workload, candidates)
    n = len(candidates)
    values = np.empty((n, len(FEATURE_NAMES)), dtype=np.float64)
    values[:, :_WORKLOAD_COLUMNS] = _workload_vector(workload)
    col = _COLUMN

    values[:, _DESCRIPTORS] = candidates.descriptors
    usd = candidates.usd_per_unit
    spot = candidates.spot
    price_usd = candidates.price_per_hour * (candidates.nodes * usd)
    costs_usd = estimates.total_cost * usd
    # Infeasible rows can carry infinite (endless spot) or NaN (unknown throughput) costs; a
    # large finite stand-in keeps every column finite and such rows at the bottom of the set.
    costs_usd = np.where(np.isfinite(costs_usd), costs_usd, 1e15)
    context = context or _context_for(costs_usd)
    memory = estimates.memory
    time = estimates.time
    throughput = np.where(time.throughput == time.throughput, time.throughput, 0.0)
    values[:, col["gpu_peak_tflops"]] = np.where(
        memory.on_gpu & (throughput > 0), time.peak_tflops, 0.0
    )

    sorted_costs = context.sorted_costs_usd
    size = sorted_costs.shape[0]
    # Ranks compare costs to the micro-dollar, so float noise (a currency round trip) never
    # reorders two equal costs.
    # (ndarray methods: the np.* wrappers cost more than the work on a single row)
    rounded = costs_usd.round(_COST_DECIMALS)
    below = sorted_costs.searchsorted(rounded, side="left")
    upto = sorted_costs.searchsorted(rounded, side="right")
    # Ties share their average rank, so equal costs get equal features whatever the row order.
    rank_pct = (below + upto - 1) / (2.0 * (size - 1)) if size > 1 else 0.0
    cheapest = float(sorted_costs[0]) if size else 1.0  # micro-dollar rounded, like the ranks
    hours = np.where(np.isfinite(estimates.hours), estimates.hours, 1e9)
    expected = estimates.cost.expected_preemptions
    preemptions = np.where(np.isfinite(expected), expected, 1e6)

    values[:, col["memory_headroom_ratio"]] = memory.headroom_ratio
    values[:, col["fits"]] = memory.fits & memory.host_fits
    values[:, col["log_estimated_hours"]] = np.log10(np.maximum(hours, _TINY))
    values[:, col["log_estimated_cost_usd"]] = np.log10(np.maximum(costs_usd, _TINY))
    values[:, col["cost_rank_pct"]] = np.minimum(np.maximum(rank_pct, 0.0), 1.0)
    values[:, col["log_cost_ratio_to_min"]] = np.log10(
        np.maximum(rounded / max(cheapest, _TINY), 1.0)
    )
    values[:, col["log_work_per_dollar"]] = _log10_floor(throughput / price_usd)
    values[:, col["expected_preemptions"]] = np.where(spot, preemptions, 0.0)
    return FeatureMatrix(values=values, context=context)


def extract_single(
    workload: WorkloadProfile,
    candidate: CandidateArrays,
    *,
    context: FeatureContext | None = None,
) -> FloatArray:
    """The feature row of a one-row ``CandidateArrays`` (``candidates.row(i)``).

    With the ``context`` of the set the candidate was ranked in (``FeatureMatrix.context``), the
    row equals that set's batch row; without it the candidate is its own set.
    """
    if len(candidate) != 1:
        raise InvalidInputError(
            f"candidate: extract_single takes one candidate row, got {len(candidate)}"
        )
    row: FloatArray = extract_features(workload, candidate, context=context).values[0]
    return row
