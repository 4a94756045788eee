"""The simulated world's physics: what a workload *really* needs and how fast it *really* runs.

This is the ground truth of the simulator, written independently of ``estimate/`` on purpose: the
two agree on the broad shape (memory from weights, gradients, optimizer states and activations;
time from training FLOPs over sustained throughput) but differ in the details an estimator cannot
know from spec sheets, which is what the learning-to-rank loop has to discover:

* Sustained throughput is a per-GPU-family share of the datasheet peak (model FLOPs utilisation)
  that differs by family (A100 sustains a larger share than H100, L40S and MI300X much less), and
  GPUs without native bf16 (T4, V100) fall back to fp32 speed for bf16 jobs.
* Small models and small micro-batches under-use a GPU; convolutional and speech models reach a
  much lower utilisation than transformers.
* Memory carries a fragmentation factor and a framework overhead that grows with model size;
  a GPU's usable memory is slightly below its nominal size.
* Checkpoints cost time in proportion to the model state written; start-up grows with the weights
  to load; CPU-bound frameworks scale sub-linearly with vCPUs (scikit-learn barely).

Every function here is pure and deterministic; noise and provider behaviour live in ``world.py``.
Sizes are in GB (1e9 bytes), throughput in TFLOPS, time in hours.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from artenic_opt.schemas import Offering, WorkloadProfile
from artenic_opt.types import CheckpointMode, FineTuning, ModelFramework, OptimizerKind, Precision

#: Tokens per GB of text (about 4 bytes per token) when a sequence workload gives no token count.
TEXT_TOKENS_PER_GB = 2.5e8
#: "Equivalent tokens" per GB of images or audio: makes 6 x params x tokens match the measured
#: training FLOPs of ResNet-50 on ImageNet and of speech encoders on 16 kHz audio.
MEDIA_TOKENS_PER_GB = 1.0e6
#: Sustained dense TFLOPS per vCPU for neural training on a CPU-only machine.
CPU_TFLOPS_PER_VCPU = 0.03
#: Share of nominal GPU memory a training process can really allocate.
USABLE_GPU_MEMORY_SHARE = 0.97
#: Share of host memory left to a job after the operating system and agents.
USABLE_HOST_MEMORY_SHARE = 0.9
#: Caching-allocator fragmentation on top of the tensors that are really live.
FRAGMENTATION = 1.07
#: CUDA context and library workspaces, per GPU.
CUDA_CONTEXT_GB = 0.8
#: Checkpoint write bandwidth per node (GB/s) when the provider profile does not say otherwise.
CHECKPOINT_WRITE_GBPS = 1.5


@dataclass(frozen=True, slots=True)
class GpuFamily:
    """True behaviour of one GPU family (not the datasheet: what training really gets)."""

    key: str
    half_tflops: float  # dense bf16 (or fp16 where bf16 is missing) datasheet peak
    fp32_tflops: float
    has_bf16: bool
    nvlink: bool
    transformer_mfu: float  # sustained share of ``half_tflops`` on large transformer training


# Longer and more specific patterns come first: "l40s" before "l40" before "l4", "a100" before
# "a10", "a4000" before "a40", "6000ada" before "rtx6000". Names are compacted first (lower case,
# letters and digits only), so the catalog's "A100 80GB" and "H100 PCIe" match as well as the
# platform's "NVIDIA A100-SXM4-80GB".
_GPU_FAMILIES: tuple[tuple[str, GpuFamily], ...] = (
    ("gh200", GpuFamily("gh200", 989.0, 67.0, True, True, 0.45)),
    ("h200", GpuFamily("h200", 989.0, 67.0, True, True, 0.44)),
    ("h100pcie", GpuFamily("h100pcie", 756.0, 51.0, True, False, 0.38)),
    ("h100", GpuFamily("h100", 989.0, 67.0, True, True, 0.40)),
    ("b300", GpuFamily("b300", 2250.0, 80.0, True, True, 0.37)),
    ("b200", GpuFamily("b200", 2250.0, 80.0, True, True, 0.36)),
    ("a100", GpuFamily("a100", 312.0, 19.5, True, True, 0.50)),
    ("l40s", GpuFamily("l40s", 362.0, 91.6, True, False, 0.27)),
    ("l40", GpuFamily("l40", 181.0, 90.5, True, False, 0.32)),
    ("l4", GpuFamily("l4", 121.0, 30.3, True, False, 0.30)),
    ("a10g", GpuFamily("a10g", 70.0, 31.2, True, False, 0.42)),
    ("a10", GpuFamily("a10", 125.0, 31.2, True, False, 0.36)),
    ("t4", GpuFamily("t4", 65.0, 8.1, False, False, 0.30)),
    ("v100", GpuFamily("v100", 125.0, 15.7, False, True, 0.42)),
    ("p100", GpuFamily("p100", 18.7, 9.3, False, True, 0.45)),
    ("4090", GpuFamily("rtx4090", 165.0, 82.6, True, False, 0.36)),
    ("3090", GpuFamily("rtx3090", 71.0, 35.6, True, False, 0.38)),
    ("3070", GpuFamily("rtx3070", 40.0, 20.3, True, False, 0.36)),
    ("6000ada", GpuFamily("rtx6000ada", 364.0, 91.1, True, False, 0.30)),
    ("rtx6000", GpuFamily("quadrortx6000", 65.0, 16.3, False, False, 0.38)),
    ("a6000", GpuFamily("rtxa6000", 155.0, 38.7, True, False, 0.40)),
    ("a5000", GpuFamily("rtxa5000", 111.0, 27.8, True, False, 0.38)),
    ("a4000", GpuFamily("rtxa4000", 76.7, 19.2, True, False, 0.38)),
    ("a40", GpuFamily("a40", 150.0, 37.4, True, False, 0.38)),
    ("mi300x", GpuFamily("mi300x", 1307.0, 163.4, True, True, 0.24)),
    ("mi250", GpuFamily("mi250", 362.0, 47.9, True, True, 0.30)),
)
_UNKNOWN_GPU = GpuFamily("unknown", 100.0, 20.0, True, False, 0.30)


def gpu_family(gpu_type: str | None) -> GpuFamily:
    """The family of a GPU type name, whatever its spelling ("A100-80GB", "nvidia_a100", ...)."""
    if not gpu_type:
        return _UNKNOWN_GPU
    key = re.sub(r"[^a-z0-9]", "", gpu_type.lower())
    for pattern, family in _GPU_FAMILIES:
        if pattern in key:
            return family
    return _UNKNOWN_GPU


# ------------------------------------------------------------------------------------------------
# Workload shape
# ------------------------------------------------------------------------------------------------


def is_sequence_model(workload: WorkloadProfile) -> bool:
    """Transformers over token sequences: the workload says so by giving tokens or the framework."""
    return workload.tokens is not None or workload.framework is ModelFramework.TRANSFORMERS


def tokens_per_epoch(workload: WorkloadProfile) -> float:
    if workload.tokens is not None:
        return workload.tokens
    per_gb = TEXT_TOKENS_PER_GB if is_sequence_model(workload) else MEDIA_TOKENS_PER_GB
    return workload.dataset_size_gb * per_gb


def hidden_size(params_m: float) -> float:
    """Hidden width of a decoder of this size (params ~ 12 x layers x h^2 with layers ~ h / 128)."""
    return float((params_m * 1e6 * 128.0 / 12.0) ** (1.0 / 3.0))


def _params_m(workload: WorkloadProfile) -> float:
    """Model size in millions; a workload without a model (data processing) counts as tiny."""
    return workload.model_params_m or 1e-3


def layer_count(params_m: float) -> int:
    return max(2, round(hidden_size(params_m) / 128.0))


def trainable_params(workload: WorkloadProfile) -> float:
    """Parameters that receive gradients: all of them, or the LoRA adapters (8 x r x h x layers)."""
    total = _params_m(workload) * 1e6
    if workload.fine_tuning is FineTuning.FULL:
        return total
    h = hidden_size(_params_m(workload))
    adapters = 8.0 * workload.lora_rank * h * layer_count(_params_m(workload))
    return min(total, adapters)


def _mixed_precision(workload: WorkloadProfile) -> bool:
    return not workload.precision.stores_fp32


_OPTIMIZER_BYTES_MIXED: dict[OptimizerKind, float] = {
    # fp32 master copy plus the optimizer's own states
    OptimizerKind.ADAMW: 12.0,
    OptimizerKind.ADAM: 12.0,
    OptimizerKind.ADAMW_8BIT: 6.0,
    OptimizerKind.ADAFACTOR: 4.5,
    OptimizerKind.SGD_MOMENTUM: 8.0,
    OptimizerKind.SGD: 4.0,
}
_OPTIMIZER_BYTES_FP32: dict[OptimizerKind, float] = {
    OptimizerKind.ADAMW: 8.0,
    OptimizerKind.ADAM: 8.0,
    OptimizerKind.ADAMW_8BIT: 2.0,
    OptimizerKind.ADAFACTOR: 0.5,
    OptimizerKind.SGD_MOMENTUM: 4.0,
    OptimizerKind.SGD: 0.0,
}


@dataclass(frozen=True, slots=True)
class ModelStateGb:
    """Model state of the whole job (not yet divided across GPUs), in GB."""

    weights: float
    gradients: float
    optimizer: float

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer


def model_state_gb(workload: WorkloadProfile) -> ModelStateGb:
    params = _params_m(workload) * 1e6
    trainable = trainable_params(workload)
    if workload.fine_tuning is FineTuning.FULL:
        weights = params * workload.precision.bytes_per_param
        grad_bytes = 2.0 if _mixed_precision(workload) else 4.0
        table = _OPTIMIZER_BYTES_MIXED if _mixed_precision(workload) else _OPTIMIZER_BYTES_FP32
        return ModelStateGb(
            weights=weights / 1e9,
            gradients=trainable * grad_bytes / 1e9,
            optimizer=trainable * table[workload.optimizer] / 1e9,
        )
    base_bytes = workload.precision.bytes_per_param
    if workload.fine_tuning is FineTuning.QLORA:
        # Quantisation constants, and embeddings / head kept in bf16 (about 3% of the weights).
        base_bytes = base_bytes * 1.1 * 0.97 + 2.0 * 0.03
    # Adapters are trained in fp32: weights, gradients and fp32 optimizer states.
    adapters = trainable * (4.0 + 4.0 + _OPTIMIZER_BYTES_FP32[workload.optimizer])
    return ModelStateGb(
        weights=(params * base_bytes + trainable * 4.0) / 1e9,
        gradients=trainable * 4.0 / 1e9,
        optimizer=max(0.0, adapters - trainable * 8.0) / 1e9,
    )


def activations_gb(workload: WorkloadProfile) -> float:
    """Activation memory of one micro-batch on one GPU."""
    act_scale = 1.0 if _mixed_precision(workload) else 2.0
    if is_sequence_model(workload):
        h = hidden_size(_params_m(workload))
        layers = layer_count(_params_m(workload))
        tokens = workload.batch_size * workload.sequence_length
        # Korthikanti et al. (2022): ~34 h bytes per token per layer with flash attention; with
        # recomputation only each layer's input (2 h) is kept, plus one layer being recomputed.
        recomputes = _recomputes(workload)
        per_token = 2.0 * h * layers + 34.0 * h if recomputes else 34.0 * h * layers
        return tokens * per_token * act_scale / 1e9
    per_sample = 0.08 * float((_params_m(workload) / 25.0) ** 0.6)
    if _recomputes(workload):
        per_sample *= 0.4
    return workload.batch_size * per_sample * act_scale


def gpus_used_per_node(workload: WorkloadProfile, offering: Offering) -> int:
    """A distributed job uses every GPU; a single-process job only the workers it asked for."""
    if offering.gpu_count == 0:
        return 0
    if workload.distributed:
        return offering.gpu_count
    return min(workload.num_workers, offering.gpu_count)


def nodes_used(workload: WorkloadProfile, nodes: int) -> int:
    if not workload.distributed:
        return 1
    return max(1, min(nodes, workload.max_nodes))


def gpu_memory_needed_gb(workload: WorkloadProfile, offering: Offering, nodes: int) -> float:
    """True peak memory per GPU (GB). Distributed jobs shard model state over every GPU (FSDP)."""
    state = model_state_gb(workload)
    gpus = max(1, gpus_used_per_node(workload, offering) * nodes_used(workload, nodes))
    shards = gpus if workload.distributed else 1
    live = state.total / shards + activations_gb(workload)
    # Framework overhead grows with the model: per-parameter buffers, NCCL buckets, caches.
    overhead = CUDA_CONTEXT_GB + 0.03 * state.weights / shards
    return live * FRAGMENTATION + overhead


_HOST_MEMORY_FACTOR: dict[ModelFramework, float] = {
    ModelFramework.LIGHTGBM: 1.3,
    ModelFramework.XGBOOST: 2.2,
    ModelFramework.CATBOOST: 1.8,
    ModelFramework.SKLEARN: 3.5,
}


def host_memory_gb(offering: Offering) -> float:
    if offering.memory_gb is not None:
        return offering.memory_gb
    return float(offering.vcpus * 4) if offering.vcpus else 16.0


def host_memory_needed_gb(workload: WorkloadProfile) -> float:
    """Host RAM a CPU-bound job needs: the dataset and the framework's working copies."""
    factor = _HOST_MEMORY_FACTOR.get(workload.framework, 2.0)
    return workload.dataset_size_gb * factor + 0.5


def vcpus_of(offering: Offering) -> int:
    return offering.vcpus if offering.vcpus else 8


# ------------------------------------------------------------------------------------------------
# Time
# ------------------------------------------------------------------------------------------------


def training_flops(workload: WorkloadProfile) -> float:
    """FLOPs of the whole job: 6 x params x tokens (forward 2, backward 4), adjusted by method."""
    params = _params_m(workload) * 1e6
    tokens = tokens_per_epoch(workload) * workload.num_epochs
    per_param_token = 6.0 if workload.fine_tuning is FineTuning.FULL else 4.0
    if _recomputes(workload):
        per_param_token += 2.0  # one extra forward pass
    return per_param_token * params * tokens


def sustained_tflops_per_gpu(workload: WorkloadProfile, family: GpuFamily) -> float:
    """What one GPU of this family really sustains on this workload."""
    precision = workload.precision
    if precision.stores_fp32:
        peak = family.half_tflops / 2.0 if family.has_bf16 else family.fp32_tflops  # TF32
    elif precision is Precision.BF16 and not family.has_bf16:
        peak = family.fp32_tflops  # emulated: no bf16 tensor cores
    else:
        peak = family.half_tflops
    mfu = family.transformer_mfu
    if precision in (Precision.INT8, Precision.INT4):
        mfu *= 0.7  # dequantisation on every matmul
    if is_sequence_model(workload):
        batch_tokens = workload.batch_size * workload.sequence_length
        mfu *= min(1.0, max(0.6, float((batch_tokens / 4096.0) ** 0.1)))
    else:
        mfu *= 0.35 * min(1.0, max(0.6, float((workload.batch_size / 64.0) ** 0.15)))
    mfu *= min(1.0, max(0.4, float((_params_m(workload) / 1000.0) ** 0.12)))
    return peak * mfu


def intra_node_efficiency(gpus: int, family: GpuFamily) -> float:
    if gpus <= 1:
        return 1.0
    per_doubling = 0.96 if family.nvlink else 0.90
    return float(per_doubling ** math.log2(gpus))


def checkpoint_size_gb(workload: WorkloadProfile) -> float:
    state = model_state_gb(workload)
    if workload.fine_tuning is FineTuning.FULL:
        return state.total
    return trainable_params(workload) * 16.0 / 1e9  # adapters and their optimizer states


_CPU_HOURS_PER_GB: dict[ModelFramework, tuple[float, float]] = {
    # (hours x vCPU^alpha per GB and epoch, alpha)
    ModelFramework.LIGHTGBM: (1.2, 0.8),
    ModelFramework.XGBOOST: (1.6, 0.8),
    ModelFramework.CATBOOST: (2.2, 0.75),
    ModelFramework.SKLEARN: (3.0, 0.45),
}
#: CPU-bound frameworks with a real GPU backend, and how many vCPUs one GPU is worth to them.
_GPU_BOOSTED: dict[ModelFramework, float] = {
    ModelFramework.XGBOOST: 60.0,
    ModelFramework.CATBOOST: 40.0,
}


def cpu_bound_hours(workload: WorkloadProfile, offering: Offering) -> float:
    """Run time of a gradient-boosting or scikit-learn job (one node)."""
    k, alpha = _CPU_HOURS_PER_GB.get(workload.framework, (3.0, 0.6))
    vcpus = float(vcpus_of(offering))
    boost = _GPU_BOOSTED.get(workload.framework)
    if boost is not None and offering.gpu_count > 0:
        tflops_ratio = gpu_family(offering.gpu_type).half_tflops / 125.0
        vcpus = max(vcpus, boost * offering.gpu_count**0.7 * tflops_ratio**0.3)
    return k * workload.dataset_size_gb * workload.num_epochs / float(vcpus**alpha)


def gpu_compute_hours(workload: WorkloadProfile, gpu_type: str, gpu_count: int) -> float:
    """Pure compute time on ``gpu_count`` GPUs of one node at nominal provider performance."""
    family = gpu_family(gpu_type)
    rate = sustained_tflops_per_gpu(workload, family) * gpu_count
    rate *= intra_node_efficiency(gpu_count, family)
    return training_flops(workload) / (rate * 1e12) / 3600.0


def reference_hours(workload: WorkloadProfile) -> float:
    """Nominal run time on a reference set-up (A100s or 16 vCPUs): the generator's yardstick."""
    if workload.framework.is_cpu_bound:
        shape = Offering(
            provider="reference",
            region="reference",
            instance_type="cpu-16",
            vcpus=16,
            memory_gb=128,
            price_per_hour=1.0,
            source="simulator",
            price_date=date(2025, 1, 1),
        )
        return cpu_bound_hours(workload, shape)
    return gpu_compute_hours(workload, "A100 80GB", min(8, workload.num_workers))


def _recomputes(workload: WorkloadProfile) -> bool:
    """Whether the workload pins activation checkpointing (selective or full; ``True`` as set
    through an unvalidated ``model_copy`` still means full)."""
    value: object = workload.gradient_checkpointing
    return value is True or value in (CheckpointMode.SELECTIVE, CheckpointMode.FULL)
