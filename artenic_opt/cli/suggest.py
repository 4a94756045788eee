"""``suggest``: the next configuration to measure for a workload (issue 14)."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from artenic_opt.cli.output import JsonOpt, emit, warn
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.cli.tables import line
from artenic_opt.cli.workload_input import WorkloadFlags, workload_options
from artenic_opt.types import OptimizerMode

if TYPE_CHECKING:
    from rich.console import Console


@workload_options
def suggest_command(
    ctx: typer.Context,
    workload: WorkloadFlags,
    tolerance: Annotated[
        float,
        typer.Option(
            "--tolerance",
            min=0.001,
            max=9.0,
            help="Stop when the best measured run is within this share of the predicted "
            "optimum (0.1 = 10%).",
        ),
    ] = 0.1,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """What configuration to measure next for a workload, learning from its measured runs.

    Expected improvement on whole-job cost over the best run measured so far, from a cost
    prior learned from other workloads' stored runs (the estimates until two of them have two
    runs each) blended with the stored outcomes of this workload (and of workloads whose runs
    match). Each suggestion is stored: record its outcome with `feedback record ID --rank 1`,
    then ask again. Stops when the best measured run is within --tolerance of the predicted
    optimum.
    """
    from artenic_opt.services.suggest import suggest
    from artenic_opt.services.training import make_advisor, same_as_warning

    runtime = get_workspace(ctx, state)
    settings = runtime.settings
    profile = workload.to_workload(display_currency=settings.optimizer.display_currency)
    store = runtime.store()
    advisor = make_advisor(
        store, runtime.catalog(), settings, runtime.rates(), mode=OptimizerMode.HEURISTIC
    )
    unknown = same_as_warning(store, profile)
    if unknown is not None:
        warn(unknown)
    result = suggest(store, advisor, profile, runtime.rates(), tolerance=tolerance)

    def describe(config: Any) -> str:
        cost = f"{config.predicted_cost:,.2f} {result.currency}"
        measured = (
            f", measured {config.measured_cost:,.2f}" if config.measured_cost is not None else ""
        )
        return f"{config.candidate_id} (predicted {cost}{measured})"

    def render(out: "Console") -> None:
        line(
            out,
            f"{result.workload} (query {result.query_id}): {result.measured_runs} measured runs, "
            f"{result.candidates} configurations",
        )
        if result.best_measured is not None:
            line(out, f"best measured: {describe(result.best_measured)}")
        line(out, f"predicted optimum: {describe(result.predicted_optimum)}")
        if result.next is None:
            line(out, f"stop: {result.reason}")
        else:
            short = (result.recommendation_id or "")[:12]
            line(out, f"next: {describe(result.next)}; {result.reason}")
            line(
                out,
                f"recommendation {result.recommendation_id}: record the run with "
                f"`feedback record {short} --rank 1 --status ... --cost ... --hours ...`",
            )

    emit(result, render)


def register(app: typer.Typer) -> None:
    app.command("suggest")(suggest_command)
