"""The shipped peak-memory measurements as workloads and plans: estimate vs published.

Each ``peak_memory_*`` / ``nvml_used_mib`` row of ``estimate/data/measurements.csv`` becomes a
workload (the row's architecture, task, precision, optimizer ...) and the plan the source ran
(micro-batch, activation checkpointing, sharding from the GPU count), and the memory model
predicts the figure the source measured. The accuracy report (``bench/bench_estimator.py``) and
the "no published run is refused" test use it.

Decisions:

* The run's set-up comes from the row's ``cfg:`` tail (``Measurement.memory_config``). Rows
  written before it existed (torchtune's README) follow what that README states:
  - 'Memory and training speed' table: the recipes' defaults, pure bf16 and chunked
    cross-entropy; the single-device full fine-tune configs use PagedAdamW8bit with
    ``optimizer_in_bwd`` (recipes/configs/llama3_1/8B_full_single_device.yaml).
  - 'Optimization flags' table: each technique adds to the previous one, so chunked
    cross-entropy from its row on; activation offloading from its row on, LoRA and QLoRA included
    (their reproduce command sets ``enable_activation_offloading=True``); '+ 8-bit AdamW' also
    keeps ``optimizer_in_bwd``. Its 8-bit states are counted as GPU-resident (``adamw_8bit``):
    the row is 4.2 GiB below the previous one, about what 8-bit states save over bf16 ones
    (6.0 GiB), not the 12 GiB that states leaving torch's allocator (paged) would.
* The estimate is the metric the source printed (``measured``): ``allocated`` (torch's peak
  allocated or active bytes; the default, what torchtune and LitGPT print) compares with
  ``PlanMemory.allocated_gb``; ``reserved`` with ``needed_gb`` (fragmentation included);
  ``device`` (NVML used) with ``needed_gb`` plus the CUDA context the source itself measured
  (``context_mib``), else ``memory.CUDA_CONTEXT_GB``.
* Library versions matter where they changed memory: LitGPT's QLoRA rows ran bitsandbytes
  before 0.43.2 (``bnb_keeps_inputs``), whose 4-bit layers kept their inputs for the backward
  pass (``estimate.activation_shape``); the advisor itself assumes current versions.
* Skipped, with the reason: rows without a transformer shape (the UNet, T5's PEFT rows) and rows
  whose source does not state the micro-batch and sequence length.
* LoRA adapters are sized from the rank on every linear layer (the estimator's rule) whatever
  the row's targets: the adapters are megabytes next to the gigabytes the rows measure.
* Gradients add to the activations when the run accumulates (global batch above micro-batch x
  GPUs) or the row says its stack kept gradient buffers between steps (``grads_persist``).
* Multi-GPU rows shard with ZeRO-3/FSDP (torchtune's distributed recipes); host RAM is taken as
  ample (1 TB): the rows are GPU-memory figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from artenic_opt.catalog import load_catalog
from artenic_opt.estimate.architectures import get_architecture, to_schema
from artenic_opt.estimate.measurements import Measurement, memory_rows
from artenic_opt.estimate.memory import (
    CUDA_CONTEXT_GB,
    activation_gb_per_sample,
    model_states,
    plan_memory,
)
from artenic_opt.estimate.plans import search_plans
from artenic_opt.estimate.workload import describe_workload
from artenic_opt.schemas import WorkloadProfile

_TASKS = {"full_ft": "full", "lora": "lora", "qlora": "qlora"}
_CKPT = {"none": 0, "selective": 1, "full": 2}
_PRECISION = {"fp32": "fp32", "fp16": "fp16", "bf16": "bf16", "tf32": "fp32"}
_HOST_GB = 1024.0
_MIB_GB = 2**20 / 1e9


@dataclass(frozen=True, slots=True)
class MemoryCheck:
    """One published row against the model: estimate of the measured metric, and whether the
    plan search finds a fitting plan for the row's configuration on its own GPU."""

    row: Measurement
    published_gb: float
    estimate_gb: float | None = None
    #: The planner fits the row's configuration (micro-batch and checkpointing pinned).
    fits_found: bool | None = None
    skipped: str | None = None

    @property
    def log_ratio(self) -> float | None:
        """``|log(estimate / published)|``; None for a skipped row."""
        if self.estimate_gb is None:
            return None
        return abs(math.log(self.estimate_gb / self.published_gb))


def _flag(config: dict[str, str], key: str, default: bool) -> bool:
    value = config.get(key)
    return default if value is None else value in ("1", "true", "yes")


def _torchtune_defaults(row: Measurement) -> dict[str, str]:
    """What torchtune's README states about a row written without a ``cfg:`` tail."""
    notes = row.notes
    if "'Optimization flags' table" not in notes:
        defaults = {"pure_bf16": "1", "chunked_loss": "1"}
        if row.task == "full_ft" and row.gpus == 1:
            defaults.update(optimizer="paged_adamw_8bit", optimizer_in_bwd="1")
        return defaults
    unchunked = "'+ Packed Dataset'" in notes or "'Baseline'" in notes
    offloaded = any(tag in notes for tag in ("'+ 8-bit AdamW'", "row 'LoRA'", "row 'QLoRA'"))
    defaults = {
        "pure_bf16": "1",
        "chunked_loss": "0" if unchunked else "1",
        "activation_offload": "1" if offloaded else "0",
    }
    if "'+ 8-bit AdamW'" in notes:
        defaults.update(optimizer="adamw_8bit", optimizer_in_bwd="1")
    return defaults


def row_config(row: Measurement) -> dict[str, str]:
    """The row's stated set-up: its ``cfg:`` tail over the source's documented defaults."""
    defaults = _torchtune_defaults(row) if row.stack == "torchtune" else {}
    return {**defaults, **row.memory_config}


def row_workload(row: Measurement) -> WorkloadProfile:
    """The workload the row's source ran (see the module docstring for the defaults)."""
    arch = get_architecture(row.arch_key or "")
    config = row_config(row)
    task = _TASKS[row.task]
    optimizer = config.get("optimizer", "adamw")
    precision = "int4" if task == "qlora" else _PRECISION[row.precision or "bf16"]
    return WorkloadProfile(
        name=row.id,
        framework="transformers",
        model_params_m=arch.params / 1e6,
        architecture=to_schema(arch),
        dataset_size_gb=1,
        tokens=1e8,
        batch_size=(row.micro_batch or 1) * (row.gpus or 1),
        micro_batch_size=row.micro_batch,
        gradient_checkpointing=("off", "selective", "full")[
            _CKPT.get(row.gradient_checkpointing or "none", 0)
        ],
        sequence_length=row.seq_len or 2048,
        precision=precision,
        fine_tuning=task,
        lora_rank=int(config.get("lora_rank", "8")),
        optimizer=optimizer,
        pure_bf16=_flag(config, "pure_bf16", False),
        chunked_loss=_flag(config, "chunked_loss", False),
        optimizer_in_backward=_flag(config, "optimizer_in_bwd", False),
    )


def _skip_reason(row: Measurement) -> str | None:
    if not row.arch_key or get_architecture(row.arch_key).layers <= 0:
        return "no transformer shape in the architecture table (UNet, unnamed models)"
    if row.seq_len is None or row.micro_batch is None:
        return "batch or sequence length not stated by the source"
    return None


def _gradients_persist(row: Measurement, config: dict[str, str]) -> bool:
    """Gradients outlive the micro-batch: accumulation over micro-batches, or the source's
    stack zeroed gradients in place (``grads_persist=1``)."""
    micro = (row.micro_batch or 1) * (row.gpus or 1)
    accumulates = row.global_batch is not None and row.global_batch > micro
    return accumulates or _flag(config, "grads_persist", False)


def check_row(row: Measurement) -> MemoryCheck:
    """The model's estimate of the row's measured metric and the planner's verdict."""
    published = row.peak_memory_gb
    if published is None:
        raise ValueError(f"{row.id} is not a memory row")
    reason = _skip_reason(row)
    if reason is not None:
        return MemoryCheck(row, published, skipped=reason)
    workload = row_workload(row)
    facts = describe_workload(workload)
    config = row_config(row)
    gpus = row.gpus or 1
    per_node = row.gpus_per_node or gpus
    nodes = row.nodes or 1
    card = float(load_catalog().gpu_specs[row.gpu_type].memory_gb)
    code = _CKPT.get(row.gradient_checkpointing or "none", 0)
    dropout = float(config.get("lora_dropout", "0"))
    per_sample = activation_gb_per_sample(
        workload,
        facts,
        code,
        1.0,
        eager_attention=config.get("attention") == "eager",
        lora_dropout_targets=config.get("lora_targets") if dropout > 0 else None,
        activation_offload=_flag(config, "activation_offload", False),
        autocast=_flag(config, "amp", False),
        quantised_inputs_kept=_flag(config, "bnb_keeps_inputs", False),
    )
    memory = plan_memory(
        workload,
        facts,
        model_states(workload, facts, autocast=_flag(config, "amp", False)),
        gpus_per_node=np.array([float(per_node)]),
        nodes=np.array([float(nodes)]),
        gpu_memory_gb=np.array([card]),
        host_memory_gb=np.array([_HOST_GB]),
        micro_batch=np.array([float(row.micro_batch or 1)]),
        checkpoint_code=np.array([code]),
        sharding_stage=np.array([3 if gpus > 1 else 0]),
        tensor_parallel=np.array([1.0]),
        offload=np.array([False]),
        activation_per_sample_gb=per_sample,
        gradients_persist=_gradients_persist(row, config),
    )
    measured = config.get("measured", "allocated")
    if measured == "allocated":
        estimate = float(memory.allocated_gb[0])
    elif measured == "reserved":
        estimate = float(memory.needed_gb[0])
    else:
        context = float(config["context_mib"]) * _MIB_GB if "context_mib" in config else None
        estimate = float(memory.needed_gb[0]) + (context or CUDA_CONTEXT_GB)
    found = search_plans(
        workload,
        gpu_count=[per_node],
        nodes=[nodes],
        gpu_memory_gb=[card],
        memory_gb=[_HOST_GB],
        facts=facts,
    ).found
    return MemoryCheck(row, published, estimate, bool(found[0]))


def check_all() -> tuple[MemoryCheck, ...]:
    """Every shipped memory row, checked (file order)."""
    return tuple(check_row(row) for row in memory_rows())
