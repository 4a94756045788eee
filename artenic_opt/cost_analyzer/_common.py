"""Small helpers shared by the cost analyzer modules: currency conversion, grouping, and the
workload label of a spend record.

Every amount the cost analyzer adds up is first converted to one display currency. Conversion
goes through an explicit rate table; without one, only amounts already in the display currency
are accepted and anything else raises ``CurrencyError`` naming the record and both currencies,
so USD is never silently added to EUR.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, TypeVar

from artenic_opt._internal.money import ExchangeRates, normalize_currency
from artenic_opt.errors import CurrencyError

if TYPE_CHECKING:
    from artenic_opt.schemas import SpendRecord

NOTHING_RECORDED = "nothing recorded yet: the history holds no finished jobs"
#: The shortest run time a rate (cost per hour) is computed over: one second. A recorded run
#: may last less (or 0 h: it failed at once), but a rate over it is noise that overflows to
#: infinity for a run of 1e-300 h.
MIN_RATE_HOURS = 1.0 / 3600.0


def hourly_rate(cost: float, hours: float) -> float | None:
    """``cost / hours``, or None when ``hours`` is below one second (``MIN_RATE_HOURS``)."""
    return cost / hours if hours >= MIN_RATE_HOURS else None


T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class Converter:
    """Converts amounts to one display currency with an explicit rate table."""

    def __init__(self, display_currency: str, rates: ExchangeRates | None = None) -> None:
        self.display_currency = normalize_currency(display_currency)
        self.rates = rates

    @property
    def rates_source(self) -> str | None:
        return None if self.rates is None else self.rates.source

    def to_display(self, amount: float, currency: str, *, what: str) -> float:
        """``amount`` in ``currency`` expressed in the display currency."""
        if normalize_currency(currency) == self.display_currency:
            return float(amount)
        if self.rates is None:
            raise CurrencyError(
                f"{what}: amount in {currency} cannot be combined with {self.display_currency} "
                "without an exchange rate (set exchange_rates in the config)"
            )
        try:
            return float(self.rates.convert(amount, currency, self.display_currency))
        except CurrencyError as exc:
            raise CurrencyError(f"{what}: {exc.message}") from None


def group_by(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """Group preserving first-seen order (callers sort the keys when order matters)."""
    groups: dict[K, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def fmt_amount(amount: float, currency: str) -> str:
    """Money in messages: two decimals with thousands separators, then the code."""
    return f"{amount:,.2f} {currency}"


def fmt_pct(share: float) -> str:
    """A share as a whole percentage when it is one, else one decimal."""
    pct = share * 100.0
    if abs(pct - round(pct)) < 1e-9:
        return f"{round(pct):d}%"
    return f"{pct:.1f}%"


def workload_label(record: SpendRecord) -> str | None:
    """A readable name for the record's workload: its name, else its query id."""
    if record.workload_name:
        return record.workload_name
    if record.workload is not None:
        return record.workload.name
    return record.query_id
