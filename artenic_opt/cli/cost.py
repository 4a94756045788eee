"""``cost compare | summary | savings | spot``: where money goes and where it could be saved."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from artenic_opt.cli.output import JsonOpt, emit
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.cli.tables import Col, WideOpt, draw, line
from artenic_opt.cli.workload_input import WorkloadFlags, workload_options
from artenic_opt.presentation import format as fmt

if TYPE_CHECKING:
    from rich.console import Console

cost_app = typer.Typer(
    help="Cost analyzer: provider comparison with a Pareto frontier, spending, savings, spot.",
    no_args_is_help=True,
)

PeriodOpt = Annotated[
    str, typer.Option("--period", help="Window: e.g. 7d, 30d, 12w, 6m, 1y (calendar months).")
]


def _analyzer(ctx: typer.Context, state: Path | None) -> tuple[Any, Any]:
    from artenic_opt.services.cost import make_analyzer

    runtime = get_workspace(ctx, state)
    analyzer = make_analyzer(
        runtime.catalog(), runtime.settings.optimizer.display_currency, runtime.rates()
    )
    return runtime, analyzer


def _pick(p: Any) -> str:
    return ("$" if p.cheapest else "") + (">" if p.fastest else "") + ("*" if p.balanced else "")


def _frontier_columns(cur: str) -> list[Col[Any]]:
    return [
        Col("pick", _pick),
        Col("provider", lambda p: p.provider, min_width=6),
        Col("instance", lambda p: p.instance_type, min_width=10),
        Col("time", lambda p: fmt.hours(p.estimated_hours), justify="right"),
        Col("job cost", lambda p: fmt.money(p.estimated_cost, cur), justify="right"),
        Col("capacity", lambda p: fmt.capacity(p.spot), priority=1),
        Col("nodes", lambda p: p.nodes, priority=2, justify="right"),
        Col("region", lambda p: p.region, priority=3, min_width=8),
    ]


def _region_columns(cur: str) -> list[Col[Any]]:
    return [
        Col("provider", lambda r: r.provider, min_width=6),
        Col("region", lambda r: r.region, min_width=8),
        Col(
            "best offering",
            lambda r: r.instance_type + (" (spot)" if r.spot else ""),
            min_width=10,
        ),
        Col("time", lambda r: fmt.hours(r.estimated_hours), justify="right"),
        Col("job cost", lambda r: fmt.money(r.estimated_cost, cur), justify="right"),
        Col("per hour", lambda r: fmt.money(r.price_per_hour, cur), priority=1, justify="right"),
        Col(
            "GPU avail.",
            lambda r: fmt.ratio(r.gpu_availability_score, decimals=2),
            priority=2,
            justify="right",
        ),
    ]


@workload_options
def cost_compare_command(
    ctx: typer.Context,
    workload: WorkloadFlags,
    frontier_only: Annotated[
        bool, typer.Option("--frontier-only", help="Only the Pareto frontier.")
    ] = False,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Compare providers for a workload: best offering per provider and region, and the
    cost-vs-time Pareto frontier with the cheapest, fastest and balanced picks marked.

    Takes the same workload flags and file as `recommend`. Exits 4 when nothing is feasible.
    """
    runtime, analyzer = _analyzer(ctx, state)
    profile = workload.to_workload(display_currency=runtime.settings.optimizer.display_currency)
    report = analyzer.compare_providers(profile)
    cur = report.display_currency

    def render(out: "Console") -> None:
        draw(
            out,
            f"Pareto frontier: cost vs time ({len(report.frontier)} points)",
            _frontier_columns(cur),
            report.frontier,
            caption="$ cheapest  > fastest  * balanced",
        )
        if frontier_only:
            return
        draw(out, "Best offering per provider and region", _region_columns(cur), report.regions)

    emit(report.frontier if frontier_only else report, render)


@cost_app.command("summary")
def cost_summary_command(
    ctx: typer.Context,
    period: PeriodOpt = "30d",
    by: Annotated[
        str, typer.Option("--by", help="Group spend by provider, instance or month.")
    ] = "provider",
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Spending over a period, grouped, with cost per metric improvement and anomalies."""
    from artenic_opt.services.cost import load_history

    runtime, analyzer = _analyzer(ctx, state)
    result = analyzer.spending_summary(load_history(runtime.store(), runtime.rates()), period, by)
    emit(result, lambda out: _render_summary(out, result))


def _render_summary(out: "Console", result: Any) -> None:
    if result.empty:
        line(out, result.message or "Nothing recorded yet.")
        return
    cur = result.display_currency
    groups: list[Col[Any]] = [
        Col(result.by, lambda g: g.key, min_width=10),
        Col("spend", lambda g: fmt.money(g.cost, cur), justify="right"),
        Col("share", lambda g: fmt.percent(g.share, decimals=1), justify="right"),
        Col("jobs", lambda g: g.jobs, justify="right"),
        Col("hours", lambda g: f"{g.hours:.1f}", priority=1, justify="right"),
        Col("failed", lambda g: g.failed_jobs, priority=2, justify="right"),
        Col("per hour", lambda g: fmt.money(g.cost_per_hour, cur), priority=3, justify="right"),
    ]
    draw(
        out,
        f"Spend by {result.by}, {result.period} ({fmt.money(result.total_cost, cur)} total)",
        groups,
        result.groups,
    )
    if result.anomalies:
        draw(out, f"{len(result.anomalies)} anomalies", _ANOMALY_COLUMNS, result.anomalies)


_ANOMALY_COLUMNS: list[Col[Any]] = [
    Col("run", lambda a: a.record_id, min_width=8),
    Col("why flagged", lambda a: a.reason, min_width=20, wrap=True),
    Col("when", lambda a: f"{a.timestamp:%Y-%m-%d}", priority=1),
    Col("metric", lambda a: a.metric, priority=2),
    Col("z", lambda a: f"{a.robust_z:+.1f}", priority=3, justify="right"),
]


_ACTION_COLUMNS: list[Col[Any]] = [
    Col("action", lambda a: a.title, min_width=20, wrap=True),
    Col(
        "saves/month",
        lambda a: fmt.money(a.estimated_monthly_savings, a.currency),
        justify="right",
    ),
    Col(
        "current -> suggested", lambda a: f"{a.current} -> {a.suggested}", priority=1, min_width=16
    ),
    Col("runs", lambda a: a.evidence_runs, priority=2, justify="right"),
    Col("kind", lambda a: a.kind, priority=3),
]


@cost_app.command("savings")
def cost_savings_command(
    ctx: typer.Context,
    period: PeriodOpt = "90d",
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Actual spend against what the optimizer's top pick would have cost, and actions with
    estimated monthly savings."""
    from artenic_opt.services.cost import load_history

    runtime, analyzer = _analyzer(ctx, state)
    report = analyzer.savings_opportunity(load_history(runtime.store(), runtime.rates()), period)

    def render(out: "Console") -> None:
        cur = report.display_currency
        if report.empty:
            line(out, report.message or "Nothing recorded yet.")
            return
        line(
            out,
            f"{report.period}: actual {fmt.money(report.actual_total, cur)}, the optimizer's top "
            f"picks {fmt.money(report.recommended_total, cur)} (difference "
            f"{fmt.money(report.difference_total, cur)}, overspend "
            f"{fmt.money(report.overspend_total, cur)}) over {report.records_compared} runs",
        )
        if not report.actions:
            line(out, "No savings actions found.")
            return
        draw(
            out,
            f"{len(report.actions)} actions, "
            f"{fmt.money(report.estimated_monthly_savings, cur)} a month",
            _ACTION_COLUMNS,
            report.actions,
        )

    emit(report, render)


def _verdict(a: Any) -> str:
    return ("use spot" if a.recommend_spot else "on-demand") + (
        "" if a.history_sufficient else " (prior)"
    )


_SPOT_COLUMNS: list[Col[Any]] = [
    Col("provider", lambda a: a.provider, min_width=6),
    Col("instance", lambda a: a.instance_type, min_width=10),
    Col("advice", _verdict),
    Col("why", lambda a: a.verdict_reason, min_width=24, wrap=True),
    Col("preempted", lambda a: fmt.percent(a.preemption_rate), priority=1, justify="right"),
    Col("savings", lambda a: fmt.percent(a.expected_savings_pct), priority=2, justify="right"),
    Col("runs", lambda a: a.spot_runs, priority=3, justify="right"),
    Col(
        "spot w/ retries",
        lambda a: fmt.money(a.expected_spot_cost, a.currency),
        priority=4,
        justify="right",
    ),
    Col(
        "on-demand", lambda a: fmt.money(a.on_demand_cost, a.currency), priority=4, justify="right"
    ),
    Col("region", lambda a: a.region, priority=5, min_width=8),
]


@cost_app.command("spot")
def cost_spot_command(
    ctx: typer.Context,
    period: Annotated[
        str | None, typer.Option("--period", help="Only runs in this window (e.g. 90d).")
    ] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Spot advice per provider, instance and region from preemption history (priors when the
    history is too short)."""
    from artenic_opt.services.cost import load_history

    runtime, analyzer = _analyzer(ctx, state)
    advice = analyzer.spot_advice(load_history(runtime.store(), runtime.rates()), period=period)

    def render(out: "Console") -> None:
        if not advice:
            line(out, "No spot-capable runs recorded yet: run `demo` or record outcomes.")
            return
        draw(out, "Spot advice", _SPOT_COLUMNS, advice)

    emit(advice, render)


cost_app.command("compare")(cost_compare_command)


def register(app: typer.Typer) -> None:
    app.add_typer(cost_app, name="cost")
