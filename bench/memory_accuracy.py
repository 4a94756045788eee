"""Memory accuracy: the estimator against the published peak-memory rows of the measurement table.

Usage: ``python bench/memory_accuracy.py``. ``memory_section()`` is the memory part of the
estimator accuracy report (``bench/bench_estimator.py`` calls it next to its time section).

For every ``peak_memory_*`` row of ``estimate/data/measurements.csv`` whose configuration the
source states (sequence length and micro-batch), the row becomes a workload and a pinned training
plan (micro-batch, checkpointing, sharding from the stack and GPU count), and the estimate per
GPU is compared with the published figure: ``|log(estimate / published)|``, median and worst,
on the calibration and held-out rows separately and per class (full, LoRA, QLoRA). Rows whose
configuration is not stated (the PEFT README table) or whose model the memory model does not
cover (the Stable Diffusion UNet) are listed as skipped, with the reason.

It also checks the issue's rule: no published run that fits on its hardware is refused, i.e. the
plan search finds a fitting plan on the row's GPU (same count and memory) for every row.

Targets (issue 12): median |log ratio| <= 0.15, worst <= 0.40.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass

import numpy as np

from artenic_opt.catalog import load_catalog
from artenic_opt.estimate.architectures import get_architecture
from artenic_opt.estimate.measurements import Measurement, memory_rows
from artenic_opt.estimate.memory import PlanColumns, estimate_memory
from artenic_opt.estimate.plans import search_plans
from artenic_opt.estimate.workload import WorkloadFacts, describe_workload
from artenic_opt.schemas import WorkloadProfile

_TASKS = {"full_ft": "full", "lora": "lora", "qlora": "qlora"}
_CKPT = {"none": 0, "selective": 1, "full": 2, None: 2}


@dataclass(frozen=True, slots=True)
class _ArchFacts(WorkloadFacts):
    """Workload facts with the architecture's real shape and vocabulary."""

    vocab: float = 0.0


@dataclass(frozen=True)
class MemoryCheck:
    row: Measurement
    estimate_gb: float | None
    published_gb: float
    fits_found: bool | None
    skipped: str | None

    @property
    def log_ratio(self) -> float | None:
        if self.estimate_gb is None:
            return None
        return abs(math.log(self.estimate_gb / self.published_gb))


def _gpu_memory_gb(gpu_type: str) -> float:
    return float(load_catalog().gpu_specs[gpu_type].memory_gb)


def _workload(row: Measurement) -> tuple[WorkloadProfile, WorkloadFacts]:
    arch = get_architecture(row.arch_key or "")
    task = _TASKS[row.task]
    torchtune = row.stack == "torchtune"
    # torchtune's single-device full fine-tune configs: PagedAdamW8bit with optimizer_in_bwd (the
    # README table rows say so; the memory-optimisation table rows add them only in '+ 8-bit').
    single_full = torchtune and task == "full" and row.gpus == 1
    lean = single_full and (row.source_id, row.seq_len) != ("torchtune", 4096)
    lean = lean or row.notes.rfind("'+ 8-bit AdamW'") >= 0
    optimizer = "paged_adamw_8bit" if lean else "adamw"
    workload = WorkloadProfile(
        name=row.id,
        framework="transformers",
        model_params_m=arch.params / 1e6,
        dataset_size_gb=1,
        tokens=1e8,
        batch_size=(row.micro_batch or 1) * (row.gpus or 1),
        sequence_length=row.seq_len or 2048,
        precision="int4" if task == "qlora" else "bf16",
        fine_tuning=task,
        lora_rank=8,
        optimizer=optimizer,
        pure_bf16=torchtune,
        chunked_loss=torchtune,
        optimizer_in_backward=lean,
    )
    facts = describe_workload(workload)
    shaped = _ArchFacts(
        **{f.name: getattr(facts, f.name) for f in dataclasses.fields(WorkloadFacts)},
        vocab=float(arch.vocab),
    )
    shaped = dataclasses.replace(shaped, layers=float(arch.layers), hidden=float(arch.hidden))
    return workload, shaped


def check_row(row: Measurement) -> MemoryCheck:
    published = row.peak_memory_gb
    assert published is not None
    if row.kind != "llm" or not row.arch_key:
        return MemoryCheck(row, None, published, None, "no transformer shape (UNet / T5 rows)")
    if row.seq_len is None or row.micro_batch is None:
        return MemoryCheck(row, None, published, None, "batch or sequence length not stated")
    workload, facts = _workload(row)
    gpus = row.gpus or 1
    per_node = row.gpus_per_node or gpus
    nodes = row.nodes or 1
    card = _gpu_memory_gb(row.gpu_type)
    plan = PlanColumns(
        micro_batch=np.array([row.micro_batch]),
        checkpoint_code=np.array([_CKPT.get(row.gradient_checkpointing, 2)]),
        sharding_stage=np.array([3 if gpus > 1 else 0]),
        tensor_parallel=np.array([1]),
        offload=np.array([False]),
    )
    memory = estimate_memory(
        workload,
        gpu_count=[per_node],
        gpu_memory_gb=[card],
        memory_gb=[1024.0],
        nodes=[nodes],
        plan=plan,
        facts=facts,
    )
    found = search_plans(
        workload,
        gpu_count=[per_node],
        nodes=[nodes],
        gpu_memory_gb=[card],
        memory_gb=[1024.0],
        facts=facts,
    ).found
    return MemoryCheck(row, float(memory.needed_gb[0]), published, bool(found[0]), None)


def _summary(values: list[float]) -> str:
    if not values:
        return "no rows"
    return f"n={len(values):2d}  median {statistics.median(values):.3f}  worst {max(values):.3f}"


def memory_section() -> list[MemoryCheck]:
    """Print the memory accuracy report and return the per-row checks."""
    checks = [check_row(row) for row in memory_rows()]
    print("memory: |log(estimate / published)| per GPU (targets: median <= 0.15, worst <= 0.40)")
    for check in checks:
        row = check.row
        if check.skipped:
            print(f"  {row.id:14s} {row.split:8s} skipped: {check.skipped}")
            continue
        print(
            f"  {row.id:14s} {row.split:8s} {row.task:8s} {row.model:16s} "
            f"{row.gpus}x {row.gpu_type:10s} published {check.published_gb:6.2f} GB  "
            f"estimate {check.estimate_gb:6.2f} GB  |log| {check.log_ratio:.3f}  "
            f"plan found: {'yes' if check.fits_found else 'NO'}"
        )
    scored = [c for c in checks if c.log_ratio is not None]
    for split in ("calib", "heldout"):
        print(
            f"  {split:8s} all      "
            + _summary([c.log_ratio for c in scored if c.row.split == split])
        )  # type: ignore[misc]
        for task in ("full_ft", "lora", "qlora"):
            values = [
                c.log_ratio
                for c in scored
                if c.row.split == split and c.row.task == task and c.log_ratio is not None
            ]
            print(f"  {split:8s} {task:8s} " + _summary(values))
    refused = [c.row.id for c in scored if not c.fits_found]
    print(f"  published runs refused (no plan found on their hardware): {refused or 'none'}")
    return checks


if __name__ == "__main__":
    memory_section()
