"""Look-back windows and time buckets of the spending history.

Decisions:

* **Periods.** ``parse_period`` accepts ``<N><unit>`` with unit ``d`` (days), ``w`` (weeks),
  ``m`` (calendar months) or ``y`` (calendar years), for example ``30d``, ``12w``, ``6m``,
  ``1y``. Months and years are calendar arithmetic (six months before 31 August is 29 February
  in a leap year, the day clamped to the month's end), not fixed 30-day blocks, so "6m" means what
  a person means by it. The window is ``[now - period, now]`` with both ends inclusive.
* **Buckets** are UTC calendar days, ISO weeks (Monday to Sunday, labelled ``2026-W48``) and
  calendar months (``2026-11``). The timeline bucket follows the window: days up to 31 days,
  weeks up to 26 weeks, months beyond, unless the caller picks one.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import (
    SpendRecord,
)
from artenic_opt.types import Period

if TYPE_CHECKING:
    pass


_UNIT_NAMES = {"d": "day", "w": "week", "m": "month", "y": "year"}
_MAX_AMOUNT = {"d": 36_500, "w": 5_200, "m": 1_200, "y": 100}
ACCEPTED_PERIODS = "a whole number and a unit d, w, m or y, such as 30d, 12w, 6m, 90d or 1y"


def _shift_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved back by ``months`` calendar months, the day clamped to the month end."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month0 = divmod(index, 12)
    if year < 1:
        raise InvalidInputError(f"period: {months} months reaches before year 1")
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


@dataclass(frozen=True, slots=True)
class LookbackWindow:
    """A parsed period such as ``30d``: how far back from "now" the analysis looks."""

    amount: int
    unit: str

    @property
    def text(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def approx_days(self) -> float:
        """Length in days, months and years at their Gregorian average (for monthly rates)."""
        per_unit = {"d": 1.0, "w": 7.0, "m": 365.2425 / 12.0, "y": 365.2425}
        return self.amount * per_unit[self.unit]

    def start(self, now: datetime) -> datetime:
        if self.unit == "d":
            return now - timedelta(days=self.amount)
        if self.unit == "w":
            return now - timedelta(weeks=self.amount)
        months = self.amount * (12 if self.unit == "y" else 1)
        return _shift_months(now, months)

    def describe(self) -> str:
        name = _UNIT_NAMES[self.unit]
        return f"{self.amount} {name}{'s' if self.amount != 1 else ''}"


def parse_period(text: str) -> LookbackWindow:
    """Parse ``30d``, ``12w``, ``6m``, ``1y`` ...; anything else is an ``InvalidInputError``.

    Surrounding blanks and upper-case units are accepted; the number must be ASCII digits.
    """
    stripped = text.strip() if isinstance(text, str) else ""
    unit = stripped[-1:].lower()
    number = stripped[:-1].strip()
    if unit not in _UNIT_NAMES or not (number.isascii() and number.isdigit()):
        raise InvalidInputError(f"period: {text!r} is not a period; use {ACCEPTED_PERIODS}")
    amount = int(number)
    if amount < 1:
        raise InvalidInputError(f"period: {text!r} must be at least 1{unit}")
    if amount > _MAX_AMOUNT[unit]:
        raise InvalidInputError(
            f"period: {text!r} is longer than the {_MAX_AMOUNT[unit]}{unit} allowed"
        )
    return LookbackWindow(amount=amount, unit=unit)


def bucket_start(moment: datetime, period: Period) -> datetime:
    """Start (UTC midnight) of the day, ISO week or calendar month containing ``moment``."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def bucket_label(start: datetime, period: Period) -> str:
    if period is Period.DAY:
        return start.strftime("%Y-%m-%d")
    if period is Period.WEEK:
        iso = start.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    return start.strftime("%Y-%m")


def auto_bucket(window: LookbackWindow) -> Period:
    days = window.approx_days
    if days <= 31:
        return Period.DAY
    if days <= 26 * 7:
        return Period.WEEK
    return Period.MONTH


def now_utc(now: datetime | None) -> datetime:
    """``now`` as aware UTC (naive is taken as UTC); the current time when None."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def select_window(
    records: Iterable[SpendRecord], window: LookbackWindow, now: datetime
) -> tuple[list[SpendRecord], int, datetime]:
    """Records inside ``[start, now]`` (sorted by time), how many fell outside, and start."""
    start = window.start(now)
    inside: list[SpendRecord] = []
    outside = 0
    for record in records:
        if start <= record.timestamp <= now:
            inside.append(record)
        else:
            outside += 1
    inside.sort(key=lambda r: (r.timestamp, r.record_id))
    return inside, outside, start
