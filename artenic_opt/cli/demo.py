"""``demo``: a simulated history through the real recommend/outcome/feedback/retrain path."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from artenic_opt.cli.output import JsonOpt, emit, json_mode
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.cli.tables import draw_pairs, line

if TYPE_CHECKING:
    from rich.console import Console


def demo_command(
    ctx: typer.Context,
    # Bounds as services.demo checks them (MAX_JOBS; a test keeps them equal), so that a value out
    # of range is refused while parsing, before the progress bar is drawn.
    jobs: Annotated[
        int, typer.Option("--jobs", min=1, max=100_000, help="Simulated jobs to run.")
    ] = 300,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=2**31 - 1, help="Seed of the simulated world.")
    ] = 0,
    replay_out: Annotated[
        Path | None,
        typer.Option(
            "--replay-out",
            help="Instead, write a replay file of simulated measured runs (for evaluate --replay).",
            dir_okay=False,
        ),
    ] = None,
    workloads: Annotated[
        int, typer.Option("--workloads", min=1, max=100_000, help="Workloads in the replay file.")
    ] = 40,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Fill the state with a simulated job history (seeded), learning as it goes.

    Each simulated job is recommended, run in a seeded world model with quirks the estimator
    does not know, recorded as an outcome, labelled, and used to retrain the ranking model.
    Adds to the state it is given; use --state for a throwaway one.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from artenic_opt.services.demo import build_demo_state

    runtime = get_workspace(ctx, state)
    if replay_out is not None:
        from artenic_opt.services.demo import write_simulated_replay

        written = write_simulated_replay(
            replay_out, runtime.catalog(), workloads=workloads, seed=seed
        )
        emit(
            written,
            lambda out: line(
                out,
                f"wrote {written.runs} simulated runs of {written.workloads} workloads to "
                f"{written.file}",
            ),
        )
        return
    store = runtime.store()
    from rich.console import Console

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=json_mode(),
        transient=False,
    ) as progress:
        task = progress.add_task("simulated jobs", total=jobs)
        summary = build_demo_state(
            store,
            runtime.catalog(),
            runtime.settings,
            runtime.rates(),
            jobs=jobs,
            seed=seed,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )

    def render(out: "Console") -> None:
        draw_pairs(
            out,
            f"demo state {runtime.state_path}",
            [
                ("seed", summary.seed),
                ("jobs run", summary.jobs),
                (
                    "workloads",
                    f"{summary.workloads} ({summary.infeasible_workloads} infeasible)",
                ),
                ("training samples", summary.training_samples),
                ("model version", summary.model_version or "none"),
                ("datasets", summary.datasets),
                ("access events", summary.access_events),
            ],
        )

    emit(summary, render)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
