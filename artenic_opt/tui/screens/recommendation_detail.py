"""One recommendation in full: its workload, every ranked candidate and what happened.

The candidates table is on top; the candidate under the cursor is explained below it (per-factor
score breakdown, estimates, memory fit, reasons and warnings), so moving through the ranking
shows why each candidate landed where it did. Loaded in a worker like the views.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from artenic_opt.errors import ArtenicOptError
from artenic_opt.presentation import format as fmt
from artenic_opt.tui.data import DashboardData
from artenic_opt.tui.messages import RecommendationDetailLoaded, ViewLoadFailed
from artenic_opt.tui.safe_text import safe, safe_lines
from artenic_opt.tui.view_models import CandidateDetail, RecommendationDetail
from artenic_opt.tui.widgets.bar_chart import bar_text
from artenic_opt.tui.widgets.view_table import Column, ViewTable

CANDIDATE_COLUMNS: list[Column[CandidateDetail]] = [
    Column("rank", "#", lambda c: c.rank, lambda c: str(c.rank), justify="right"),
    Column(
        "pick",
        "Candidate",
        lambda c: c.candidate_id,
        lambda c: (
            f"{c.provider} {c.region} {c.instance_type}" + (f" x{c.nodes}" if c.nodes > 1 else "")
        ),
    ),
    Column("gpu", "GPU", lambda c: c.gpu, lambda c: c.gpu),
    Column("spot", "Spot", lambda c: c.spot, lambda c: "spot" if c.spot else "on-demand"),
    Column("score", "Score", lambda c: c.score, lambda c: f"{c.score:.3f}", justify="right"),
    Column(
        "hours",
        "Est. time",
        lambda c: c.estimated_hours,
        lambda c: fmt.hours(c.estimated_hours),
        justify="right",
    ),
    Column(
        "cost",
        "Est. cost",
        lambda c: c.estimated_cost,
        lambda c: fmt.money(c.estimated_cost, c.currency),
        justify="right",
    ),
]


def header_text(detail: RecommendationDetail) -> RenderableType:
    title = Text()
    title.append(safe(detail.workload, style="bold"))
    title.append(
        safe(f"  ·  {detail.recommendation_id}  ·  {fmt.when(detail.created_at)}", style="dim")
    )
    model = f", model v{detail.model_version}" if detail.model_version else ""
    facts = Text(
        f"mode {detail.mode}{model}, goal {detail.goal}; "
        f"{detail.candidates_feasible} of {detail.candidates_considered} candidates feasible"
    )
    workload = Table.grid(padding=(0, 2))
    for _ in range(4):
        workload.add_column(no_wrap=True)
    pairs = list(detail.workload_summary)
    for index in range(0, len(pairs), 2):
        cells: list[RenderableType] = []
        for key, value in pairs[index : index + 2]:
            cells.extend([Text(key, style="bold"), safe(value)])
        workload.add_row(*cells)
    parts: list[RenderableType] = [title, facts, workload]
    parts.extend(safe(f"! {w}", style="yellow") for w in detail.warnings)
    return Group(*parts)


def candidate_text(candidate: CandidateDetail) -> RenderableType:
    factors = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
    factors.add_column("Factor", style="bold")
    factors.add_column("Value", justify="right")
    factors.add_column("Weight", justify="right")
    factors.add_column("Contribution", justify="right")
    factors.add_column("", no_wrap=True)
    largest = max((f.contribution for f in candidate.factors), default=0.0)
    for factor in candidate.factors:
        factors.add_row(
            safe(factor.name.replace("_", " ")),
            f"{factor.value:.2f}",
            f"{factor.weight:.2f}",
            f"{factor.contribution:.3f}",
            Text(bar_text(factor.contribution, largest, 12), style="cyan"),
        )
    scores = f"score {candidate.score:.3f} = heuristic {candidate.heuristic_score:.3f}"
    if candidate.ltr_score is not None:
        scores += f", LTR {candidate.ltr_score:.3f}"
    money = candidate.currency
    estimates = Table.grid(padding=(0, 2))
    estimates.add_column(style="bold", no_wrap=True)
    estimates.add_column()
    estimates.add_row("Price", safe(f"{fmt.money(candidate.price_per_hour, money)}/h (all nodes)"))
    estimates.add_row("Time", fmt.hours(candidate.estimated_hours))
    estimates.add_row(
        "Cost",
        safe(
            f"{fmt.money(candidate.estimated_cost_on_demand, money)} on-demand, "
            f"{fmt.money(candidate.estimated_cost_spot, money)} spot"
        ),
    )
    estimates.add_row(
        "Memory",
        f"{candidate.memory_needed_gb:.1f} GB needed of {candidate.memory_available_gb:.1f} GB",
    )
    heading = safe(f"#{candidate.rank} {candidate.candidate_id}", style="bold")
    parts: list[RenderableType] = [heading, Text(scores), factors, estimates]
    parts.extend(safe(f"+ {reason}") for reason in candidate.reasons)
    parts.extend(safe(f"! {warning}", style="yellow") for warning in candidate.warnings)
    return Group(*parts)


def outcomes_text(detail: RecommendationDetail) -> RenderableType:
    if not detail.outcomes:
        return Text("No outcome recorded for this recommendation yet.", style="dim")
    table = Table(title="Outcomes", title_justify="left", box=None, padding=(0, 1))
    for name, justify in (
        ("Rank", "right"),
        ("Status", "left"),
        ("Time", "right"),
        ("Cost", "right"),
        ("Preemptions", "right"),
        ("Label", "right"),
        ("Recorded", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for outcome in detail.outcomes:
        table.add_row(
            str(outcome.rank),
            safe(outcome.status),
            fmt.hours(outcome.hours),
            safe(fmt.money(outcome.cost, outcome.currency)),
            str(outcome.preemptions),
            fmt.DASH if outcome.label is None else str(outcome.label),
            fmt.when(outcome.recorded_at),
        )
    return table


class RecommendationDetailScreen(Screen[None]):
    """Full-screen detail of one recommendation; Esc goes back to the dashboard."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, data: DashboardData, recommendation_id: str) -> None:
        super().__init__(id="recommendation-detail")
        self.data = data
        self.recommendation_id = recommendation_id
        self.detail: RecommendationDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-header")
            yield ViewTable(CANDIDATE_COLUMNS, lambda c: str(c.rank), id="detail-candidates")
            yield Static(id="detail-candidate", classes="card")
            yield Static(id="detail-outcomes")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = fmt.clean(f"recommendation {self.recommendation_id}")
        self.query_one("#detail-body").loading = True
        self._load()

    @work(thread=True, exclusive=True, group="detail")
    def _load(self) -> None:
        try:
            detail = self.data.recommendation_detail(self.recommendation_id)
        except ArtenicOptError as exc:
            self.post_message(ViewLoadFailed("detail", str(exc)))
            return
        self.post_message(RecommendationDetailLoaded(detail))

    @on(RecommendationDetailLoaded)
    def _show(self, event: RecommendationDetailLoaded) -> None:
        detail = self.detail = event.detail
        self.query_one("#detail-header", Static).update(header_text(detail))
        table: ViewTable[CandidateDetail] = self.query_one("#detail-candidates", ViewTable)
        table.set_rows(detail.candidates)
        self.query_one("#detail-outcomes", Static).update(outcomes_text(detail))
        if detail.candidates:
            self._explain(detail.candidates[0])
        self.query_one("#detail-body").loading = False
        table.focus()

    @on(ViewLoadFailed)
    def _failed(self, event: ViewLoadFailed) -> None:
        self.query_one("#detail-body").loading = False
        self.query_one("#detail-header", Static).update(safe_lines(event.message, style="bold red"))

    @on(DataTable.RowHighlighted, "#detail-candidates")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.detail is None or event.row_key.value is None:
            return
        rank = int(event.row_key.value)
        for candidate in self.detail.candidates:
            if candidate.rank == rank:
                self._explain(candidate)

    def _explain(self, candidate: CandidateDetail) -> None:
        self.query_one("#detail-candidate", Static).update(candidate_text(candidate))
