"""Run time of a workload on every candidate row, vectorised.

* Deep-learning workloads: training FLOPs (``describe_workload``) over the sustained throughput
  of the row: devices x dense peak of the workload's precision x utilisation (MFU) x scaling
  efficiency (``assumptions`` gives every figure and its source).
* CPU-bound frameworks: data size x epochs over a per-thread data rate, with Amdahl's law over
  the vCPUs of each node and the same node scaling as above.
* Calibration: a workload that states ``estimated_hours`` on ``reference_gpu`` x
  ``reference_gpu_count`` is rescaled per row by the throughput ratio between that reference and
  the row, so a measured figure replaces the FLOP model while offerings stay comparable. The
  caller looks the reference GPU up (the advisor uses the catalog's GPU names and figures) and
  passes its figures through ``reference_from_figures``.

Decisions:

* Peak per precision: bf16 (and int8/int4, which train with bf16 compute) -> bf16, falling back
  to fp16 (GPUs without bf16 such as V100 and T4 run fp16 mixed precision); fp16 -> fp16, falling
  back to bf16; fp32 -> fp32; tf32 -> half the bf16 rate (fp32 on GPUs without TF32);
  fp8 -> the fp8 rate (the bf16 path on GPUs without fp8). When no tensor figure exists,
  2 x fp32 (see ``assumptions``), and ``peak_source`` records which case applied so the advisor
  can warn. A row with no usable figure
  at all gets NaN hours and ``peak_source = UNKNOWN``; the ranker excludes it.
* Multi-GPU nodes scale by 0.97 per doubling of GPUs, multiple nodes by 0.95 per doubling of
  nodes. A reference of more than 8 GPUs is assumed spread over nodes of 8.
* Rows whose vCPU count is unknown assume 8 vCPUs per GPU (4 on a CPU-only row) and say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import BoolArray, FloatArray, Int8Array
from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate import assumptions as asm
from artenic_opt.estimate.throughput_model import (
    Coefficients,
    fitted_coefficients,
    regime_of,
    step_time,
)
from artenic_opt.estimate.workload import (
    WorkloadFacts,
    WorkloadKind,
    describe_workload,
    pinned_checkpointing,
)
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.types import ModelFramework, Precision

_GPUS_PER_REFERENCE_NODE = 8
_TABULAR_INPUTS = ("nodes", "offering.vcpus")
_DEEP_LEARNING_INPUTS = ("nodes", "offering.gpu_count", "offering.gpu_tflops")


class PeakSource(IntEnum):
    """Which datasheet figure a row's peak throughput came from."""

    NATIVE = 0
    SUBSTITUTE = 1
    FP32_FALLBACK = 2
    CPU = 3
    UNKNOWN = 4


@dataclass(frozen=True, slots=True)
class ReferenceThroughput:
    """The GPU an ``estimated_hours`` figure was measured on, as a throughput."""

    gpu_type: str
    peak_tflops_per_gpu: float
    gpu_count: int
    peak_source: PeakSource

    @property
    def sustained_tflops(self) -> float:
        nodes = math.ceil(self.gpu_count / _GPUS_PER_REFERENCE_NODE)
        per_node = self.gpu_count / nodes
        efficiency = scaling_efficiency_scalar(per_node, nodes)
        return self.gpu_count * self.peak_tflops_per_gpu * efficiency


@dataclass(frozen=True, slots=True, eq=False)
class TimeArrays:
    """Per-row run-time estimate."""

    hours: FloatArray
    #: Dense peak per device for the workload's precision (TFLOPS); CPU rows: per node.
    peak_tflops: FloatArray
    peak_source: Int8Array
    #: Sustained throughput of the whole row: TFLOPS for deep learning, GB/h for CPU-bound.
    throughput: FloatArray
    scaling_efficiency: FloatArray
    vcpus_assumed: BoolArray
    calibrated: bool
    inputs_used: tuple[str, ...]
    notes: tuple[str, ...]


def _tensor_primary_secondary(
    precision: Precision, bf16: FloatArray, fp16: FloatArray
) -> tuple[FloatArray, FloatArray]:
    if precision is Precision.FP16:
        return fp16, bf16
    return bf16, fp16


def peak_tflops_for_precision(
    precision: Precision,
    *,
    bf16_tflops: npt.ArrayLike,
    fp16_tflops: npt.ArrayLike,
    fp32_tflops: npt.ArrayLike,
    fp8_tflops: npt.ArrayLike | None = None,
) -> tuple[FloatArray, Int8Array]:
    """Dense peak per GPU for ``precision`` and the ``PeakSource`` of each value.

    ``tf32``: half the dense bf16 rate where the GPU has one (Ampere and later, ``TF32_PER_BF16``),
    else its fp32 rate (``SUBSTITUTE``: V100/T4 have no TF32). ``fp8``: the dense fp8 rate where
    the GPU has one (``fp8_tflops``), else the bf16 path (``SUBSTITUTE``: Transformer Engine's
    fp8 needs fp8 tensor cores, so such a GPU trains in bf16).
    """
    bf16 = np.asarray(bf16_tflops, dtype=np.float64)
    fp16 = np.asarray(fp16_tflops, dtype=np.float64)
    fp32 = np.asarray(fp32_tflops, dtype=np.float64)
    # ``x > 0`` is False for NaN, so it also tests "figure known".
    if precision is Precision.TF32:
        tf32 = bf16 * asm.TF32_PER_BF16
        has_tf32 = tf32 > 0
        has_fp32 = fp32 > 0
        peak = np.where(has_tf32, tf32, np.where(has_fp32, fp32, np.nan))
        source = np.where(
            has_tf32,
            np.int8(PeakSource.NATIVE),
            np.where(has_fp32, np.int8(PeakSource.SUBSTITUTE), np.int8(PeakSource.UNKNOWN)),
        )
        return peak.astype(np.float64, copy=False), source.astype(np.int8, copy=False)
    if precision is Precision.FP8:
        fp8 = np.broadcast_to(
            np.asarray(np.nan if fp8_tflops is None else fp8_tflops, dtype=np.float64), bf16.shape
        )
        half, half_source = peak_tflops_for_precision(
            Precision.BF16, bf16_tflops=bf16, fp16_tflops=fp16, fp32_tflops=fp32
        )
        has_fp8 = fp8 > 0
        peak = np.where(has_fp8, fp8, half)
        source = np.where(
            has_fp8,
            np.int8(PeakSource.NATIVE),
            np.where(half > 0, np.int8(PeakSource.SUBSTITUTE), half_source),
        )
        return peak.astype(np.float64, copy=False), source.astype(np.int8, copy=False)
    if precision is Precision.FP32:
        known = fp32 > 0
        peak = np.where(known, fp32, np.nan)
        source = np.where(known, np.int8(PeakSource.NATIVE), np.int8(PeakSource.UNKNOWN))
        return peak, source.astype(np.int8, copy=False)
    primary, secondary = _tensor_primary_secondary(precision, bf16, fp16)
    has_primary = primary > 0
    if has_primary.all():
        # The common case (every row has the figure) needs no fallback columns.
        return primary, np.zeros(primary.shape, dtype=np.int8)
    has_secondary = secondary > 0
    has_fp32 = fp32 > 0
    fallback = np.where(has_fp32, fp32 * asm.FP32_TO_TENSOR_FALLBACK_FACTOR, np.nan)
    peak = np.where(has_primary, primary, np.where(has_secondary, secondary, fallback))
    fallback_source = np.where(
        has_fp32, np.int8(PeakSource.FP32_FALLBACK), np.int8(PeakSource.UNKNOWN)
    )
    source = np.where(
        has_primary,
        np.int8(PeakSource.NATIVE),
        np.where(has_secondary, np.int8(PeakSource.SUBSTITUTE), fallback_source),
    )
    return peak.astype(np.float64, copy=False), source.astype(np.int8, copy=False)


_INTRA_EXPONENT = math.log2(asm.INTRA_NODE_EFFICIENCY_PER_DOUBLING)
_INTER_EXPONENT = math.log2(asm.INTER_NODE_EFFICIENCY_PER_DOUBLING)


def scaling_efficiency(gpus_per_node: npt.ArrayLike, nodes: npt.ArrayLike) -> FloatArray:
    """Parallel efficiency of ``gpus_per_node`` GPUs on each of ``nodes`` nodes.

    ``f ** log2(x)`` is computed as ``x ** log2(f)``: one power per factor, no logarithm.
    """
    per_node = np.maximum(np.asarray(gpus_per_node, dtype=np.float64), 1.0)
    node_count = np.maximum(np.asarray(nodes, dtype=np.float64), 1.0)
    efficiency: FloatArray = per_node**_INTRA_EXPONENT * node_count**_INTER_EXPONENT
    return efficiency


def scaling_efficiency_scalar(gpus_per_node: float, nodes: float) -> float:
    return float(max(gpus_per_node, 1.0) ** _INTRA_EXPONENT * max(nodes, 1.0) ** _INTER_EXPONENT)


def reference_from_figures(
    gpu_type: str,
    gpu_count: int,
    precision: Precision,
    *,
    bf16_tflops: float,
    fp16_tflops: float,
    fp32_tflops: float,
    fp8_tflops: float | None = None,
) -> ReferenceThroughput | None:
    """The reference throughput of ``gpu_count`` x ``gpu_type`` from its datasheet figures, or
    None when the figures give no peak for ``precision``."""
    peak, source = peak_tflops_for_precision(
        precision,
        bf16_tflops=[bf16_tflops],
        fp16_tflops=[fp16_tflops],
        fp32_tflops=[fp32_tflops],
        fp8_tflops=[math.nan if fp8_tflops is None else fp8_tflops],
    )
    if not math.isfinite(float(peak[0])):
        return None
    return ReferenceThroughput(
        gpu_type=gpu_type,
        peak_tflops_per_gpu=float(peak[0]),
        gpu_count=gpu_count,
        peak_source=PeakSource(int(source[0])),
    )


def _plan_array(
    values: npt.ArrayLike | None, default: float, n: int, name: str, *, minimum: float
) -> FloatArray:
    if values is None:
        return np.full(n, default, dtype=np.float64)
    out = np.asarray(values, dtype=np.float64)
    if out.shape not in ((), (n,)) or bool(np.any(~(out >= minimum))):
        raise InvalidInputError(f"{name}: one value >= {minimum:g} per row expected")
    return np.broadcast_to(out, (n,)).astype(np.float64)


def default_stack(workload: WorkloadProfile) -> str:
    """The framework stack a workload is assumed to run on (``throughput_model.STACKS``)."""
    return "hf_trainer" if workload.framework is ModelFramework.TRANSFORMERS else "pytorch_ddp"


def estimate_hours(
    workload: WorkloadProfile,
    *,
    gpu_count: npt.ArrayLike,
    nodes: npt.ArrayLike,
    vcpus: npt.ArrayLike,
    bf16_tflops: npt.ArrayLike,
    fp16_tflops: npt.ArrayLike,
    fp32_tflops: npt.ArrayLike,
    fp8_tflops: npt.ArrayLike | None = None,
    reference: ReferenceThroughput | None = None,
    facts: WorkloadFacts | None = None,
    mfu: float = asm.DEFAULT_MFU,
    memory_gb: npt.ArrayLike | None = None,
    gpu_type: npt.ArrayLike | None = None,
    memory_bandwidth_gbps: npt.ArrayLike | None = None,
    intra_node_gbps: npt.ArrayLike | None = None,
    inter_node_gbps: npt.ArrayLike | None = None,
    micro_batch: npt.ArrayLike | None = None,
    grad_accum: npt.ArrayLike | None = None,
    checkpointing: npt.ArrayLike | None = None,
    tensor_parallel: npt.ArrayLike | None = None,
    zero_stage: npt.ArrayLike | None = None,
    offload: npt.ArrayLike | None = None,
    stack: str | None = None,
    coefficients: Coefficients | None = None,
) -> TimeArrays:
    """Wall-clock hours of the whole run on every row (on-demand, without preemptions).

    ``gpu_count`` is per node (0 for CPU-only rows) and ``nodes`` at least 1 on every row.
    GPU rows use the calibrated throughput model (``throughput_model``); ``mfu`` only applies to
    deep learning on CPU-only rows.

    Hardware arrays (keyword-only, one value per row, all optional):

    * ``fp8_tflops``: dense fp8 peak (NaN/None: no fp8; an ``fp8`` workload runs such rows in
      bf16, see ``peak_tflops_for_precision``).

    * ``gpu_type``: canonical GPU names, for the fitted per-family efficiency (None or an
      unknown name: the default factor, see ``throughput_model``).
    * ``memory_bandwidth_gbps``: GPU memory bandwidth, GB/s; NaN/None -> 5 GB/s per peak TFLOPS.
    * ``intra_node_gbps``: GPU-to-GPU bandwidth inside a node, GB/s one way per GPU;
      NaN/None -> PCIe 4 x16 (31 GB/s).
    * ``inter_node_gbps``: network bandwidth per machine, GB/s one way; NaN/None -> 50 GB/s
      (the slowest fabric in ``node_networks.csv``).

    Plan arrays (keyword-only, one value per row; None = today's plan-free behaviour shown in
    brackets):

    * ``micro_batch``: sequences (samples) per device per micro-step [``workload.batch_size``].
    * ``grad_accum``: micro-steps per optimiser step, >= 1 [1].
    * ``checkpointing``: 0 off, 1 selective, 2 full (``workload.Checkpointing``)
      [the workload's pin: 2 full, 1 selective, else 0]. Recompute FLOPs are added once.
    * ``tensor_parallel``: degree inside a node, >= 1, dividing the GPUs of the node [1].
    * ``zero_stage``: 0 plain data parallel, 1, 2, 3 (ZeRO-3 = FSDP full shard) [0].
    * ``offload``: optimizer states (and parameters) on the CPU [False].

    Data parallel degree = GPUs per node x nodes / tensor_parallel; the global batch of a plan is
    ``dp x grad_accum x micro_batch``. ``stack`` names the framework stack
    (``throughput_model.STACKS``) [``default_stack(workload)``].

    ``memory_gb`` (RAM per node, NaN unknown) is read by the data-processing cluster model only.
    """
    if not 0 < mfu <= 1:
        raise InvalidInputError(f"mfu: must be in (0, 1], got {mfu:g}")
    facts = facts or describe_workload(workload)
    gpus = np.asarray(gpu_count, dtype=np.float64)
    node_count = np.asarray(nodes, dtype=np.float64)  # at least 1 (documented)
    cpu_count = np.asarray(vcpus, dtype=np.float64)
    n = gpus.shape[0]
    notes = facts.notes
    # ``x > 0`` is False for NaN: an unpublished vCPU count.
    vcpus_known = cpu_count > 0

    if facts.kind is WorkloadKind.TABULAR and workload.is_data_processing:
        return _cluster_time(workload, facts, node_count, cpu_count, gpus, memory_gb)
    if facts.kind is WorkloadKind.TABULAR:
        effective_vcpus = np.where(
            vcpus_known,
            cpu_count,
            np.where(
                gpus > 0, gpus * asm.DEFAULT_VCPUS_PER_GPU, float(asm.DEFAULT_VCPUS_CPU_INSTANCE)
            ),
        )
        rate = asm.CPU_GB_PER_THREAD_HOUR[workload.framework]
        serial = asm.CPU_SERIAL_FRACTION[workload.framework]
        speedup = 1.0 / (serial + (1.0 - serial) / effective_vcpus)
        node_efficiency: FloatArray = node_count**_INTER_EXPONENT
        throughput = rate * speedup * (node_count * node_efficiency)  # GB per hour
        if workload.estimated_hours is not None:
            notes = (
                *notes,
                "estimated_hours ignored: a CPU-bound framework is estimated from data size "
                "and vCPUs, not from a reference GPU",
            )
        return TimeArrays(
            hours=(workload.dataset_size_gb * workload.num_epochs) / throughput,
            peak_tflops=np.zeros(n, dtype=np.float64),
            peak_source=np.full(n, PeakSource.CPU, dtype=np.int8),
            throughput=throughput,
            scaling_efficiency=node_efficiency,
            vcpus_assumed=~vcpus_known,
            calibrated=False,
            inputs_used=(*facts.inputs_used, *_TABULAR_INPUTS),
            notes=notes,
        )

    gpu_peak, gpu_source = peak_tflops_for_precision(
        workload.precision,
        bf16_tflops=bf16_tflops,
        fp16_tflops=fp16_tflops,
        fp32_tflops=fp32_tflops,
        fp8_tflops=fp8_tflops,
    )
    # fp8 rows: the fitted fp8 factor applies where the GPU has an fp8 rate (fp8 peak used).
    fp8_rows = (workload.precision is Precision.FP8) & (gpu_source == PeakSource.NATIVE)
    if workload.precision is Precision.FP8 and not bool(np.all(fp8_rows)):
        notes = (
            *notes,
            "precision fp8: GPUs without an fp8 rate (gpu_specs.csv fp8_tflops: Hopper, Ada, "
            "Blackwell, MI300) are estimated in bf16, as Transformer Engine's fp8 needs fp8 "
            "tensor cores",
        )
    if workload.precision is Precision.FP32 and facts.is_cnn:
        # PyTorch runs convolutions in TF32 by default on Ampere and later
        # (torch.backends.cudnn.allow_tf32 = True) but fp32 matmuls in full fp32
        # (torch.backends.cuda.matmul.allow_tf32 = False since 1.12): GPUs with a bf16 rate
        # (Ampere+) get TF32 = half the dense bf16 rate (A100: 156 of 312 TFLOPS, datasheet).
        tf32 = np.asarray(bf16_tflops, dtype=np.float64) * asm.TF32_PER_BF16
        gpu_peak = np.where(tf32 > gpu_peak, tf32, gpu_peak)
    coef = coefficients or fitted_coefficients()
    on_gpu = gpus > 0
    cpu_rows = ~on_gpu
    devices = np.where(on_gpu, gpus, 1.0)
    cpu_vcpus = np.where(vcpus_known, cpu_count, float(asm.DEFAULT_VCPUS_CPU_INSTANCE))
    if cpu_rows.any():
        # Deep learning on a CPU-only row: one "device" per node, vCPUs x a per-vCPU peak.
        peak = np.where(on_gpu, gpu_peak, cpu_vcpus * (asm.CPU_PEAK_GFLOPS_PER_VCPU / 1e3))
        source = np.where(on_gpu, gpu_source, np.int8(PeakSource.CPU)).astype(np.int8)
    else:
        peak, source = gpu_peak, gpu_source
    names = np.full(n, "", dtype=object) if gpu_type is None else np.asarray(gpu_type, object)
    regime = regime_of(facts.model_class, facts.is_cnn)
    # One lookup per distinct GPU type (a catalog has ~30), not one per row.
    keys = np.array([str(x) if x else "" for x in names.tolist()], dtype=str)
    distinct, where = np.unique(keys, return_inverse=True)
    per_type = [coef.family_factor(str(x) if x else None, regime) for x in distinct.tolist()]
    family = np.asarray(per_type, dtype=np.float64)[where.reshape(-1)]
    stack_name = stack or default_stack(workload)
    ck_default = float(pinned_checkpointing(workload))
    mb = _plan_array(micro_batch, float(workload.batch_size), n, "micro_batch", minimum=1)
    accum = _plan_array(grad_accum, 1.0, n, "grad_accum", minimum=1)
    ck = _plan_array(checkpointing, ck_default, n, "checkpointing", minimum=0)
    tp = _plan_array(tensor_parallel, 1.0, n, "tensor_parallel", minimum=1)
    zero = _plan_array(zero_stage, 0.0, n, "zero_stage", minimum=0)
    off = np.zeros(n, bool) if offload is None else np.broadcast_to(np.asarray(offload, bool), n)
    recompute = np.asarray(facts.recompute_flops_per_position)[np.clip(ck, 0, 2).astype(np.intp)]
    # Attention core: forward, backward (2x) and, when checkpointed, its recompute.
    attention = facts.attention_flops_per_position * (3.0 + (ck >= 1))
    nan = np.full(n, np.nan)
    grad_bytes = 4.0 if workload.precision.stores_fp32 else 2.0
    step = step_time(
        flops_per_position=facts.flops_per_position,
        recompute_flops_per_position=recompute,
        positions_per_micro_batch=mb * facts.positions_per_sample,
        grad_accum=accum,
        layers=facts.layers,
        hidden=facts.hidden,
        params=facts.params,
        trainable_params=facts.trainable_params,
        weight_bytes=facts.weight_bytes,
        grad_bytes=grad_bytes,
        is_cnn=facts.is_cnn,
        peak_tflops=peak,
        bandwidth_gbps=nan if memory_bandwidth_gbps is None else memory_bandwidth_gbps,
        intra_gbps=nan if intra_node_gbps is None else intra_node_gbps,
        inter_gbps=nan if inter_node_gbps is None else inter_node_gbps,
        gpus_per_node=devices,
        nodes=node_count,
        tensor_parallel=tp,
        zero_stage=zero,
        offload=off,
        family_factor=np.where(on_gpu, family, mfu / coef.stack_factor(stack_name)),
        stack_factor=coef.stack_factor(stack_name),
        fp8=fp8_rows,
        coefficients=coef,
        attention_flops_per_position=attention,
    )
    # Positions per second of the whole row; TFLOPS of model work for the record.
    row_rate: FloatArray = step.positions / step.seconds
    model_tflops: FloatArray = row_rate * facts.flops_per_position / 1e12
    peak_total = devices * node_count * peak
    efficiency = np.where(peak_total > 0, model_tflops / peak_total, np.nan)
    used = (*facts.inputs_used, *_DEEP_LEARNING_INPUTS)
    calibrated = False
    if reference is not None and workload.estimated_hours is not None:
        # A measured run replaces the model: rescale by the datasheet throughput ratio.
        used = (*used, "estimated_hours", "reference_gpu", "reference_gpu_count")
        ref_scaling = devices**_INTRA_EXPONENT * node_count**_INTER_EXPONENT
        hours = (workload.estimated_hours * reference.sustained_tflops) / (peak_total * ref_scaling)
        calibrated = True
    else:
        if workload.estimated_hours is not None:
            notes = (
                *notes,
                "estimated_hours ignored: no throughput known for the reference GPU"
                if workload.reference_gpu
                else "estimated_hours ignored: reference_gpu not given",
            )
        hours = facts.positions_total / row_rate / 3600.0
    return TimeArrays(
        hours=hours,
        peak_tflops=peak,
        peak_source=source,
        throughput=model_tflops,
        scaling_efficiency=efficiency,
        vcpus_assumed=cpu_rows & ~vcpus_known,
        calibrated=calibrated,
        inputs_used=used,
        notes=notes,
    )


# --- issue 14 hook: data-processing jobs use the cluster model of ``estimate.cluster`` ----------


def _cluster_time(
    workload: WorkloadProfile,
    facts: WorkloadFacts,
    node_count: FloatArray,
    cpu_count: FloatArray,
    gpus: FloatArray,
    memory_gb: npt.ArrayLike | None,
) -> TimeArrays:
    from artenic_opt.estimate.cluster import CLUSTER_INPUTS, estimate_cluster

    n = cpu_count.shape[0]
    known = cpu_count > 0
    default = np.where(
        gpus > 0, gpus * asm.DEFAULT_VCPUS_PER_GPU, float(asm.DEFAULT_VCPUS_CPU_INSTANCE)
    )
    ram = np.full(n, np.nan) if memory_gb is None else np.asarray(memory_gb, dtype=np.float64)
    cluster = estimate_cluster(
        workload, nodes=node_count, vcpus=np.where(known, cpu_count, default), memory_gb=ram
    )
    return TimeArrays(
        hours=cluster.hours,
        peak_tflops=np.zeros(n, dtype=np.float64),
        peak_source=np.full(n, PeakSource.CPU, dtype=np.int8),
        throughput=cluster.gb_per_hour,
        scaling_efficiency=cluster.parallel_efficiency,
        vcpus_assumed=~known,
        calibrated=False,
        inputs_used=(*facts.inputs_used, *CLUSTER_INPUTS),
        notes=facts.notes,
    )
