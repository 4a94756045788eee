"""Change-detecting writes shared by the repositories of synced data.

``sync`` must be idempotent: a second sync with nothing new on the server changes nothing in the
file. So a row is written only when its *content* differs from what is stored; bookkeeping
columns such as ``synced_at`` or ``fetched_at`` are left out of the comparison (and are therefore
the time the content last changed, not the time it was last seen).

Table and column names passed here are constants of the repository modules, never user input.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from artenic_opt.state.store import StateStore

Row = dict[str, Any]
Key = tuple[Any, ...]

# Above this many rows, one scan of the table is cheaper than one lookup per row.
_LOOKUP_LIMIT = 64


def _key(row: Mapping[str, Any], key_columns: Sequence[str]) -> Key:
    return tuple(row[column] for column in key_columns)


def _existing(
    store: StateStore, table: str, key_columns: Sequence[str], keys: Sequence[Key]
) -> dict[Key, Row]:
    if len(keys) > _LOOKUP_LIMIT:
        return {_key(row, key_columns): row for row in store.query(f"SELECT * FROM {table}")}
    where = " AND ".join(f"{column} = ?" for column in key_columns)
    found: dict[Key, Row] = {}
    for key in keys:
        row = store.query_one(f"SELECT * FROM {table} WHERE {where}", key)
        if row is not None:
            found[key] = row
    return found


def _same(stored: Row, row: Row, ignore: Collection[str]) -> bool:
    return all(stored.get(column) == value for column, value in row.items() if column not in ignore)


def upsert_changed(
    store: StateStore,
    table: str,
    key_columns: Sequence[str],
    rows: Iterable[Row],
    *,
    ignore: Collection[str] = (),
) -> int:
    """Insert new rows and update rows whose content changed; return how many were written."""
    pending = {_key(row, key_columns): row for row in rows}
    with store.transaction():
        existing = _existing(store, table, key_columns, list(pending))
        changed = [
            row
            for key, row in pending.items()
            if key not in existing or not _same(existing[key], row, ignore)
        ]
        if changed:
            store.db.table(table).upsert_all(changed, pk=tuple(key_columns))
    return len(changed)


def delete_keys(
    store: StateStore, table: str, key_columns: Sequence[str], keys: Iterable[Key]
) -> int:
    where = " AND ".join(f"{column} = ?" for column in key_columns)
    batch = list(keys)
    if not batch:
        return 0
    with store.transaction():
        return store.executemany(f"DELETE FROM {table} WHERE {where}", batch).rowcount


def replace_rows(
    store: StateStore,
    table: str,
    key_columns: Sequence[str],
    rows: Iterable[Row],
    *,
    scope_sql: str = "1 = 1",
    scope_params: Sequence[Any] = (),
    ignore: Collection[str] = (),
) -> int:
    """Make the rows matching ``scope_sql`` exactly ``rows``; return inserts+updates+deletes."""
    wanted = list(rows)
    wanted_keys = {_key(row, key_columns) for row in wanted}
    with store.transaction():
        select = ", ".join(key_columns)
        present = store.query(f"SELECT {select} FROM {table} WHERE {scope_sql}", scope_params)
        stale = [
            key for key in (_key(row, key_columns) for row in present) if key not in wanted_keys
        ]
        deleted = delete_keys(store, table, key_columns, stale)
        written = upsert_changed(store, table, key_columns, wanted, ignore=ignore)
    return deleted + written
