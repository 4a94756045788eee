"""``recommend``, ``history``, ``feedback record|import``, ``retrain``, ``metrics``."""

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from artenic_opt.cli.output import (
    JsonOpt,
    describe_gpus,
    emit,
    fmt_float,
    fmt_hours,
    fmt_money,
    info,
    make_table,
    warn,
)
from artenic_opt.cli.platform import PlatformProviderOpt
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.cli.workload_input import make_workload_command
from artenic_opt.types import JobStatus, OptimizationGoal, OptimizerMode

if TYPE_CHECKING:
    from rich.console import Console

    from artenic_opt.schemas import TrainingAdvice

feedback_app = typer.Typer(
    help="Record what really happened when a recommendation was run (the learning loop).",
    no_args_is_help=True,
)


def render_advice(out: "Console", advice: "TrainingAdvice", *, explain: bool) -> None:
    cur = advice.display_currency
    rows = []
    for rec in advice.recommendations:
        o = rec.offering
        rows.append(
            (
                rec.rank,
                o.provider,
                o.region,
                o.instance_type,
                describe_gpus(o.gpu_count, o.gpu_type, o.gpu_memory_gb)
                + (f" x{rec.nodes} nodes" if rec.nodes > 1 else ""),
                "spot" if rec.spot else "on-demand",
                fmt_hours(rec.estimated_hours),
                fmt_money(rec.estimated_cost, cur),
                fmt_money(rec.price_per_hour, cur),
                f"{rec.memory_needed_gb:.1f}/{rec.memory_available_gb:.0f}",
                f"{rec.score:.3f}",
            )
        )
    title = (
        f"{advice.workload.name}: {advice.candidates_feasible} of "
        f"{advice.candidates_considered} candidates feasible ({advice.mode.value} ranking)"
    )
    out.print(
        make_table(
            title,
            [
                ("#", "right"),
                "provider",
                "region",
                "instance",
                "GPUs",
                "capacity",
                ("time", "right"),
                ("job cost", "right"),
                ("per hour", "right"),
                ("mem GB need/have", "right"),
                ("score", "right"),
            ],
            rows,
            caption=f"recommendation {advice.recommendation_id[:12]}  query {advice.query_id}",
        )
    )
    for rec in advice.recommendations[: 3 if not explain else len(advice.recommendations)]:
        out.print(f"[bold]#{rec.rank}[/bold] " + "; ".join(rec.reasons))
        for message in rec.warnings:
            out.print(f"   [yellow]! {message}[/yellow]")
        if explain:
            factors = ", ".join(
                f"{f.name} {f.value:.2f} x {f.weight:.2f} = {f.contribution:.3f}"
                for f in rec.factors
            )
            extra = f"; ltr score {rec.ltr_score:.3f}" if rec.ltr_score is not None else ""
            out.print(
                f"   factors: {factors}; heuristic {rec.heuristic_score:.3f}{extra}; "
                f"on-demand {fmt_money(rec.estimated_cost_on_demand, cur)}, spot "
                f"{fmt_money(rec.estimated_cost_spot, cur)}"
            )


def _recommend(
    ctx: typer.Context,
    workload_values: dict[str, Any],
    *,
    top: int,
    goal: OptimizationGoal | None,
    mode: OptimizerMode | None,
    explain: bool,
    dispatch: bool,
    service: str | None,
    model: str | None,
    dispatch_rank: int,
    platform_provider: str | None,
    state: Path | None,
    json: bool,
) -> None:
    """Rank every offering for a training workload: fit, time and whole-job cost.

    The workload comes from flags, from --workload FILE (JSON or TOML), or from stdin
    (--workload -). Exits 4, naming the binding constraint, when nothing is feasible. Every
    recommendation is stored so that outcomes can be recorded against it (feedback record).
    """
    from artenic_opt.cli.workload_input import workload_from_params
    from artenic_opt.services.training import make_advisor, recommend_and_store

    runtime = get_workspace(ctx, state)
    settings = runtime.settings
    if dispatch and (not service or not model):
        from artenic_opt.errors import InvalidInputError

        raise InvalidInputError("--dispatch needs --service and --model")
    if dispatch:
        from artenic_opt.services.platform import require_platform

        require_platform(settings)
    workload = workload_from_params(
        workload_values, display_currency=settings.optimizer.display_currency
    )
    store = runtime.store()
    advisor = make_advisor(
        store, runtime.catalog(), settings, runtime.rates(), mode=mode, warn=warn
    )
    result = recommend_and_store(store, advisor, workload, top=top, goal=goal)
    advice = result.advice
    for message in advice.warnings:
        warn(message)
    dispatched: Any = None
    if dispatch:
        from artenic_opt.services.platform import dispatch_recommendation

        dispatched = dispatch_recommendation(
            runtime,
            advice.recommendation_id,
            dispatch_rank,
            service=service or "",
            model=model or "",
        )

    def render(out: "Console") -> None:
        render_advice(out, advice, explain=explain)
        if dispatched is not None:
            out.print(
                f"dispatched rank {dispatched.rank} as platform job {dispatched.job_id} "
                f"(max {dispatched.max_runtime_hours:.1f} h)"
            )

    emit(advice if dispatched is None else {"advice": advice, "dispatch": dispatched}, render)


recommend = make_workload_command(
    _recommend,
    [
        inspect.Parameter(
            "top",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[int, typer.Option("--top", min=1, max=1000, help="How many.")],
            default=10,
        ),
        inspect.Parameter(
            "goal",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                OptimizationGoal | None,
                typer.Option("--goal", help="Weighting preset: cost, speed or balanced."),
            ],
            default=None,
        ),
        inspect.Parameter(
            "mode",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                OptimizerMode | None,
                typer.Option(
                    "--mode",
                    help="heuristic, ltr, hybrid (0.7 LTR + 0.3 heuristic) or auto "
                    "(default: the mode setting, auto).",
                ),
            ],
            default=None,
        ),
        inspect.Parameter(
            "explain",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                bool, typer.Option("--explain", help="Show the per-factor score breakdown.")
            ],
            default=False,
        ),
        inspect.Parameter(
            "dispatch",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                bool,
                typer.Option("--dispatch", help="Submit the chosen offering to the platform."),
            ],
            default=False,
        ),
        inspect.Parameter(
            "service",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                str | None, typer.Option("--service", help="Platform service (--dispatch).")
            ],
            default=None,
        ),
        inspect.Parameter(
            "model",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                str | None, typer.Option("--model", help="Platform model name (--dispatch).")
            ],
            default=None,
        ),
        inspect.Parameter(
            "dispatch_rank",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                int,
                typer.Option("--rank", min=1, max=1000, help="Which rank to dispatch (default 1)."),
            ],
            default=1,
        ),
        inspect.Parameter(
            "platform_provider",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=PlatformProviderOpt,
            default=None,
        ),
        inspect.Parameter(
            "state", inspect.Parameter.KEYWORD_ONLY, annotation=StateOpt, default=None
        ),
        inspect.Parameter(
            "json", inspect.Parameter.KEYWORD_ONLY, annotation=JsonOpt, default=False
        ),
    ],
)


def history(
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
) -> None:
    """List stored recommendations with their top pick and outcome, or show one in full."""
    from artenic_opt.services.training import stored_advice
    from artenic_opt.state import list_recommendations

    runtime = get_workspace(ctx, state)
    store = runtime.store()
    if show:
        advice = stored_advice(store, show)
        emit(advice, lambda out: render_advice(out, advice, explain=True))
        return
    rows = list_recommendations(store, limit=limit)

    def render(out: "Console") -> None:
        if not rows:
            out.print("No recommendations yet: run `recommend`.")
            return
        out.print(
            make_table(
                f"{len(rows)} most recent recommendations",
                [
                    "id",
                    "created",
                    "workload",
                    "mode",
                    "top pick",
                    ("est. cost", "right"),
                    "job",
                    "outcome",
                ],
                (
                    (
                        r.recommendation_id[:12],
                        f"{r.created_at:%Y-%m-%d %H:%M}",
                        r.workload_name,
                        r.mode.value,
                        f"{r.top_provider}/{r.top_instance_type}" + (" spot" if r.top_spot else "")
                        if r.top_provider
                        else "-",
                        fmt_money(r.top_estimated_cost, r.top_currency or r.display_currency),
                        r.job_id or "-",
                        r.outcome_status.value if r.outcome_status else "-",
                    )
                    for r in rows
                ),
            )
        )

    emit(rows, render)


@feedback_app.command("record")
def feedback_record(
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
            "currency": (currency or runtime.settings.optimizer.display_currency).upper(),
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
        out.print(
            f"recorded outcome {result.outcome_id} for {result.recommendation_id[:12]} rank "
            f"{result.rank}: label {result.label if result.label is not None else '-'}"
        )
        if result.retrained:
            out.print(f"retrained: model v{result.retrained.version}")

    emit(result, render)


@feedback_app.command("import")
def feedback_import(
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


@feedback_app.command("delete")
def feedback_delete(
    ctx: typer.Context,
    outcome_id: Annotated[
        int, typer.Argument(min=1, max=2**63 - 1, help="Outcome id (printed by feedback record).")
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
    from artenic_opt.services.training import retrain

    runtime = get_workspace(ctx, state)
    result = retrain(runtime.store(), runtime.settings, force=force)

    def render(out: "Console") -> None:
        if result.trained and result.model:
            m = result.model.metrics
            out.print(
                f"model v{result.model.version}: {result.reason}; held-out NDCG@5 "
                f"{fmt_float(m.ndcg_at_5 if m else None)}, NDCG@10 "
                f"{fmt_float(m.ndcg_at_10 if m else None)}, MRR {fmt_float(m.mrr if m else None)}"
            )
        else:
            out.print(f"not trained: {result.reason}")

    emit(result, render)


def metrics_command(
    ctx: typer.Context,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Ranking quality of the active model on held-out workloads (NDCG@5, NDCG@10, MRR)."""
    from artenic_opt.services.training import learning_metrics

    runtime = get_workspace(ctx, state)
    result = learning_metrics(runtime.store())

    def render(out: "Console") -> None:
        m = result.metrics
        out.print(
            make_table(
                "Learning to rank",
                ["", ""],
                [
                    ("training samples", result.samples),
                    ("model version", result.model_version or "none"),
                    ("trained at", result.trained_at or "-"),
                    ("samples in model", result.model_samples or "-"),
                    ("NDCG@5", fmt_float(m.ndcg_at_5 if m else None)),
                    ("NDCG@10", fmt_float(m.ndcg_at_10 if m else None)),
                    ("MRR", fmt_float(m.mrr if m else None)),
                    ("held-out groups", m.groups if m else "-"),
                ],
            )
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
) -> None:
    """Backtest: how good would each mode have been on these jobs?

    Leave-one-workload-out: for each workload, a ranking model is trained on the others, that
    workload's runs are ranked by heuristic, ltr and hybrid, and each ranking is scored against
    the measured outcomes (top-1 regret, share within 5% of the best, NDCG@5, MRR).
    """
    from artenic_opt.services.training import backtest_runs, runs_from_history

    runtime = get_workspace(ctx, state)
    if replay is not None:
        from artenic_opt.simulate.replay import read_replay_file

        runs = list(read_replay_file(replay))
    else:
        runs = runs_from_history(runtime.store())
    report = backtest_runs(runs, runtime.catalog(), runtime.settings, runtime.rates())

    def render(out: "Console") -> None:
        out.print(
            make_table(
                report.table().splitlines()[0],
                [
                    "mode",
                    ("workloads", "right"),
                    ("mean regret", "right"),
                    ("median regret", "right"),
                    ("top-1 within 5%", "right"),
                    ("NDCG@5", "right"),
                    ("MRR", "right"),
                ],
                (
                    (
                        m.mode.value,
                        m.workloads,
                        f"{m.mean_regret:.1%}",
                        f"{m.median_regret:.1%}",
                        f"{m.within_5pct_share:.0%}",
                        f"{m.ndcg_at_5:.3f}",
                        f"{m.mrr:.3f}",
                    )
                    for m in report.modes
                ),
            )
        )

    emit(report, render)


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend)
    app.command("history")(history)
    app.add_typer(feedback_app, name="feedback")
    app.command("retrain")(retrain_command)
    app.command("metrics")(metrics_command)
    app.command("evaluate")(evaluate_command)
