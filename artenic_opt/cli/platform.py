"""``sync`` and ``dispatch``: the Artenic platform as a data source and a place to run jobs."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from artenic_opt.cli.output import JsonOpt, WideOpt, emit, info, json_mode, warn
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.errors import PlatformError

if TYPE_CHECKING:
    from rich.console import Console

    from artenic_opt.cli.tables import Col

PlatformProviderOpt = Annotated[
    str | None,
    typer.Option(
        "--platform-provider",
        help="Training provider registered on the platform (e.g. mock); default: the "
        "offering's provider name in lower case.",
    ),
]


def _sync_columns() -> "list[Col[tuple[str, Any]]]":
    from artenic_opt.cli.tables import Col

    return [
        Col("part", lambda item: item[0]),
        Col("fetched", lambda item: item[1].fetched, justify="right"),
        Col("added", lambda item: item[1].added, justify="right"),
        Col("updated", lambda item: item[1].updated, justify="right"),
        Col("error", lambda item: item[1].error or "", min_width=20),
        Col("unchanged", lambda item: item[1].unchanged, priority=1, justify="right"),
        Col("removed", lambda item: item[1].removed, priority=1, justify="right"),
    ]


def sync_command(
    ctx: typer.Context,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", help="Sync only these parts: catalog, jobs, datasets, budgets (repeatable)."
        ),
    ] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Pull prices, jobs (and their outcomes), datasets and budgets from the platform.

    Idempotent: a second sync with no change on the server changes nothing. A part that fails
    keeps nothing partial; the parts that completed are kept. Exits 3 when the platform is
    unreachable or refuses the key, and when any part failed.
    """
    from artenic_opt.cli.tables import draw
    from artenic_opt.services.platform import run_sync

    runtime = get_workspace(ctx, state)
    parts = {p.strip().lower() for item in (only or []) for p in item.split(",") if p.strip()}

    def progress(part: str, message: str) -> None:
        if not json_mode():
            info(f"[{part}] {message}")

    report = run_sync(
        runtime.store(),
        runtime.catalog(),
        runtime.settings,
        runtime.rates(),
        only=parts or None,
        on_progress=progress,
    )

    def render(out: "Console") -> None:
        draw(
            out,
            f"sync {report.status.value}",
            _sync_columns(),
            list(report.parts.items()),
            caption=f"outcomes derived {report.outcomes_derived}, recorded "
            f"{report.outcomes_recorded}",
        )

    for part, message in report.failures.items():
        warn(f"{part}: {message}")
    emit(report, render)
    if report.failures:
        raise typer.Exit(int(PlatformError.exit_code))


def dispatch_command(
    ctx: typer.Context,
    recommendation_id: Annotated[str, typer.Argument(help="Recommendation id (or prefix).")],
    rank: Annotated[int, typer.Option("--rank", min=1, max=1000, help="Which rank to run.")] = 1,
    service: Annotated[str, typer.Option("--service", help="Platform service name.")] = ...,  # type: ignore[assignment]
    model: Annotated[str, typer.Option("--model", help="Platform model name.")] = ...,  # type: ignore[assignment]
    platform_provider: PlatformProviderOpt = None,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Submit a recommended offering to the platform as a training job (POST /training/dispatch).

    The job's config carries the recommendation and query ids, so `sync` links its outcome back.
    """
    from artenic_opt.cli.tables import line
    from artenic_opt.services.platform import dispatch_recommendation

    runtime = get_workspace(ctx, state)
    result = dispatch_recommendation(
        runtime.store(),
        runtime.settings,
        recommendation_id,
        rank,
        service=service,
        model=model,
        provider=platform_provider,
    )
    emit(
        result,
        lambda out: line(
            out,
            f"dispatched {result.recommendation_id[:12]} rank {result.rank} "
            f"({result.instance_type}, {result.region}, {'spot' if result.spot else 'on-demand'}) "
            f"as job {result.job_id}; max runtime {result.max_runtime_hours:.1f} h",
        ),
    )


def register(app: typer.Typer) -> None:
    app.command("sync")(sync_command)
    app.command("dispatch")(dispatch_command)
