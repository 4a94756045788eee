"""Recommendations: the stored history in a sortable, filterable table with the outcome column.

Enter on a row opens the recommendation's detail screen (every candidate with its per-factor
score breakdown and estimates, and the outcomes recorded for it).
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from artenic_opt.presentation import format as fmt
from artenic_opt.tui.messages import RecommendationsLoaded
from artenic_opt.tui.view_models import RecommendationRow
from artenic_opt.tui.views.base import TableView
from artenic_opt.tui.widgets.filter_bar import FilterBar
from artenic_opt.tui.widgets.view_table import Column, ViewTable

_OUTCOME_STYLES = {
    "completed": "green",
    "failed": "red",
    "preempted": "yellow",
    "cancelled": "dim",
}


def outcome_text(row: RecommendationRow) -> Text:
    if row.outcome is None:
        return Text("no outcome", style="dim")
    text = Text(row.outcome, style=_OUTCOME_STYLES.get(row.outcome, ""))
    if row.outcome_rank is not None:
        text.append(f" #{row.outcome_rank}", style="dim")
    return text


def pick_text(row: RecommendationRow) -> str:
    if row.provider is None:
        return fmt.DASH
    return f"{row.provider} {row.instance_type or ''}".strip()


COLUMNS: list[Column[RecommendationRow]] = [
    Column("created", "Created", lambda r: r.created_at, lambda r: fmt.when(r.created_at)),
    Column("workload", "Workload", lambda r: r.workload, lambda r: r.workload, max_width=40),
    Column("pick", "Top pick", pick_text, pick_text, max_width=40),
    Column("gpu", "GPU", lambda r: r.gpu, lambda r: r.gpu),
    Column(
        "spot",
        "Spot",
        lambda r: r.spot,
        lambda r: fmt.DASH if r.spot is None else ("spot" if r.spot else "on-demand"),
    ),
    Column(
        "hours",
        "Est. time",
        lambda r: r.estimated_hours,
        lambda r: fmt.hours(r.estimated_hours),
        justify="right",
    ),
    Column(
        "cost",
        "Est. cost",
        lambda r: r.estimated_cost,
        lambda r: fmt.money(r.estimated_cost, r.currency),
        justify="right",
    ),
    Column("mode", "Mode", lambda r: r.mode, lambda r: r.mode),
    Column("outcome", "Outcome", lambda r: r.outcome, outcome_text),
]


class RecommendationsView(TableView):
    view_id = "recommendations"
    title = "Recommendations"
    noun = "recommendations"
    noun_one = "recommendation"
    hint = "Enter: details  ·  s or a header: sort  ·  /: filter"

    def compose(self) -> ComposeResult:
        yield Static(id="recommendations-summary", classes="view-summary")
        yield ViewTable(
            COLUMNS,
            lambda r: r.recommendation_id,
            sort="created",
            reverse=True,
            id="recommendations-table",
        )
        yield FilterBar(id="recommendations-filter")

    def reload(self) -> None:
        self.loading = True
        self._load()

    @work(thread=True, exclusive=True, group="recommendations")
    def _load(self) -> None:
        data = self.data
        if data is not None:
            self.fetch(data.recommendations, RecommendationsLoaded)

    @on(RecommendationsLoaded)
    def _show(self, event: RecommendationsLoaded) -> None:
        event.stop()
        self.clear_error()
        self.table.set_rows(event.rows)
        self.summarise()
        self.loaded = True
        self.loading = False

    @on(DataTable.RowSelected, "#recommendations-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        from artenic_opt.tui.screens.recommendation_detail import RecommendationDetailScreen

        if self.data is None or event.row_key.value is None:
            return
        self.app.push_screen(RecommendationDetailScreen(self.data, event.row_key.value))
