"""Key/value facts about the state as a whole (``meta`` table), such as the last sync time.

Values are text; typed accessors below convert the well-known keys, so callers never parse them.
"""

from __future__ import annotations

from datetime import datetime

from artenic_opt.errors import InvalidInputError
from artenic_opt.state._codec import decode_datetime, encode_datetime
from artenic_opt.state.store import StateStore

LAST_SYNC_AT = "last_sync_at"


def get_meta(store: StateStore, key: str) -> str | None:
    value = store.scalar("SELECT value FROM meta WHERE key = ?", [key])
    return None if value is None else str(value)


def set_meta(store: StateStore, key: str, value: str) -> None:
    if not key:
        raise InvalidInputError("meta key: must not be empty")
    with store.transaction():
        store.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )


def delete_meta(store: StateStore, key: str) -> bool:
    """Remove ``key``; return whether it was there."""
    with store.transaction():
        return store.execute("DELETE FROM meta WHERE key = ?", [key]).rowcount > 0


def all_meta(store: StateStore) -> dict[str, str]:
    return {row["key"]: row["value"] for row in store.query("SELECT key, value FROM meta")}


def last_sync_at(store: StateStore) -> datetime | None:
    value = get_meta(store, LAST_SYNC_AT)
    return None if value is None else decode_datetime(value)


def set_last_sync_at(store: StateStore, when: datetime) -> None:
    set_meta(store, LAST_SYNC_AT, encode_datetime(when))
