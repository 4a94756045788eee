# Over 600 lines: the workload, offering and advice contracts; other models are in submodules.
"""Pydantic v2 models: the data contracts shared by every layer (DESIGN §2).

Decisions:

* Models are strict about nonsense: sizes must be positive, counts at least one, and "absurd"
  values (a model of more than 100 trillion parameters, a deadline of more than ten years) are
  rejected, so that a typo fails loudly instead of producing a silly ranking.
* ``extra="forbid"`` on user-facing inputs (workloads, outcomes), so a misspelt field in a workload
  file is an error that names it instead of being ignored.
* Money is always an amount plus an ISO currency code; nothing here converts currencies.
* ``parse_model`` is the one place that turns a ``ValidationError`` into the one-line
  ``field: message`` text the CLI prints (exit code 2).

The module is a package so that only what a command uses gets built: the workload, catalog,
advice, feedback and status models are defined here; the storage models live in
``artenic_opt.schemas.storage`` and the cost models in ``artenic_opt.schemas.cost``. Every name
stays importable from ``artenic_opt.schemas`` (the contract DESIGN §1 names); the two submodules
load on the first access to one of their names (PEP 562 module ``__getattr__``).
"""

import hashlib
import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from artenic_opt._internal.lazy import lazy_attribute, lazy_dir
from artenic_opt.errors import InvalidInputError
from artenic_opt.types import (  # training-plan block
    CheckpointMode,
    FineTuning,
    ModelFramework,
    OptimizationGoal,
    OptimizerKind,
    OptimizerMode,
    Precision,
    ShardingMode,
)

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]

# -- Physical ranges (issue 13): every number a user or a file gives is bounded, so that no stored
# value can overflow the sums and products of a later command. The bounds are far outside any
# real job, and reuse the workload's: ten years of run time (``deadline_hours``), a trillion in
# any currency (``budget``). The priciest embedded catalog row is AWS p6-b300.48xlarge at
# 142.416 USD an hour (catalog/data, SkyPilot catalog snapshot read 2026-11-27), so a million an
# hour leaves almost four orders of magnitude of headroom.
MAX_HOURS = 87_600.0
MAX_MONEY = 1e12
MAX_PRICE_PER_HOUR = 1e6
#: Metrics (loss, accuracy, BLEU, ...) have no common scale; this only keeps them finite and sane.
MAX_ABS_METRIC = 1e15
Hours = Annotated[float, Field(ge=0, le=MAX_HOURS, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False)]
PricePerHour = Annotated[float, Field(gt=0, le=MAX_PRICE_PER_HOUR, allow_inf_nan=False)]
Metric = Annotated[float, Field(ge=-MAX_ABS_METRIC, le=MAX_ABS_METRIC, allow_inf_nan=False)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False, defer_build=True)


# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------

#: Fields that define *what* is trained, with the workload's name (DESIGN §2, query id): two
#: differently named workloads are different queries unless one says ``same_as`` the other.
#: Constraints (budget, deadline, providers) do not change how a job behaves on an offering, so
#: they are not part of the query id.
QUERY_ID_FIELDS: tuple[str, ...] = (
    "name",
    "framework",
    "model_params_m",
    "dataset_size_gb",
    "num_epochs",
    "batch_size",
    "sequence_length",
    "precision",
    "tokens",
    "fine_tuning",
    "optimizer",
    "gradient_checkpointing",
    "gpu_required",
    "distributed",
    "max_nodes",
)
#: The optional training-plan pins; set ones join the query id.
PLAN_PIN_FIELDS: tuple[str, ...] = (
    "gradient_checkpointing",
    "micro_batch_size",
    "sharding",
    "tensor_parallel",
    "offload",
)


# --- archdata (issue 12): the model architecture a workload may name ------------------------


class ModelArchitecture(_Frozen):
    """A model's shape and parameter counts (computed by ``estimate.architectures``).

    Transformer fields are 0 for models whose count is published rather than computed (CNN,
    diffusion UNet). ``source`` names the table row or the config.json it came from.
    """

    name: str = Field(min_length=1, max_length=300)
    family: Literal["decoder", "encoder", "encoder_decoder", "vit", "cnn", "diffusion_unet"]
    kind: Literal["llm", "encoder", "vision", "diffusion"]
    layers: int = Field(default=0, ge=0, le=10_000)
    hidden: int = Field(default=0, ge=0, le=1_000_000)
    heads: int = Field(default=0, ge=0, le=100_000)
    kv_heads: int = Field(default=0, ge=0, le=100_000)
    head_dim: int = Field(default=0, ge=0, le=100_000)
    ffn_size: int = Field(default=0, ge=0, le=10_000_000)
    vocab: int = Field(default=0, ge=0, le=100_000_000)
    experts: int = Field(default=1, ge=1, le=100_000)
    experts_per_token: int = Field(default=1, ge=1, le=100_000)
    params_m: float = Field(gt=0, le=100_000_000, allow_inf_nan=False)
    active_params_m: float = Field(gt=0, le=100_000_000, allow_inf_nan=False)
    source: str = Field(min_length=1)


#: How far a given ``model_params_m`` may differ from the architecture's computed count.
ARCHITECTURE_PARAMS_TOLERANCE = 0.05


class WorkloadProfile(_Frozen):
    """A training job to place: what is trained, on what data, under which constraints."""

    name: str = Field(default="workload", min_length=1, max_length=200)
    framework: ModelFramework = ModelFramework.PYTORCH
    model_params_m: float | None = Field(
        default=None,
        ge=1e-6,  # one parameter
        le=100_000_000,
        allow_inf_nan=False,
        description=(
            "Model size, millions of params; optional where there is no model to size "
            "(CPU-bound frameworks, gpu_required = false data processing)"
        ),
    )
    # Physical floors (one byte, a millionth of an epoch) instead of > 0: a subnormal such as
    # 5e-324 would make every estimate 0 hours and 0 cost, and every ratio of them undefined.
    dataset_size_gb: float = Field(ge=1e-9, le=100_000_000, allow_inf_nan=False)
    num_epochs: float = Field(default=1, ge=1e-6, le=100_000, allow_inf_nan=False)
    batch_size: int = Field(
        default=8,
        ge=1,
        le=1_000_000,
        description="Global batch: sequences (samples) per optimiser step, over all GPUs",
    )
    sequence_length: int = Field(default=2048, ge=1, le=10_000_000)
    precision: Precision = Precision.BF16
    tokens: float | None = Field(
        default=None,
        ge=1,
        le=1e16,
        allow_inf_nan=False,
        description="Training tokens in one epoch; derived from dataset size when absent",
    )
    fine_tuning: FineTuning = FineTuning.FULL
    lora_rank: int = Field(default=16, ge=1, le=4096)
    optimizer: OptimizerKind = OptimizerKind.ADAMW
    #: A training-plan pin (see the plan block below); None lets the advisor choose.
    gradient_checkpointing: CheckpointMode | None = None
    gpu_required: bool = True
    num_workers: int = Field(
        default=1, ge=1, le=1024, description="At least this many GPUs per node (a hard filter)"
    )
    distributed: bool = False
    max_nodes: int = Field(default=1, ge=1, le=512)
    checkpointing: bool = True
    checkpoint_interval_hours: float = Field(default=1.0, gt=0, le=1000, allow_inf_nan=False)
    # At least one second: a subnormal would make every scaled estimate 0 hours.
    estimated_hours: float | None = Field(
        default=None, ge=1 / 3600, le=1_000_000, allow_inf_nan=False
    )
    reference_gpu: str | None = Field(
        default=None, description="GPU type that estimated_hours was measured on"
    )
    reference_gpu_count: int = Field(default=1, ge=1, le=100_000)
    budget: float | None = Field(default=None, gt=0, le=1e12, allow_inf_nan=False)
    budget_currency: CurrencyCode = "USD"
    deadline_hours: float | None = Field(default=None, gt=0, le=87_600, allow_inf_nan=False)
    min_system_memory_gb: float | None = Field(default=None, gt=0, le=100_000, allow_inf_nan=False)
    allowed_providers: tuple[str, ...] = ()
    allowed_regions: tuple[str, ...] = ()
    spot_allowed: bool = True
    same_as: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Query id of a workload this one is the same job as (shares its outcomes)",
    )

    # --- archdata (issue 12): named or config.json architecture ------------------------------
    model: str | None = Field(
        default=None, min_length=1, max_length=200, description="--model name, as given"
    )
    architecture: ModelArchitecture | None = Field(
        default=None,
        description="Shape and parameter counts; model_params_m derives from it when absent",
    )

    @model_validator(mode="before")
    @classmethod
    def _qlora_base_in_4_bit(cls, data: Any) -> Any:
        # QLoRA is a 4-bit (NF4) frozen base by definition (Dettmers et al. 2023): with no
        # precision given, that is the precision. A precision the user gives is never changed.
        if not isinstance(data, dict) or data.get("precision") is not None:
            return data
        if str(getattr(data.get("fine_tuning"), "value", data.get("fine_tuning"))) == "qlora":
            return {**data, "precision": "int4"}
        return data

    @model_validator(mode="before")
    @classmethod
    def _params_from_architecture(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("architecture") is None:
            return data
        arch = data["architecture"]
        computed = arch.params_m if isinstance(arch, ModelArchitecture) else None
        if isinstance(arch, dict):
            raw = arch.get("params_m")
            computed = float(raw) if isinstance(raw, int | float) else None
        if computed is None:
            return data  # field validation reports the malformed architecture
        given = data.get("model_params_m")
        if given is None:
            return {**data, "model_params_m": computed}
        if isinstance(given, int | float) and not (
            abs(given - computed) <= ARCHITECTURE_PARAMS_TOLERANCE * computed
        ):
            raise ValueError(
                f"model_params_m: {given:g} (millions) disagrees with the architecture's "
                f"{computed:g}; give one of them"
            )
        return data

    # --- training-plan pins (issue 12; DESIGN §2 "Training plan") -------------------------------
    # Unset (None) parts are searched per candidate; a set part is kept as given. ``batch_size``
    # is the global batch; ``micro_batch_size`` pins the per-GPU micro-batch (the old meaning of
    # ``batch_size``). ``gradient_checkpointing`` (above) accepts off/selective/full; the old
    # booleans still read: true pins full, false (the old default) leaves the choice open.
    micro_batch_size: int | None = Field(default=None, ge=1, le=1_000_000)
    sharding: ShardingMode | None = None
    tensor_parallel: int | None = Field(default=None, ge=1, le=64)
    offload: bool | None = None
    #: Train in bf16 without fp32 master weights (torchtune's default) instead of mixed precision.
    pure_bf16: bool = False
    #: Run on CPU-only offerings (``--cpu-only``): GPU offerings are not candidates.
    cpu_only: bool = False
    #: The stack computes the loss in chunks over the vocabulary (torchtune, Liger kernels).
    chunked_loss: bool = False
    #: The optimiser steps inside the backward pass (torchtune ``optimizer_in_bwd``).
    optimizer_in_backward: bool = False

    @field_validator("gradient_checkpointing", mode="before")
    @classmethod
    def _legacy_checkpointing(cls, value: Any) -> Any:
        if value is True:
            return CheckpointMode.FULL
        if value is False:
            return None
        return value

    @field_validator("tensor_parallel")
    @classmethod
    def _power_of_two(cls, value: int | None) -> int | None:
        if value is not None and value & (value - 1):
            raise ValueError(f"tensor_parallel must be a power of two, got {value}")
        return value

    @field_validator("allowed_providers", "allowed_regions", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.model_params_m is None and self.gpu_required and not self.framework.is_cpu_bound:
            raise ValueError(
                "model_params_m: required for a GPU workload (omit it only for CPU-bound "
                "frameworks or gpu_required = false data processing)"
            )
        if self.max_nodes > 1 and not self.distributed:
            raise ValueError("max_nodes: more than one node needs distributed = true")
        if self.fine_tuning is FineTuning.QLORA and self.precision not in (
            Precision.INT4,
            Precision.INT8,
        ):
            # QLoRA means a quantised frozen base; say so instead of silently changing precision.
            raise ValueError("precision: qlora fine-tuning needs precision int4 or int8")
        if self.framework.is_cpu_bound and self.fine_tuning is not FineTuning.FULL:
            raise ValueError(
                f"fine_tuning: {self.fine_tuning.value} applies to neural networks, "
                f"not to {self.framework.value}"
            )
        return self

    @property
    def is_data_processing(self) -> bool:
        """A job without a model to size: ``gpu_required = false`` and no ``model_params_m``."""
        return self.model_params_m is None and not self.framework.is_cpu_bound

    @property
    def query_id(self) -> str:
        """The name plus a stable hash of the canonical fields, or ``same_as`` when given.

        All outcomes of one query id form one learning group (DESIGN §2).
        """
        if self.same_as:
            return self.same_as
        payload = self.model_dump(mode="json", include=set(QUERY_ID_FIELDS))
        # Plan pins joined the query after ids were first stored: unset pins hash as before
        # (no checkpointing pin = the old ``false``, ``full`` = the old ``true``).
        checkpointing = payload["gradient_checkpointing"]
        if checkpointing in (None, CheckpointMode.FULL.value):
            payload["gradient_checkpointing"] = checkpointing is not None
        for pin in PLAN_PIN_FIELDS:
            value = getattr(self, pin)
            if value is not None and pin != "gradient_checkpointing":
                payload[pin] = value.value if isinstance(value, ShardingMode) else value
        if self.pure_bf16:
            payload["pure_bf16"] = True
        for flag in ("cpu_only", "chunked_loss", "optimizer_in_backward"):
            if getattr(self, flag):
                payload[flag] = True
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------------------------


class Offering(_Frozen):
    """One purchasable machine shape at one provider and region, with its list prices."""

    provider: str = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=200)
    instance_type: str = Field(min_length=1, max_length=300)
    vcpus: int | None = Field(default=None, ge=1, le=100_000)
    memory_gb: float | None = Field(default=None, gt=0, le=1_000_000)
    gpu_type: str | None = Field(default=None, description="Canonical key of the GPU spec table")
    gpu_count: int = Field(default=0, ge=0, le=1024)
    gpu_memory_gb: float | None = Field(default=None, gt=0, le=10_000, description="Per GPU")
    price_per_hour: PricePerHour
    spot_price_per_hour: PricePerHour | None = None
    currency: CurrencyCode = "USD"
    source: str = Field(min_length=1)
    price_date: date

    @model_validator(mode="after")
    def _check_gpu(self) -> Self:
        if self.gpu_count > 0 and not self.gpu_type:
            raise ValueError("gpu_type: required when gpu_count > 0")
        if self.gpu_count == 0 and self.gpu_type:
            raise ValueError("gpu_count: must be at least 1 when gpu_type is set")
        return self

    @property
    def offering_id(self) -> str:
        return f"{self.provider}/{self.region}/{self.instance_type}"

    @property
    def total_gpu_memory_gb(self) -> float:
        return (self.gpu_memory_gb or 0.0) * self.gpu_count


class GpuSpec(_Frozen):
    """Datasheet figures of one GPU type (dense, without sparsity)."""

    gpu_type: str
    memory_gb: PositiveFloat
    bf16_tflops: PositiveFloat | None = None
    fp16_tflops: PositiveFloat | None = None
    fp32_tflops: PositiveFloat | None = None
    memory_bandwidth_gbps: PositiveFloat | None = None
    vendor: str = "NVIDIA"
    source: str
    # --- archdata (issue 12): fp8 and the in-node link, where the GPU type fixes them ---------
    fp8_tflops: PositiveFloat | None = None
    intra_node_gbps: PositiveFloat | None = Field(
        default=None,
        description="GPU-to-GPU bandwidth inside one machine, GB/s per GPU, one direction "
        "(NVLink/xGMI/PCIe); empty when it depends on the form factor (then the offering "
        "family says, see catalog/data/node_networks.csv)",
    )
    intra_node_link: str | None = None


class StoragePrice(_Frozen):
    """Object-storage price of one provider tier."""

    provider: str
    tier_name: str
    tier: str = Field(description="hot, warm, cold (or archive for the coldest tiers)")
    # Object storage lists at cents per GB-month; 1000 per GB is far past any tier.
    price_per_gb_month: float = Field(gt=0, le=1000, allow_inf_nan=False)
    retrieval_per_gb: float = Field(default=0.0, ge=0, le=1000, allow_inf_nan=False)
    retrieval_fee_known: bool = Field(
        default=True,
        description="False when the tier charges for retrieval but no citable figure was found "
        "(retrieval_per_gb is then 0.0 and understates the cost of reading the data back)",
    )
    min_storage_days: int = Field(default=0, ge=0, le=36_500)
    currency: CurrencyCode = "USD"
    region: str = ""
    source: str
    price_date: date


# --------------------------------------------------------------------------------------------
# Training advice
# --------------------------------------------------------------------------------------------


class FactorScore(_Frozen):
    """One factor of the heuristic score: its normalised value, weight and contribution."""

    name: str
    value: float = Field(ge=0, le=1)
    weight: float = Field(ge=0, le=1)
    contribution: float


class MemoryEstimate(_Frozen):
    """GPU memory a workload needs per GPU, and what each part contributes (GB)."""

    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    overhead_gb: float
    total_gb: float
    inputs_used: tuple[str, ...] = ()


# --- training plans (issue 12) ------------------------------------------------------------------


class TrainingPlan(_Frozen):
    """How the job runs on one candidate: the fastest plan that fits, or the pinned one."""

    micro_batch_size: int = Field(ge=1, description="Sequences (samples) per GPU per step")
    accumulation_steps: int = Field(ge=1)
    gradient_checkpointing: CheckpointMode
    sharding: ShardingMode
    tensor_parallel: int = Field(default=1, ge=1)
    data_parallel: int = Field(default=1, ge=1, description="Model replicas (GPUs / TP)")
    offload: bool = False
    optimizer: OptimizerKind
    pure_bf16: bool = False
    memory_per_gpu_gb: float = Field(ge=0, description="Estimated peak per GPU (host RAM: CPU)")

    @property
    def summary(self) -> str:
        """Compact one-cell form, e.g. ``mb4x2 fsdp ckpt:full tp2 offload``."""
        parts = [f"mb{self.micro_batch_size}x{self.accumulation_steps}", self.sharding.value]
        if self.gradient_checkpointing is not CheckpointMode.OFF:
            parts.append(f"ckpt:{self.gradient_checkpointing.value}")
        if self.tensor_parallel > 1:
            parts.append(f"tp{self.tensor_parallel}")
        if self.offload:
            parts.append("offload")
        return " ".join(parts)


class PlanAlternative(_Frozen):
    """A parameter-efficient way to run the job, shown next to (never instead of) the asked one."""

    fine_tuning: FineTuning
    offering_id: str
    nodes: int = Field(default=1, ge=1)
    spot: bool = False
    plan: TrainingPlan
    estimated_hours: float
    estimated_cost: float
    currency: CurrencyCode
    note: str


class InstanceRecommendation(_Frozen):
    """One ranked candidate: an offering on some nodes, spot or on-demand."""

    rank: int = Field(ge=1)
    offering: Offering
    nodes: int = Field(default=1, ge=1)
    spot: bool = False
    score: float
    heuristic_score: float
    ltr_score: float | None = None
    factors: tuple[FactorScore, ...] = ()
    price_per_hour: float = Field(description="Effective price of all nodes, display currency")
    estimated_hours: float
    estimated_cost: float = Field(description="Whole-job cost of this candidate")
    estimated_cost_on_demand: float
    estimated_cost_spot: float | None = None
    currency: CurrencyCode
    memory_needed_gb: float = Field(description="Per GPU (or host RAM for CPU jobs)")
    memory_available_gb: float
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: The training plan (issue 12); None in recommendations stored before plans existed.
    plan: TrainingPlan | None = None

    @property
    def candidate_id(self) -> str:
        kind = "spot" if self.spot else "on_demand"
        return f"{self.offering.offering_id}#{self.nodes}#{kind}"


class TrainingAdvice(_Frozen):
    """The answer to ``recommend``: ranked candidates for one workload."""

    recommendation_id: str
    query_id: str
    created_at: datetime = Field(default_factory=utc_now)
    workload: WorkloadProfile
    mode: OptimizerMode
    goal: OptimizationGoal = OptimizationGoal.BALANCED
    model_version: int | None = None
    candidates_considered: int = Field(ge=0)
    candidates_feasible: int = Field(ge=0)
    display_currency: CurrencyCode = "USD"
    recommendations: tuple[InstanceRecommendation, ...]
    warnings: tuple[str, ...] = ()
    #: LoRA/QLoRA plans when the asked full fine-tune does not fit or costs far more (issue 12).
    alternatives: tuple[PlanAlternative, ...] = ()


# --------------------------------------------------------------------------------------------
# Suggest: what configuration to measure next (issue 14)
# --------------------------------------------------------------------------------------------


class SuggestedConfig(_Frozen):
    """One configuration of a workload with its predicted and estimated whole-job cost."""

    candidate_id: str = Field(description="offering_id#nodes#kind")
    offering: Offering
    nodes: int = Field(ge=1)
    spot: bool
    predicted_cost: float = Field(ge=0, description="From measured runs blended with the estimate")
    estimated_cost: float = Field(ge=0, description="The estimator's whole-job cost")
    estimated_hours: float = Field(ge=0)
    measured_cost: float | None = Field(default=None, description="Best measured run, if any")


class Suggestion(_Frozen):
    """``suggest``: the next configuration to measure, or why measuring more is not worth it."""

    query_id: str
    workload: str
    recommendation_id: str | None = Field(
        description="Stored recommendation of the suggested run (rank 1): record its outcome "
        "with `feedback record ID --rank 1`; None when stopping"
    )
    currency: str
    candidates: int = Field(ge=0, description="Configurations considered")
    measured_runs: int = Field(ge=0, description="Outcomes of this workload already stored")
    other_workloads: int = Field(ge=0, description="Other workloads whose runs shaped the prior")
    tolerance: float = Field(gt=0, description="Stop when the best run is this close (0.1 = 10%)")
    stop: bool
    reason: str
    next: SuggestedConfig | None = None
    expected_improvement: float = Field(
        ge=0, description="Expected relative drop of the best measured cost from the next run"
    )
    predicted_optimum: SuggestedConfig
    best_measured: SuggestedConfig | None = None


# --------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def format_validation_error(exc: ValidationError, *, context: str | None = None) -> str:
    """Render a pydantic error as one line: ``field: message; field: message``."""
    parts: list[str] = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
        msg = str(err["msg"])
        msg = msg.removeprefix("Value error, ")
        if not loc and ":" in msg:
            parts.append(msg)
        else:
            parts.append(f"{loc}: {msg}" if loc else msg)
    text = "; ".join(parts)
    return f"{context}: {text}" if context else text


def parse_model(model: type[M], data: Any, *, context: str | None = None) -> M:
    """Validate ``data`` into ``model``; raise ``InvalidInputError`` with a one-line message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(format_validation_error(exc, context=context)) from None


# --------------------------------------------------------------------------------------------
# Storage and cost models, loaded on first use
# --------------------------------------------------------------------------------------------

if TYPE_CHECKING:
    from artenic_opt.schemas.cost import (
        ANOMALY_METRICS as ANOMALY_METRICS,
        SAVINGS_ACTION_KINDS as SAVINGS_ACTION_KINDS,
        SETUP_CHANGES as SETUP_CHANGES,
        SPEND_DIMENSIONS as SPEND_DIMENSIONS,
        CostAnomaly as CostAnomaly,
        CostReport as CostReport,
        FrontierPoint as FrontierPoint,
        GpuAvailability as GpuAvailability,
        MetricEfficiency as MetricEfficiency,
        ProviderCoverage as ProviderCoverage,
        RegionBenchmark as RegionBenchmark,
        SavingsAction as SavingsAction,
        SavingsRecord as SavingsRecord,
        SavingsReport as SavingsReport,
        Setup as Setup,
        SpendGroup as SpendGroup,
        SpendingSummary as SpendingSummary,
        SpendRecord as SpendRecord,
        SpotAdvice as SpotAdvice,
        SpotThresholds as SpotThresholds,
    )
    from artenic_opt.schemas.storage import (
        ACCESS_OPERATION_ALIASES as ACCESS_OPERATION_ALIASES,
        BYTES_PER_GB as BYTES_PER_GB,
        BYTES_PER_MB as BYTES_PER_MB,
        DAYS_PER_MONTH as DAYS_PER_MONTH,
        EXTENSION_FORMATS as EXTENSION_FORMATS,
        AccessEvent as AccessEvent,
        AccessEvidence as AccessEvidence,
        AccessOperation as AccessOperation,
        AccessParseResult as AccessParseResult,
        AccessPattern as AccessPattern,
        AdviceEvidence as AdviceEvidence,
        ConversionAssumptions as ConversionAssumptions,
        DatasetFileInfo as DatasetFileInfo,
        DatasetInfo as DatasetInfo,
        DatasetOrigin as DatasetOrigin,
        DatasetUsage as DatasetUsage,
        FigureEvidence as FigureEvidence,
        FileProblem as FileProblem,
        FileProblemKind as FileProblemKind,
        FormatAdvice as FormatAdvice,
        FormatGroupAdvice as FormatGroupAdvice,
        FormatShare as FormatShare,
        FormatThresholds as FormatThresholds,
        LineError as LineError,
        LocalScanResult as LocalScanResult,
        MonthlyAccess as MonthlyAccess,
        StorageAdvice as StorageAdvice,
        TierClassification as TierClassification,
        TierCost as TierCost,
        TierDecision as TierDecision,
        TierPolicy as TierPolicy,
        VersionGrowth as VersionGrowth,
        data_format_from_name as data_format_from_name,
    )

# refactor (issue 16): result documents of the services.
if TYPE_CHECKING:
    from artenic_opt.schemas.results import (
        DemoSummary as DemoSummary,
        ReplayWritten as ReplayWritten,
        StorageAnalysis as StorageAnalysis,
    )
# refactor2 (issue 16): the training, storage and dispatch results moved from services/.
if TYPE_CHECKING:
    from artenic_opt.schemas.results import (
        AccessImport as AccessImport,
        DispatchResult as DispatchResult,
        ImportLineError as ImportLineError,
        LearningMetrics as LearningMetrics,
        OutcomeImport as OutcomeImport,
        RecordedOutcome as RecordedOutcome,
        RetrainResult as RetrainResult,
    )

# start-up (issue 16): feedback/learning, status and catalog-upkeep documents load on first use.
if TYPE_CHECKING:
    from artenic_opt.schemas.catalog import (
        CatalogImportRecord as CatalogImportRecord,
        CatalogImportResult as CatalogImportResult,
        CatalogRemoval as CatalogRemoval,
    )
    from artenic_opt.schemas.feedback import (
        JobOutcome as JobOutcome,
        ModelInfo as ModelInfo,
        OutcomeDeleted as OutcomeDeleted,
        OutcomeEntry as OutcomeEntry,
        RankingMetrics as RankingMetrics,
        TrainingSample as TrainingSample,
    )
    from artenic_opt.schemas.status import (
        OptimizerStatus as OptimizerStatus,
    )

_LAZY: dict[str, str] = {
    "BYTES_PER_MB": "storage",
    "BYTES_PER_GB": "storage",
    "DAYS_PER_MONTH": "storage",
    "EXTENSION_FORMATS": "storage",
    "data_format_from_name": "storage",
    "AccessOperation": "storage",
    "ACCESS_OPERATION_ALIASES": "storage",
    "DatasetOrigin": "storage",
    "AccessEvidence": "storage",
    "FigureEvidence": "storage",
    "FileProblemKind": "storage",
    "DatasetFileInfo": "storage",
    "DatasetInfo": "storage",
    "AccessEvent": "storage",
    "LineError": "storage",
    "AccessParseResult": "storage",
    "FileProblem": "storage",
    "LocalScanResult": "storage",
    "FormatShare": "storage",
    "VersionGrowth": "storage",
    "MonthlyAccess": "storage",
    "AccessPattern": "storage",
    "DatasetUsage": "storage",
    "FormatThresholds": "storage",
    "FormatGroupAdvice": "storage",
    "FormatAdvice": "storage",
    "TierPolicy": "storage",
    "TierClassification": "storage",
    "TierCost": "storage",
    "TierDecision": "storage",
    "ConversionAssumptions": "storage",
    "AdviceEvidence": "storage",
    "StorageAdvice": "storage",
    "SPEND_DIMENSIONS": "cost",
    "SAVINGS_ACTION_KINDS": "cost",
    "ANOMALY_METRICS": "cost",
    "SpendRecord": "cost",
    "SpotThresholds": "cost",
    "SpotAdvice": "cost",
    "RegionBenchmark": "cost",
    "GpuAvailability": "cost",
    "ProviderCoverage": "cost",
    "FrontierPoint": "cost",
    "CostReport": "cost",
    "SpendGroup": "cost",
    "MetricEfficiency": "cost",
    "CostAnomaly": "cost",
    "SpendingSummary": "cost",
    "SavingsRecord": "cost",
    "SavingsAction": "cost",
    # refactor (issue 13): typed savings actions.
    "Setup": "cost",
    "SETUP_CHANGES": "cost",
    # refactor (issue 16): result documents of the services.
    "DemoSummary": "results",
    "ReplayWritten": "results",
    "StorageAnalysis": "results",
    # refactor2 (issue 16): the training, storage and dispatch results moved from services/.
    "RecordedOutcome": "results",
    "ImportLineError": "results",
    "OutcomeImport": "results",
    "RetrainResult": "results",
    "LearningMetrics": "results",
    "AccessImport": "results",
    "DispatchResult": "results",
    "SavingsReport": "cost",
    # start-up (issue 16): feedback/learning, status and catalog-upkeep documents, which
    # ``recommend`` does not build.
    "JobOutcome": "feedback",
    "TrainingSample": "feedback",
    "RankingMetrics": "feedback",
    "ModelInfo": "feedback",
    "OutcomeDeleted": "feedback",
    "OutcomeEntry": "feedback",
    "OptimizerStatus": "status",
    "CatalogImportResult": "catalog",
    "CatalogImportRecord": "catalog",
    "CatalogRemoval": "catalog",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return lazy_dir(_LAZY, globals())
