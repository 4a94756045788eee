"""Which times read from the user's files (access logs, file times) the storage optimizer keeps.

Decisions:

* A time is kept only when it converts to UTC and falls in the years 1000 to 9999 (UTC). The
  state stores timestamps as fixed-width ``YYYY-MM-DD...`` text, which holds no other year, and
  converting ``0001-01-01T00:30+01:00`` to UTC overflows. Older times that fit are harmless (the
  usage window caps a dataset's age) and later ones count as "now" (``usage_analyzer``), so only
  the unstorable ones are refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

EARLIEST: Final = datetime(1000, 1, 1, tzinfo=UTC)


def storable_utc(value: datetime) -> datetime | None:
    """``value`` in UTC (naive means UTC), or ``None`` when the state cannot store it."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        utc = aware.astimezone(UTC)
    except OverflowError:
        return None
    return utc if utc >= EARLIEST else None


def storable_from_timestamp(seconds: float) -> datetime | None:
    """A POSIX time as a UTC datetime, or ``None`` when it is out of ``datetime``'s or the state's
    range (tmpfs and btrfs keep 64-bit file times)."""
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return storable_utc(moment)


RANGE_TEXT: Final = "years 1000 to 9999 (UTC)"
