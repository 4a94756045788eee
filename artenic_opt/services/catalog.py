"""Catalog imports as a unit: import a file, list the imports, remove one (``catalog import |
imports | remove``).

Decisions:

* Currencies are checked at import against the exchange rates the caller passes (built-in plus
  the config file's ``[exchange_rates]``): a row in a currency without a rate would make every
  later ``recommend`` and ``cost compare`` fail, so it is refused with its line.
* A row without a spot price keeps the spot price its key already has (an earlier import, a
  synced row or the embedded catalog) when the currency is the same. Before, an import replaced
  the whole row, so re-pricing an on-demand rate silently dropped the spot price, and with it
  every spot candidate of that machine. To drop a spot price on purpose, ``catalog remove`` the
  row and import it again.
* Re-importing is a no-op that says so: rows are keyed by (provider, region, instance type) and
  unchanged rows are not written; ``already_present`` counts them.
* Imports are recorded by the file's absolute path (``catalog_imports``, migration 2) with its
  sha256, row count and time; each imported row remembers its file, so ``catalog remove --file``
  removes exactly what that file brought (rows a later file re-imported belong to that file).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.schemas import (
    CatalogImportRecord,
    CatalogImportResult,
    CatalogRemoval,
    Offering,
)

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates
    from artenic_opt.catalog import Catalog
    from artenic_opt.state.store import StateStore


def _key(offering: Offering) -> tuple[str, str, str]:
    return (offering.provider.casefold(), offering.region, offering.instance_type)


def import_catalog_file(
    store: StateStore, catalog: Catalog, rates: ExchangeRates, path: Path
) -> CatalogImportResult:
    """Validate and store every offering of ``path`` (nothing on the first bad row)."""
    from artenic_opt.catalog import parse_offerings_file
    from artenic_opt.state.catalog import record_catalog_import, upsert_offerings
    from artenic_opt.state.records import OverlayOrigin

    offerings = parse_offerings_file(path, currencies=set(rates))
    known = {_key(o): o for o in catalog.offerings}
    kept = 0
    completed: list[Offering] = []
    for offering in offerings:
        previous = known.get(_key(offering))
        if (
            offering.spot_price_per_hour is None
            and previous is not None
            and previous.spot_price_per_hour is not None
            and previous.currency == offering.currency
            and previous.spot_price_per_hour <= offering.price_per_hour
        ):
            offering = offering.model_copy(
                update={"spot_price_per_hour": previous.spot_price_per_hour}
            )
            kept += 1
        completed.append(offering)
    absolute = str(Path(path).absolute())
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    with store.transaction():
        changed = upsert_offerings(
            store, completed, origin=OverlayOrigin.IMPORT, import_file=absolute
        )
        record_catalog_import(
            store, file=absolute, name=Path(path).name, sha256=digest, rows=len(completed)
        )
    return CatalogImportResult(
        file=str(path),
        offerings=len(completed),
        changed=changed,
        already_present=len(completed) - changed,
        spot_prices_kept=kept,
    )


def list_catalog_imports(store: StateStore | None) -> list[CatalogImportRecord]:
    """The recorded imports; ``store`` is ``None`` when there is no state file yet."""
    from artenic_opt.state.catalog import list_catalog_imports as list_stored

    if store is None:
        return []
    return [CatalogImportRecord.model_validate(row) for row in list_stored(store)]


def remove_from_catalog(
    store: StateStore, *, file: str | None = None, key: str | None = None
) -> CatalogRemoval:
    """Remove the offerings one import file brought, or the overlay row of one offering key
    (``provider/region/instance_type``); embedded rows cannot be removed."""
    from artenic_opt.state.catalog import (
        find_catalog_imports,
        remove_catalog_import,
        remove_offering,
    )

    if (file is None) == (key is None):
        raise InvalidInputError("catalog remove: give either --file FILE or --key KEY")
    if file is not None:
        matches = find_catalog_imports(store, str(Path(file).absolute()))
        if not matches:
            matches = find_catalog_imports(store, file)
        if not matches:
            raise NotFoundError(f"--file: no catalog import of {file} (see catalog imports)")
        if len(matches) > 1:
            raise InvalidInputError(
                f"--file: {file} names {len(matches)} imports ({', '.join(matches)}); "
                "give the full path"
            )
        removed = remove_catalog_import(store, matches[0])
        return CatalogRemoval(file=matches[0], offerings_removed=removed)
    assert key is not None
    parts = key.split("/")
    if len(parts) != 3 or not all(parts):
        raise InvalidInputError(
            f"--key: {key!r} is not provider/region/instance_type (as catalog list shows it)"
        )
    removed = remove_offering(store, parts[0], parts[1], parts[2])
    if not removed:
        raise NotFoundError(
            f"--key: no imported or synced offering {key} (embedded rows cannot be removed)"
        )
    return CatalogRemoval(key=key, offerings_removed=removed)
