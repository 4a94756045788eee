"""Shared enumerations: the vocabulary every layer of artenic-opt speaks.

All enums are ``StrEnum`` so that they serialise to their plain value in JSON, in SQLite and on
the command line, and so that a value read back from any of those compares equal to the member.
"""

from __future__ import annotations

from enum import StrEnum


class OptimizerMode(StrEnum):
    """How the training advisor ranks candidates."""

    HEURISTIC = "heuristic"
    LTR = "ltr"
    HYBRID = "hybrid"
    AUTO = "auto"


class OptimizationGoal(StrEnum):
    """Preset weightings of the heuristic score."""

    COST = "cost"
    SPEED = "speed"
    BALANCED = "balanced"


class ModelFramework(StrEnum):
    """Training frameworks, named as the platform SDK names them."""

    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"
    JAX = "jax"
    TRANSFORMERS = "transformers"
    LIGHTGBM = "lightgbm"
    XGBOOST = "xgboost"
    CATBOOST = "catboost"
    SKLEARN = "sklearn"
    ONNX = "onnx"
    CUSTOM = "custom"

    @property
    def is_cpu_bound(self) -> bool:
        """Gradient-boosting and classic ML frameworks scale with vCPUs, not GPU FLOPs."""
        return self in _CPU_BOUND


_CPU_BOUND = frozenset(
    {
        ModelFramework.LIGHTGBM,
        ModelFramework.XGBOOST,
        ModelFramework.CATBOOST,
        ModelFramework.SKLEARN,
    }
)


class Precision(StrEnum):
    """Numeric precision of training.

    ``tf32``: fp32 tensors whose matmuls run on TF32 tensor cores (Ampere and later; PyTorch's
    ``torch.backends.cuda.matmul.allow_tf32``); stored like fp32. ``fp8``: fp8 matmuls through
    Transformer Engine on GPUs with an fp8 rate (``gpu_specs.csv`` ``fp8_tflops``); weights,
    gradients and optimiser states are kept as in bf16 mixed precision (see
    ``estimate.memory``), so fp8 is a compute precision, not a storage one.
    """

    FP32 = "fp32"
    TF32 = "tf32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"
    INT8 = "int8"
    INT4 = "int4"

    @property
    def bytes_per_param(self) -> float:
        return _BYTES_PER_PARAM[self]

    @property
    def stores_fp32(self) -> bool:
        """Weights, gradients and activations held in 32 bits (fp32 and TF32): no mixed
        precision, no fp32 master copy."""
        return self in (Precision.FP32, Precision.TF32)


_BYTES_PER_PARAM: dict[Precision, float] = {
    Precision.FP32: 4.0,
    Precision.TF32: 4.0,
    Precision.FP16: 2.0,
    Precision.BF16: 2.0,
    # Transformer Engine keeps the module weights in 16 bits and casts them to fp8 per GEMM.
    Precision.FP8: 2.0,
    Precision.INT8: 1.0,
    Precision.INT4: 0.5,
}


class FineTuning(StrEnum):
    """Which parameters are trained."""

    FULL = "full"
    LORA = "lora"
    QLORA = "qlora"


class OptimizerKind(StrEnum):
    """The training optimizer, which sets the size of the optimizer states."""

    ADAMW = "adamw"
    ADAM = "adam"
    ADAMW_8BIT = "adamw_8bit"
    #: bitsandbytes paged 8-bit AdamW: states page to host RAM under memory pressure.
    PAGED_ADAMW_8BIT = "paged_adamw_8bit"
    ADAFACTOR = "adafactor"
    SGD_MOMENTUM = "sgd_momentum"
    SGD = "sgd"


class PriceKind(StrEnum):
    """Spot and on-demand are separate candidates of one offering."""

    ON_DEMAND = "on_demand"
    SPOT = "spot"


class JobStatus(StrEnum):
    """Training job lifecycle, as the platform names it."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PREEMPTED = "preempted"

    @property
    def is_final(self) -> bool:
        return self in {
            JobStatus.COMPLETED,
            JobStatus.FAILED,
            JobStatus.CANCELLED,
            JobStatus.PREEMPTED,
        }


class FailureReason(StrEnum):
    """Why a job failed, when known."""

    OUT_OF_MEMORY = "out_of_memory"
    PREEMPTED = "preempted"
    PROVIDER_FAULT = "provider_fault"
    TIMEOUT = "timeout"
    USER_ERROR = "user_error"
    UNKNOWN = "unknown"


class OutcomeSource(StrEnum):
    """Where a job outcome came from."""

    MANUAL = "manual"
    IMPORT = "import"
    PLATFORM = "platform"
    SIMULATOR = "simulator"


class StorageTier(StrEnum):
    """Access tiers of object storage."""

    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class DataFormat(StrEnum):
    """File formats the storage optimizer recognises."""

    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    PARQUET = "parquet"
    OTHER = "other"


class RecommendationType(StrEnum):
    """Kinds of actionable advice the optimizer gives."""

    INSTANCE = "instance"
    SPOT = "spot"
    PROVIDER_SWITCH = "provider_switch"
    STORAGE_FORMAT = "storage_format"
    STORAGE_TIER = "storage_tier"


class Period(StrEnum):
    """Bucketing of spending history."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# --- training plans (how a job runs on one candidate; DESIGN §2 "Training plan") -------------


class CheckpointMode(StrEnum):
    """Activation checkpointing: none, every second transformer block, or every block."""

    OFF = "off"
    SELECTIVE = "selective"
    FULL = "full"


class ShardingMode(StrEnum):
    """How model states are spread over the data-parallel GPUs."""

    DDP = "ddp"
    ZERO1 = "zero1"
    ZERO2 = "zero2"
    ZERO3 = "zero3"
    FSDP = "fsdp"
