"""Platform budgets and the spending measured against them (platform-api.md §7).

Decisions:

* The platform returns every budget in one unpaginated list and has no DELETE (a retired budget
  is disabled), so ``replace_budgets`` makes the stored set exactly the list a sync received.
* Spending is keyed by (scope, scope value, period), one summary per enabled budget; a sync
  replaces the whole set as well. Amounts are EUR, as the platform reports them.
* Writes compare content (``synced_at`` / ``fetched_at`` aside), so a repeated sync writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from artenic_opt.state._codec import (
    decode_bool,
    decode_json,
    decode_optional_datetime,
    encode_bool,
    encode_datetime,
    encode_json,
    encode_optional_datetime,
    utc_now,
)
from artenic_opt.state._rows import replace_rows, upsert_changed
from artenic_opt.state.platform_records import BudgetRecord, BudgetSpendingRecord
from artenic_opt.state.store import StateStore

_BUDGET_KEY = ("id",)
_SPENDING_KEY = ("scope", "scope_value", "period")


def _budget_row(budget: BudgetRecord, synced_at: str) -> dict[str, Any]:
    return {
        "id": budget.id,
        "scope": budget.scope,
        "scope_value": budget.scope_value,
        "period": budget.period,
        "limit_eur": budget.limit_eur,
        "alert_threshold_pct": budget.alert_threshold_pct,
        "enabled": encode_bool(budget.enabled),
        "created_at": encode_optional_datetime(budget.created_at),
        "synced_at": synced_at,
    }


def upsert_budget(
    store: StateStore, budget: BudgetRecord, *, synced_at: datetime | None = None
) -> bool:
    """Store ``budget`` if new or changed; return whether anything was written."""
    stamp = encode_datetime(synced_at or utc_now())
    rows = [_budget_row(budget, stamp)]
    return upsert_changed(store, "budgets", _BUDGET_KEY, rows, ignore=("synced_at",)) > 0


def replace_budgets(
    store: StateStore, budgets: Iterable[BudgetRecord], *, synced_at: datetime | None = None
) -> int:
    """Make the stored budgets exactly ``budgets``; return rows written or deleted."""
    stamp = encode_datetime(synced_at or utc_now())
    rows = [_budget_row(budget, stamp) for budget in budgets]
    return replace_rows(store, "budgets", _BUDGET_KEY, rows, ignore=("synced_at",))


def list_budgets(store: StateStore, *, enabled_only: bool = False) -> list[BudgetRecord]:
    where = "WHERE enabled = 1" if enabled_only else ""
    rows = store.query(f"SELECT * FROM budgets {where} ORDER BY id")
    return [
        BudgetRecord(
            id=row["id"],
            scope=row["scope"],
            scope_value=row["scope_value"],
            period=row["period"],
            limit_eur=row["limit_eur"],
            alert_threshold_pct=row["alert_threshold_pct"],
            enabled=decode_bool(row["enabled"]),
            created_at=decode_optional_datetime(row["created_at"]),
        )
        for row in rows
    ]


def _spending_row(spending: BudgetSpendingRecord, fetched_at: str) -> dict[str, Any]:
    return {
        "scope": spending.scope,
        "scope_value": spending.scope_value,
        "period": spending.period,
        "spent_eur": spending.spent_eur,
        "limit_eur": spending.limit_eur,
        "pct_used": spending.pct_used,
        "alerts_json": encode_json(list(spending.alerts)),
        "fetched_at": fetched_at,
    }


def _spending_stamp(spending: BudgetSpendingRecord) -> str:
    return encode_datetime(spending.fetched_at or utc_now())


def upsert_budget_spending(store: StateStore, spending: BudgetSpendingRecord) -> bool:
    """Store one spending summary if new or changed; return whether anything was written."""
    rows = [_spending_row(spending, _spending_stamp(spending))]
    return upsert_changed(store, "budget_spending", _SPENDING_KEY, rows, ignore=("fetched_at",)) > 0


def replace_budget_spending(store: StateStore, spendings: Iterable[BudgetSpendingRecord]) -> int:
    """Make the stored spending summaries exactly ``spendings``; return rows written or deleted."""
    rows = [_spending_row(spending, _spending_stamp(spending)) for spending in spendings]
    return replace_rows(store, "budget_spending", _SPENDING_KEY, rows, ignore=("fetched_at",))


def list_budget_spending(store: StateStore) -> list[BudgetSpendingRecord]:
    rows = store.query("SELECT * FROM budget_spending ORDER BY scope, scope_value, period")
    return [
        BudgetSpendingRecord(
            scope=row["scope"],
            scope_value=row["scope_value"],
            period=row["period"],
            spent_eur=row["spent_eur"],
            limit_eur=row["limit_eur"],
            pct_used=row["pct_used"],
            alerts=tuple(decode_json(row["alerts_json"])),
            fetched_at=decode_optional_datetime(row["fetched_at"]),
        )
        for row in rows
    ]
