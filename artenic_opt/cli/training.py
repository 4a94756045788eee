"""``recommend``, ``history``, ``feedback record|import|list|delete``, ``retrain``, ``metrics``."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from artenic_opt.cli.output import JsonOpt, WideOpt, emit, info, warn
from artenic_opt.cli.platform import PlatformProviderOpt
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.cli.workload_input import WorkloadFlags, workload_options
from artenic_opt.presentation import format as fmt
from artenic_opt.types import JobStatus, OptimizationGoal, OptimizerMode

if TYPE_CHECKING:
    from rich.console import Console


feedback_app = typer.Typer(
    help="Record what really happened when a recommendation was run (the learning loop).",
    no_args_is_help=True,
)


@workload_options
def recommend_command(
    ctx: typer.Context,
    workload: WorkloadFlags,
    top: Annotated[int, typer.Option("--top", min=1, max=1000, help="How many.")] = 10,
    goal: Annotated[
        OptimizationGoal | None,
        typer.Option("--goal", help="Weighting preset: cost, speed or balanced."),
    ] = None,
    mode: Annotated[
        OptimizerMode | None,
        typer.Option(
            "--mode",
            help="heuristic, ltr, hybrid (0.5 LTR + 0.5 heuristic) or auto "
            "(default: the mode setting, auto).",
        ),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show the per-factor score breakdown.")
    ] = False,
    dispatch: Annotated[
        bool, typer.Option("--dispatch", help="Submit the chosen offering to the platform.")
    ] = False,
    service: Annotated[
        str | None, typer.Option("--service", help="Platform service (--dispatch).")
    ] = None,
    platform_model: Annotated[
        str | None,
        typer.Option(
            "--platform-model",
            help="Platform model name (--dispatch); --model names the architecture.",
        ),
    ] = None,
    dispatch_rank: Annotated[
        int, typer.Option("--rank", min=1, max=1000, help="Which rank to dispatch (default 1).")
    ] = 1,
    platform_provider: PlatformProviderOpt = None,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Rank every offering for a training workload: fit, time and whole-job cost.

    The workload comes from flags, from --workload FILE (JSON or TOML), or from stdin
    (--workload -). Exits 4, naming the binding constraint, when nothing is feasible. Every
    recommendation is stored so that outcomes can be recorded against it (feedback record).
    """
    from artenic_opt.services.training import make_advisor, recommend_and_store

    runtime = get_workspace(ctx, state)
    settings = runtime.settings
    if dispatch and (not service or not platform_model):
        from artenic_opt.errors import InvalidInputError

        raise InvalidInputError("--dispatch needs --service and --platform-model")
    if dispatch:
        from artenic_opt.services.platform import require_platform

        require_platform(settings)
    profile = workload.to_workload(display_currency=settings.optimizer.display_currency)
    store = runtime.store()
    advisor = make_advisor(
        store, runtime.catalog(), settings, runtime.rates(), mode=mode, warn=warn
    )
    result = recommend_and_store(store, advisor, profile, top=top, goal=goal)
    advice = result.advice
    for message in advice.warnings:
        warn(message)
    dispatched: Any = None
    if dispatch:
        from artenic_opt.services.platform import dispatch_recommendation

        dispatched = dispatch_recommendation(
            store,
            settings,
            advice.recommendation_id,
            dispatch_rank,
            service=service or "",
            model=platform_model or "",
            provider=platform_provider,
        )

    def render(out: "Console") -> None:
        from artenic_opt.cli.tables import line
        from artenic_opt.cli.training_tables import render_advice

        render_advice(out, advice, explain=explain)
        if dispatched is not None:
            line(
                out,
                f"dispatched rank {dispatched.rank} as platform job {dispatched.job_id} "
                f"(max {dispatched.max_runtime_hours:.1f} h)",
            )

    emit(advice if dispatched is None else {"advice": advice, "dispatch": dispatched}, render)


def history_command(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1_000_000, help="How many, newest first.")
    ] = 20,
    show: Annotated[
        str | None,
        typer.Option("--show", help="Show one stored recommendation in full (id or prefix)."),
    ] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """List stored recommendations with their top pick and outcome, or show one in full."""
    from artenic_opt.cli.tables import draw, line
    from artenic_opt.cli.training_tables import history_columns, render_advice
    from artenic_opt.services.training import stored_advice
    from artenic_opt.state import list_recommendations

    runtime = get_workspace(ctx, state)
    store = runtime.store()
    if show is not None:  # an empty --show is a bad id, not "no --show"
        advice = stored_advice(store, show)
        emit(advice, lambda out: render_advice(out, advice, explain=True))
        return
    rows = list_recommendations(store, limit=limit)

    def render(out: "Console") -> None:
        if not rows:
            line(out, "No recommendations yet: run `recommend`.")
            return
        draw(out, f"{len(rows)} most recent recommendations", history_columns(), rows)

    emit(rows, render)


@feedback_app.command("record")
def feedback_record_command(
    ctx: typer.Context,
    recommendation_id: Annotated[str, typer.Argument(help="Recommendation id (or prefix).")],
    rank: Annotated[int, typer.Option("--rank", min=1, max=1000, help="Which rank was run.")] = 1,
    status: Annotated[
        JobStatus, typer.Option("--status", help="completed, failed, cancelled or preempted.")
    ] = JobStatus.COMPLETED,
    cost: Annotated[float, typer.Option("--cost", help="Actual whole-job cost.")] = ...,  # type: ignore[assignment]
    hours: Annotated[float, typer.Option("--hours", help="Actual run time in hours.")] = ...,  # type: ignore[assignment]
    currency: Annotated[
        str | None, typer.Option("--currency", help="Currency of --cost (display currency).")
    ] = None,
    preemptions: Annotated[
        int, typer.Option("--preemptions", min=0, max=100_000, help="Spot preemptions.")
    ] = 0,
    metric_before: Annotated[
        float | None, typer.Option("--metric-before", help="Primary metric before.")
    ] = None,
    metric_after: Annotated[
        float | None, typer.Option("--metric-after", help="Primary metric after.")
    ] = None,
    lower_is_better: Annotated[
        bool, typer.Option("--lower-is-better", help="The metric is a loss (lower is better).")
    ] = False,
    job_id: Annotated[str | None, typer.Option("--job-id", help="Platform job id.")] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Record the outcome of a recommended job; it becomes a labelled training sample."""
    from artenic_opt.cli.tables import line
    from artenic_opt.schemas import JobOutcome, parse_model
    from artenic_opt.services.training import record_outcome

    runtime = get_workspace(ctx, state)
    outcome = parse_model(
        JobOutcome,
        {
            "recommendation_id": recommendation_id,
            "rank": rank,
            "status": status,
            "hours": hours,
            "cost": cost,
            # An empty --currency is a bad currency, not "the display currency".
            "currency": (
                currency if currency is not None else runtime.settings.optimizer.display_currency
            ).upper(),
            "preemptions": preemptions,
            "metric_before": metric_before,
            "metric_after": metric_after,
            "metric_higher_is_better": not lower_is_better,
            "job_id": job_id,
        },
        context="outcome",
    )
    result = record_outcome(runtime.store(), runtime.settings, outcome, rates=runtime.rates())

    def render(out: "Console") -> None:
        line(
            out,
            f"recorded outcome {result.outcome_id} for {result.recommendation_id[:12]} rank "
            f"{result.rank}: label {result.label if result.label is not None else '-'}",
        )
        if result.retrained:
            line(out, f"retrained: model v{result.retrained.version}")

    emit(result, render)


@feedback_app.command("import")
def feedback_import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSON Lines, one JobOutcome object per line.")],
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Import outcomes; a bad line is reported with its number and the good lines are kept."""
    from artenic_opt.services.training import import_outcomes

    runtime = get_workspace(ctx, state)
    result = import_outcomes(runtime.store(), runtime.settings, file, rates=runtime.rates())
    for error in result.errors:
        warn(f"{file}:{error.line}: {error.message}")

    def render(_out: "Console") -> None:
        info(
            f"stored {result.stored} outcomes; {result.already_present} already present; "
            f"{len(result.errors)} bad lines"
        )
        if result.retrained:
            info(f"retrained: model v{result.retrained.version}")

    emit(result, render)


@feedback_app.command("list")
def feedback_list_command(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1_000_000, help="How many, newest first.")
    ] = 20,
    recommendation: Annotated[
        str | None,
        typer.Option("--recommendation", help="Only outcomes of this recommendation (id prefix)."),
    ] = None,
    invalid: Annotated[
        bool,
        typer.Option(
            "--invalid", help="Only rows analyses leave out (values outside today's bounds)."
        ),
    ] = False,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """List recorded outcomes with their ids (to check a record or delete a bad one)."""
    from artenic_opt.cli.tables import draw, line
    from artenic_opt.cli.training_tables import outcome_columns
    from artenic_opt.state import outcome_entries

    runtime = get_workspace(ctx, state)
    entries = outcome_entries(
        runtime.store(),
        limit=limit,
        recommendation_prefix=recommendation,
        invalid_only=invalid,
    )

    def render(out: "Console") -> None:
        if not entries:
            line(out, "No outcomes match: record one with `feedback record` or `feedback import`.")
            return
        draw(out, f"{len(entries)} most recent outcomes", outcome_columns(), entries)
        if any(not e.valid for e in entries):
            line(out, "Rows marked 'left out' are skipped by every analysis: `feedback delete ID`.")

    emit(entries, render)


@feedback_app.command("delete")
def feedback_delete_command(
    ctx: typer.Context,
    outcome_id: Annotated[
        int, typer.Argument(min=1, max=2**63 - 1, help="Outcome id (see feedback list).")
    ],
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Delete a recorded outcome and the training sample built from it (a bad record)."""
    from artenic_opt.services.training import delete_outcome

    runtime = get_workspace(ctx, state)
    result = delete_outcome(runtime.store(create=False), outcome_id)

    def render(_out: "Console") -> None:
        info(
            f"deleted outcome {result.outcome_id} and {result.training_samples_deleted} "
            "training samples; retrain to drop it from the model"
        )

    emit(result, render)


def retrain_command(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Train even if few samples arrived since the last.")
    ] = False,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Train a new LightGBM LambdaMART ranking model from the stored training samples."""
    from artenic_opt.cli.tables import line
    from artenic_opt.services.training import retrain
    from artenic_opt.state import next_model_version

    runtime = get_workspace(ctx, state)
    store = runtime.store()
    # The newest version at this command's start: a retrain that finishes while this one waits
    # for the lock is the answer (as for serve's POST /retrain).
    known = next_model_version(store) - 1
    result = retrain(store, runtime.settings, force=force, known_version=known)

    def render(out: "Console") -> None:
        if result.trained and result.model:
            m = result.model.metrics
            line(
                out,
                f"model v{result.model.version}: {result.reason}; held-out NDCG@5 "
                f"{fmt.ratio(m.ndcg_at_5 if m else None)}, NDCG@10 "
                f"{fmt.ratio(m.ndcg_at_10 if m else None)}, MRR {fmt.ratio(m.mrr if m else None)}",
            )
        else:
            line(out, f"not trained: {result.reason}")

    emit(result, render)


def metrics_command(
    ctx: typer.Context,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Ranking quality of the active model on held-out workloads (NDCG@5, NDCG@10, MRR)."""
    from artenic_opt.cli.tables import draw_pairs
    from artenic_opt.services.training import learning_metrics

    runtime = get_workspace(ctx, state)
    result = learning_metrics(runtime.store())

    def render(out: "Console") -> None:
        m = result.metrics
        draw_pairs(
            out,
            "Learning to rank",
            [
                ("training samples", result.samples),
                ("model version", result.model_version or "none"),
                ("trained at", result.trained_at or fmt.DASH),
                ("samples in model", result.model_samples or fmt.DASH),
                ("NDCG@5", fmt.ratio(m.ndcg_at_5 if m else None)),
                ("NDCG@10", fmt.ratio(m.ndcg_at_10 if m else None)),
                ("MRR", fmt.ratio(m.mrr if m else None)),
                ("held-out groups", m.groups if m else fmt.DASH),
            ],
        )

    emit(result, render)


def evaluate_command(
    ctx: typer.Context,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            help="Measured runs to replay (JSON Lines, or CSV with dotted headers); default: "
            "the outcomes stored in the state.",
        ),
    ] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Backtest: how good would each mode have been on these jobs?

    Leave-one-workload-out: for each workload, a ranking model is trained on the others, that
    workload's runs are ranked by heuristic, ltr and hybrid, and each ranking is scored against
    the measured outcomes (top-1 regret, share within 5% of the best, NDCG@5, MRR). Baselines on
    the same runs (cheapest hourly price, a random pick, the median run) and a k-shot mode (the
    pick after 0, 1, 3, 6 runs of the workload chosen as `suggest` would) come with it, and
    each workload's picks with their regret.
    """
    from artenic_opt.cli.tables import draw
    from artenic_opt.cli.training_tables import (
        evaluate_columns,
        method_columns,
        per_workload_columns,
    )
    from artenic_opt.services.training import backtest_runs, runs_from_history

    runtime = get_workspace(ctx, state)
    if replay is not None:
        from artenic_opt.simulate.replay import read_replay_file

        runs = list(read_replay_file(replay))
    else:
        runs = runs_from_history(runtime.store())
    report = backtest_runs(runs, runtime.catalog(), runtime.settings, runtime.rates())

    def render(out: "Console") -> None:
        draw(out, report.table().splitlines()[0], evaluate_columns(), report.modes)
        if report.baselines or report.kshot:
            draw(
                out,
                "baselines on the same runs, and k-shot (k runs of the workload revealed)",
                method_columns(),
                [*report.baselines, *report.kshot],
            )
        if report.per_workload:
            methods = [p.method for p in report.per_workload[0].picks if p.config is not None]
            draw(
                out,
                f"per workload: regret of each pick (best run's cost in {report.currency})",
                per_workload_columns(methods),
                report.per_workload,
            )

    emit(report, render)


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend_command)
    app.command("history")(history_command)
    app.add_typer(feedback_app, name="feedback")
    app.command("retrain")(retrain_command)
    app.command("metrics")(metrics_command)
    app.command("evaluate")(evaluate_command)
