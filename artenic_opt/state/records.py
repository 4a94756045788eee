"""Typed rows of the state database that have no contract in ``artenic_opt.schemas``.

The repository functions take and return these (or the shared schemas: ``TrainingAdvice``,
``JobOutcome``, ``TrainingSample``, ``ModelInfo``, ``Offering``, ``StoragePrice``). They are frozen
pydantic models, so the CLI renders them with ``model_dump(mode="json")`` like every other object,
and a row read back from the file is validated on the way out.

Decisions:

* The recommendation history and stored outcomes (``history``, ``feedback list``, dispatch
  links) are in ``state.history_records``, and the platform-side records (jobs, datasets,
  budgets, spending, sync runs) in ``state.platform_records``: ``recommend``, which reads
  catalog overlays and outcome counts only, builds none of them.
* Timestamps are timezone-aware UTC; a naive value is taken to be UTC (the platform emits naive
  timestamps on SQLite deployments).
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from artenic_opt.schemas import Offering, StoragePrice
from artenic_opt.state._codec import to_utc


class OverlayOrigin(StrEnum):
    """Where an overlay offering or storage price came from."""

    PLATFORM = "platform"
    IMPORT = "import"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


#: A timestamp normalised to UTC (naive values are taken to be UTC).
UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]


# --------------------------------------------------------------------------------------------
# Catalog overlay
# --------------------------------------------------------------------------------------------


class OverlayOffering(_Record):
    offering: Offering
    origin: OverlayOrigin
    fetched_at: UtcDatetime | None = None


class OverlayStoragePrice(_Record):
    price: StoragePrice
    origin: OverlayOrigin
    fetched_at: UtcDatetime | None = None


# --------------------------------------------------------------------------------------------
# Recommendations and outcomes
# --------------------------------------------------------------------------------------------


class ProviderOutcomeCounts(_Record):
    """Outcome tallies of one provider (the advisor's reliability factor)."""

    provider: str
    total: int = Field(ge=0)
    completed: int = Field(ge=0)

    @property
    def success_rate(self) -> float:
        return self.completed / self.total if self.total else 1.0
