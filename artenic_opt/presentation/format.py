"""Formatters shared by the CLI tables, the CLI's stderr lines and the dashboard.

Every function returns plain text: nothing here imports Rich or Textual, so a command that prints
JSON never pays for them and unit tests check the figures without a terminal.

Decisions:

* Money keeps its currency as its ISO code after the amount (``12.30 USD``), the way the
  libraries' reasons and warnings write it, so a table and the sentence under it read alike and
  no ``$`` is mistaken for another dollar. Precision follows magnitude: whole units from 1,000 up
  (cents are noise next to a four-figure job), cents from 1 up, and up to four decimals below 1
  so an hourly price of 0.0116 USD does not read as 0.01. One format for the CLI and the
  dashboard: before, the CLI wrote ``12.30 USD`` and the dashboard ``$12.30``.
* Durations are said the way a person says them: ``45 min``, ``3.2 h``, ``2 d 4 h``.
* An unknown value is a dash; the CLI's tables and the dashboard use the same one.
* Text that came from a user or a file is data. ``clean`` makes it safe for a terminal: every
  control character (C0, DEL, C1, and the Unicode bidirectional overrides that can reorder what a
  reader sees) is written as a visible escape (``\\x1b``, ``\\n``, ``\\u202e``), so an ANSI
  sequence in a workload name shows as typed instead of recolouring the terminal. Markup is not
  escaped here but avoided: the CLI and the dashboard draw cleaned text as Rich ``Text`` objects
  (or Textual ``Content``), which are never parsed as markup, nor for ``:emoji:`` codes.
  Escaping markup in a string is lossy (Rich's own ``escape`` does not round-trip ``\\[``), so no
  user text is ever handed to an API as a markup string.
"""

from __future__ import annotations

import re
from datetime import date, datetime

DASH = "-"
_SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")

# C0 controls, DEL, C1 controls, and the bidirectional embedding/override/isolate marks.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(text: object) -> str:
    """``text`` as a string with every control character shown as an escape (``\\x1b``)."""
    value = text if isinstance(text, str) else str(text)
    return _UNSAFE.sub(_escape_char, value)


def clean_lines(text: str) -> str:
    """Like ``clean`` but keeps line breaks: for messages that are meant to span lines."""
    return "\n".join(clean(line) for line in text.split("\n"))


def money(amount: float | None, currency: str | None, *, decimals: int | None = None) -> str:
    """``1,234 USD``, ``12.30 USD``, ``0.0116 USD``, ``-3.10 EUR``; a dash when unknown.

    ``decimals`` fixes the precision (axis labels use 0); by default it follows the magnitude.
    """
    if amount is None or currency is None:
        return DASH
    magnitude = abs(amount)
    if decimals is not None:
        digits = f"{magnitude:,.{decimals}f}"
    elif magnitude >= 1000:
        digits = f"{magnitude:,.0f}"
    elif magnitude >= 1 or magnitude == 0:
        digits = f"{magnitude:,.2f}"
    else:
        digits = f"{magnitude:.4f}"
    sign = "-" if amount < 0 and digits.strip("0.,") else ""
    return f"{sign}{digits} {clean(currency)}"


def hours(value: float | None) -> str:
    """``45 min``, ``3.2 h`` or ``12 d 4 h``: the unit a person would say."""
    if value is None:
        return DASH
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    days, rest = divmod(round(value), 24)
    return f"{days:.0f} d {rest:.0f} h"


def percent(share: float | None, *, decimals: int = 0) -> str:
    """A 0..1 share as ``42%`` (``42.5%`` with one decimal)."""
    return DASH if share is None else f"{share * 100:.{decimals}f}%"


def ratio(value: float | None, *, decimals: int = 3) -> str:
    """A score or a metric: ``0.812``."""
    return DASH if value is None else f"{value:.{decimals}f}"


def size(num_bytes: int | None) -> str:
    """Binary units (object stores bill in GiB): ``512 B``, ``1.5 GiB``."""
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


def gpus(
    count: int | None, gpu_type: str | None, memory_gb: float | None = None, nodes: int = 1
) -> str:
    """``8x H100 80GB``, ``2 x 8x A100 40GB`` for two nodes, or ``CPU`` without accelerators.

    The memory is added when the type's name does not already carry it. Like every formatter
    here it returns data, not terminal text: the CLI and the dashboard ``clean`` what they draw.
    """
    if not count or not gpu_type:
        label = "CPU"
    else:
        memory = f"{memory_gb:g}GB" if memory_gb else ""
        suffix = f" {memory}" if memory and memory not in gpu_type.replace(" ", "") else ""
        label = f"{count}x {gpu_type}{suffix}"
    return f"{nodes} x {label}" if nodes > 1 else label


def capacity(spot: bool | None) -> str:
    return DASH if spot is None else ("spot" if spot else "on-demand")
