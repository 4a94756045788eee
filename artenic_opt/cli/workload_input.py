"""Reading a workload from flags, a JSON or TOML file, or stdin (shared by several commands).

Flags override fields of the file, so ``--workload base.toml --epochs 3`` works. Sizes accept SI
suffixes (``7B`` parameters, ``2T`` tokens, ``350M``). ``make_workload_command`` builds a Typer
command whose signature is the shared workload options plus the command's own, so that
``recommend`` and ``cost compare`` take exactly the same workload flags without repeating them.
"""

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from artenic_opt.services.workload_reader import build_workload, parse_quantity
from artenic_opt.types import FineTuning, ModelFramework, OptimizerKind, Precision

if TYPE_CHECKING:
    from artenic_opt.schemas import WorkloadProfile


def _enum_values(enum: type[Any]) -> str:
    return ", ".join(m.value for m in enum)


# Each entry: python name, annotation, workload field (None = handled specially).
_WORKLOAD_PARAMS: list[tuple[str, Any, str | None]] = [
    (
        "workload_file",
        Annotated[
            str | None,
            typer.Option(
                "--workload",
                "-w",
                help="Workload file (JSON or TOML); '-' reads stdin. Flags override its fields.",
            ),
        ],
        None,
    ),
    ("name", Annotated[str | None, typer.Option("--name", help="Workload name.")], "name"),
    (
        "framework",
        Annotated[
            str | None,
            typer.Option("--framework", help=f"One of: {_enum_values(ModelFramework)}."),
        ],
        "framework",
    ),
    (
        "params",
        Annotated[
            str | None,
            typer.Option("--params", help="Model parameters, e.g. 7B, 350M, 1.3e9."),
        ],
        None,
    ),
    (
        "dataset_gb",
        Annotated[float | None, typer.Option("--dataset-gb", help="Dataset size in GB.")],
        "dataset_size_gb",
    ),
    (
        "epochs",
        Annotated[float | None, typer.Option("--epochs", help="Passes over the data.")],
        "num_epochs",
    ),
    (
        "batch_size",
        Annotated[int | None, typer.Option("--batch-size", help="Per-GPU micro-batch size.")],
        "batch_size",
    ),
    (
        "seq_len",
        Annotated[int | None, typer.Option("--seq-len", help="Sequence length (tokens).")],
        "sequence_length",
    ),
    (
        "tokens",
        Annotated[
            str | None,
            typer.Option("--tokens", help="Training tokens per epoch, e.g. 2T, 500M."),
        ],
        None,
    ),
    (
        "precision",
        Annotated[
            str | None, typer.Option("--precision", help=f"One of: {_enum_values(Precision)}.")
        ],
        "precision",
    ),
    (
        "fine_tuning",
        Annotated[
            str | None,
            typer.Option("--fine-tuning", help=f"One of: {_enum_values(FineTuning)}."),
        ],
        "fine_tuning",
    ),
    (
        "lora_rank",
        Annotated[int | None, typer.Option("--lora-rank", help="LoRA adapter rank.")],
        "lora_rank",
    ),
    (
        "optimizer",
        Annotated[
            str | None,
            typer.Option("--optimizer", help=f"One of: {_enum_values(OptimizerKind)}."),
        ],
        "optimizer",
    ),
    (
        "gradient_checkpointing",
        Annotated[
            bool | None,
            typer.Option(
                "--gradient-checkpointing/--no-gradient-checkpointing",
                help="Recompute activations to save GPU memory.",
                show_default=False,
            ),
        ],
        "gradient_checkpointing",
    ),
    (
        "gpus_per_node",
        Annotated[int | None, typer.Option("--gpus", help="GPUs wanted per node.")],
        "num_workers",
    ),
    (
        "max_nodes",
        Annotated[
            int | None,
            typer.Option("--max-nodes", help="Allow distribution over up to N nodes."),
        ],
        "max_nodes",
    ),
    (
        "cpu_only",
        Annotated[
            bool | None,
            typer.Option("--cpu-only", help="The job needs no GPU.", show_default=False),
        ],
        None,
    ),
    (
        "checkpointing",
        Annotated[
            bool | None,
            typer.Option(
                "--checkpointing/--no-checkpointing",
                help="Whether the job saves checkpoints (affects spot retries).",
                show_default=False,
            ),
        ],
        "checkpointing",
    ),
    (
        "estimated_hours",
        Annotated[
            float | None,
            typer.Option("--estimated-hours", help="Known run time on --reference-gpu."),
        ],
        "estimated_hours",
    ),
    (
        "reference_gpu",
        Annotated[
            str | None,
            typer.Option("--reference-gpu", help="GPU type that --estimated-hours refers to."),
        ],
        "reference_gpu",
    ),
    (
        "budget",
        Annotated[
            float | None,
            typer.Option("--budget", help="Maximum whole-job cost (display currency)."),
        ],
        "budget",
    ),
    (
        "deadline",
        Annotated[float | None, typer.Option("--deadline", help="Maximum run time in hours.")],
        "deadline_hours",
    ),
    (
        "provider",
        Annotated[
            list[str] | None,
            typer.Option("--provider", help="Allowed provider (repeatable)."),
        ],
        "allowed_providers",
    ),
    (
        "region",
        Annotated[
            list[str] | None,
            typer.Option("--region", help="Allowed region (repeatable)."),
        ],
        "allowed_regions",
    ),
    (
        "spot",
        Annotated[
            bool | None,
            typer.Option(
                "--spot/--no-spot", help="Allow or forbid spot capacity.", show_default=False
            ),
        ],
        "spot_allowed",
    ),
]

WORKLOAD_PARAM_NAMES = frozenset(name for name, _, _ in _WORKLOAD_PARAMS)


def workload_from_params(values: dict[str, Any], *, display_currency: str) -> "WorkloadProfile":
    """Build the workload from the shared options' values."""
    overrides: dict[str, Any] = {}
    for name, _, field in _WORKLOAD_PARAMS:
        if field is not None:
            overrides[field] = values.get(name)
    if values.get("params") is not None:
        overrides["model_params_m"] = parse_quantity(values["params"], field="--params") / 1e6
    if values.get("tokens") is not None:
        overrides["tokens"] = parse_quantity(values["tokens"], field="--tokens")
    if values.get("cpu_only"):
        overrides["gpu_required"] = False
        overrides["cpu_only"] = True
    max_nodes = values.get("max_nodes")
    if max_nodes is not None and max_nodes > 1:
        overrides["distributed"] = True
    if values.get("budget") is not None:
        overrides["budget_currency"] = display_currency
    if values.get("reference_gpu") is not None:
        from artenic_opt.catalog import normalize_gpu_type

        overrides["reference_gpu"] = normalize_gpu_type(values["reference_gpu"])
    return build_workload(values.get("workload_file"), overrides)


def make_workload_command(
    handler: Callable[..., None], own_params: list[inspect.Parameter]
) -> Callable[..., None]:
    """A command taking ``ctx``, the shared workload options and ``own_params``.

    ``handler(ctx, workload_values: dict, **own_values)`` receives the workload options as one
    dict (turn it into a ``WorkloadProfile`` with ``workload_from_params``).
    """
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=None)
        for name, ann, _ in _WORKLOAD_PARAMS
    ]
    ctx_param = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )
    own_names = [p.name for p in own_params]

    def command(ctx: typer.Context, **kwargs: Any) -> None:
        workload_values = {k: kwargs[k] for k in WORKLOAD_PARAM_NAMES}
        own_values = {k: kwargs[k] for k in own_names}
        handler(ctx, workload_values, **own_values)

    command.__signature__ = inspect.Signature([ctx_param, *shared, *own_params])  # type: ignore[attr-defined]
    command.__doc__ = handler.__doc__
    command.__name__ = handler.__name__
    return command
