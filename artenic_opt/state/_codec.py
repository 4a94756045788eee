"""How Python values are written to and read from SQLite columns.

Decisions:

* Timestamps are stored as text in one fixed UTC format (``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``),
  so that string order is time order and ``WHERE recorded_at >= ?`` works on an index. A naive
  datetime is taken to be UTC: the platform emits naive timestamps on SQLite deployments and means
  UTC by them.
* Dates are ISO ``YYYY-MM-DD`` text; booleans are 0/1 integers.
* JSON columns are compact, key-sorted JSON. NaN is allowed in feature rows (LightGBM reads it as a
  missing value), so ``allow_nan`` stays on; Python's ``json`` reads it back.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from artenic_opt.errors import StateError

R = TypeVar("R")

#: Years of fewer than four digits are zero-padded (``isoformat``; ``strftime("%Y")`` is not
#: on glibc, which wrote year 1 as ``1-01-01...``, text ``fromisoformat`` cannot read back).
_UNPADDED_YEAR = re.compile(r"^(\d{1,3})-")


def to_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def encode_datetime(value: datetime) -> str:
    return to_utc(value).isoformat(timespec="microseconds")


def encode_optional_datetime(value: datetime | None) -> str | None:
    return None if value is None else encode_datetime(value)


def decode_datetime(value: str) -> datetime:
    padded = _UNPADDED_YEAR.sub(lambda m: f"{int(m.group(1)):04d}-", value)
    return to_utc(datetime.fromisoformat(padded))


def decode_optional_datetime(value: str | None) -> datetime | None:
    return None if value is None else decode_datetime(value)


def encode_date(value: date) -> str:
    return value.isoformat()


def decode_date(value: str) -> date:
    return date.fromisoformat(value)


def encode_bool(value: bool) -> int:
    return 1 if value else 0


def decode_bool(value: int | None) -> bool:
    return bool(value)


def encode_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def encode_optional_json(value: Any) -> str | None:
    return None if value is None else encode_json(value)


def decode_json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def utc_now() -> datetime:
    return datetime.now(UTC)


def reads_row(
    table: str, *, out_of_bounds_passes: bool = False
) -> Callable[[Callable[[dict[str, Any]], R]], Callable[[dict[str, Any]], R]]:
    """Turn a row mapper's failure on damaged stored data into one ``StateError`` (exit 2).

    A row whose JSON or timestamp text cannot be read (the file was edited by hand, or damaged)
    otherwise surfaced as an internal error of several lines. With ``out_of_bounds_passes``,
    pydantic's ``ValidationError`` is left to the caller, which skips rows that break today's
    bounds (``_valid_outcome``, ``_valid_offering``); invalid JSON is damage either way.
    """
    from pydantic import ValidationError

    def decorate(func: Callable[[dict[str, Any]], R]) -> Callable[[dict[str, Any]], R]:
        @functools.wraps(func)
        def read(row: dict[str, Any]) -> R:
            try:
                return func(row)
            except ValidationError as exc:
                damaged = any(e["type"] == "json_invalid" for e in exc.errors())
                if out_of_bounds_passes and not damaged:
                    raise
                raise unreadable_row(table, row, exc) from None
            except (ValueError, TypeError, KeyError, RecursionError) as exc:
                raise unreadable_row(table, row, exc) from None

        return read

    return decorate


def unreadable_row(table: str, row: dict[str, Any], exc: BaseException) -> StateError:
    """The one-line error of a stored row that cannot be read back."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        text = "; ".join(str(error["msg"]) for error in exc.errors())
    else:
        text = str(exc)
    detail = " ".join(text.split())[:200]
    key = row.get("id", "?")
    return StateError(
        f"stored {table} row {key} cannot be read ({type(exc).__name__}: {detail}): the state "
        "file is damaged; restore a backup, or remove that row"
    )
