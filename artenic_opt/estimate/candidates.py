"""Candidates: every way to run a workload on the catalog, as aligned numpy columns.

A candidate is an offering x a node count x a price kind (DESIGN §2): one node for single-machine
workloads, 1..``max_nodes`` nodes of the same offering when the workload is ``distributed``; an
on-demand candidate for every offering and a spot candidate when the offering sells spot and the
workload allows it. ``build_candidates`` expands catalog columns into those rows in one pass;
``estimate_candidates`` runs the memory, time and cost estimators over all of them at once.

Decisions:

* Prices are converted once, here, into the display currency (``CatalogArrays.converted`` with an
  explicit rate table; the platform reference table when none is given). Everything downstream
  (costs, budget checks, features) works in that one currency; features additionally use
  ``usd_per_unit`` so that a model trained on USD rows reads EUR rows on the same scale.
* Per-row provider figures are attached here too: the reliability (success rate from stored
  outcomes, 1.0 without history) and the spot preemption rate (measured override, else the prior
  of ``estimate.assumptions``). Provider names compare case-insensitively.
* A workload that calibrates with ``estimated_hours`` names its ``reference_gpu`` in any spelling
  the catalog's GPU-name table understands; the figures come from the catalog rows of that GPU.
  An unknown name is an input error listing the known types.
* ``CandidateArrays`` and ``CandidateEstimates`` are plain frozen dataclasses of arrays with a
  ``take`` that selects rows, so that ranking, features and the advisor share one row order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import BoolArray, FloatArray, IntArray, StrArray
from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates, normalize_currency
from artenic_opt.catalog.gpu_names import normalize_gpu_type_or_none
from artenic_opt.catalog.loader import CatalogArrays
from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate import assumptions as asm
from artenic_opt.estimate.cost import CostArrays, estimate_cost, validate_preemption_rates
from artenic_opt.estimate.memory import MemoryArrays, estimate_memory
from artenic_opt.estimate.plans import PlanChoice, search_plans
from artenic_opt.estimate.runtime import (
    ReferenceThroughput,
    TimeArrays,
    estimate_hours,
    reference_from_figures,
)
from artenic_opt.estimate.workload import WorkloadFacts, WorkloadKind, describe_workload
from artenic_opt.schemas import Offering, WorkloadProfile

_T = TypeVar("_T")

#: Numeric description of each candidate that depends on the candidate alone, computed once when
#: the candidates are built: money in USD (so the display currency never changes it), -1 for a
#: figure the catalog does not publish. The feature extractor uses it as one block of columns.
DESCRIPTOR_NAMES: tuple[str, ...] = (
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
)
UNKNOWN = -1.0


def _take_arrays(obj: _T, rows: npt.NDArray[np.int64]) -> _T:
    """A copy of a dataclass of arrays with every array field restricted to ``rows``."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, field.name)
        if isinstance(value, np.ndarray):
            changes[field.name] = value[rows]
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]


def _positions(selector: npt.ArrayLike, size: int) -> npt.NDArray[np.int64]:
    array = np.asarray(selector)
    if array.dtype == np.bool_:
        if array.shape != (size,):
            raise InvalidInputError(f"take: a mask of {array.size} entries for {size} rows")
        return np.flatnonzero(array).astype(np.int64)
    return array.astype(np.int64, copy=False).reshape(-1)


def as_exchange_rates(rates: ExchangeRates | Mapping[str, float] | None) -> ExchangeRates:
    """An ``ExchangeRates`` table from a table, a plain mapping (units per 1 USD) or None."""
    if rates is None:
        return DEFAULT_RATES
    if isinstance(rates, ExchangeRates):
        return rates
    return DEFAULT_RATES.updated(rates, source="given exchange rates")


def _per_provider(providers: StrArray, lookup: Mapping[str, float], default: float) -> FloatArray:
    if providers.size == 0:
        return np.zeros(0, dtype=np.float64)
    # Lower-case the distinct names, not the column: ``np.char`` (four modules) stays unloaded.
    distinct, inverse = np.unique(providers, return_inverse=True)
    values = np.array(
        [lookup.get(str(name).lower(), default) for name in distinct], dtype=np.float64
    )
    return values[inverse]


def validate_reliability(reliability: Mapping[str, float] | None) -> dict[str, float]:
    """Lower-case provider keys and check each success rate lies in [0, 1]."""
    checked: dict[str, float] = {}
    for name, rate in (reliability or {}).items():
        value = float(rate)
        if not 0.0 <= value <= 1.0:
            raise InvalidInputError(
                f"reliability.{name}: a success rate must be between 0 and 1, got {rate!r}"
            )
        checked[name.strip().lower()] = value
    return checked


@dataclass(frozen=True, slots=True, eq=False)
class CandidateArrays:
    """One row per candidate (offering x nodes x price kind); prices in ``currency``."""

    offerings: tuple[Offering, ...]
    offering_index: IntArray
    nodes: IntArray
    spot: BoolArray
    provider: StrArray
    region: StrArray
    instance_type: StrArray
    gpu_type: StrArray
    gpu_count: IntArray
    gpu_memory_gb: FloatArray
    vcpus: FloatArray
    memory_gb: FloatArray
    #: Per node-hour, display currency.
    on_demand_price_per_hour: FloatArray
    #: Per node-hour, display currency; NaN where the offering sells no spot.
    spot_price_per_hour: FloatArray
    gpu_bf16_tflops: FloatArray
    gpu_fp16_tflops: FloatArray
    gpu_fp32_tflops: FloatArray
    gpu_bandwidth_gbps: FloatArray
    reliability: FloatArray
    preemption_rate_per_hour: FloatArray
    currency: str
    usd_per_unit: float
    rates: ExchangeRates
    #: ``(n x len(DESCRIPTOR_NAMES))`` candidate-only numbers (see ``DESCRIPTOR_NAMES``).
    descriptors: FloatArray
    reference: ReferenceThroughput | None = None
    #: Dense fp8 peak per GPU (NaN: no fp8), and the in-node (GB/s one way per GPU) and
    #: inter-node (GB/s per node) bandwidths of the catalog (NaN: unknown, the estimator's
    #: fallback). None (older callers): all unknown.
    gpu_fp8_tflops: FloatArray | None = None
    intra_node_gbps: FloatArray | None = None
    inter_node_gbps: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.offering_index.shape[0])

    @property
    def price_per_hour(self) -> FloatArray:
        """Per node-hour price of each candidate's own kind (spot or on-demand)."""
        return np.where(self.spot, self.spot_price_per_hour, self.on_demand_price_per_hour)

    def take(self, selector: npt.ArrayLike) -> CandidateArrays:
        """The rows picked by integer positions or a boolean mask, in that order."""
        return _take_arrays(self, _positions(selector, len(self)))

    def row(self, index: int) -> CandidateArrays:
        """A one-row view of candidate ``index``."""
        return self.take(np.array([index], dtype=np.int64))

    def offering(self, index: int) -> Offering:
        return self.offerings[int(self.offering_index[index])]

    def candidate_id(self, index: int) -> str:
        """``provider/region/instance#nodes#kind``, as ``InstanceRecommendation.candidate_id``."""
        kind = "spot" if self.spot[index] else "on_demand"
        return f"{self.offering(index).offering_id}#{int(self.nodes[index])}#{kind}"


def resolve_reference(
    workload: WorkloadProfile, arrays: CatalogArrays
) -> ReferenceThroughput | None:
    """The throughput of the workload's ``reference_gpu`` from the catalog, or None if unused."""
    if workload.estimated_hours is None or not workload.reference_gpu:
        return None
    if workload.framework.is_cpu_bound:
        return None
    known = sorted({str(name) for name in arrays.gpu_type.tolist() if name})
    canonical = normalize_gpu_type_or_none(workload.reference_gpu)
    rows = np.flatnonzero(arrays.gpu_type == canonical) if canonical else np.zeros(0, np.int64)
    if rows.size == 0:
        raise InvalidInputError(
            f"reference_gpu: unknown GPU {workload.reference_gpu!r}; known GPU types: "
            + ", ".join(known)
        )
    first = int(rows[0])
    reference = reference_from_figures(
        str(canonical),
        workload.reference_gpu_count,
        workload.precision,
        bf16_tflops=float(arrays.gpu_bf16_tflops[first]),
        fp16_tflops=float(arrays.gpu_fp16_tflops[first]),
        fp32_tflops=float(arrays.gpu_fp32_tflops[first]),
        fp8_tflops=float(arrays.gpu_fp8_tflops[first]),
    )
    if reference is None:
        raise InvalidInputError(
            f"reference_gpu: the catalog has no throughput figure for {canonical}; "
            "use another reference GPU"
        )
    return reference


def _nan_to_unknown(values: FloatArray) -> FloatArray:
    result: FloatArray = np.where(values == values, values, UNKNOWN)
    return result


def candidate_descriptors(
    *,
    price_per_hour: FloatArray,
    spot: BoolArray,
    nodes: IntArray,
    gpu_count: IntArray,
    gpu_memory_gb: FloatArray,
    gpu_bandwidth_gbps: FloatArray,
    vcpus: FloatArray,
    memory_gb: FloatArray,
    reliability: FloatArray,
    preemption_rate_per_hour: FloatArray,
    usd_per_unit: float,
) -> FloatArray:
    """The ``DESCRIPTOR_NAMES`` columns of candidate rows (per-node prices in display money)."""
    node_count = nodes.astype(np.float64)
    block = np.empty((node_count.shape[0], len(DESCRIPTOR_NAMES)), dtype=np.float64)
    block[:, 0] = np.log10(price_per_hour * node_count * usd_per_unit)
    block[:, 1] = spot
    block[:, 2] = node_count
    block[:, 3] = gpu_count
    block[:, 4] = gpu_memory_gb
    block[:, 5] = np.where(gpu_count > 0, _nan_to_unknown(gpu_bandwidth_gbps), 0.0)
    block[:, 6] = _nan_to_unknown(vcpus)
    block[:, 7] = _nan_to_unknown(memory_gb)
    block[:, 8] = reliability
    # A job on n nodes is interrupted when any of them is; on-demand rows are not preempted.
    block[:, 9] = np.where(spot, preemption_rate_per_hour * node_count, 0.0)
    return block


def build_candidates(
    workload: WorkloadProfile,
    arrays: CatalogArrays,
    *,
    currency: str = "USD",
    rates: ExchangeRates | Mapping[str, float] | None = None,
    reliability: Mapping[str, float] | None = None,
    preemption_rates: Mapping[str, float] | None = None,
) -> CandidateArrays:
    """Expand catalog columns into candidate rows for ``workload``, prices in ``currency``."""
    target = normalize_currency(currency)
    table = as_exchange_rates(rates)
    converted = arrays.converted(target, table)
    reference = resolve_reference(workload, converted)
    size = len(converted)
    node_options = (
        np.arange(1, workload.max_nodes + 1, dtype=np.int64)
        if workload.distributed
        else np.ones(1, dtype=np.int64)
    )
    per_offering = node_options.shape[0]
    base_rows = np.arange(size, dtype=np.int64)
    row_blocks = [np.repeat(base_rows, per_offering)]
    node_blocks = [np.tile(node_options, size)]
    spot_blocks = [np.zeros(size * per_offering, dtype=np.bool_)]
    if workload.spot_allowed:
        spot_rows = np.flatnonzero(np.isfinite(converted.spot_price_per_hour)).astype(np.int64)
        row_blocks.append(np.repeat(spot_rows, per_offering))
        node_blocks.append(np.tile(node_options, spot_rows.shape[0]))
        spot_blocks.append(np.ones(spot_rows.shape[0] * per_offering, dtype=np.bool_))
    idx = np.concatenate(row_blocks)
    nodes = np.concatenate(node_blocks)
    spot = np.concatenate(spot_blocks)
    provider = converted.provider[idx]
    gpu_count = converted.gpu_count[idx]
    gpu_memory = np.nan_to_num(converted.gpu_memory_gb[idx], nan=0.0)
    vcpus = converted.vcpus[idx]
    memory = converted.memory_gb[idx]
    on_demand = converted.price_per_hour[idx]
    spot_price = converted.spot_price_per_hour[idx]
    bandwidth = converted.gpu_bandwidth_gbps[idx]
    reliability_rates = validate_reliability(reliability)
    preemption = {
        **{name: float(rate) for name, rate in asm.PREEMPTION_RATE_PRIORS_PER_HOUR.items()},
        **validate_preemption_rates(preemption_rates),
    }
    provider_reliability = _per_provider(provider, reliability_rates, 1.0)
    preemption_rate = _per_provider(provider, preemption, asm.DEFAULT_PREEMPTION_RATE_PER_HOUR)
    usd_per_unit = table.factor(target, "USD")
    return CandidateArrays(
        offerings=converted.offerings,
        offering_index=idx,
        nodes=nodes,
        spot=spot,
        provider=provider,
        region=converted.region[idx],
        instance_type=converted.instance_type[idx],
        gpu_type=converted.gpu_type[idx],
        gpu_count=gpu_count,
        gpu_memory_gb=gpu_memory,
        vcpus=vcpus,
        memory_gb=memory,
        on_demand_price_per_hour=on_demand,
        spot_price_per_hour=spot_price,
        gpu_bf16_tflops=converted.gpu_bf16_tflops[idx],
        gpu_fp16_tflops=converted.gpu_fp16_tflops[idx],
        gpu_fp32_tflops=converted.gpu_fp32_tflops[idx],
        gpu_fp8_tflops=converted.gpu_fp8_tflops[idx],
        intra_node_gbps=converted.intra_node_gbps[idx],
        inter_node_gbps=converted.inter_node_gbps[idx],
        gpu_bandwidth_gbps=bandwidth,
        reliability=provider_reliability,
        preemption_rate_per_hour=preemption_rate,
        currency=target,
        usd_per_unit=usd_per_unit,
        rates=table,
        descriptors=candidate_descriptors(
            price_per_hour=np.where(spot, spot_price, on_demand),
            spot=spot,
            nodes=nodes,
            gpu_count=gpu_count,
            gpu_memory_gb=gpu_memory,
            gpu_bandwidth_gbps=bandwidth,
            vcpus=vcpus,
            memory_gb=memory,
            reliability=provider_reliability,
            preemption_rate_per_hour=preemption_rate,
            usd_per_unit=usd_per_unit,
        ),
        reference=reference,
    )


@dataclass(frozen=True, slots=True, eq=False)
class CandidateEstimates:
    """Memory, time and cost of every candidate row, plus the figures of each row's own kind."""

    facts: WorkloadFacts
    memory: MemoryArrays
    time: TimeArrays
    cost: CostArrays
    #: Wall-clock hours of the candidate's kind (spot: expected, retries included).
    hours: FloatArray
    #: Whole-job cost of the candidate's kind, display currency.
    total_cost: FloatArray
    notes: tuple[str, ...]
    #: The training plan of each row (the fastest that fits; the closest where none does).
    plans: PlanChoice

    def take(self, selector: npt.ArrayLike) -> CandidateEstimates:
        rows = _positions(selector, int(self.hours.shape[0]))
        plans = _take_arrays(self.plans, rows)
        return dataclasses.replace(
            self,
            plans=dataclasses.replace(plans, columns=_take_arrays(plans.columns, rows)),
            memory=_take_arrays(self.memory, rows),
            time=_take_arrays(self.time, rows),
            cost=_take_arrays(self.cost, rows),
            hours=self.hours[rows],
            total_cost=self.total_cost[rows],
        )


def estimate_candidates(
    workload: WorkloadProfile,
    candidates: CandidateArrays,
    *,
    facts: WorkloadFacts | None = None,
    mfu: float = asm.DEFAULT_MFU,
) -> CandidateEstimates:
    """Run the memory, time and cost estimators over every candidate row."""
    facts = facts or describe_workload(workload)
    # Convert the integer columns once instead of in every estimator.
    nodes = candidates.nodes.astype(np.float64)
    gpus = candidates.gpu_count.astype(np.float64)
    hardware: dict[str, Any] = {
        "gpu_count": gpus,
        "nodes": nodes,
        "vcpus": candidates.vcpus,
        "bf16_tflops": candidates.gpu_bf16_tflops,
        "fp16_tflops": candidates.gpu_fp16_tflops,
        "fp32_tflops": candidates.gpu_fp32_tflops,
        "fp8_tflops": candidates.gpu_fp8_tflops,
        "intra_node_gbps": candidates.intra_node_gbps,
        "inter_node_gbps": candidates.inter_node_gbps,
        "reference": candidates.reference,
        "facts": facts,
        "mfu": mfu,
        "gpu_type": candidates.gpu_type,
        "memory_bandwidth_gbps": candidates.gpu_bandwidth_gbps,
        "memory_gb": candidates.memory_gb,
    }
    base_time = estimate_hours(workload, **hardware)
    # The plan search: per row, the fastest plan that fits (estimate.plans), ranked with its
    # cheap relative time factors around the plan-free hours ...
    plans = search_plans(
        workload,
        gpu_count=candidates.gpu_count,
        nodes=candidates.nodes,
        gpu_memory_gb=candidates.gpu_memory_gb,
        memory_gb=candidates.memory_gb,
        base_hours=base_time.hours,
        facts=facts,
    )
    memory = estimate_memory(
        workload,
        gpu_count=gpus,
        gpu_memory_gb=candidates.gpu_memory_gb,
        memory_gb=candidates.memory_gb,
        nodes=nodes,
        plan=plans.columns,
        facts=facts,
    )
    time = base_time
    # ... then the calibrated throughput model times the chosen plan of every row. A calibrated
    # figure (``estimated_hours`` on a reference GPU) already contains the plan it ran with.
    if not base_time.calibrated and facts.kind is not WorkloadKind.TABULAR:
        columns = plans.columns
        planned = estimate_hours(
            workload,
            **hardware,
            micro_batch=columns.micro_batch,
            grad_accum=plans.accumulation,
            checkpointing=columns.checkpoint_code,
            tensor_parallel=columns.tensor_parallel,
            zero_stage=columns.sharding_stage,
            offload=columns.offload,
        )
        hours = np.where(memory.on_gpu, planned.hours * plans.idle_factor, base_time.hours)
        time = dataclasses.replace(planned, hours=hours)
    cost = estimate_cost(
        time.hours,
        nodes=nodes,
        on_demand_price_per_hour=candidates.on_demand_price_per_hour,
        spot_price_per_hour=candidates.spot_price_per_hour,
        preemption_rate_per_hour=candidates.preemption_rate_per_hour,
        checkpointing=workload.checkpointing,
        checkpoint_interval_hours=workload.checkpoint_interval_hours,
    )
    spot = candidates.spot
    return CandidateEstimates(
        facts=facts,
        memory=memory,
        time=time,
        cost=cost,
        hours=np.where(spot, cost.spot_hours, time.hours),
        total_cost=np.where(spot, cost.spot_cost, cost.on_demand_cost),
        notes=time.notes,
        plans=plans,
    )
