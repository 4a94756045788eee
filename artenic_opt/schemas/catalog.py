"""The documents of ``catalog import``, ``catalog imports`` and ``catalog remove`` (importable
from ``artenic_opt.schemas``; loaded on first use)."""

from datetime import datetime

from pydantic import Field

from artenic_opt.schemas import _Frozen


class CatalogImportResult(_Frozen):
    """``catalog import``: rows read, rows written, rows already stored unchanged."""

    file: str
    offerings: int = Field(ge=0)
    changed: int = Field(ge=0, description="New or changed rows written")
    already_present: int = Field(ge=0, description="Rows stored before, unchanged (skipped)")
    spot_prices_kept: int = Field(
        ge=0, description="Rows without a spot price that kept the one their key already had"
    )


class CatalogImportRecord(_Frozen):
    """One row of ``catalog imports``."""

    file: str
    name: str
    sha256: str
    rows: int = Field(ge=0, description="Offerings in the file when it was imported")
    offerings_held: int = Field(ge=0, description="Of those, still held by this import")
    imported_at: datetime


class CatalogRemoval(_Frozen):
    """``catalog remove``: what was removed."""

    file: str | None = None
    key: str | None = None
    offerings_removed: int = Field(ge=0)
