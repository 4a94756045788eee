"""``cost compare | summary | savings | spot``: where money goes and where it could be saved."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from artenic_opt.cli.output import JsonOpt, emit, fmt_hours, fmt_money, make_table
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.cli.workload_input import WorkloadFlags, workload_options

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


@workload_options
def compare(
    ctx: typer.Context,
    workload: WorkloadFlags,
    frontier_only: Annotated[
        bool, typer.Option("--frontier-only", help="Only the Pareto frontier.")
    ] = False,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Compare providers for a workload: best offering per provider and region, and the
    cost-vs-time Pareto frontier with the cheapest, fastest and balanced picks marked.

    Takes the same workload flags and file as `recommend`. Exits 4 when nothing is feasible.
    """
    runtime, analyzer = _analyzer(ctx, state)
    profile = workload.to_workload(display_currency=runtime.settings.optimizer.display_currency)
    report = analyzer.compare_providers(profile)
    cur = report.display_currency

    def render(out: Console) -> None:
        frontier_rows = [
            (
                ("$" if p.cheapest else "")
                + (">" if p.fastest else "")
                + ("*" if p.balanced else ""),
                p.provider,
                p.region,
                p.instance_type,
                p.nodes,
                "spot" if p.spot else "on-demand",
                fmt_hours(p.estimated_hours),
                fmt_money(p.estimated_cost, cur),
            )
            for p in report.frontier
        ]
        out.print(
            make_table(
                f"Pareto frontier: cost vs time ({len(report.frontier)} points)",
                [
                    "pick",
                    "provider",
                    "region",
                    "instance",
                    ("nodes", "right"),
                    "capacity",
                    ("time", "right"),
                    ("job cost", "right"),
                ],
                frontier_rows,
                caption="$ cheapest  > fastest  * balanced",
            )
        )
        if frontier_only:
            return
        out.print(
            make_table(
                "Best offering per provider and region",
                [
                    "provider",
                    "region",
                    "best offering",
                    ("per hour", "right"),
                    ("time", "right"),
                    ("job cost", "right"),
                    ("GPU avail.", "right"),
                ],
                (
                    (
                        r.provider,
                        r.region,
                        r.instance_type + (" (spot)" if r.spot else ""),
                        fmt_money(r.price_per_hour, cur),
                        fmt_hours(r.estimated_hours),
                        fmt_money(r.estimated_cost, cur),
                        f"{r.gpu_availability_score:.2f}",
                    )
                    for r in report.regions
                ),
            )
        )

    emit(report.frontier if frontier_only else report, render)


@cost_app.command("summary")
def summary(
    ctx: typer.Context,
    period: PeriodOpt = "30d",
    by: Annotated[
        str, typer.Option("--by", help="Group spend by provider, instance or month.")
    ] = "provider",
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Spending over a period, grouped, with cost per metric improvement and anomalies."""
    from artenic_opt.services.cost import load_history

    runtime, analyzer = _analyzer(ctx, state)
    result = analyzer.spending_summary(load_history(runtime.store()), period, by)
    emit(result, lambda out: _render_summary(out, result))


def _render_summary(out: Console, result: Any) -> None:
    if result.empty:
        out.print(result.message or "Nothing recorded yet.")
        return
    cur = result.display_currency
    out.print(
        make_table(
            f"Spend by {result.by}, {result.period} ({fmt_money(result.total_cost, cur)} total)",
            [
                result.by,
                ("jobs", "right"),
                ("failed", "right"),
                ("hours", "right"),
                ("spend", "right"),
                ("share", "right"),
                ("per hour", "right"),
            ],
            (
                (
                    g.key,
                    g.jobs,
                    g.failed_jobs,
                    f"{g.hours:.1f}",
                    fmt_money(g.cost, cur),
                    f"{g.share:.1%}",
                    fmt_money(g.cost_per_hour, cur),
                )
                for g in result.groups
            ),
        )
    )
    if result.anomalies:
        out.print(
            make_table(
                f"{len(result.anomalies)} anomalies",
                ["run", "when", "metric", ("z", "right"), "why flagged"],
                (
                    (
                        a.record_id,
                        f"{a.timestamp:%Y-%m-%d}",
                        a.metric,
                        f"{a.robust_z:+.1f}",
                        a.reason,
                    )
                    for a in result.anomalies
                ),
            )
        )


@cost_app.command("savings")
def savings(
    ctx: typer.Context,
    period: PeriodOpt = "90d",
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Actual spend against what the optimizer's top pick would have cost, and actions with
    estimated monthly savings."""
    from artenic_opt.services.cost import load_history

    runtime, analyzer = _analyzer(ctx, state)
    report = analyzer.savings_opportunity(load_history(runtime.store()), period)

    def render(out: Console) -> None:
        cur = report.display_currency
        if report.empty:
            out.print(report.message or "Nothing recorded yet.")
            return
        out.print(
            f"{report.period}: actual {fmt_money(report.actual_total, cur)}, the optimizer's top "
            f"picks {fmt_money(report.recommended_total, cur)} (difference "
            f"{fmt_money(report.difference_total, cur)}, overspend "
            f"{fmt_money(report.overspend_total, cur)}) over {report.records_compared} runs"
        )
        if not report.actions:
            out.print("No savings actions found.")
            return
        out.print(
            make_table(
                f"{len(report.actions)} actions, "
                f"{fmt_money(report.estimated_monthly_savings, cur)} a month",
                [
                    "kind",
                    "action",
                    "current -> suggested",
                    ("saves/month", "right"),
                    ("runs", "right"),
                ],
                (
                    (
                        a.kind,
                        a.title,
                        f"{a.current} -> {a.suggested}",
                        fmt_money(a.estimated_monthly_savings, a.currency),
                        a.evidence_runs,
                    )
                    for a in report.actions
                ),
            )
        )

    emit(report, render)


@cost_app.command("spot")
def spot(
    ctx: typer.Context,
    period: Annotated[
        str | None, typer.Option("--period", help="Only runs in this window (e.g. 90d).")
    ] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Spot advice per provider, instance and region from preemption history (priors when the
    history is too short)."""
    from artenic_opt.services.cost import load_history

    runtime, analyzer = _analyzer(ctx, state)
    advice = analyzer.spot_advice(load_history(runtime.store()), period=period)

    def render(out: Console) -> None:
        if not advice:
            out.print("No spot-capable runs recorded yet: run `demo` or record outcomes.")
            return
        out.print(
            make_table(
                "Spot advice",
                [
                    "provider",
                    "instance",
                    "region",
                    ("runs", "right"),
                    ("preempted", "right"),
                    ("savings", "right"),
                    ("spot w/ retries", "right"),
                    ("on-demand", "right"),
                    "advice",
                ],
                (
                    (
                        a.provider,
                        a.instance_type,
                        a.region,
                        a.spot_runs,
                        f"{a.preemption_rate:.0%}",
                        "-" if a.expected_savings_pct is None else f"{a.expected_savings_pct:.0%}",
                        fmt_money(a.expected_spot_cost, a.currency),
                        fmt_money(a.on_demand_cost, a.currency),
                        ("use spot" if a.recommend_spot else "on-demand")
                        + ("" if a.history_sufficient else " (prior)"),
                    )
                    for a in advice
                ),
            )
        )

    emit(advice, render)


cost_app.command("compare")(compare)


def register(app: typer.Typer) -> None:
    app.add_typer(cost_app, name="cost")
