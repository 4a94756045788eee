"""Cost trends: spend per provider over time as a line chart, anomalies marked on the lines and
listed with the reason each was flagged (the cost analyzer's robust statistics)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Static

from artenic_opt.presentation import format as fmt
from artenic_opt.tui.messages import CostTrendsLoaded
from artenic_opt.tui.safe_text import safe
from artenic_opt.tui.view_models import AnomalyPoint, CostTrendData
from artenic_opt.tui.views.base import TableView
from artenic_opt.tui.widgets.chart import series_for
from artenic_opt.tui.widgets.filter_bar import FilterBar
from artenic_opt.tui.widgets.line_chart import LineChart, Marker, Series
from artenic_opt.tui.widgets.view_table import Column, ViewTable

ANOMALY_MARK = "◆"


def _value(point: AnomalyPoint) -> str:
    if point.unit == "h":
        return fmt.hours(point.value)
    return fmt.money(point.value, point.unit)


ANOMALY_COLUMNS: list[Column[AnomalyPoint]] = [
    Column("when", "When", lambda a: a.timestamp, lambda a: fmt.when(a.timestamp)),
    Column("provider", "Provider", lambda a: a.provider, lambda a: a.provider),
    Column("metric", "Metric", lambda a: a.metric, lambda a: a.metric.replace("_", " ")),
    Column("value", "Value", lambda a: a.value, _value, "right"),
    Column("reason", "Reason", lambda a: a.reason, lambda a: a.reason),
]


def headline(trends: CostTrendData) -> Text:
    if trends.message:
        return safe(trends.message, style="italic")
    text = Text()
    text.append(fmt.money(trends.total_cost, trends.currency), style="bold")
    text.append(
        f" over {trends.jobs} jobs in the last {trends.period}, by {trends.bucket}; "
        f"{len(trends.anomalies)} anomalies"
    )
    return text


class CostTrendsView(TableView):
    view_id = "trends"
    title = "Cost trends"
    noun = "anomalies"
    noun_one = "anomaly"

    def compose(self) -> ComposeResult:
        yield Static(id="trends-headline")
        yield LineChart(value_format=fmt.compact, id="trends-chart", classes="chart-box")
        yield Static(classes="view-summary")
        yield ViewTable(
            ANOMALY_COLUMNS,
            lambda a: f"{a.timestamp.isoformat()}|{a.provider}|{a.metric}",
            sort="when",
            reverse=True,
            id="anomalies-table",
        )
        yield FilterBar(id="anomalies-filter")

    def reload(self) -> None:
        self.loading = True
        self._load()

    @work(thread=True, exclusive=True, group="trends")
    def _load(self) -> None:
        data = self.data
        if data is not None:
            self.fetch(data.cost_trends, CostTrendsLoaded)

    @on(CostTrendsLoaded)
    def _show(self, event: CostTrendsLoaded) -> None:
        event.stop()
        self.show(event.trends)

    def show(self, trends: CostTrendData) -> None:
        self.clear_error()
        self.query_one("#trends-headline", Static).update(headline(trends))
        chart = self.query_one("#trends-chart", LineChart)
        chart.set_data(
            trends.buckets,
            [
                Series(
                    fmt.clean(f"{s.provider} {fmt.money(s.total, trends.currency, decimals=0)}"),
                    s.values,
                    series_for(s.provider),
                )
                for s in trends.series
            ],
            [Marker(a.bucket_index, a.spend, ANOMALY_MARK) for a in trends.anomalies],
        )
        table: ViewTable[AnomalyPoint] = self.table
        table.set_rows(trends.anomalies)
        self.summarise()
        self.loaded = True
        self.loading = False
