"""The human tables of the training commands (``recommend``, ``history``, ``feedback list``,
``evaluate``): their column specs and the advice rendering.

Decisions:

* Apart from ``cli.training`` so that a ``--json`` run imports neither this module nor
  ``cli.tables``: the command functions import it where they draw.
"""

from typing import TYPE_CHECKING, Any

from artenic_opt.cli.tables import Col, draw, line
from artenic_opt.presentation import format as fmt

if TYPE_CHECKING:
    from rich.console import Console

    from artenic_opt.schemas import (
        InstanceRecommendation,
        OutcomeEntry,
        RecommendationSummary,
        TrainingAdvice,
    )


def _advice_columns(cur: str) -> "list[Col[InstanceRecommendation]]":
    """The ``recommend`` table; a new column is one more spec here (priority picks its place)."""
    return [
        Col("#", lambda r: r.rank, justify="right"),
        Col("provider", lambda r: r.offering.provider, min_width=8),
        # The names give way before the numbers: at their minimums (13 + 8 cells) an 80-column
        # table still holds a months-long time ("191 d 1 h") and an 8-digit cost whole, where
        # 16 + 12 let Rich squeeze the time to "191 d …". "8x B200…" keeps count and type.
        Col("instance", lambda r: r.offering.instance_type, min_width=13),
        Col(
            "GPUs",
            lambda r: fmt.gpus(
                r.offering.gpu_count, r.offering.gpu_type, r.offering.gpu_memory_gb, r.nodes
            ),
            min_width=8,
        ),
        Col("time", lambda r: fmt.hours(r.estimated_hours), justify="right"),
        Col("job cost", lambda r: fmt.money(r.estimated_cost, cur), justify="right"),
        Col("spot", lambda r: "yes" if r.spot else "no"),
        Col(
            "plan",
            lambda r: r.plan.summary if r.plan is not None else fmt.DASH,
            priority=1,
            min_width=10,
        ),
        Col("region", lambda r: r.offering.region, priority=2, min_width=8),
        Col("per hour", lambda r: fmt.money(r.price_per_hour, cur), priority=3, justify="right"),
        Col(
            "mem GB",
            lambda r: f"{r.memory_needed_gb:.1f}/{r.memory_available_gb:.0f}",
            priority=5,
            justify="right",
        ),
        Col("score", lambda r: fmt.ratio(r.score), priority=4, justify="right"),
    ]


def render_advice(out: "Console", advice: "TrainingAdvice", *, explain: bool) -> None:
    cur = advice.display_currency
    title = (
        f"{advice.workload.name}: {advice.candidates_feasible} of "
        f"{advice.candidates_considered} candidates feasible ({advice.mode.value} ranking)"
    )
    draw(
        out,
        title,
        _advice_columns(cur),
        advice.recommendations,
        caption=f"recommendation {advice.recommendation_id[:12]}  query {advice.query_id}",
    )
    for alt in advice.alternatives:
        line(
            out,
            f"alternative {alt.fine_tuning.value}: {alt.offering_id} "
            f"({alt.plan.summary}), {fmt.hours(alt.estimated_hours)}, "
            f"{fmt.money(alt.estimated_cost, alt.currency)}; {alt.note}",
            style="bold",
        )
    for rec in advice.recommendations[: 3 if not explain else len(advice.recommendations)]:
        line(out, f"#{rec.rank} " + "; ".join(rec.reasons))
        for message in rec.warnings:
            line(out, f"   ! {message}", style="yellow")
        if explain:
            factors = ", ".join(
                f"{f.name} {f.value:.2f} x {f.weight:.2f} = {f.contribution:.3f}"
                for f in rec.factors
            )
            extra = f"; ltr score {rec.ltr_score:.3f}" if rec.ltr_score is not None else ""
            line(
                out,
                f"   factors: {factors}; heuristic {rec.heuristic_score:.3f}{extra}; "
                f"on-demand {fmt.money(rec.estimated_cost_on_demand, cur)}, spot "
                f"{fmt.money(rec.estimated_cost_spot, cur)}",
            )


def _top_pick(r: "RecommendationSummary") -> str:
    if not r.top_provider:
        return fmt.DASH
    return f"{r.top_provider}/{r.top_instance_type}" + (" spot" if r.top_spot else "")


def history_columns() -> "list[Col[RecommendationSummary]]":
    return [
        Col("id", lambda r: r.recommendation_id[:12]),
        Col("workload", lambda r: r.workload_name, min_width=10),
        Col("top pick", _top_pick, min_width=12),
        Col(
            "est. cost",
            lambda r: fmt.money(r.top_estimated_cost, r.top_currency or r.display_currency),
            justify="right",
        ),
        Col("outcome", lambda r: r.outcome_status.value if r.outcome_status else fmt.DASH),
        Col("created", lambda r: fmt.when(r.created_at), priority=1),
        Col("mode", lambda r: r.mode.value, priority=2),
        Col("job", lambda r: r.job_id or fmt.DASH, priority=3, min_width=8),
    ]


def outcome_columns() -> "list[Col[OutcomeEntry]]":
    return [
        Col("id", lambda e: e.outcome_id, justify="right"),
        Col("instance", lambda e: f"{e.provider} {e.instance_type}", min_width=12),
        Col("status", lambda e: e.status),
        Col("hours", lambda e: fmt.hours(e.hours), justify="right"),
        Col("cost", lambda e: fmt.money(e.cost, e.currency), justify="right"),
        Col("check", lambda e: "ok" if e.valid else f"left out: {e.problem}", min_width=8),
        Col("recommendation", lambda e: (e.recommendation_id or fmt.DASH)[:12], priority=1),
        Col("recorded", lambda e: fmt.when(e.recorded_at), priority=2),
        Col("label", lambda e: fmt.DASH if e.label is None else e.label, priority=3),
        Col("spot", lambda e: "yes" if e.spot else "no", priority=4),
        Col("source", lambda e: e.source or fmt.DASH, priority=5, min_width=8),
    ]


def method_columns() -> "list[Col[Any]]":
    return [
        Col("method", lambda m: m.method, min_width=10),
        Col("mean regret", lambda m: fmt.percent(m.mean_regret, decimals=1), justify="right"),
        Col("top-1 within 5%", lambda m: fmt.percent(m.within_5pct_share), justify="right"),
        Col("workloads", lambda m: m.workloads, priority=1, justify="right"),
        Col(
            "median regret",
            lambda m: fmt.percent(m.median_regret, decimals=1),
            priority=2,
            justify="right",
        ),
    ]


def per_workload_columns(methods: list[str]) -> "list[Col[Any]]":
    def regret_of(method: str) -> Any:
        def cell(w: Any) -> str:
            for pick in w.picks:
                if pick.method == method and pick.config is not None:
                    return fmt.percent(pick.regret)
            return fmt.DASH

        return cell

    return [
        Col("workload", lambda w: w.name, min_width=10),
        Col("best cost", lambda w: f"{w.best_cost:,.2f}", justify="right"),
        *(
            Col(name, regret_of(name), priority=1 + n, justify="right")
            for n, name in enumerate(methods)
        ),
        Col("runs", lambda w: w.runs, priority=len(methods) + 1, justify="right"),
    ]


def evaluate_columns() -> "list[Col[Any]]":
    return [
        Col("mode", lambda m: m.mode.value),
        Col("mean regret", lambda m: fmt.percent(m.mean_regret, decimals=1), justify="right"),
        Col("top-1 within 5%", lambda m: fmt.percent(m.within_5pct_share), justify="right"),
        Col("NDCG@5", lambda m: fmt.ratio(m.ndcg_at_5), justify="right"),
        Col("workloads", lambda m: m.workloads, priority=1, justify="right"),
        Col("MRR", lambda m: fmt.ratio(m.mrr), priority=2, justify="right"),
        Col(
            "median regret",
            lambda m: fmt.percent(m.median_regret, decimals=1),
            priority=3,
            justify="right",
        ),
    ]
