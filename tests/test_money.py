"""Exchange rates: conversion math, immutability, and the errors for missing or bad rates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates, normalize_currency
from artenic_opt.errors import CurrencyError, InvalidInputError

RATES = ExchangeRates({"EUR": 0.92, "GBP": 0.8, "JPY": 150.0}, source="test table")
CODES = st.sampled_from(["USD", "EUR", "GBP", "JPY"])
AMOUNTS = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)


def test_default_rates_are_the_platform_reference() -> None:
    assert dict(DEFAULT_RATES) == {"USD": 1.0, "EUR": 0.92}
    assert "0.92" in DEFAULT_RATES.source and "platform" in DEFAULT_RATES.source
    assert DEFAULT_RATES.convert(100, "USD", "EUR") == pytest.approx(92)
    assert DEFAULT_RATES.convert(92, "EUR", "USD") == pytest.approx(100)


def test_mapping_behaviour_and_usd_pivot() -> None:
    assert RATES["USD"] == 1.0
    assert set(RATES) == {"USD", "EUR", "GBP", "JPY"}
    assert len(RATES) == 4
    assert dict(RATES.rates) == dict(RATES)
    assert "source='test table'" in repr(RATES)


def test_cross_rate_goes_through_usd() -> None:
    assert RATES.convert(80, "GBP", "EUR") == pytest.approx(92)
    assert RATES.factor("eur", "jpy") == pytest.approx(150 / 0.92)


def test_same_currency_needs_no_rate() -> None:
    assert ExchangeRates({}, source="empty").convert(5, "CHF", "chf") == 5


def test_missing_rate_names_both_currencies_and_the_fix() -> None:
    with pytest.raises(CurrencyError) as err:
        DEFAULT_RATES.convert(1, "EUR", "GBP")
    assert err.value.message.startswith("no exchange rate from EUR to GBP; set one with ")
    assert "exchange_rates.GBP" in err.value.message


@pytest.mark.parametrize(
    ("table", "pattern"),
    [
        ({"EUR": 0}, r"exchange_rates\.EUR: must be greater than 0"),
        ({"EUR": -1}, r"exchange_rates\.EUR: must be greater than 0"),
        ({"EUR": math.inf}, r"exchange_rates\.EUR: must be greater than 0"),
        ({"EUR": "x"}, r"exchange_rates\.EUR: 'x' is not a number"),
        ({"EURO": 1}, r"currency: 'EURO' is not an ISO currency code"),
        ({"USD": 2}, r"exchange_rates\.USD: .*USD must be 1"),
    ],
)
def test_bad_tables_are_rejected(table: dict[str, object], pattern: str) -> None:
    with pytest.raises(InvalidInputError, match=pattern):
        ExchangeRates(table, source="bad")  # type: ignore[arg-type]


def test_immutable() -> None:
    with pytest.raises(AttributeError):
        RATES.source = "other"
    with pytest.raises(TypeError):
        RATES.rates["EUR"] = 1.0  # type: ignore[index]


def test_updated_returns_a_new_table() -> None:
    more = DEFAULT_RATES.updated({"GBP": 0.8}, source="config file")
    assert more["GBP"] == 0.8 and more["EUR"] == 0.92
    assert more.source == "config file"
    assert "GBP" not in DEFAULT_RATES


def test_normalize_currency() -> None:
    assert normalize_currency(" eur ") == "EUR"
    with pytest.raises(InvalidInputError):
        normalize_currency("€")


def test_convert_array_per_row_codes_keeps_nan() -> None:
    out = RATES.convert_array([1.0, 2.0, math.nan, 3.0], ["USD", "EUR", "EUR", "GBP"], "USD")
    assert out[0] == 1.0
    assert out[1] == pytest.approx(2 / 0.92)
    assert math.isnan(out[2])
    assert out[3] == pytest.approx(3 / 0.8)
    single = RATES.convert_array(np.array([1.0, 2.0]), "USD", "EUR")
    assert single.tolist() == pytest.approx([0.92, 1.84])
    assert RATES.convert_array([], [], "EUR").size == 0


def test_convert_array_errors() -> None:
    with pytest.raises(InvalidInputError, match="2 currency codes for 3 amounts"):
        RATES.convert_array([1.0, 2.0, 3.0], ["USD", "EUR"], "USD")
    with pytest.raises(CurrencyError, match="CHF"):
        RATES.convert_array([1.0], ["CHF"], "USD")


@given(AMOUNTS, CODES, CODES)
def test_round_trip(amount: float, a: str, b: str) -> None:
    there = RATES.convert(amount, a, b)
    assert RATES.convert(there, b, a) == pytest.approx(amount, rel=1e-12, abs=1e-9)


@given(st.lists(st.tuples(AMOUNTS, CODES), max_size=20), CODES)
def test_array_matches_scalar(rows: list[tuple[float, str]], target: str) -> None:
    amounts = [amount for amount, _ in rows]
    codes = [code for _, code in rows]
    out = RATES.convert_array(amounts, np.array(codes, dtype=np.str_), target)
    expected = [RATES.convert(amount, code, target) for amount, code in rows]
    assert out.tolist() == pytest.approx(expected)
