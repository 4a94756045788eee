"""The shipped table of published training measurements: throughput, utilisation and memory.

Data: ``estimate/data/measurements.csv`` (package data, one row per published figure). Each row
says where the figure was read (``source``: ``owner/repo:path@commit`` plus the table or section,
or a URL), the run's configuration (model, GPU, GPU count, precision, sequence length, batches,
stack, activation checkpointing) and one ``metric`` with its ``value``. ``split`` is fixed in the
file: ``calib`` rows may be fitted on, ``heldout`` rows never are (about a quarter of each
source's rows, every fourth one, so the split is stratified over sources and their GPUs).

Metrics:

* ``tokens_per_s_per_gpu``, ``tokens_per_s_total``: training tokens per second.
* ``samples_per_s_total`` (sequences/s), ``images_per_s_total``: for the whole run's GPUs.
* ``mfu``: model-FLOPs utilisation as a fraction, as the source computed it.
* ``gpu_hours``: a whole pretraining run; ``train_tokens`` then holds the tokens it consumed.
* ``peak_memory_gb`` (10^9 bytes) and ``peak_memory_gib`` (2^30 bytes): peak GPU memory per GPU,
  kept in the unit the source printed; ``Measurement.peak_memory_gb`` converts.
* ``nvml_used_mib``: the device's used memory as NVML / ``nvidia-smi`` reports it (MiB), which
  also holds the CUDA context and PyTorch's cached (reserved, not allocated) blocks.

Memory rows end their ``notes`` with ``cfg: key=value; ...``: the set-up the source states
(``optimizer``, ``pure_bf16``, ``chunked_loss``, ``optimizer_in_bwd``, ``lora_rank``,
``lora_targets``, ``attention``, ``head``, ``bnb_keeps_inputs``: QLoRA on bitsandbytes before
0.43.2, whose 4-bit layers kept their inputs) and what the figure measures (``measured``:
``allocated`` = torch's peak allocated/active bytes, ``reserved`` = the caching allocator's
peak, ``device`` = NVML used, with the source's own ``context_mib``). ``memory_config`` parses it.
The memory rows added in session 12 follow the same held-out rule per source (every fourth row
of a source in file order is ``heldout``), fixed when the rows were written, before any fit.

Published memory figures read and left out (so that nobody adds them back unknowingly):
torchtune's README table before September 2024 (Llama 2 7B/70B: its 'Batch Size = 4, Seq Length
= 2048' contradicts the recipes it names, batch 2 on an unpacked dataset); LitGPT's config-hub
full fine-tune rows on one A10G (phi-3 17.01 GB, Llama 3.2 3B 16.51 GB: less than the bf16
weights, gradients and AdamW states of the stated single-device configs, so not a figure of that
configuration); LitGPT's multi-GPU LoRA rows (FSDP: 4.86 to 5.88 GB for micro-batch 1 to 4,
a per-GPU peak that barely moves with the batch); LitGPT's Adapter rows (a method the estimator
does not model) and its plain ``bnb.nf4`` rows (the model has NF4 with double quantisation only).

Decisions:

* Empty cells mean "not stated by the source"; the loader keeps them as ``None`` rather than
  guessing. ``params_b`` is filled only when the source states the count (or the model name
  does); rows with an ``arch_key`` get the count from the architecture table instead.
* ``gpu_type`` uses the catalog's canonical GPU names (``catalog/gpu_names.py``), so a row joins
  the GPU spec table directly.
* The table is parsed once per process (``functools.cache``) and validated on load: a malformed
  shipped file is an internal error, reported with its line.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from typing import Literal, get_args

from artenic_opt._internal.files import read_package_data
from artenic_opt.errors import ArtenicOptError

MEASUREMENTS_FILE = "measurements.csv"

Kind = Literal["llm", "encoder", "vision", "diffusion"]
Task = Literal["pretrain", "full_ft", "lora", "qlora"]
Precision = Literal["fp32", "tf32", "bf16", "fp16", "fp8"]
Checkpointing = Literal["none", "selective", "full"]
Split = Literal["calib", "heldout"]
Metric = Literal[
    "tokens_per_s_per_gpu",
    "tokens_per_s_total",
    "samples_per_s_total",
    "images_per_s_total",
    "mfu",
    "gpu_hours",
    "time_to_train_min",
    "peak_memory_gb",
    "peak_memory_gib",
    "nvml_used_mib",
]
Stack = Literal[
    "hf_trainer",
    "hf_accelerate",
    "fsdp",
    "deepspeed",
    "megatron",
    "nemo",
    "torchtune",
    "llmc",
    "lightning",
    "pytorch_ddp",
    "tensorflow",
    "mxnet",
    "other",
]

KINDS: tuple[str, ...] = get_args(Kind)
TASKS: tuple[str, ...] = get_args(Task)
PRECISIONS: tuple[str, ...] = get_args(Precision)
CHECKPOINTING: tuple[str, ...] = get_args(Checkpointing)
SPLITS: tuple[str, ...] = get_args(Split)
METRICS: tuple[str, ...] = get_args(Metric)
STACKS: tuple[str, ...] = get_args(Stack)
MEMORY_METRICS: frozenset[str] = frozenset({"peak_memory_gb", "peak_memory_gib", "nvml_used_mib"})
_GIB_IN_GB = 2**30 / 1e9
_MIB_IN_GB = 2**20 / 1e9

_COLUMNS = (
    "id",
    "source_id",
    "source",
    "source_date",
    "model",
    "arch_key",
    "params_b",
    "kind",
    "task",
    "seq_len",
    "global_batch",
    "micro_batch",
    "precision",
    "gpu_type",
    "gpus",
    "gpus_per_node",
    "nodes",
    "interconnect",
    "stack",
    "gradient_checkpointing",
    "train_tokens",
    "metric",
    "value",
    "split",
    "notes",
)


class MeasurementDataError(ArtenicOptError):
    """The shipped measurement table is malformed (a packaging bug, not user input)."""

    code = "invalid_measurement_data"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One published figure and the configuration it was measured on (``None``: not stated)."""

    id: str
    source_id: str
    source: str
    source_date: str
    model: str
    arch_key: str | None
    params_b: float | None
    kind: Kind
    task: Task
    seq_len: int | None
    global_batch: int | None
    micro_batch: int | None
    precision: Precision | None
    gpu_type: str
    gpus: int | None
    gpus_per_node: int | None
    nodes: int | None
    interconnect: str | None
    stack: Stack
    gradient_checkpointing: Checkpointing | None
    train_tokens: float | None
    metric: Metric
    value: float
    split: Split
    notes: str

    @property
    def is_memory(self) -> bool:
        """Whether the row is a peak-memory figure (either unit)."""
        return self.metric in MEMORY_METRICS

    @property
    def peak_memory_gb(self) -> float | None:
        """Peak memory per GPU in GB (10^9 bytes), whatever unit the source used."""
        if self.metric == "peak_memory_gb":
            return self.value
        if self.metric == "peak_memory_gib":
            return self.value * _GIB_IN_GB
        if self.metric == "nvml_used_mib":
            return self.value * _MIB_IN_GB
        return None

    @property
    def memory_config(self) -> dict[str, str]:
        """The ``cfg: key=value; ...`` tail of ``notes``: what the source states about the run's
        memory set-up (optimizer, what the figure measures, LoRA rank ...); empty when absent."""
        _, found, tail = self.notes.rpartition("cfg:")
        if not found:
            return {}
        pairs = (item.split("=", 1) for item in tail.split(";") if "=" in item)
        return {key.strip(): value.strip() for key, value in pairs}


def _fail(line: int, message: str) -> MeasurementDataError:
    return MeasurementDataError(f"{MEASUREMENTS_FILE} line {line}: {message}")


def _opt_str(value: str) -> str | None:
    return value.strip() or None


def _opt_float(value: str, line: int, column: str) -> float | None:
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise _fail(line, f"{column} is not a number: {text!r}") from None
    if not number > 0 or number == float("inf"):
        raise _fail(line, f"{column} must be a positive finite number, got {text!r}")
    return number


def _opt_int(value: str, line: int, column: str) -> int | None:
    number = _opt_float(value, line, column)
    if number is None:
        return None
    if number != int(number):
        raise _fail(line, f"{column} must be a whole number, got {value!r}")
    return int(number)


def _choice(value: str, allowed: tuple[str, ...], line: int, column: str) -> str:
    text = value.strip()
    if text not in allowed:
        raise _fail(line, f"{column} {text!r} is not one of {', '.join(allowed)}")
    return text


def _opt_choice(value: str, allowed: tuple[str, ...], line: int, column: str) -> str | None:
    return _choice(value, allowed, line, column) if value.strip() else None


def _required(row: dict[str, str], column: str, line: int) -> str:
    text = (row.get(column) or "").strip()
    if not text:
        raise _fail(line, f"{column} is empty")
    return text


def _parse_row(row: dict[str, str], line: int) -> Measurement:
    value = _opt_float(row["value"], line, "value")
    if value is None:
        raise _fail(line, "value is empty")
    return Measurement(
        id=_required(row, "id", line),
        source_id=_required(row, "source_id", line),
        source=_required(row, "source", line),
        source_date=_required(row, "source_date", line),
        model=_required(row, "model", line),
        arch_key=_opt_str(row["arch_key"]),
        params_b=_opt_float(row["params_b"], line, "params_b"),
        kind=_choice(row["kind"], KINDS, line, "kind"),  # type: ignore[arg-type]
        task=_choice(row["task"], TASKS, line, "task"),  # type: ignore[arg-type]
        seq_len=_opt_int(row["seq_len"], line, "seq_len"),
        global_batch=_opt_int(row["global_batch"], line, "global_batch"),
        micro_batch=_opt_int(row["micro_batch"], line, "micro_batch"),
        precision=_opt_choice(row["precision"], PRECISIONS, line, "precision"),  # type: ignore[arg-type]
        gpu_type=_required(row, "gpu_type", line),
        gpus=_opt_int(row["gpus"], line, "gpus"),
        gpus_per_node=_opt_int(row["gpus_per_node"], line, "gpus_per_node"),
        nodes=_opt_int(row["nodes"], line, "nodes"),
        interconnect=_opt_str(row["interconnect"]),
        stack=_choice(row["stack"], STACKS, line, "stack"),  # type: ignore[arg-type]
        gradient_checkpointing=_opt_choice(  # type: ignore[arg-type]
            row["gradient_checkpointing"], CHECKPOINTING, line, "gradient_checkpointing"
        ),
        train_tokens=_opt_float(row["train_tokens"], line, "train_tokens"),
        metric=_choice(row["metric"], METRICS, line, "metric"),  # type: ignore[arg-type]
        value=value,
        split=_choice(row["split"], SPLITS, line, "split"),  # type: ignore[arg-type]
        notes=(row.get("notes") or "").strip(),
    )


def parse_measurements(text: str) -> tuple[Measurement, ...]:
    """Parse and validate measurement CSV text (the shipped file's format)."""
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise MeasurementDataError(f"{MEASUREMENTS_FILE}: missing column(s) {', '.join(missing)}")
    rows: list[Measurement] = []
    seen: set[str] = set()
    for index, raw in enumerate(reader):
        line = index + 2
        row = _parse_row({k: v or "" for k, v in raw.items() if k}, line)
        if row.id in seen:
            raise _fail(line, f"duplicate id {row.id!r}")
        seen.add(row.id)
        if row.metric == "gpu_hours" and row.train_tokens is None:
            raise _fail(line, "a gpu_hours row needs train_tokens")
        if row.metric == "mfu" and row.value > 1:
            raise _fail(line, "mfu is a fraction (0-1]")
        rows.append(row)
    return tuple(rows)


@functools.cache
def load_measurements() -> tuple[Measurement, ...]:
    """Every shipped measurement, in file order (parsed once per process)."""
    text = read_package_data("artenic_opt.estimate", MEASUREMENTS_FILE)
    return parse_measurements(text)


def throughput_rows(split: Split | None = None) -> tuple[Measurement, ...]:
    """Rows that measure speed (everything but memory), optionally one split only."""
    return tuple(
        m for m in load_measurements() if not m.is_memory and (split is None or m.split == split)
    )


def memory_rows(split: Split | None = None) -> tuple[Measurement, ...]:
    """Peak-memory rows, optionally one split only."""
    return tuple(
        m for m in load_measurements() if m.is_memory and (split is None or m.split == split)
    )
