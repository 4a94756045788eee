"""Training plans: for every candidate, the fastest way to run the job that fits its memory.

A plan (DESIGN §2 "Training plan") is: micro-batch and accumulation steps (the workload's
``batch_size`` is the global batch), activation checkpointing (off/selective/full), sharding
(DDP, ZeRO-1/2, ZeRO-3/FSDP), tensor-parallel degree within a node, CPU offload, and the
optimiser. The user may pin any part on the workload; unpinned parts are searched.

The search is vectorised. Candidates are first reduced to their distinct hardware shapes (GPUs
per node, nodes, GPU memory, host RAM: many candidates are the same machine in another region or
price kind), then every shape x every combination of checkpointing, sharding, tensor parallelism
and offload is one row of numpy arrays. For a combination the largest micro-batch that fits is
solved in closed form: memory is linear in the micro-batch (``plan_memory`` at micro-batch 0 gives
the model states, ``activation_gb_per_sample`` the slope), so no micro-batch loop is needed.

Decisions:

* Micro-batches are powers of two that divide the per-replica batch (``ceil(batch / data
  parallel)``), so micro-batch x accumulation steps x replicas is the global batch (rounded up
  when the replicas do not divide it). A pinned micro-batch is kept as given. Replicas beyond
  the global batch have nothing to do: the plan reports ``batch_size`` replicas and the time
  grows by ``replicas / batch_size`` (the estimator assumed every GPU busy).
* Relative time of a plan, for ranking the plans of one candidate (the advisor then times the
  chosen plan with the calibrated throughput model, ``estimate_hours`` with plan arrays):
  recompute adds the
  forward pass again for the checkpointed share of the blocks (``assumptions``: 2 FLOPs per
  parameter and token over 6 for full training, 4 for adapters); tensor parallelism costs 8.3% per
  doubling (Megatron-LM, Shoeybi et al. 2019: 77% scaling efficiency at 8-way model parallelism,
  ``0.77 ** (1/3)`` per doubling); CPU offload adds each step's PCIe round trip of the trainable
  gradients (16 bit out) and updated weights (16 bit back) at 25 GB/s per GPU (PCIe 4.0 x16,
  31.5 GB/s theoretical, ~80% achieved), and with ZeRO-3/FSDP the offloaded weights streamed in
  for every forward and backward pass of every micro-batch. Sharding stages cost no extra time
  here; at equal time the simpler plan wins: less sharding, less tensor parallelism, no offload,
  less recompute, larger micro-batch (in that order), so ZeRO stages, TP and offload appear
  only when the simpler plans do not fit or are slower.
* Offload is searched only with ZeRO-2 and ZeRO-3/FSDP (how DeepSpeed and FSDP offer it), and
  sharding only when a candidate has several GPUs, except for offload on one GPU (ZeRO-Offload).
* Tensor parallelism stays inside a node (degrees dividing the GPUs per node, at most 8).
* A candidate with no fitting plan keeps the plan that came closest (smallest need over usable
  memory, at micro-batch 1), so the memory filter can say what the job needs there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import BoolArray, FloatArray, IntArray
from artenic_opt.estimate import assumptions as asm
from artenic_opt.estimate.memory import (
    ALLOCATOR_FRAGMENTATION,
    CHECKPOINT_CODES,
    CUDA_CONTEXT_GB,
    SHARDING_STAGE,
    PlanColumns,
    activation_gb_per_sample,
    model_states,
    plan_memory,
)
from artenic_opt.estimate.workload import WorkloadFacts, WorkloadKind, describe_workload
from artenic_opt.schemas import TrainingPlan, WorkloadProfile
from artenic_opt.types import FineTuning, ShardingMode

TP_EFFICIENCY_PER_DOUBLING: Final = 0.77 ** (1.0 / 3.0)
OFFLOAD_PCIE_GB_PER_S: Final = 25.0
OFFLOAD_BYTES_PER_TRAINABLE_PARAM: Final = 4.0  # 16-bit gradients out + 16-bit weights back
MAX_TENSOR_PARALLEL: Final = 8
_TP_OPTIONS: Final = (1, 2, 4, 8)
_STAGE_OPTIONS: Final = (0, 1, 2, 3)
#: Stage code -> the sharding mode reported (stage 3 reads as FSDP unless ZeRO-3 is pinned).
_STAGE_MODES: Final = (ShardingMode.DDP, ShardingMode.ZERO1, ShardingMode.ZERO2, ShardingMode.FSDP)


@dataclass(frozen=True, slots=True, eq=False)
class PlanChoice:
    """One plan per candidate row (the fastest that fits, or the closest when none fits)."""

    columns: PlanColumns
    accumulation: IntArray
    data_parallel: IntArray
    #: Hours multiplier of the plan over the estimator's plan-free hours, and hours it adds
    #: (the search's own cheap ranking model; the advisor times the chosen plan with the
    #: calibrated throughput model, which takes plan arrays).
    time_factor: FloatArray
    extra_hours: FloatArray
    #: Replicas beyond the global batch idle: hours multiplier (1 when every replica works).
    idle_factor: FloatArray
    found: BoolArray
    sharding: tuple[ShardingMode, ...]

    def plan(self, row: int, workload: WorkloadProfile, memory_gb: float) -> TrainingPlan:
        """The schema view of one row's plan."""
        return TrainingPlan(
            micro_batch_size=int(self.columns.micro_batch[row]),
            accumulation_steps=int(self.accumulation[row]),
            gradient_checkpointing=CHECKPOINT_CODES[int(self.columns.checkpoint_code[row])],
            sharding=self.sharding[int(self.columns.sharding_stage[row])],
            tensor_parallel=int(self.columns.tensor_parallel[row]),
            data_parallel=int(self.data_parallel[row]),
            offload=bool(self.columns.offload[row]),
            optimizer=workload.optimizer,
            pure_bf16=workload.pure_bf16,
            memory_per_gpu_gb=max(0.0, memory_gb),
        )


def _grid(workload: WorkloadProfile) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """Checkpointing, stage, TP and offload codes of every combination the pins allow."""
    ckpt_pin = workload.gradient_checkpointing
    ckpts = [CHECKPOINT_CODES.index(ckpt_pin)] if ckpt_pin is not None else [0, 1, 2]
    stages = (
        [SHARDING_STAGE[workload.sharding]] if workload.sharding is not None else _STAGE_OPTIONS
    )
    tps = [workload.tensor_parallel] if workload.tensor_parallel is not None else _TP_OPTIONS
    offloads = [workload.offload] if workload.offload is not None else [False, True]
    mesh = np.array(
        [(c, s, t, int(o)) for c in ckpts for s in stages for t in tps for o in offloads],
        dtype=np.int64,
    )
    return mesh[:, 0], mesh[:, 1], mesh[:, 2], mesh[:, 3].astype(np.bool_)


def _lowbit(values: IntArray) -> IntArray:
    """Largest power of two dividing each positive integer."""
    result: IntArray = values & -values
    return result


def _floor_pow2(values: FloatArray) -> IntArray:
    """Largest power of two <= each value (0 where the value is below 1)."""
    safe = np.maximum(values, 1.0)
    powers = np.exp2(np.floor(np.log2(np.minimum(safe, 2.0**40)))).astype(np.int64)
    return np.where(values >= 1.0, powers, 0)


def _recompute_factor(workload: WorkloadProfile) -> FloatArray:
    base = (
        asm.FLOPS_PER_PARAM_TOKEN_FULL
        if workload.fine_tuning is FineTuning.FULL
        else asm.FLOPS_PER_PARAM_TOKEN_ADAPTER
    )
    recompute = asm.FLOPS_PER_PARAM_TOKEN_RECOMPUTE
    return np.array([1.0, (base + 0.5 * recompute) / base, (base + recompute) / base])


def optimizer_steps(workload: WorkloadProfile, facts: WorkloadFacts) -> float:
    """Optimiser steps of the whole run: positions / (global batch x positions per sample)."""
    per_sample = (
        float(workload.sequence_length)
        if facts.kind is WorkloadKind.TOKENS
        else float(asm.POSITIONS_PER_SAMPLE)
    )
    return facts.positions_total / (workload.batch_size * per_sample)


def search_plans(
    workload: WorkloadProfile,
    *,
    gpu_count: npt.ArrayLike,
    nodes: npt.ArrayLike,
    gpu_memory_gb: npt.ArrayLike,
    memory_gb: npt.ArrayLike,
    base_hours: npt.ArrayLike | None = None,
    facts: WorkloadFacts | None = None,
) -> PlanChoice:
    """The fastest fitting plan of every candidate row (vectorised; see the module docstring).

    ``base_hours`` (plan-free hours per row) only matters through the offload term, whose added
    hours are absolute; without it the choice uses the relative factors alone.
    """
    facts = facts or describe_workload(workload)
    gpus_all = np.asarray(gpu_count, dtype=np.int64)
    nodes_all = np.asarray(nodes, dtype=np.int64)
    gmem_all = np.nan_to_num(np.asarray(gpu_memory_gb, dtype=np.float64), nan=0.0)
    hmem_all = np.asarray(memory_gb, dtype=np.float64)
    n = gpus_all.shape[0]
    stage_modes = tuple(
        ShardingMode.ZERO3 if (i == 3 and workload.sharding is ShardingMode.ZERO3) else mode
        for i, mode in enumerate(_STAGE_MODES)
    )
    if n == 0 or facts.kind is WorkloadKind.TABULAR:
        ones = np.ones(n, dtype=np.int64)
        return PlanChoice(
            columns=PlanColumns(
                micro_batch=ones * min(workload.batch_size, workload.micro_batch_size or 1),
                checkpoint_code=np.zeros(n, dtype=np.int64),
                sharding_stage=np.zeros(n, dtype=np.int64),
                tensor_parallel=ones,
                offload=np.zeros(n, dtype=np.bool_),
            ),
            accumulation=ones,
            data_parallel=ones,
            time_factor=np.ones(n),
            extra_hours=np.zeros(n),
            idle_factor=np.ones(n),
            found=np.ones(n, dtype=np.bool_),
            sharding=stage_modes,
        )
    # Distinct hardware shapes (NaN host RAM becomes -1 so that it groups): each column is
    # coded on its own, the codes are packed into one integer, and a 1-D unique groups them
    # (a row-wise ``unique(axis=0)`` sorts structured rows, ten times slower).
    hkey = np.where(hmem_all == hmem_all, hmem_all, -1.0)
    columns = (gpus_all, nodes_all, gmem_all, hkey)
    packed = np.zeros(n, dtype=np.int64)
    for column in columns:
        values, codes = np.unique(column, return_inverse=True)
        packed = packed * (values.shape[0] + 1) + codes.reshape(-1)
    _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    shapes = np.stack([np.asarray(c, dtype=np.float64)[first] for c in columns], axis=1)
    gpus = np.maximum(shapes[:, 0:1], 1.0)  # CPU rows: one "device" (host RAM, checked apart)
    node_count = shapes[:, 1:2]
    gmem = shapes[:, 2:3]
    hmem = np.where(shapes[:, 3:4] < 0, np.nan, shapes[:, 3:4])

    ckpt, stage, tp, offload = _grid(workload)
    ckpt, stage, tp, offload = ckpt[None, :], stage[None, :], tp[None, :], offload[None, :]
    devices = gpus * node_count
    # Valid combinations: TP divides the node's GPUs; sharding needs several replicas unless it
    # carries an offload (ZeRO-Offload on one GPU); offload rides on ZeRO-2 or ZeRO-3/FSDP.
    valid = (tp <= gpus) & (np.mod(gpus, tp) == 0) & (tp <= MAX_TENSOR_PARALLEL)
    replicas = np.maximum(devices / tp, 1.0)
    pinned_stage = workload.sharding is not None
    if not pinned_stage:
        valid &= (stage == 0) | (replicas > 1) | offload
    valid &= ~offload | (stage >= 2)
    per_replica = np.ceil(workload.batch_size / replicas).astype(np.int64)

    states = model_states(workload, facts)
    per_sample = activation_gb_per_sample(workload, facts, ckpt, tp)
    base = plan_memory(
        workload,
        facts,
        states,
        gpus_per_node=gpus,
        nodes=node_count,
        gpu_memory_gb=gmem,
        host_memory_gb=hmem,
        micro_batch=0.0,
        checkpoint_code=ckpt,
        sharding_stage=stage,
        tensor_parallel=tp,
        offload=offload,
        activation_per_sample_gb=per_sample,
    )
    usable = gmem - CUDA_CONTEXT_GB
    slope = per_sample * (1.0 + ALLOCATOR_FRAGMENTATION)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(slope > 0, (usable - base.needed_gb) / slope, np.inf)
    if workload.micro_batch_size is not None:
        micro = np.full(room.shape, workload.micro_batch_size, dtype=np.int64)
        fits = room >= micro
    else:
        micro = np.minimum(_lowbit(per_replica), _floor_pow2(room))
        fits = micro >= 1
        micro = np.maximum(micro, 1)
    fits &= base.fits & valid

    recompute = _recompute_factor(workload)[ckpt]
    tp_factor = TP_EFFICIENCY_PER_DOUBLING ** -np.log2(tp.astype(np.float64))
    # Replicas beyond the global batch idle: the step runs on ``batch_size`` of them.
    idle = np.maximum(replicas / workload.batch_size, 1.0)
    factor = recompute * tp_factor * idle
    steps = optimizer_steps(workload, facts)
    accumulation = np.ceil(per_replica / micro)
    shard_share = 1.0 / (replicas * tp)
    # Offloaded ZeRO-3/FSDP weights also stream in over PCIe for every forward and backward pass.
    streamed = np.where(stage >= 3, 2.0 * states.weights_gb * asm.GB * accumulation, 0.0)
    transfer_s = (
        (OFFLOAD_BYTES_PER_TRAINABLE_PARAM * facts.trainable_params + streamed) * shard_share
    ) / (OFFLOAD_PCIE_GB_PER_S * asm.GB)
    extra = np.where(offload, steps * transfer_s / 3600.0, 0.0)

    # Rank every combination: fitting first, then time, then the preference order.
    reference = np.ones((shapes.shape[0], 1))
    if base_hours is not None:
        hours_all = np.asarray(base_hours, dtype=np.float64)
        # A representative (the slowest) base time per shape for the absolute offload term.
        reference = np.zeros((shapes.shape[0], 1))
        np.maximum.at(reference[:, 0], inverse, np.nan_to_num(hours_all, nan=0.0))
    hours = reference * factor + extra
    preference = (
        stage * 1_000_000
        + np.log2(tp).astype(np.int64) * 100_000
        + offload.astype(np.int64) * 10_000
        + ckpt * 1_000
        - np.minimum(micro, 999)
    )
    key = np.where(fits, hours, np.inf)
    fastest = key.min(axis=1, keepdims=True)
    near = np.isfinite(key) & (key <= fastest * (1.0 + 1e-9))
    best = np.argmin(np.where(near, preference, np.iinfo(np.int64).max), axis=1)
    found_shape: BoolArray = np.asarray(np.isfinite(key).any(axis=1), dtype=np.bool_)
    # No fitting plan: the closest one, at micro-batch 1.
    pressure = np.where(valid, (base.needed_gb + slope) / np.maximum(usable, 1e-9), np.inf)
    closest = np.argmin(pressure, axis=1)
    pick = np.where(found_shape, best, closest)
    rows = np.arange(shapes.shape[0])

    def take(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        full = np.broadcast_to(values, fits.shape)
        picked: npt.NDArray[Any] = full[rows, pick][inverse]
        return picked

    chosen_micro = np.asarray(take(micro), dtype=np.int64)
    chosen_micro = np.where(found_shape[inverse], chosen_micro, workload.micro_batch_size or 1)
    chosen_accumulation = np.ceil(np.asarray(take(per_replica)) / chosen_micro).astype(np.int64)
    return PlanChoice(
        columns=PlanColumns(
            micro_batch=chosen_micro,
            checkpoint_code=np.asarray(take(ckpt), dtype=np.int64),
            sharding_stage=np.asarray(take(stage), dtype=np.int64),
            tensor_parallel=np.asarray(take(tp), dtype=np.int64),
            offload=np.asarray(take(offload), dtype=np.bool_),
        ),
        accumulation=np.maximum(chosen_accumulation, 1),
        data_parallel=np.minimum(
            np.asarray(take(replicas), dtype=np.float64), float(workload.batch_size)
        ).astype(np.int64),
        time_factor=np.asarray(take(factor), dtype=np.float64),
        extra_hours=np.asarray(take(extra), dtype=np.float64),
        idle_factor=np.asarray(take(idle), dtype=np.float64),
        found=found_shape[inverse],
        sharding=stage_modes,
    )


def describe_plan_pins(workload: WorkloadProfile) -> str:
    """The pinned parts of the plan, for messages (``"none"`` when nothing is pinned)."""
    parts = []
    if workload.micro_batch_size is not None:
        parts.append(f"micro_batch_size={workload.micro_batch_size}")
    if workload.gradient_checkpointing is not None:
        parts.append(f"gradient_checkpointing={workload.gradient_checkpointing.value}")
    if workload.sharding is not None:
        parts.append(f"sharding={workload.sharding.value}")
    if workload.tensor_parallel is not None:
        parts.append(f"tensor_parallel={workload.tensor_parallel}")
    if workload.offload is not None:
        parts.append(f"offload={str(workload.offload).lower()}")
    return ", ".join(parts) if parts else "none"


def has_plan_pins(workload: WorkloadProfile) -> bool:
    return describe_plan_pins(workload) != "none"


__all__ = [
    "PlanChoice",
    "describe_plan_pins",
    "has_plan_pins",
    "optimizer_steps",
    "search_plans",
]
