"""Memory a workload needs per device, vectorised over candidate rows, and whether it fits.

Per row, the "device" is where the training state lives:

* a GPU, for deep-learning workloads on offerings with GPUs: the need is per GPU, compared with
  ``gpu_memory_gb``;
* host RAM, for CPU-bound frameworks (on any offering; their GPUs would sit idle) and for
  deep-learning workloads on CPU-only offerings (allowed when ``gpu_required`` is false): the
  need is per node, compared with ``memory_gb``.

Decisions:

* Model states (weights, gradients, optimizer states incl. fp32 master weights) are sharded
  ZeRO-3/FSDP style across every device of every node when ``workload.distributed``; otherwise
  each device holds a full replica (plain data parallelism). Activations belong to each device's
  own micro-batch and are never sharded; the framework overhead is per device.
* A row fits when the need is at most ``USABLE_MEMORY_FRACTION`` (90%) of the device memory: the
  rest absorbs allocator fragmentation and peaks the averages miss.
* Unknown device memory (NaN ``memory_gb`` of a CPU row) is not held against a row: it passes,
  and ``available_known`` says so, so that the advisor can warn.
* For CPU-bound frameworks the whole need is the data working set (dataset x framework factor,
  see ``assumptions``) plus a base; ``MemoryEstimate.activations_gb`` carries the working set and
  ``overhead_gb`` the base, since they have no weights or optimizer states worth counting.
* ``min_system_memory_gb`` from the workload is a separate host-RAM check on every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from artenic_opt.estimate import assumptions as asm
from artenic_opt.estimate.workload import WorkloadFacts, WorkloadKind, describe_workload
from artenic_opt.schemas import MemoryEstimate, WorkloadProfile

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_DEVICE_INPUTS = (
    "distributed",
    "offering.gpu_count",
    "offering.gpu_memory_gb",
    "offering.memory_gb",
    "nodes",
)


@dataclass(frozen=True, slots=True, eq=False)
class MemoryArrays:
    """Per-row memory estimate; sizes in GB (1e9 bytes), per device unless said otherwise."""

    #: Model states of the whole job, unsharded (GB); a device holds ``total / shards``.
    weights_total_gb: float
    gradients_total_gb: float
    optimizer_total_gb: float
    #: Activations of one device's micro-batch (for CPU-bound frameworks: the data working set).
    activations_per_device_gb: float
    overhead_gb: FloatArray
    #: Devices the model states are sharded across (1 = full replica per device).
    shards: FloatArray
    needed_gb: FloatArray
    #: Memory of one device (GPU memory, or host RAM for CPU execution); NaN when unknown.
    available_gb: FloatArray
    usable_gb: FloatArray
    fits: BoolArray
    available_known: BoolArray
    #: (usable - needed) / usable, clipped to [-1, 1]; 0 where the device memory is unknown.
    headroom_ratio: FloatArray
    #: True where the state lives on GPUs, False where it lives in host RAM.
    on_gpu: BoolArray
    #: Host-RAM minimum asked by the workload (0 when none) and whether each row meets it.
    host_min_gb: float
    host_fits: BoolArray
    host_known: BoolArray
    inputs_used: tuple[str, ...]

    @property
    def model_states_total_gb(self) -> float:
        return self.weights_total_gb + self.gradients_total_gb + self.optimizer_total_gb

    @property
    def weights_gb(self) -> FloatArray:
        return self.weights_total_gb / self.shards

    @property
    def gradients_gb(self) -> FloatArray:
        return self.gradients_total_gb / self.shards

    @property
    def optimizer_gb(self) -> FloatArray:
        return self.optimizer_total_gb / self.shards

    @property
    def activations_gb(self) -> FloatArray:
        return np.full(self.shards.shape, self.activations_per_device_gb, dtype=np.float64)

    def breakdown(self, row: int) -> MemoryEstimate:
        """The schema view of one row."""
        shards = float(self.shards[row])
        return MemoryEstimate(
            weights_gb=self.weights_total_gb / shards,
            gradients_gb=self.gradients_total_gb / shards,
            optimizer_gb=self.optimizer_total_gb / shards,
            activations_gb=self.activations_per_device_gb,
            overhead_gb=float(self.overhead_gb[row]),
            total_gb=float(self.needed_gb[row]),
            inputs_used=self.inputs_used,
        )


def activation_bytes_per_device(facts: WorkloadFacts, gradient_checkpointing: bool) -> float:
    """Activation memory of one device's micro-batch (bytes), Korthikanti et al. 2022."""
    if facts.kind is WorkloadKind.TABULAR:
        return 0.0
    per_layer_unit = facts.positions_per_micro_batch * facts.hidden
    if gradient_checkpointing:
        stored = (
            asm.CHECKPOINTED_BYTES_PER_TOKEN_HIDDEN_LAYER * per_layer_unit * facts.layers
            + asm.ACTIVATION_BYTES_PER_TOKEN_HIDDEN_LAYER * per_layer_unit
        )
    else:
        stored = asm.ACTIVATION_BYTES_PER_TOKEN_HIDDEN_LAYER * per_layer_unit * facts.layers
    stored *= facts.activation_scale
    if facts.kind is WorkloadKind.TOKENS:
        stored += facts.positions_per_micro_batch * asm.LOGITS_VOCAB * asm.LOGITS_BYTES
    return stored


def tabular_working_set_gb(workload: WorkloadProfile) -> float:
    """Host RAM a CPU-bound framework needs for its data, without the base."""
    factor = asm.HOST_MEMORY_FACTOR.get(workload.framework, max(asm.HOST_MEMORY_FACTOR.values()))
    return workload.dataset_size_gb * factor


def estimate_memory(
    workload: WorkloadProfile,
    *,
    gpu_count: npt.ArrayLike,
    gpu_memory_gb: npt.ArrayLike,
    memory_gb: npt.ArrayLike,
    nodes: npt.ArrayLike,
    facts: WorkloadFacts | None = None,
) -> MemoryArrays:
    """Memory needed per device on every row and whether it fits.

    ``gpu_count`` and ``gpu_memory_gb`` are per node and per GPU (0 for CPU rows); ``memory_gb``
    is the host RAM per node (NaN when unknown); ``nodes`` the node count of each row.
    """
    facts = facts or describe_workload(workload)
    gpus = np.asarray(gpu_count, dtype=np.float64)
    gpu_mem = np.asarray(gpu_memory_gb, dtype=np.float64)
    host_mem = np.asarray(memory_gb, dtype=np.float64)
    n = gpus.shape[0]
    if facts.kind is WorkloadKind.TABULAR:
        on_gpu = np.zeros(n, dtype=np.bool_)
        shards = np.ones(n, dtype=np.float64)
        weights_total = gradients_total = optimizer_total = 0.0
        activations = tabular_working_set_gb(workload)
        overhead = np.full(n, asm.HOST_BASE_MEMORY_GB, dtype=np.float64)
        per_device = overhead + activations
        if workload.is_data_processing:
            # Issue 14: a data-processing job splits its working set over the nodes and spills
            # what does not fit (``estimate.cluster`` charges the time), so only its share counts.
            from artenic_opt.estimate.cluster import working_set_gb

            activations = working_set_gb(workload)
            node_share = np.maximum(np.asarray(nodes, dtype=np.float64), 1.0)
            per_device = overhead + activations / node_share
        used = (*facts.inputs_used, "offering.memory_gb")
    else:
        on_gpu = gpus > 0
        if workload.distributed:
            shards = np.where(on_gpu, gpus, 1.0) * np.asarray(nodes, dtype=np.float64)
        else:
            shards = np.ones(n, dtype=np.float64)
        weights_total = (
            facts.params * facts.weight_bytes
            + facts.trainable_params * facts.trainable_weight_bytes
        ) / asm.GB
        gradients_total = facts.trainable_params * facts.gradient_bytes / asm.GB
        optimizer_total = facts.trainable_params * facts.optimizer_bytes / asm.GB
        activations = activation_bytes_per_device(facts, workload.gradient_checkpointing) / asm.GB
        overhead = np.where(on_gpu, asm.FRAMEWORK_OVERHEAD_GB, asm.HOST_BASE_MEMORY_GB)
        states = weights_total + gradients_total + optimizer_total
        per_device = states / shards + (overhead + activations)
        used = (*facts.inputs_used, *_DEVICE_INPUTS)

    available = np.where(on_gpu, gpu_mem, host_mem)
    # ``x == x`` is False only for NaN: memory the catalog does not state.
    known = available == available
    usable = available * asm.USABLE_MEMORY_FRACTION
    fits = (per_device <= usable) | ~known
    if facts.kind is WorkloadKind.TABULAR and workload.is_data_processing:
        fits = (overhead <= usable) | ~known  # the rest spills (issue 14)
    # 1 - need/usable; no usable room (zero or unknown memory) divides to -inf, clipped to -1,
    # and unknown memory then reports 0.
    pressure = np.divide(per_device, usable, out=np.full(n, np.inf), where=usable > 0)
    headroom = np.where(known, np.maximum(1.0 - pressure, -1.0), 0.0)

    host_min = float(workload.min_system_memory_gb or 0.0)
    host_known = host_mem == host_mem
    if host_min > 0:
        used = (*used, "min_system_memory_gb")
        host_fits = (host_mem >= host_min) | ~host_known
    else:
        host_fits = np.ones(n, dtype=np.bool_)

    return MemoryArrays(
        weights_total_gb=weights_total,
        gradients_total_gb=gradients_total,
        optimizer_total_gb=optimizer_total,
        activations_per_device_gb=activations,
        overhead_gb=overhead,
        shards=shards,
        needed_gb=per_device,
        available_gb=available,
        usable_gb=usable,
        fits=fits,
        available_known=known,
        headroom_ratio=headroom,
        on_gpu=on_gpu,
        host_min_gb=host_min,
        host_fits=host_fits,
        host_known=host_known,
        inputs_used=used,
    )


def min_devices_needed(memory: MemoryArrays, *, distributed: bool) -> FloatArray:
    """Fewest devices (GPUs, or nodes for host RAM) whose usable memory holds the job, per row.

    Without sharding a replica must fit one device, so the answer is 1 where it fits and
    infinity where it does not. With sharding, the model states divide over ``k`` devices while
    activations and overhead do not: ``k = ceil(states / (usable - activations - overhead))``.
    """
    if distributed:
        room = memory.usable_gb - (memory.overhead_gb + memory.activations_per_device_gb)
        positive = room > 0
        k = np.ceil(memory.model_states_total_gb / np.where(positive, room, 1.0))
        k = np.where(positive, np.maximum(k, 1.0), np.inf)
    else:
        k = np.where(memory.needed_gb <= memory.usable_gb, 1.0, np.inf)
    return np.where(memory.available_known, k, 1.0)
