"""Providers: for a chosen workload, each provider's best feasible offering as bars (price per
hour and estimated whole-job cost) and the cost / time Pareto frontier with its picks marked.

The workload selector lists the example workloads and the workloads found in the history. The
comparison itself is ``CostAnalyzer.compare_providers``, the call behind ``cost compare``.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Select, Static

from artenic_opt.presentation import format as fmt
from artenic_opt.tui.messages import ProvidersLoaded, ViewLoadFailed, WorkloadsLoaded
from artenic_opt.tui.safe_text import safe, safe_lines
from artenic_opt.tui.view_models import FrontierRow, ProvidersData
from artenic_opt.tui.views.base import TableView
from artenic_opt.tui.widgets.bar_chart import Bar, BarChart
from artenic_opt.tui.widgets.chart import DIM_SERIES, MARKER_SERIES, series_for
from artenic_opt.tui.widgets.filter_bar import FilterBar
from artenic_opt.tui.widgets.scatter_plot import ScatterPlot, ScatterPoint
from artenic_opt.tui.widgets.view_table import Column, ViewTable

CHEAPEST, FASTEST, BALANCED = "$", "»", "◆"


def pick_marks(point: FrontierRow) -> str:
    marks = []
    if point.cheapest:
        marks.append(f"{CHEAPEST} cheapest")
    if point.fastest:
        marks.append(f"{FASTEST} fastest")
    if point.balanced:
        marks.append(f"{BALANCED} balanced")
    return ", ".join(marks)


def marker_of(point: FrontierRow) -> str | None:
    # Balanced first: it is the pick most people act on, so it wins a shared point.
    if point.balanced:
        return BALANCED
    if point.cheapest:
        return CHEAPEST
    if point.fastest:
        return FASTEST
    return None


def _frontier_columns(currency: str) -> list[Column[FrontierRow]]:
    return [
        Column("pick", "Pick", pick_marks, lambda p: Text(pick_marks(p), style="bold")),
        Column("candidate", "Candidate", lambda p: p.label, lambda p: p.label),
        Column(
            "hours",
            "Est. time",
            lambda p: p.estimated_hours,
            lambda p: fmt.hours(p.estimated_hours),
            justify="right",
        ),
        Column(
            "cost",
            "Est. cost",
            lambda p: p.estimated_cost,
            lambda p: fmt.money(p.estimated_cost, currency),
            justify="right",
        ),
        Column(
            "price",
            "Price/h",
            lambda p: p.price_per_hour,
            lambda p: fmt.money(p.price_per_hour, currency),
            justify="right",
        ),
    ]


class ProvidersView(TableView):
    view_id = "providers"
    title = "Providers"
    noun = "frontier points"
    noun_one = "frontier point"

    def __init__(self) -> None:
        super().__init__()
        self.workload_key: str | None = None
        self.currency = "USD"

    def compose(self) -> ComposeResult:
        with Horizontal(id="providers-controls"):
            yield Static("Workload", classes="control-label")
            yield Select[str]([], prompt="choose a workload", id="workload-select")
        with Vertical(id="providers-content"):
            yield from self._compose_content()

    def _compose_content(self) -> ComposeResult:
        yield Static(id="providers-summary", classes="providers-note")
        with Horizontal(id="providers-bars"):
            yield BarChart("Price per hour, best offering", id="price-bars", classes="chart-box")
            yield BarChart("Estimated job cost", id="cost-bars", classes="chart-box")
        yield ScatterPlot(
            x_format=fmt.hours,
            y_format=lambda v: fmt.money(v, self.currency, decimals=0),
            x_title="estimated time",
            legend=(
                ("·", "best per region", DIM_SERIES),
                ("━", "Pareto frontier", 0),
                (CHEAPEST, "cheapest", MARKER_SERIES),
                (FASTEST, "fastest", MARKER_SERIES),
                (BALANCED, "balanced", MARKER_SERIES),
            ),
            id="frontier-plot",
            classes="chart-box",
        )
        yield Static(classes="view-summary")
        yield ViewTable(
            _frontier_columns("USD"), lambda p: p.label, sort="hours", id="frontier-table"
        )
        yield FilterBar(id="frontier-filter")

    @property
    def content(self) -> Vertical:
        return self.query_one("#providers-content", Vertical)

    def reload(self) -> None:
        self.loading = True
        self._load_workloads()

    @work(thread=True, exclusive=True, group="workloads")
    def _load_workloads(self) -> None:
        data = self.data
        if data is not None:
            self.fetch(data.workloads, WorkloadsLoaded)

    @on(WorkloadsLoaded)
    def _workloads(self, event: WorkloadsLoaded) -> None:
        event.stop()
        self.loading = False
        select: Select[str] = self.query_one("#workload-select", Select)
        keys = [w.key for w in event.workloads]
        if not keys:
            self.query_one("#providers-summary", Static).update("no workload to compare")
            return
        chosen = self.workload_key if self.workload_key in keys else keys[0]
        with self.prevent(Select.Changed):
            # Workload names are user text: a str option would be read as markup.
            select.set_options((safe(w.label), w.key) for w in event.workloads)
            select.value = chosen
        self.compare(chosen)

    @on(Select.Changed, "#workload-select")
    def _workload_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value != self.workload_key:
            self.compare(event.value)

    def compare(self, workload_key: str) -> None:
        """Load the comparison of ``workload_key`` (the selector's value)."""
        self.workload_key = workload_key
        self.content.loading = True
        self._load_providers(workload_key)

    @work(thread=True, exclusive=True, group="providers")
    def _load_providers(self, workload_key: str) -> None:
        data = self.data
        if data is not None:
            self.fetch(lambda: data.providers(workload_key), ProvidersLoaded)

    def on_view_load_failed(self, event: ViewLoadFailed) -> None:
        """A workload nothing can run stays selectable: say why in place of its charts."""
        event.stop()
        if self.workload_key is None:
            self.show_error(event.message)
            return
        self.loading = False
        self.content.loading = False
        self.query_one("#providers-summary", Static).update(safe_lines(event.message, style="bold"))
        for chart in self.query(BarChart):
            chart.set_bars([])
        self.query_one("#frontier-plot", ScatterPlot).set_points([])
        self.table.set_rows([])
        self.summarise()

    @on(ProvidersLoaded)
    def _show(self, event: ProvidersLoaded) -> None:
        event.stop()
        self.show(event.providers)

    def show(self, providers: ProvidersData) -> None:
        self.clear_error()
        self.currency = currency = providers.currency
        note = safe(
            f"{providers.workload}: {providers.candidates_feasible} feasible of "
            f"{providers.candidates_considered} candidates, {len(providers.bars)} providers"
        )
        for warning in providers.warnings:
            note.append("\n")
            note.append(safe(f"! {warning}", style="yellow"))
        self.query_one("#providers-summary", Static).update(note)
        bars = list(providers.bars)
        by_price = sorted(bars, key=lambda b: (b.price_per_hour, b.provider))
        by_cost = sorted(bars, key=lambda b: (b.estimated_cost, b.provider))
        self.query_one("#price-bars", BarChart).set_bars(
            [
                Bar(
                    fmt.clean(b.provider),
                    b.price_per_hour,
                    fmt.money(b.price_per_hour, currency),
                    series_for(b.provider),
                )
                for b in by_price
            ],
            highlight=0 if bars else None,
        )
        self.query_one("#cost-bars", BarChart).set_bars(
            [
                Bar(
                    fmt.clean(b.provider),
                    b.estimated_cost,
                    fmt.money(b.estimated_cost, currency),
                    series_for(b.provider),
                )
                for b in by_cost
            ],
            highlight=0 if bars else None,
        )
        self.query_one("#frontier-plot", ScatterPlot).set_points(
            [
                ScatterPoint(
                    x=p.estimated_hours,
                    y=p.estimated_cost,
                    series=0,
                    on_frontier=p.on_frontier,
                    marker=marker_of(p),
                )
                for p in providers.points
            ]
        )
        table: ViewTable[FrontierRow] = self.table
        table.set_columns(_frontier_columns(currency))
        table.set_rows(providers.frontier)
        self.summarise()
        self.loaded = True
        self.content.loading = False
