"""Overview: the status card (mode, samples, NDCG@5, model, catalog prices, platform, sync) and
the savings report (what jobs cost against what the top recommendation predicted)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Static

from artenic_opt.presentation import format as fmt
from artenic_opt.tui.messages import OverviewLoaded
from artenic_opt.tui.safe_text import safe
from artenic_opt.tui.view_models import OverviewData, SavingsCard, StatusCard
from artenic_opt.tui.views.base import DashboardView
from artenic_opt.tui.widgets.bar_chart import Bar, BarChart


def _pairs(rows: list[tuple[str, str | Text]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        # Values hold paths, URLs and names: literal text (a str cell is read as markup).
        table.add_row(key, value if isinstance(value, Text) else safe(value))
    return table


def status_rows(status: StatusCard) -> list[tuple[str, str | Text]]:
    mode = status.effective_mode
    if status.mode != status.effective_mode:
        mode = f"{status.effective_mode} (configured: {status.mode})"
    if status.model_version is None:
        model = "none yet: heuristic ranking"
    else:
        trained = status.model_trained_at.date().isoformat() if status.model_trained_at else ""
        model = f"v{status.model_version}, {status.model_samples or 0} samples, {trained}"
    prices = fmt.when(status.price_date_newest)
    if status.price_date_oldest != status.price_date_newest:
        prices = f"{fmt.when(status.price_date_oldest)} .. {prices}"
    return [
        ("Mode", mode),
        ("Samples", f"{status.training_samples} training samples"),
        ("NDCG@5", fmt.ratio(status.ndcg_at_5)),
        ("Model", model),
        ("History", f"{status.recommendations} recommendations, {status.outcomes} outcomes"),
        ("Catalog", f"{status.catalog_offerings} offerings, {status.catalog_providers} providers"),
        ("Price date", prices),
        ("Platform", f"{status.platform_url} ({status.platform_state})"),
        ("Last sync", fmt.when(status.last_sync_at) if status.last_sync_at else "never"),
        ("State", status.source),
    ]


def savings_rows(savings: SavingsCard) -> list[tuple[str, str | Text]]:
    money = savings.currency
    difference = Text(fmt.money(savings.difference_total, money))
    if savings.difference_total > 0:
        difference.append(" over the estimate", style="bold")
    elif savings.difference_total < 0:
        difference.append(" under the estimate", style="bold")
    return [
        ("Period", f"last {savings.period}, {savings.records_compared} jobs compared"),
        ("Actual", fmt.money(savings.actual_total, money)),
        ("Estimated", fmt.money(savings.recommended_total, money)),
        ("Difference", difference),
        ("Overspend", fmt.money(savings.overspend_total, money)),
        ("Could save", f"{fmt.money(savings.estimated_monthly_savings, money)} / month"),
    ]


class OverviewView(DashboardView):
    view_id = "overview"
    title = "Overview"

    def compose(self) -> ComposeResult:
        with Grid(id="overview-grid"):
            with Vertical(classes="card", id="status-card") as status:
                status.border_title = "Status"
                yield Static(id="status-body")
                yield Static(id="status-warnings", classes="warnings")
            with Vertical(classes="card", id="savings-card") as savings:
                savings.border_title = "Savings: estimated vs actual"
                yield Static(id="savings-body")
                yield BarChart(id="savings-bars")
                yield Static(id="savings-actions")

    def reload(self) -> None:
        self.loading = True
        self._load()

    @work(thread=True, exclusive=True, group="overview")
    def _load(self) -> None:
        data = self.data
        if data is not None:
            self.fetch(data.overview, OverviewLoaded)

    @on(OverviewLoaded)
    def _show(self, event: OverviewLoaded) -> None:
        event.stop()
        self.show(event.overview)

    def show(self, overview: OverviewData) -> None:
        self.clear_error()
        status, savings = overview.status, overview.savings
        self.query_one("#status-body", Static).update(_pairs(status_rows(status)))
        warnings = self.query_one("#status-warnings", Static)
        warnings.update(Text("\n").join(safe(f"! {w}") for w in status.warnings))
        warnings.display = bool(status.warnings)
        self.query_one("#savings-body", Static).update(_pairs(savings_rows(savings)))
        bars = self.query_one("#savings-bars", BarChart)
        bars.display = savings.records_compared > 0
        bars.set_bars(
            [
                Bar(
                    "actual",
                    savings.actual_total,
                    fmt.money(savings.actual_total, savings.currency),
                    0,
                ),
                Bar(
                    "estimated",
                    savings.recommended_total,
                    fmt.money(savings.recommended_total, savings.currency),
                    1,
                ),
            ]
        )
        self.query_one("#savings-actions", Static).update(self._actions_text(savings))
        self.loaded = True
        self.loading = False

    @staticmethod
    def _actions_text(savings: SavingsCard) -> RenderableType:
        parts: list[RenderableType] = []
        if savings.message:
            parts.append(safe(savings.message, style="italic"))
        if savings.actions:
            parts.append(Text("Suggested changes", style="bold"))
            # One line per change: the title gives way to the amount when space is short.
            actions = Table.grid(padding=(0, 1), expand=True)
            actions.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
            actions.add_column(justify="right", no_wrap=True, style="bold")
            for action in savings.actions:
                actions.add_row(
                    safe(f"• {action.title}"),
                    f"{fmt.money(action.monthly_savings, savings.currency)}/mo",
                )
            parts.append(actions)
        if not parts:
            parts.append(Text("no change suggested", style="italic"))
        return Group(*parts)
