"""What a workload implies before any offering is looked at: its kind, shape and amount of work.

These are scalars computed once per workload; the per-offering estimators (memory, time, cost)
broadcast them over all candidate rows.

Decisions:

* **Kind.** A workload is one of three kinds, because the amount of work is measured differently:

  - ``TOKENS``: sequence models, costed per token. Chosen when the workload gives ``tokens``,
    when the framework is ``transformers``, or when it is a LoRA/QLoRA fine-tune (both are
    language-model techniques).
  - ``SAMPLES``: other deep learning (pytorch, tensorflow, jax, onnx, custom) with no token count,
    costed per sample like a vision transformer (see ``assumptions``). A language model trained
    through plain PyTorch should give ``tokens`` (or use ``transformers``); a note says so.
  - ``TABULAR``: the CPU-bound frameworks (lightgbm, xgboost, catboost, sklearn), which scale with
    data size and vCPUs instead of FLOPs.

* **Shape.** Layers and hidden size are derived from the parameter count with the ``h = 128 L``
  rule, kept as real numbers (these are estimates, not architectures).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from artenic_opt.estimate import assumptions as asm
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.types import FineTuning, ModelFramework, Precision


class WorkloadKind(StrEnum):
    """How the amount of work of a workload is measured."""

    TOKENS = "tokens"
    SAMPLES = "samples"
    TABULAR = "tabular"


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


_WEIGHT_BYTES: dict[Precision, float] = {
    Precision.FP32: 4.0,
    Precision.FP16: 2.0,
    Precision.BF16: 2.0,
    Precision.INT8: 1.0,
    Precision.INT4: asm.NF4_DOUBLE_QUANT_BITS_PER_PARAM / 8.0,
}


def workload_kind(workload: WorkloadProfile) -> WorkloadKind:
    """Classify a workload; see the module docstring for the rule."""
    if workload.framework.is_cpu_bound:
        return WorkloadKind.TABULAR
    if (
        workload.tokens is not None
        or workload.framework is ModelFramework.TRANSFORMERS
        or workload.fine_tuning is not FineTuning.FULL
    ):
        return WorkloadKind.TOKENS
    return WorkloadKind.SAMPLES


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
    params = workload.model_params_m * 1e6
    layers, hidden = model_layers_hidden(params)
    precision = workload.precision
    used: list[str] = ["framework", "model_params_m", "precision"]
    notes: list[str] = []

    if workload.fine_tuning is FineTuning.FULL:
        trainable = params
    else:
        trainable = lora_trainable_params(params, workload.lora_rank)
        used += ["fine_tuning", "lora_rank"]

    sixteen_bit_compute = precision is not Precision.FP32
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
    if kind is WorkloadKind.TABULAR:
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
            notes.append(
                "no token count: costed as a sample-based (vision-style) model at "
                f"{asm.BYTES_PER_SAMPLE / 1e3:g} kB per sample; give tokens or use the "
                "transformers framework for a language model"
            )
        positions_total = per_epoch * workload.num_epochs
        per_position = (
            asm.FLOPS_PER_PARAM_TOKEN_FULL
            if workload.fine_tuning is FineTuning.FULL
            else asm.FLOPS_PER_PARAM_TOKEN_ADAPTER
        )
        # Recompute belongs to the training plan (estimate.plans), counted once there.
        flops = per_position * params * positions_total

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
    )
