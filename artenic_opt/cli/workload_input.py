"""Reading a workload from flags, a JSON or TOML file, or stdin (shared by several commands).

Flags override fields of the file, so ``--workload base.toml --epochs 3`` works. Sizes accept SI
suffixes (``7B`` parameters, ``2T`` tokens, ``350M``).

Decisions:
- The shared flags are the fields of one dataclass, ``WorkloadFlags``, each annotated with its
  Typer option. A command declares an ordinary signature with one parameter annotated
  ``WorkloadFlags``; the ``@workload_options`` decorator puts the flags in its place (as
  sqlite-utils stacks its shared output options), so ``recommend`` and ``cost compare`` take
  exactly the same workload flags and every other option of theirs stays visible in their own
  ``def``.
- The shared flags come first in ``--help``, then the command's own options (as before).
"""

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar, get_type_hints

import typer

from artenic_opt.types import FineTuning, ModelFramework, OptimizerKind, Precision, ShardingMode

if TYPE_CHECKING:
    from artenic_opt.schemas import WorkloadProfile


def _enum_values(enum: type[Any]) -> str:
    return ", ".join(m.value for m in enum)


@dataclasses.dataclass(frozen=True)
class WorkloadFlags:
    """The workload flags as typed on the command line (``None``: not given)."""

    workload_file: Annotated[
        str | None,
        typer.Option(
            "--workload",
            "-w",
            help="Workload file (JSON or TOML); '-' reads stdin. Flags override its fields.",
        ),
    ] = None
    name: Annotated[str | None, typer.Option("--name", help="Workload name.")] = None
    same_as: Annotated[
        str | None,
        typer.Option(
            "--same-as",
            help="Query id of a workload this one is the same job as (shares its outcomes).",
        ),
    ] = None
    framework: Annotated[
        str | None, typer.Option("--framework", help=f"One of: {_enum_values(ModelFramework)}.")
    ] = None
    params: Annotated[
        str | None,
        typer.Option(
            "--params",
            help="Model parameters with a unit: 7B, 350M, 1.3e9 (a bare number is refused).",
        ),
    ] = None
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Named architecture (e.g. llama-3-8b, mixtral-8x7b, bert-base); sets the "
            "parameter count and workload kind.",
        ),
    ] = None
    hf_config: Annotated[
        str | None,
        typer.Option("--hf-config", help="Hugging Face config.json describing the model."),
    ] = None
    dataset_gb: Annotated[
        float | None, typer.Option("--dataset-gb", help="Dataset size in GB.")
    ] = None
    epochs: Annotated[float | None, typer.Option("--epochs", help="Passes over the data.")] = None
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help="Global batch: sequences per optimiser step."),
    ] = None
    micro_batch_size: Annotated[
        int | None,
        typer.Option("--micro-batch-size", help="Pin the per-GPU micro-batch (plan search)."),
    ] = None
    seq_len: Annotated[int | None, typer.Option("--seq-len", help="Sequence length (tokens).")] = (
        None
    )
    tokens: Annotated[
        str | None, typer.Option("--tokens", help="Training tokens per epoch, e.g. 2T, 500M.")
    ] = None
    precision: Annotated[
        str | None, typer.Option("--precision", help=f"One of: {_enum_values(Precision)}.")
    ] = None
    fine_tuning: Annotated[
        str | None, typer.Option("--fine-tuning", help=f"One of: {_enum_values(FineTuning)}.")
    ] = None
    lora_rank: Annotated[int | None, typer.Option("--lora-rank", help="LoRA adapter rank.")] = None
    optimizer: Annotated[
        str | None, typer.Option("--optimizer", help=f"One of: {_enum_values(OptimizerKind)}.")
    ] = None
    gradient_checkpointing: Annotated[
        bool | None,
        typer.Option(
            "--gradient-checkpointing/--no-gradient-checkpointing",
            help="Pin full activation checkpointing on or off (unset: the plan search decides).",
            show_default=False,
        ),
    ] = None
    sharding: Annotated[
        str | None,
        typer.Option("--sharding", help=f"Pin the sharding: {_enum_values(ShardingMode)}."),
    ] = None
    tensor_parallel: Annotated[
        int | None,
        typer.Option("--tensor-parallel", help="Pin the tensor-parallel degree (1, 2, 4, 8)."),
    ] = None
    offload: Annotated[
        bool | None,
        typer.Option(
            "--offload/--no-offload",
            help="Pin CPU offload of optimiser states on or off.",
            show_default=False,
        ),
    ] = None
    gpus_per_node: Annotated[
        int | None, typer.Option("--gpus", help="At least this many GPUs per node (a hard filter).")
    ] = None
    max_nodes: Annotated[
        int | None, typer.Option("--max-nodes", help="Allow distribution over up to N nodes.")
    ] = None
    cpu_only: Annotated[
        bool | None, typer.Option("--cpu-only", help="The job needs no GPU.", show_default=False)
    ] = None
    checkpointing: Annotated[
        bool | None,
        typer.Option(
            "--checkpointing/--no-checkpointing",
            help="Whether the job saves checkpoints (affects spot retries).",
            show_default=False,
        ),
    ] = None
    estimated_hours: Annotated[
        float | None,
        typer.Option("--estimated-hours", help="Known run time on --reference-gpu."),
    ] = None
    reference_gpu: Annotated[
        str | None,
        typer.Option("--reference-gpu", help="GPU type that --estimated-hours refers to."),
    ] = None
    budget: Annotated[
        float | None, typer.Option("--budget", help="Maximum whole-job cost (display currency).")
    ] = None
    deadline: Annotated[
        float | None, typer.Option("--deadline", help="Maximum run time in hours.")
    ] = None
    provider: Annotated[
        list[str] | None, typer.Option("--provider", help="Allowed provider (repeatable).")
    ] = None
    region: Annotated[
        list[str] | None, typer.Option("--region", help="Allowed region (repeatable).")
    ] = None
    spot: Annotated[
        bool | None,
        typer.Option("--spot/--no-spot", help="Allow or forbid spot capacity.", show_default=False),
    ] = None

    def to_workload(self, *, display_currency: str) -> "WorkloadProfile":
        """The workload: the file (if any) with every given flag overriding its field."""
        overrides: dict[str, Any] = {
            field: getattr(self, flag) for flag, field in _FLAG_TO_FIELD.items()
        }
        # --params/--model/--hf-config are resolved by build_workload, with the same rules as
        # the file keys params/model/hf_config (one unit for parameter counts).
        overrides["params"] = self.params
        overrides["model"] = self.model
        overrides["hf_config"] = self.hf_config
        if self.tokens is not None:
            from artenic_opt.services.workload_reader import parse_quantity

            overrides["tokens"] = parse_quantity(self.tokens, field="--tokens")
        if self.cpu_only:
            overrides["gpu_required"] = False
            overrides["cpu_only"] = True
        if self.gradient_checkpointing is not None:
            # A typed flag is a pin: --no-gradient-checkpointing means "off", not "undecided".
            overrides["gradient_checkpointing"] = "full" if self.gradient_checkpointing else "off"
        if self.max_nodes is not None and self.max_nodes > 1:
            overrides["distributed"] = True
        if self.budget is not None:
            overrides["budget_currency"] = display_currency
        if self.reference_gpu is not None:
            from artenic_opt.catalog import normalize_gpu_type

            overrides["reference_gpu"] = normalize_gpu_type(self.reference_gpu)
        from artenic_opt.services.workload_reader import build_workload

        return build_workload(self.workload_file, overrides)


# Flags that map one-to-one onto a WorkloadProfile field (the rest are handled in to_workload).
_FLAG_TO_FIELD: dict[str, str] = {
    "name": "name",
    "same_as": "same_as",
    "framework": "framework",
    "dataset_gb": "dataset_size_gb",
    "epochs": "num_epochs",
    "batch_size": "batch_size",
    "micro_batch_size": "micro_batch_size",
    "sharding": "sharding",
    "tensor_parallel": "tensor_parallel",
    "offload": "offload",
    "seq_len": "sequence_length",
    "precision": "precision",
    "fine_tuning": "fine_tuning",
    "lora_rank": "lora_rank",
    "optimizer": "optimizer",
    "gradient_checkpointing": "gradient_checkpointing",
    "gpus_per_node": "num_workers",
    "max_nodes": "max_nodes",
    "checkpointing": "checkpointing",
    "estimated_hours": "estimated_hours",
    "reference_gpu": "reference_gpu",
    "budget": "budget",
    "deadline": "deadline_hours",
    "provider": "allowed_providers",
    "region": "allowed_regions",
    "spot": "spot_allowed",
}

P = ParamSpec("P")
R = TypeVar("R")


def workload_options(command: Callable[P, R]) -> Callable[..., R]:
    """Give ``command`` the shared workload flags in place of its ``WorkloadFlags`` parameter.

    ``command`` is an ordinary Typer command function with exactly one parameter annotated
    ``WorkloadFlags``; the decorated function's signature has the flags (keyword-only, after
    ``ctx``) instead, and calls ``command`` with them gathered into one ``WorkloadFlags``.
    """
    hints = get_type_hints(command, include_extras=True)
    flag_hints = get_type_hints(WorkloadFlags, include_extras=True)
    own = inspect.signature(command).parameters.values()
    slot = [p.name for p in own if hints.get(p.name) is WorkloadFlags]
    if len(slot) != 1:
        raise TypeError(f"{command.__name__} needs one parameter annotated WorkloadFlags")
    flags_param = slot[0]
    leading = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in own]
    before = [p for p in leading if hints.get(p.name) is typer.Context]
    rest = [p for p in leading if p.name != flags_param and p not in before]
    shared = [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, annotation=flag_hints[f.name], default=None
        )
        for f in dataclasses.fields(WorkloadFlags)
    ]
    rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in rest]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        flags = WorkloadFlags(**{p.name: kwargs.pop(p.name) for p in shared})
        return command(*args, **{flags_param: flags}, **kwargs)  # type: ignore[arg-type]

    signature = inspect.Signature([*before, *shared, *rest])
    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    return wrapper
