"""What a workload implies before any offering is looked at: its kind, shape and amount of work.

These are scalars computed once per workload; the per-offering estimators (memory, time, cost)
broadcast them over all candidate rows.

Decisions:

* **Kind.** A workload is one of three kinds, because the amount of work is measured differently:

  - The workload's ``architecture`` decides first: LLMs and encoders are ``TOKENS``, vision and
    diffusion models ``SAMPLES``. The framework name never makes a 7B model a vision model.
  - ``TOKENS``: sequence models, costed per token. Without an architecture: when the workload
    gives ``tokens``, when the framework is ``transformers``, when it is a LoRA/QLoRA fine-tune
    (both are language-model techniques), or when the model has at least
    ``MAX_SAMPLE_MODEL_PARAMS_M`` parameters (no common vision classifier is that large).
  - ``SAMPLES``: other deep learning (pytorch, tensorflow, jax, onnx, custom) with no token count,
    costed per sample like a vision transformer (see ``assumptions``). A language model trained
    through plain PyTorch should give ``tokens`` (or use ``transformers``); a note says so.
  - ``TABULAR``: the CPU-bound frameworks (lightgbm, xgboost, catboost, sklearn), which scale with
    data size and vCPUs instead of FLOPs.

* **Shape.** From the architecture when given; otherwise layers and hidden size are derived from
  the parameter count with the ``h = 128 L`` rule, kept as real numbers.
* **FLOPs per position** (a token; for sample models 1/197 of an image, ViT-B/16 positions):
  training = 3 x forward; forward = 2 x matmul parameters + attention ``4 x layers x seq x
  hidden`` (PaLM/Megatron convention, no causal halving). LoRA/QLoRA skip the frozen weights'
  gradients: ``4 x matmul + 3 x attention``. Recompute is kept apart (hardware work): full
  checkpointing adds one forward pass, selective the attention core (``4 x layers x seq x
  hidden``, Korthikanti et al. 2022). CNNs (and the diffusion UNet, for want of a published
  figure) scale ResNet-50's 4.09 GMACs per image by their parameter count.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from artenic_opt.estimate import assumptions as asm
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.types import FineTuning, ModelFramework, Precision


class WorkloadKind(StrEnum):
    """How the amount of work of a workload is measured."""

    TOKENS = "tokens"
    SAMPLES = "samples"
    TABULAR = "tabular"


class Checkpointing(IntEnum):
    """Activation checkpointing codes of the plan arrays."""

    OFF = 0
    SELECTIVE = 1
    FULL = 2


@dataclass(frozen=True, slots=True)
class WorkloadFacts:
    """Scalars derived from a workload, shared by every estimator."""

    kind: WorkloadKind
    params: float
    trainable_params: float
    layers: float
    hidden: float
    #: Token positions (or sample positions) processed over the whole run, all epochs.
    positions_total: float
    #: Positions in one per-device micro-batch.
    positions_per_micro_batch: float
    training_flops: float
    #: Bytes per parameter of the (frozen or trained) base weights.
    weight_bytes: float
    #: Bytes per trainable parameter of weights, gradients and optimizer states (incl. master).
    trainable_weight_bytes: float
    gradient_bytes: float
    optimizer_bytes: float
    activation_scale: float
    inputs_used: tuple[str, ...]
    notes: tuple[str, ...]
    #: Measurement class: llm, encoder, vision, diffusion or tabular.
    model_class: str = "llm"
    #: Convolutional (CNN / UNet): utilisation and memory traffic use the CNN constants.
    is_cnn: bool = False
    #: Positions per sample (sequence length for token models, 197 for sample models).
    positions_per_sample: float = 1.0
    #: Model training FLOPs per position (attention included, recompute excluded).
    flops_per_position: float = 0.0
    #: Extra FLOPs per position by checkpointing code (off, selective, full).
    recompute_flops_per_position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    #: Forward FLOPs per position of the attention core (``QK^T`` and ``AV``; 0 for CNNs): a
    #: training step runs it three times (once more when recomputed), at its own efficiency.
    attention_flops_per_position: float = 0.0


_WEIGHT_BYTES: dict[Precision, float] = {
    Precision.FP32: 4.0,
    Precision.TF32: 4.0,
    Precision.FP16: 2.0,
    Precision.BF16: 2.0,
    Precision.FP8: 2.0,  # 16-bit module weights, cast to fp8 per GEMM (types.Precision)
    Precision.INT8: 1.0,
    Precision.INT4: asm.NF4_DOUBLE_QUANT_BITS_PER_PARAM / 8.0,
}


def workload_kind(workload: WorkloadProfile) -> WorkloadKind:
    """Classify a workload; see the module docstring for the rule."""
    if workload.framework.is_cpu_bound or workload.is_data_processing:
        # No model to size: data size and vCPUs decide (estimate.cluster, issue 14).
        return WorkloadKind.TABULAR
    arch = workload.architecture
    if arch is not None:
        return WorkloadKind.TOKENS if arch.kind in ("llm", "encoder") else WorkloadKind.SAMPLES
    if (
        workload.tokens is not None
        or workload.framework is ModelFramework.TRANSFORMERS
        or workload.fine_tuning is not FineTuning.FULL
        or (workload.model_params_m or 0.0) >= asm.MAX_SAMPLE_MODEL_PARAMS_M
    ):
        return WorkloadKind.TOKENS
    return WorkloadKind.SAMPLES


def _flops_per_position(
    workload: WorkloadProfile, kind: WorkloadKind, params: float, layers: float, hidden: float
) -> tuple[float, tuple[float, float, float], bool, float, float]:
    """Training FLOPs per position, recompute FLOPs per checkpointing code, CNN flag, positions
    per sample and the forward attention-core FLOPs per position (see the module docstring)."""
    arch = workload.architecture
    adapter = workload.fine_tuning is not FineTuning.FULL
    if kind is WorkloadKind.TOKENS:
        seq = float(workload.sequence_length)
        if arch is not None and arch.layers > 0:
            matmul = max(arch.active_params_m * 1e6 - arch.vocab * arch.hidden, 0.0)
            attn = 4.0 * arch.layers * seq * (arch.heads * arch.head_dim or arch.hidden)
        else:
            matmul, attn = params, 4.0 * layers * seq * hidden
        per_sample = seq
    else:
        per_sample = float(asm.POSITIONS_PER_SAMPLE)
        if arch is not None and arch.family in ("cnn", "diffusion_unet"):
            macs = arch.params_m * 1e6 * (asm.RESNET50_FORWARD_MACS / asm.RESNET50_PARAMS)
            forward = 2.0 * macs / per_sample
            return 3.0 * forward, (0.0, 0.0, forward), True, per_sample, 0.0
        if arch is not None and arch.layers > 0:
            matmul = arch.active_params_m * 1e6
            attn = 4.0 * arch.layers * per_sample * arch.hidden
        else:
            matmul, attn = params, 0.0
    base = (4.0 if adapter else 6.0) * matmul + 3.0 * attn
    return base, (0.0, attn, 2.0 * matmul + attn), False, per_sample, attn


def model_layers_hidden(params: float) -> tuple[float, float]:
    """Layers and hidden size of a transformer of ``params`` parameters (``h = 128 L``)."""
    per_layer_cube = asm.PARAMS_PER_LAYER_PER_HIDDEN_SQUARED * asm.HIDDEN_PER_LAYER**2
    layers = max(1.0, (params / per_layer_cube) ** (1.0 / 3.0))
    hidden = (params / (asm.PARAMS_PER_LAYER_PER_HIDDEN_SQUARED * layers)) ** 0.5
    return layers, hidden


def lora_trainable_params(params: float, lora_rank: int) -> float:
    """Adapter parameters when every linear layer of every block is adapted."""
    layers, hidden = model_layers_hidden(params)
    adapters = asm.LORA_PARAMS_PER_RANK_HIDDEN_LAYER * lora_rank * hidden * layers
    return min(adapters, params)


@functools.lru_cache(maxsize=256)
def describe_workload(workload: WorkloadProfile) -> WorkloadFacts:
    """Derive the kind, shape, work and per-parameter byte counts of a workload.

    Cached: workloads are frozen (hashable) and the same one is described for every candidate
    set, feature row and recommendation made for it.
    """
    kind = workload_kind(workload)
    params = (workload.model_params_m or 0.0) * 1e6
    layers, hidden = model_layers_hidden(params)
    arch = workload.architecture
    if arch is not None and arch.layers > 0:
        layers, hidden = float(arch.layers), float(arch.hidden)
    precision = workload.precision
    used: list[str] = ["framework", "model_params_m", "precision"]
    notes: list[str] = []

    if workload.fine_tuning is FineTuning.FULL:
        trainable = params
    else:
        trainable = lora_trainable_params(params, workload.lora_rank)
        used += ["fine_tuning", "lora_rank"]

    sixteen_bit_compute = not precision.stores_fp32
    trainable_weight_bytes = 2.0 if sixteen_bit_compute else 4.0
    gradient_bytes = 2.0 if sixteen_bit_compute else 4.0
    master = asm.MASTER_WEIGHT_BYTES if sixteen_bit_compute else 0.0
    optimizer_bytes = asm.OPTIMIZER_STATE_BYTES[workload.optimizer] + master
    activation_scale = 1.0 if sixteen_bit_compute else 2.0
    # Base weights are stored in the training precision (int8/int4: quantised, as in QLoRA or
    # quantisation-aware full training, where the fp32 master copy sits in the optimizer bytes).
    weight_bytes = _WEIGHT_BYTES[precision]
    if workload.fine_tuning is FineTuning.FULL:
        # Every parameter is trainable and already counted once in ``weight_bytes``.
        trainable_weight_bytes = 0.0

    positions_total: float
    per_micro_batch: float
    flops: float
    per_position = 0.0
    recompute = (0.0, 0.0, 0.0)
    attention = 0.0
    is_cnn = False
    per_sample = 1.0
    model_class: str = arch.kind if arch is not None else "llm"
    if kind is WorkloadKind.TABULAR:
        model_class = "tabular"
        positions_total = 0.0
        per_micro_batch = 0.0
        flops = 0.0
        used += ["dataset_size_gb", "num_epochs"]
    else:
        used += ["optimizer", "batch_size", "gradient_checkpointing", "num_epochs"]
        if kind is WorkloadKind.TOKENS:
            used.append("sequence_length")
            per_micro_batch = float(workload.batch_size * workload.sequence_length)
            if workload.tokens is not None:
                per_epoch = workload.tokens
                used.append("tokens")
            else:
                per_epoch = workload.dataset_size_gb * asm.GB / asm.BYTES_PER_TOKEN
                used.append("dataset_size_gb")
                notes.append(
                    f"tokens derived from the dataset size at {asm.BYTES_PER_TOKEN:g} bytes per "
                    "token; give tokens for a sharper estimate"
                )
        else:
            per_micro_batch = float(workload.batch_size * asm.POSITIONS_PER_SAMPLE)
            samples = workload.dataset_size_gb * asm.GB / asm.BYTES_PER_SAMPLE
            per_epoch = samples * asm.POSITIONS_PER_SAMPLE
            used.append("dataset_size_gb")
            if arch is None:
                notes.append(
                    "no token count: costed as a sample-based (vision-style) model at "
                    f"{asm.BYTES_PER_SAMPLE / 1e3:g} kB per sample; give tokens or use the "
                    "transformers framework for a language model"
                )
            else:
                notes.append(
                    f"samples counted from the dataset size at {asm.BYTES_PER_SAMPLE / 1e3:g} kB "
                    "per sample"
                )
        positions_total = per_epoch * workload.num_epochs
        if arch is None and kind is WorkloadKind.SAMPLES:
            model_class = "vision"
        per_position, recompute, is_cnn, per_sample, attention = _flops_per_position(
            workload, kind, params, layers, hidden
        )
        # Plan-free facts count a pinned checkpointing mode; the plan search passes its own.
        checkpointed = recompute[pinned_checkpointing(workload)]
        flops = (per_position + checkpointed) * positions_total

    return WorkloadFacts(
        kind=kind,
        params=params,
        trainable_params=trainable,
        layers=layers,
        hidden=hidden,
        positions_total=positions_total,
        positions_per_micro_batch=per_micro_batch,
        training_flops=flops,
        weight_bytes=weight_bytes,
        trainable_weight_bytes=trainable_weight_bytes,
        gradient_bytes=gradient_bytes,
        optimizer_bytes=optimizer_bytes,
        activation_scale=activation_scale,
        inputs_used=tuple(dict.fromkeys(used)),
        notes=tuple(notes),
        model_class=model_class,
        is_cnn=is_cnn,
        positions_per_sample=per_sample,
        flops_per_position=per_position,
        recompute_flops_per_position=recompute,
        attention_flops_per_position=attention,
    )


def pinned_checkpointing(workload: WorkloadProfile) -> int:
    """The workload's checkpointing pin as a ``Checkpointing`` code (unpinned: off).

    ``True`` (set through an unvalidated ``model_copy``) still reads as full.
    """
    mode: object = workload.gradient_checkpointing
    if mode is True or mode == "full":
        return int(Checkpointing.FULL)
    if mode == "selective":
        return int(Checkpointing.SELECTIVE)
    return int(Checkpointing.OFF)
