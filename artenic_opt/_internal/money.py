"""Exchange rates: the one place where an amount changes currency.

Decisions:

* A rate table is an immutable mapping ``currency -> units of that currency per 1 USD`` (so
  ``EUR = 0.92`` means 1 USD buys 0.92 EUR). USD is the pivot and is always present at 1.0; a
  conversion between two non-USD currencies goes through it.
* A missing rate is an error (``CurrencyError``) that names both currencies and the setting that
  fixes it. Nothing here ever assumes a rate of 1 for an unknown currency, so USD is never added
  to EUR by accident.
* ``DEFAULT_RATES`` holds the Artenic platform's own reference rate (platform-api.md §1.6: its
  cloud training adapters use a fixed 1 USD = 0.92 EUR; no endpoint exposes it). It is a
  reference, not a market quote; users override or extend it with ``exchange_rates`` in the
  optimizer config.
* ``convert_array`` converts a whole price column at once (one multiplication per distinct
  currency), so the catalog can be shown in one display currency without a Python loop per row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from artenic_opt.errors import CurrencyError, InvalidInputError

PIVOT_CURRENCY = "USD"
_CODE = re.compile(r"^[A-Z]{3}$")


def normalize_currency(code: str) -> str:
    """``code`` upper-cased and checked to be a three-letter ISO 4217 code."""
    text = str(code).strip().upper()
    if not _CODE.match(text):
        raise InvalidInputError(f"currency: {code!r} is not an ISO currency code like USD or EUR")
    return text


class ExchangeRates(Mapping[str, float]):
    """An immutable table of ``currency -> units per 1 USD``, plus where the rates came from."""

    __slots__ = ("_rates", "source")

    _rates: Mapping[str, float]
    source: str

    def __init__(self, rates: Mapping[str, float], *, source: str) -> None:
        table: dict[str, float] = {PIVOT_CURRENCY: 1.0}
        for raw_code, raw_rate in rates.items():
            code = normalize_currency(raw_code)
            try:
                rate = float(raw_rate)
            except (TypeError, ValueError):
                raise InvalidInputError(
                    f"exchange_rates.{code}: {raw_rate!r} is not a number"
                ) from None
            if not math.isfinite(rate) or rate <= 0:
                raise InvalidInputError(f"exchange_rates.{code}: must be greater than 0")
            if code == PIVOT_CURRENCY and rate != 1.0:
                raise InvalidInputError(
                    "exchange_rates.USD: rates are units per 1 USD, so USD must be 1"
                )
            table[code] = rate
        object.__setattr__(self, "_rates", MappingProxyType(table))
        object.__setattr__(self, "source", source)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ExchangeRates is immutable")

    def __getitem__(self, code: str) -> float:
        return self._rates[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rates)

    def __len__(self) -> int:
        return len(self._rates)

    def __repr__(self) -> str:
        return f"ExchangeRates({dict(self._rates)!r}, source={self.source!r})"

    @property
    def rates(self) -> Mapping[str, float]:
        """The table as a read-only mapping (always includes ``USD: 1.0``)."""
        return self._rates

    def updated(self, rates: Mapping[str, float], *, source: str) -> ExchangeRates:
        """A new table with ``rates`` added to (or replacing) these ones."""
        return ExchangeRates({**self._rates, **rates}, source=source)

    def factor(self, from_ccy: str, to_ccy: str) -> float:
        """The number that turns an amount in ``from_ccy`` into ``to_ccy``."""
        source = normalize_currency(from_ccy)
        target = normalize_currency(to_ccy)
        if source == target:
            return 1.0
        missing = [code for code in (source, target) if code not in self._rates]
        if missing:
            raise CurrencyError(
                f"no exchange rate from {source} to {target}; set one with "
                f"exchange_rates.{missing[0]} = <units of {missing[0]} per 1 USD> "
                "in the optimizer config"
            )
        return self._rates[target] / self._rates[source]

    def convert(self, amount: float, from_ccy: str, to_ccy: str) -> float:
        """``amount`` in ``from_ccy`` expressed in ``to_ccy``."""
        return float(amount) * self.factor(from_ccy, to_ccy)

    def convert_array(
        self, amounts: ArrayLike, from_ccy: str | ArrayLike, to_ccy: str
    ) -> NDArray[np.float64]:
        """Convert a column of amounts; ``from_ccy`` is one code or one code per amount.

        NaN amounts (a price that does not exist) stay NaN.
        """
        values = np.asarray(amounts, dtype=np.float64)
        if isinstance(from_ccy, str):
            return values * self.factor(from_ccy, to_ccy)
        codes = np.asarray(from_ccy)
        if codes.shape != values.shape:
            raise InvalidInputError(
                f"currency: {codes.shape[0] if codes.ndim else 1} currency codes for "
                f"{values.shape[0] if values.ndim else 1} amounts"
            )
        if values.size == 0:
            return values.copy()
        distinct, inverse = np.unique(codes.astype(str), return_inverse=True)
        factors = np.array([self.factor(str(code), to_ccy) for code in distinct])
        converted: NDArray[np.float64] = values * factors[inverse.reshape(values.shape)]
        return converted


DEFAULT_RATES = ExchangeRates(
    {PIVOT_CURRENCY: 1.0, "EUR": 0.92},
    source=(
        "Artenic platform reference rate: its cloud training adapters use a fixed "
        "1 USD = 0.92 EUR (platform-api.md §1.6); not a market quote"
    ),
)
