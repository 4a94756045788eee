"""Storage: the storage optimizer's recommendations, one row per dataset, biggest saving first.

The row under the cursor is explained under the table (its reasons, warnings and how much of the
advice was measured rather than assumed); the table sorts and filters like the others.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from artenic_opt.presentation import format as fmt
from artenic_opt.tui.messages import StorageLoaded
from artenic_opt.tui.safe_text import safe
from artenic_opt.tui.view_models import StorageRow
from artenic_opt.tui.views.base import TableView
from artenic_opt.tui.widgets.filter_bar import FilterBar
from artenic_opt.tui.widgets.view_table import Column, ViewTable


def change(before: str, after: str) -> Text:
    if before == after:
        return Text(before, style="dim")
    text = Text(before)
    text.append(" → ", style="dim")
    text.append(after, style="bold")
    return text


COLUMNS: list[Column[StorageRow]] = [
    Column("dataset", "Dataset", lambda r: r.dataset, lambda r: r.dataset, max_width=40),
    Column("provider", "Provider", lambda r: r.provider, lambda r: r.provider),
    Column("size", "Size", lambda r: r.size_bytes, lambda r: fmt.size(r.size_bytes), "right"),
    Column(
        "format",
        "Format",
        lambda r: f"{r.current_format}>{r.recommended_format}",
        lambda r: change(r.current_format, r.recommended_format),
    ),
    Column(
        "tier",
        "Tier",
        lambda r: f"{r.current_tier}>{r.recommended_tier}",
        lambda r: change(r.current_tier, r.recommended_tier),
    ),
    Column(
        "now",
        "Now/mo",
        lambda r: r.monthly_cost_now,
        lambda r: fmt.money(r.monthly_cost_now, r.currency),
        "right",
    ),
    Column(
        "after",
        "After/mo",
        lambda r: r.monthly_cost_after,
        lambda r: fmt.money(r.monthly_cost_after, r.currency),
        "right",
    ),
    Column(
        "savings",
        "Saves/mo",
        lambda r: r.monthly_savings,
        lambda r: Text(
            fmt.money(r.monthly_savings, r.currency),
            style="bold green" if r.monthly_savings > 0 else "dim",
        ),
        "right",
    ),
    Column(
        "one_time",
        "One-time",
        lambda r: r.one_time_cost,
        lambda r: fmt.money(r.one_time_cost, r.currency),
        "right",
    ),
    Column(
        "payback",
        "Payback",
        lambda r: r.payback_months,
        lambda r: fmt.months(r.payback_months),
        "right",
    ),
]


def explain(row: StorageRow) -> Text:
    text = Text()
    text.append(safe(row.dataset, style="bold"))
    text.append(safe(f"  ({row.dataset_id}, evidence: {row.evidence})", style="dim"))
    text.append("\n")
    size_change = ""
    if row.size_after_bytes != row.size_bytes:
        size_change = f"{fmt.size(row.size_bytes)} → {fmt.size(row.size_after_bytes)}; "
    text.append(
        f"{size_change}{fmt.money(row.monthly_cost_now, row.currency)}/mo → "
        f"{fmt.money(row.monthly_cost_after, row.currency)}/mo, one-time "
        f"{fmt.money(row.one_time_cost, row.currency)}, payback {fmt.months(row.payback_months)}"
    )
    for reason in row.reasons:
        text.append("\n")
        text.append(safe(f"+ {reason}"))
    for warning in row.warnings:
        text.append("\n")
        text.append(safe(f"! {warning}", style="yellow"))
    return text


class StorageView(TableView):
    view_id = "storage"
    title = "Storage"
    noun = "datasets"
    noun_one = "dataset"

    def compose(self) -> ComposeResult:
        yield Static(classes="view-summary")
        yield ViewTable(
            COLUMNS, lambda r: r.dataset_id, sort="savings", reverse=True, id="storage-table"
        )
        yield FilterBar(id="storage-filter")
        yield Static(id="storage-explain", classes="card")

    def reload(self) -> None:
        self.loading = True
        self._load()

    @work(thread=True, exclusive=True, group="storage")
    def _load(self) -> None:
        data = self.data
        if data is not None:
            self.fetch(data.storage, StorageLoaded)

    @on(StorageLoaded)
    def _show(self, event: StorageLoaded) -> None:
        event.stop()
        self.clear_error()
        table: ViewTable[StorageRow] = self.table
        table.set_rows(event.rows)
        self.summarise()
        explanation = self.query_one("#storage-explain", Static)
        explanation.display = bool(event.rows)
        if table.visible_rows:
            explanation.update(explain(table.visible_rows[table.cursor_row]))
        self.loaded = True
        self.loading = False

    @on(DataTable.RowHighlighted, "#storage-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            row = self.table.row(event.row_key.value)
            self.query_one("#storage-explain", Static).update(explain(row))
