"""Text formatting shared by the dashboard's views: money, hours, sizes, times, axis labels.

Pure functions without Textual, so that the dashboard's numbers can be checked in plain unit
tests. Amounts keep their currency on screen (``$12.30`` for USD and ``€`` for EUR, the
currencies the catalog and the platform use; any other code is written out), because the
dashboard never converts money itself: it shows what the libraries computed.
"""

from __future__ import annotations

from datetime import date, datetime

DASH = "—"
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
_SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def money(amount: float | None, currency: str | None, *, decimals: int = 2) -> str:
    """``$1,234.50``, ``-€3.10`` or ``12.00 CHF``; a dash when the amount is unknown."""
    if amount is None or currency is None:
        return DASH
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.{decimals}f}"
    symbol = _SYMBOLS.get(currency)
    if symbol is None:
        return f"{sign}{digits} {currency}"
    return f"{sign}{symbol}{digits}"


def hours(value: float | None) -> str:
    """``45 min``, ``3.2 h`` or ``12 d 4 h``: the unit a person would say."""
    if value is None:
        return DASH
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    days, rest = divmod(value, 24)
    return f"{days:.0f} d {rest:.0f} h"


def size(num_bytes: int | None) -> str:
    """Binary units (object stores bill in GiB): ``1.5 GiB``."""
    if num_bytes is None:
        return DASH
    value = float(num_bytes)
    for unit in _SIZE_UNITS:
        if abs(value) < 1024 or unit == _SIZE_UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def compact(value: float) -> str:
    """Axis labels: ``950``, ``2.5k``, ``1.2M``; two significant digits are enough there."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    if magnitude >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.3g}"


def ratio(value: float | None, *, decimals: int = 3) -> str:
    return DASH if value is None else f"{value:.{decimals}f}"


def percent(share: float | None) -> str:
    """A 0..1 share as ``42%``."""
    return DASH if share is None else f"{share * 100:.0f}%"


def when(moment: datetime | date | None) -> str:
    """``2026-11-27 14:05`` (UTC, as stored) or a date alone; a dash when unknown."""
    if moment is None:
        return DASH
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.isoformat()


def months(value: float | None) -> str:
    """A payback period: ``now`` under a day's worth, ``3.2 mo``, or a dash when never."""
    if value is None:
        return DASH
    if value < 1 / 30:
        return "now"
    return f"{value:.1f} mo"
