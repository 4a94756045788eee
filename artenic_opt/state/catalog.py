"""The catalog overlay: offerings and storage prices laid over the embedded catalog.

Rows come from platform ``sync`` (origin ``platform``) and from ``catalog import`` (origin
``import``); the catalog loader merges them over the embedded rows by key (provider, region,
instance type for offerings; provider, region, tier name for storage prices). One key holds one
row, and the user's own prices win: an import replaces the platform's row for the same key, and
platform writes skip keys held by imported rows (a negotiated price must survive the next sync).
Precedence is therefore import > platform > embedded.

Decisions:

* ``upsert_*`` adds or changes rows (an import extends the catalog); ``replace_*`` makes the rows
  of one origin (optionally of some providers only) exactly the given set, which is what a sync
  of a full price list means.
* Writes compare content and skip unchanged rows, so a repeated sync changes nothing;
  ``fetched_at`` is therefore when a row last changed.
* A bad file is never half-imported: each call is one transaction, and a caller importing in
  several calls wraps them in ``store.transaction()``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from artenic_opt.schemas import Offering, StoragePrice
from artenic_opt.state._codec import (
    decode_date,
    decode_optional_datetime,
    encode_date,
    encode_datetime,
    reads_row,
    utc_now,
)
from artenic_opt.state._rows import replace_rows, upsert_changed
from artenic_opt.state.records import OverlayOffering, OverlayOrigin, OverlayStoragePrice
from artenic_opt.state.store import StateStore

_OFFERING_KEY = ("provider", "region", "instance_type")
_STORAGE_KEY = ("provider", "region", "tier_name")
_BOOKKEEPING = ("fetched_at",)


def _offering_row(offering: Offering, origin: OverlayOrigin, fetched_at: str) -> dict[str, Any]:
    return {
        "provider": offering.provider,
        "region": offering.region,
        "instance_type": offering.instance_type,
        "vcpus": offering.vcpus,
        "memory_gb": offering.memory_gb,
        "gpu_type": offering.gpu_type,
        "gpu_count": offering.gpu_count,
        "gpu_memory_gb": offering.gpu_memory_gb,
        "price_per_hour": offering.price_per_hour,
        "spot_price_per_hour": offering.spot_price_per_hour,
        "currency": offering.currency,
        "source": offering.source,
        "price_date": encode_date(offering.price_date),
        "origin": origin.value,
        "fetched_at": fetched_at,
    }


def _storage_row(price: StoragePrice, origin: OverlayOrigin, fetched_at: str) -> dict[str, Any]:
    return {
        "provider": price.provider,
        "region": price.region,
        "tier_name": price.tier_name,
        "tier": price.tier,
        "price_per_gb_month": price.price_per_gb_month,
        "retrieval_per_gb": price.retrieval_per_gb,
        "min_storage_days": price.min_storage_days,
        "currency": price.currency,
        "source": price.source,
        "price_date": encode_date(price.price_date),
        "origin": origin.value,
        "fetched_at": fetched_at,
    }


def _scope(
    origin: OverlayOrigin | None, providers: Collection[str] | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if origin is not None:
        clauses.append("origin = ?")
        params.append(origin.value)
    if providers is not None:
        marks = ", ".join("?" for _ in providers)
        clauses.append(f"provider IN ({marks})" if providers else "0 = 1")
        params.extend(providers)
    return (" AND ".join(clauses) or "1 = 1"), params


def _yield_to_imports(
    store: StateStore,
    table: str,
    key_columns: tuple[str, ...],
    rows: list[dict[str, Any]],
    origin: OverlayOrigin,
) -> list[dict[str, Any]]:
    if origin is OverlayOrigin.IMPORT or not rows:
        return rows
    columns = ", ".join(key_columns)
    held = {
        tuple(row[column] for column in key_columns)
        for row in store.query(
            f"SELECT {columns} FROM {table} WHERE origin = ?", [OverlayOrigin.IMPORT.value]
        )
    }
    return [row for row in rows if tuple(row[column] for column in key_columns) not in held]


def _write(
    store: StateStore,
    table: str,
    key_columns: tuple[str, ...],
    rows: list[dict[str, Any]],
    *,
    origin: OverlayOrigin,
    replace_providers: Collection[str] | None,
    replace: bool,
) -> int:
    with store.transaction():
        rows = _yield_to_imports(store, table, key_columns, rows, origin)
        if not replace:
            return upsert_changed(store, table, key_columns, rows, ignore=_BOOKKEEPING)
        scope_sql, params = _scope(origin, replace_providers)
        return replace_rows(
            store,
            table,
            key_columns,
            rows,
            scope_sql=scope_sql,
            scope_params=params,
            ignore=_BOOKKEEPING,
        )


# --------------------------------------------------------------------------------------------
# Offerings
# --------------------------------------------------------------------------------------------


def upsert_offerings(
    store: StateStore,
    offerings: Iterable[Offering],
    *,
    origin: OverlayOrigin,
    fetched_at: datetime | None = None,
    import_file: str | None = None,
) -> int:
    """Add or update overlay offerings; return how many rows were written.

    Platform rows whose key is held by an imported row are skipped. ``import_file`` records
    which ``catalog import`` file a row came from (for ``catalog remove --file``).
    """
    stamp = encode_datetime(fetched_at or utc_now())
    rows = [_offering_row(offering, origin, stamp) for offering in offerings]
    if import_file is not None:
        for row in rows:
            row["import_file"] = import_file
    return _write(
        store,
        "offerings",
        _OFFERING_KEY,
        rows,
        origin=origin,
        replace_providers=None,
        replace=False,
    )


def replace_offerings(
    store: StateStore,
    offerings: Iterable[Offering],
    *,
    origin: OverlayOrigin,
    providers: Collection[str] | None = None,
    fetched_at: datetime | None = None,
) -> int:
    """Make the ``origin`` rows (of ``providers``, if given) exactly ``offerings``.

    Returns how many rows were inserted, updated or deleted.
    """
    stamp = encode_datetime(fetched_at or utc_now())
    rows = [_offering_row(offering, origin, stamp) for offering in offerings]
    return _write(
        store,
        "offerings",
        _OFFERING_KEY,
        rows,
        origin=origin,
        replace_providers=providers,
        replace=True,
    )


def list_offerings(
    store: StateStore,
    *,
    origin: OverlayOrigin | None = None,
    providers: Collection[str] | None = None,
) -> list[OverlayOffering]:
    scope_sql, params = _scope(origin, providers)
    rows = store.query(
        f"SELECT * FROM offerings WHERE {scope_sql} ORDER BY provider, region, instance_type",
        params,
    )
    return [offering for offering in map(_valid_offering, rows) if offering is not None]


def _valid_offering(row: dict[str, Any]) -> OverlayOffering | None:
    """The row as an offering, or ``None`` when it breaks today's bounds (a state written before
    prices were bounded may hold ``1e308``); such a row is left out of the catalog."""
    try:
        return _offering(row)
    except ValidationError:
        return None


@reads_row("offerings", out_of_bounds_passes=True)
def _offering(row: dict[str, Any]) -> OverlayOffering:
    return OverlayOffering(
        offering=Offering(
            provider=row["provider"],
            region=row["region"],
            instance_type=row["instance_type"],
            vcpus=row["vcpus"],
            memory_gb=row["memory_gb"],
            gpu_type=row["gpu_type"],
            gpu_count=row["gpu_count"],
            gpu_memory_gb=row["gpu_memory_gb"],
            price_per_hour=row["price_per_hour"],
            spot_price_per_hour=row["spot_price_per_hour"],
            currency=row["currency"],
            source=row["source"],
            price_date=decode_date(row["price_date"]),
        ),
        origin=row["origin"],
        fetched_at=decode_optional_datetime(row["fetched_at"]),
    )


def list_overlay_offerings(store: StateStore) -> list[Offering]:
    """Every overlay offering, ready to merge over the embedded catalog (one row per key)."""
    return [row.offering for row in list_offerings(store)]


def delete_offerings(
    store: StateStore,
    *,
    origin: OverlayOrigin | None = None,
    providers: Collection[str] | None = None,
) -> int:
    """Delete overlay offerings (all, or those of one origin and/or providers); return count."""
    scope_sql, params = _scope(origin, providers)
    with store.transaction():
        return store.execute(f"DELETE FROM offerings WHERE {scope_sql}", params).rowcount


def count_offerings(store: StateStore, *, origin: OverlayOrigin | None = None) -> int:
    scope_sql, params = _scope(origin, None)
    return int(store.scalar(f"SELECT count(*) FROM offerings WHERE {scope_sql}", params))


# --------------------------------------------------------------------------------------------
# Storage prices
# --------------------------------------------------------------------------------------------


def upsert_storage_prices(
    store: StateStore,
    prices: Iterable[StoragePrice],
    *,
    origin: OverlayOrigin,
    fetched_at: datetime | None = None,
) -> int:
    stamp = encode_datetime(fetched_at or utc_now())
    rows = [_storage_row(price, origin, stamp) for price in prices]
    return _write(
        store,
        "storage_prices",
        _STORAGE_KEY,
        rows,
        origin=origin,
        replace_providers=None,
        replace=False,
    )


def replace_storage_prices(
    store: StateStore,
    prices: Iterable[StoragePrice],
    *,
    origin: OverlayOrigin,
    providers: Collection[str] | None = None,
    fetched_at: datetime | None = None,
) -> int:
    stamp = encode_datetime(fetched_at or utc_now())
    rows = [_storage_row(price, origin, stamp) for price in prices]
    return _write(
        store,
        "storage_prices",
        _STORAGE_KEY,
        rows,
        origin=origin,
        replace_providers=providers,
        replace=True,
    )


def list_storage_prices(
    store: StateStore,
    *,
    origin: OverlayOrigin | None = None,
    providers: Collection[str] | None = None,
) -> list[OverlayStoragePrice]:
    scope_sql, params = _scope(origin, providers)
    rows = store.query(
        f"SELECT * FROM storage_prices WHERE {scope_sql} ORDER BY provider, region, tier_name",
        params,
    )
    return [price for price in map(_valid_storage_price, rows) if price is not None]


def _valid_storage_price(row: dict[str, Any]) -> OverlayStoragePrice | None:
    """The row as a price, or ``None`` when it breaks today's bounds (left out, not fatal)."""
    try:
        return _storage_price(row)
    except ValidationError:
        return None


@reads_row("storage_prices", out_of_bounds_passes=True)
def _storage_price(row: dict[str, Any]) -> OverlayStoragePrice:
    return OverlayStoragePrice(
        price=StoragePrice(
            provider=row["provider"],
            region=row["region"],
            tier_name=row["tier_name"],
            tier=row["tier"],
            price_per_gb_month=row["price_per_gb_month"],
            retrieval_per_gb=row["retrieval_per_gb"],
            min_storage_days=row["min_storage_days"],
            currency=row["currency"],
            source=row["source"],
            price_date=decode_date(row["price_date"]),
        ),
        origin=row["origin"],
        fetched_at=decode_optional_datetime(row["fetched_at"]),
    )


def list_overlay_storage_prices(store: StateStore) -> list[StoragePrice]:
    """Every overlay storage price, ready to merge over the embedded table (one row per key)."""
    return [row.price for row in list_storage_prices(store)]


def delete_storage_prices(
    store: StateStore,
    *,
    origin: OverlayOrigin | None = None,
    providers: Collection[str] | None = None,
) -> int:
    scope_sql, params = _scope(origin, providers)
    with store.transaction():
        return store.execute(f"DELETE FROM storage_prices WHERE {scope_sql}", params).rowcount


# --------------------------------------------------------------------------------------------
# Catalog imports (migration 2): which file brought which offerings
# --------------------------------------------------------------------------------------------


def record_catalog_import(
    store: StateStore, *, file: str, name: str, sha256: str, rows: int
) -> None:
    """Remember that ``file`` (an absolute path) was imported with ``rows`` offerings, now."""
    with store.transaction():
        store.execute(
            "INSERT INTO catalog_imports (file, name, sha256, rows, imported_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (file) DO UPDATE SET name = excluded.name, "
            "sha256 = excluded.sha256, rows = excluded.rows, imported_at = excluded.imported_at",
            [file, name, sha256, rows, encode_datetime(utc_now())],
        )


def list_catalog_imports(store: StateStore) -> list[dict[str, Any]]:
    """Every recorded import, newest first, with how many of its offerings are still held."""
    return store.query(
        "SELECT i.file, i.name, i.sha256, i.rows, i.imported_at, "
        "(SELECT count(*) FROM offerings o WHERE o.import_file = i.file) AS offerings_held "
        "FROM catalog_imports i ORDER BY i.imported_at DESC, i.file"
    )


def find_catalog_imports(store: StateStore, file: str) -> list[str]:
    """Recorded import paths matching ``file``: its exact path, else its file name."""
    exact = store.query("SELECT file FROM catalog_imports WHERE file = ?", [file])
    if exact:
        return [row["file"] for row in exact]
    return [
        row["file"]
        for row in store.query(
            "SELECT file FROM catalog_imports WHERE name = ? ORDER BY file", [file]
        )
    ]


def remove_catalog_import(store: StateStore, file: str) -> int:
    """Delete the offerings ``file`` imported and its record; return how many offerings went."""
    with store.transaction():
        removed = store.execute(
            "DELETE FROM offerings WHERE import_file = ? AND origin = ?",
            [file, OverlayOrigin.IMPORT.value],
        ).rowcount
        store.execute("DELETE FROM catalog_imports WHERE file = ?", [file])
    return int(removed)


def remove_offering(store: StateStore, provider: str, region: str, instance_type: str) -> int:
    """Delete the overlay row (imported or synced) of one key; return 0 or 1."""
    with store.transaction():
        return int(
            store.execute(
                "DELETE FROM offerings WHERE provider = ? COLLATE NOCASE AND region = ? "
                "AND instance_type = ?",
                [provider, region, instance_type],
            ).rowcount
        )
