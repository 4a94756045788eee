"""Realistic synthetic training workloads, drawn from a seeded generator.

``generate_workloads(seed, n)`` draws a mix that resembles what an ML team runs:

=================  ======  ==================================================================
family             share   what it draws
=================  ======  ==================================================================
llm-lora           24%     LoRA / QLoRA fine-tunes of 1B-70B decoders (QLoRA in int4)
llm-full           10%     full fine-tunes of 125M-13B decoders, sharded when they must be
llm-pretrain        5%     small pretraining runs (125M-2.7B, ~10-30 tokens per parameter)
vision             20%     CNN / ViT / detection training on 2-300 GB of images
speech              7%     speech encoders (wav2vec2, Whisper) on 5-500 GB of audio
tabular            22%     LightGBM / XGBoost / CatBoost on 0.05-60 GB tables
sklearn            12%     small scikit-learn CPU jobs
=================  ======  ==================================================================

Decisions:

* Configurations are the ones practitioners pick: token counts are given for language models,
  gradient checkpointing is usual for large models, vision and speech micro-batches are halved
  until one 80 GB GPU holds them, models that cannot fit one 80 GB GPU are
  marked distributed (FSDP) over 8 GPUs and sometimes several nodes, gradient-boosting jobs rarely
  checkpoint.
* Some constraints are set, as in real requests: a deadline on 30% of workloads and a budget
  (USD) on 20%, both scaled from the job's nominal run time on A100s (or 16 vCPUs) so that some
  are tight and some loose; spot is refused on 20%; when provider names are passed, 10% of
  workloads allow only two or three of them.
* Half of the vision and speech workloads carry a user-measured ``estimated_hours`` on a
  reference GPU (the true time there, off by +-20% as measurements are).
* Everything comes from one ``numpy.random.Generator``: the same seed gives the same workloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import Offering, WorkloadProfile
from artenic_opt.simulate import _physics as phys
from artenic_opt.types import FineTuning, ModelFramework, OptimizerKind, Precision

WORKLOAD_FAMILIES: tuple[str, ...] = (
    "llm-lora",
    "llm-full",
    "llm-pretrain",
    "vision",
    "speech",
    "tabular",
    "sklearn",
)
_FAMILY_SHARES = (0.24, 0.10, 0.05, 0.20, 0.07, 0.22, 0.12)

_LORA_BASES: tuple[tuple[str, float], ...] = (
    ("tinyllama-1.1b", 1_100),
    ("llama-3.2-3b", 3_200),
    ("mistral-7b", 7_200),
    ("llama-3.1-8b", 8_000),
    ("llama-2-13b", 13_000),
    ("codellama-34b", 34_000),
    ("llama-3.1-70b", 70_000),
)
_LORA_WEIGHTS = (0.08, 0.14, 0.22, 0.22, 0.14, 0.08, 0.12)
_FULL_BASES: tuple[tuple[str, float], ...] = (
    ("gpt2-small", 124),
    ("opt-350m", 350),
    ("qwen2-1.5b", 1_500),
    ("phi-2", 2_700),
    ("mistral-7b", 7_200),
    ("llama-3.1-8b", 8_000),
    ("llama-2-13b", 13_000),
)
_FULL_WEIGHTS = (0.15, 0.15, 0.2, 0.15, 0.15, 0.12, 0.08)
_PRETRAIN_SIZES: tuple[tuple[str, float], ...] = (
    ("gpt-125m", 125),
    ("gpt-350m", 350),
    ("gpt-760m", 760),
    ("gpt-1.3b", 1_300),
    ("gpt-2.7b", 2_700),
)
_VISION_MODELS: tuple[tuple[str, float], ...] = (
    ("resnet50", 25.6),
    ("efficientnet-b0", 5.3),
    ("convnext-tiny", 28.6),
    ("vit-b16", 86.6),
    ("vit-l16", 304.0),
    ("yolov8m", 25.9),
    ("unet", 31.0),
    ("swin-b", 88.0),
)
_SPEECH_MODELS: tuple[tuple[str, float], ...] = (
    ("wav2vec2-base", 95),
    ("conformer-m", 120),
    ("whisper-small", 244),
    ("whisper-medium", 769),
    ("whisper-large-v3", 1_550),
)
#: Audio frames per GB at 16 kHz 16-bit and 50 frames per second.
_SPEECH_FRAMES_PER_GB = 1.56e6
_REFERENCE_GPUS = ("A100 80GB", "V100 16GB", "T4", "A10G", "L4", "H100 SXM")
#: Rough price the generator scales budgets from (USD per A100-hour and per 16-vCPU hour).
_REFERENCE_GPU_PRICE = 2.0
_REFERENCE_CPU_PRICE = 0.8
_FITS_ONE_GPU_GB = 76.0
_ONE_A100 = Offering(
    provider="reference",
    region="reference",
    instance_type="probe",
    gpu_type="A100 80GB",
    gpu_count=1,
    gpu_memory_gb=80,
    price_per_hour=1.0,
    source="simulator",
    price_date=date(2025, 1, 1),
)


def _rng(rng_or_seed: np.random.Generator | int) -> np.random.Generator:
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    if isinstance(rng_or_seed, bool) or not isinstance(rng_or_seed, int) or rng_or_seed < 0:
        raise InvalidInputError(
            f"seed: must be a non-negative integer or a numpy Generator, got {rng_or_seed!r}"
        )
    return np.random.default_rng(rng_or_seed)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _pick(
    rng: np.random.Generator, items: Sequence[Any], weights: Sequence[float] | None = None
) -> Any:
    probs = None if weights is None else np.asarray(weights) / np.sum(weights)
    return items[int(rng.choice(len(items), p=probs))]


def _one_gpu_need_gb(fields: dict[str, Any]) -> float:
    """True per-GPU memory of the workload on one GPU, not sharded (decides distribution)."""
    probe = WorkloadProfile(**{**fields, "distributed": False, "max_nodes": 1, "num_workers": 1})
    return phys.gpu_memory_needed_gb(probe, _ONE_A100, 1)


def _fit_batch(fields: dict[str, Any], smallest: int) -> None:
    """Halve the micro-batch until one 80 GB GPU holds it, as practitioners tune it."""
    while fields["batch_size"] > smallest and _one_gpu_need_gb(fields) > _FITS_ONE_GPU_GB:
        fields["batch_size"] //= 2


def _placement(
    rng: np.random.Generator, fields: dict[str, Any], *, max_nodes: Sequence[int]
) -> None:
    """Single GPU when the job fits one, else FSDP over 8 GPUs and maybe several nodes."""
    if _one_gpu_need_gb(fields) > _FITS_ONE_GPU_GB:
        fields.update(distributed=True, num_workers=8, max_nodes=int(_pick(rng, max_nodes)))
    elif rng.uniform() < 0.3:
        fields.update(distributed=True, num_workers=int(_pick(rng, (2, 4, 8))), max_nodes=1)


def _llm_lora(rng: np.random.Generator) -> tuple[str, dict[str, Any]]:
    name, params = _pick(rng, _LORA_BASES, _LORA_WEIGHTS)
    qlora = rng.uniform() < (0.6 if params >= 30_000 else 0.35)
    seq = int(_pick(rng, (1024, 2048, 4096), (0.25, 0.5, 0.25)))
    examples = _log_uniform(rng, 5e3, 2e5)
    tokens = round(examples * rng.uniform(200, seq))
    fields: dict[str, Any] = {
        "framework": _pick(
            rng, (ModelFramework.TRANSFORMERS, ModelFramework.PYTORCH), (0.75, 0.25)
        ),
        "model_params_m": params,
        "tokens": float(tokens),
        "dataset_size_gb": max(0.001, round(tokens * 4 / 1e9, 4)),
        "num_epochs": int(_pick(rng, (1, 2, 3))),
        "sequence_length": seq,
        "batch_size": int(_pick(rng, (1, 2, 4, 8))),
        "fine_tuning": FineTuning.QLORA if qlora else FineTuning.LORA,
        "lora_rank": int(_pick(rng, (8, 16, 32, 64))),
        "precision": Precision.INT4
        if qlora
        else _pick(rng, (Precision.BF16, Precision.FP16), (0.9, 0.1)),
        "optimizer": _pick(
            rng,
            (OptimizerKind.ADAMW, OptimizerKind.ADAMW_8BIT, OptimizerKind.ADAFACTOR),
            (0.6, 0.3, 0.1),
        ),
        "gradient_checkpointing": bool(rng.uniform() < (0.9 if params >= 13_000 else 0.7)),
    }
    _placement(rng, fields, max_nodes=(1, 1, 2))
    return f"{'qlora' if qlora else 'lora'}-{name}", fields


def _llm_full(rng: np.random.Generator) -> tuple[str, dict[str, Any]]:
    name, params = _pick(rng, _FULL_BASES, _FULL_WEIGHTS)
    tokens = round(_log_uniform(rng, 2e7, 2e9))
    fields: dict[str, Any] = {
        "framework": _pick(rng, (ModelFramework.TRANSFORMERS, ModelFramework.PYTORCH), (0.6, 0.4)),
        "model_params_m": params,
        "tokens": float(tokens),
        "dataset_size_gb": max(0.001, round(tokens * 4 / 1e9, 4)),
        "num_epochs": int(_pick(rng, (1, 2, 3))),
        "sequence_length": int(_pick(rng, (1024, 2048, 4096))),
        "batch_size": int(_pick(rng, (1, 2, 4, 8))),
        "precision": Precision.BF16,
        "optimizer": _pick(
            rng,
            (OptimizerKind.ADAMW, OptimizerKind.ADAMW_8BIT, OptimizerKind.ADAFACTOR),
            (0.7, 0.2, 0.1),
        ),
        "gradient_checkpointing": bool(params >= 1_000 and rng.uniform() < 0.8),
    }
    _placement(rng, fields, max_nodes=(1, 2, 4))
    return f"full-{name}", fields


def _llm_pretrain(rng: np.random.Generator) -> tuple[str, dict[str, Any]]:
    name, params = _pick(rng, _PRETRAIN_SIZES)
    tokens = round(params * 1e6 * rng.uniform(10, 30))
    fields: dict[str, Any] = {
        "framework": _pick(rng, (ModelFramework.PYTORCH, ModelFramework.JAX), (0.75, 0.25)),
        "model_params_m": params,
        "tokens": float(tokens),
        "dataset_size_gb": round(tokens * 4 / 1e9, 3),
        "num_epochs": 1,
        "sequence_length": 2048,
        "batch_size": int(_pick(rng, (4, 8, 16))),
        "precision": Precision.BF16,
        "optimizer": OptimizerKind.ADAMW,
        "gradient_checkpointing": bool(rng.uniform() < 0.5),
        "distributed": True,
        "num_workers": 8,
        "max_nodes": int(_pick(rng, (2, 4, 8))),
    }
    return f"pretrain-{name}", fields


def _reference_measurement(rng: np.random.Generator, fields: dict[str, Any]) -> None:
    """Half of media jobs come with a run time the team measured on some GPU (+-20%)."""
    if rng.uniform() >= 0.5:
        return
    gpu = str(_pick(rng, _REFERENCE_GPUS))
    count = min(8, int(fields.get("num_workers", 1)))
    probe = WorkloadProfile(**fields)
    hours = phys.gpu_compute_hours(probe, gpu, count) * float(rng.lognormal(0.0, 0.2))
    fields.update(
        estimated_hours=round(max(0.05, hours), 3), reference_gpu=gpu, reference_gpu_count=count
    )


def _vision(rng: np.random.Generator) -> tuple[str, dict[str, Any]]:
    name, params = _pick(rng, _VISION_MODELS)
    workers = int(_pick(rng, (1, 1, 2, 4, 8)))
    distributed = workers > 1 and rng.uniform() < 0.6
    fields: dict[str, Any] = {
        "framework": _pick(
            rng,
            (
                ModelFramework.PYTORCH,
                ModelFramework.TENSORFLOW,
                ModelFramework.JAX,
                ModelFramework.CUSTOM,
            ),
            (0.65, 0.2, 0.1, 0.05),
        ),
        "model_params_m": params,
        "dataset_size_gb": round(_log_uniform(rng, 2, 300), 2),
        "num_epochs": int(_pick(rng, (10, 20, 30, 50, 90))),
        "batch_size": int(_pick(rng, (32, 64, 128, 256))),
        "precision": _pick(
            rng, (Precision.FP16, Precision.BF16, Precision.FP32), (0.45, 0.35, 0.2)
        ),
        "optimizer": _pick(rng, (OptimizerKind.SGD_MOMENTUM, OptimizerKind.ADAMW), (0.5, 0.5)),
        "num_workers": workers,
        "distributed": distributed,
        "max_nodes": int(_pick(rng, (1, 2))) if distributed else 1,
    }
    _fit_batch(fields, smallest=8)
    _reference_measurement(rng, fields)
    return f"vision-{name}", fields


def _speech(rng: np.random.Generator) -> tuple[str, dict[str, Any]]:
    name, params = _pick(rng, _SPEECH_MODELS)
    size_gb = round(_log_uniform(rng, 5, 500), 2)
    framework = _pick(
        rng,
        (ModelFramework.PYTORCH, ModelFramework.TRANSFORMERS, ModelFramework.CUSTOM),
        (0.6, 0.3, 0.1),
    )
    workers = int(_pick(rng, (1, 2, 4, 8)))
    distributed = workers > 1 and rng.uniform() < 0.6
    fields: dict[str, Any] = {
        "framework": framework,
        "model_params_m": params,
        "dataset_size_gb": size_gb,
        "num_epochs": int(_pick(rng, (2, 5, 10, 20))),
        "batch_size": int(_pick(rng, (8, 16, 32))),
        "sequence_length": 1500,
        "precision": _pick(rng, (Precision.FP16, Precision.BF16), (0.5, 0.5)),
        "optimizer": OptimizerKind.ADAMW,
        "gradient_checkpointing": bool(params >= 700 and rng.uniform() < 0.6),
        "num_workers": workers,
        "distributed": distributed,
        "max_nodes": int(_pick(rng, (1, 2))) if distributed else 1,
    }
    if framework is ModelFramework.TRANSFORMERS:
        # Hugging Face speech recipes count encoder frames as the sequence.
        fields["tokens"] = round(size_gb * _SPEECH_FRAMES_PER_GB)
    _fit_batch(fields, smallest=1)
    _reference_measurement(rng, fields)
    return f"speech-{name}", fields


def _tabular(rng: np.random.Generator) -> tuple[str, dict[str, Any]]:
    framework = _pick(
        rng,
        (ModelFramework.LIGHTGBM, ModelFramework.XGBOOST, ModelFramework.CATBOOST),
        (0.45, 0.35, 0.2),
    )
    fields: dict[str, Any] = {
        "framework": framework,
        "model_params_m": round(_log_uniform(rng, 0.01, 2.0), 4),
        "dataset_size_gb": round(_log_uniform(rng, 0.05, 60), 3),
        # Passes over the data: one fit, or a small hyper-parameter search.
        "num_epochs": int(_pick(rng, (1, 1, 1, 2, 5, 10))),
        "precision": Precision.FP32,
        "gpu_required": False,
        "checkpointing": bool(rng.uniform() < 0.3),
    }
    return f"gbdt-{framework.value}", fields


def _sklearn(rng: np.random.Generator) -> tuple[str, dict[str, Any]]:
    fields: dict[str, Any] = {
        "framework": ModelFramework.SKLEARN,
        "model_params_m": round(_log_uniform(rng, 0.0005, 0.5), 5),
        "dataset_size_gb": round(_log_uniform(rng, 0.005, 8), 4),
        "num_epochs": int(_pick(rng, (1, 1, 3, 5))),
        "precision": Precision.FP32,
        "gpu_required": False,
        "checkpointing": bool(rng.uniform() < 0.15),
    }
    return "sklearn", fields


_MAKERS = {
    "llm-lora": _llm_lora,
    "llm-full": _llm_full,
    "llm-pretrain": _llm_pretrain,
    "vision": _vision,
    "speech": _speech,
    "tabular": _tabular,
    "sklearn": _sklearn,
}


def _constraints(
    rng: np.random.Generator, fields: dict[str, Any], providers: Sequence[str]
) -> None:
    probe = WorkloadProfile(**fields)
    hours = phys.reference_hours(probe)
    if probe.framework.is_cpu_bound:
        cost = hours * _REFERENCE_CPU_PRICE
    else:
        cost = hours * _REFERENCE_GPU_PRICE * min(8, probe.num_workers) * probe.max_nodes
    if rng.uniform() < 0.3:
        fields["deadline_hours"] = round(max(0.25, hours * rng.uniform(1.2, 5.0) + 0.25), 2)
    if rng.uniform() < 0.2:
        fields["budget"] = round(max(1.0, cost * rng.uniform(0.8, 5.0)), 2)
    fields["spot_allowed"] = bool(rng.uniform() < 0.8)
    if providers and rng.uniform() < 0.1:
        count = min(len(providers), int(_pick(rng, (2, 3))))
        chosen = rng.choice(len(providers), size=count, replace=False)
        fields["allowed_providers"] = tuple(sorted(providers[int(i)] for i in chosen))


def generate_workloads(
    rng_or_seed: np.random.Generator | int,
    n: int,
    *,
    families: Sequence[str] | None = None,
    providers: Sequence[str] = (),
) -> list[WorkloadProfile]:
    """Draw ``n`` realistic workloads; the same seed (or generator state) gives the same list.

    ``families`` restricts the mix to some of ``WORKLOAD_FAMILIES`` (shares renormalised);
    ``providers`` lets some workloads restrict the providers they accept.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidInputError(f"n: must be a non-negative integer, got {n!r}")
    rng = _rng(rng_or_seed)
    names = tuple(families) if families is not None else WORKLOAD_FAMILIES
    unknown = [name for name in names if name not in _MAKERS]
    if unknown or not names:
        raise InvalidInputError(
            f"families: unknown {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(WORKLOAD_FAMILIES)}"
        )
    shares = [_FAMILY_SHARES[WORKLOAD_FAMILIES.index(name)] for name in names]
    distinct_providers = tuple(dict.fromkeys(providers))
    workloads: list[WorkloadProfile] = []
    for index in range(n):
        family = str(_pick(rng, names, shares))
        label, fields = _MAKERS[family](rng)
        if "checkpointing" not in fields:
            fields["checkpointing"] = bool(rng.uniform() < 0.85)
        _constraints(rng, fields, distinct_providers)
        fields["name"] = f"{label}-{index:04d}"
        workloads.append(WorkloadProfile(**fields))
    return workloads
