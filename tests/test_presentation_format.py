"""The formatters the CLI tables and the dashboard share, and the text cleaning of user data."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, strategies as st

from artenic_opt.presentation import format as fmt


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1234.5, "USD", "1,234 USD"),
        (12.304, "USD", "12.30 USD"),
        (0.0116, "USD", "0.0116 USD"),
        (0, "USD", "0.00 USD"),
        (-3.1, "EUR", "-3.10 EUR"),
        (-0.00001, "EUR", "0.0000 EUR"),
        (12, "CHF", "12.00 CHF"),
        (None, "USD", "-"),
        (5, None, "-"),
    ],
)
def test_money_keeps_its_currency(amount: float | None, currency: str | None, text: str) -> None:
    assert fmt.money(amount, currency) == text


def test_money_with_fixed_decimals_for_axes() -> None:
    assert fmt.money(1234.5, "USD", decimals=0) == "1,234 USD"
    assert fmt.money(0.5, "USD", decimals=2) == "0.50 USD"


def test_hours_read_like_speech() -> None:
    assert fmt.hours(0.5) == "30 min"
    assert fmt.hours(3.25) == "3.2 h"
    assert fmt.hours(100) == "4 d 4 h"
    # 71.6 h is 2 d 23.6 h: rounded to whole hours first, never "2 d 24 h".
    assert fmt.hours(71.6) == "3 d 0 h"
    assert fmt.hours(None) == "-"


def test_sizes_in_binary_units() -> None:
    assert fmt.size(512) == "512 B"
    assert fmt.size(1536) == "1.5 KiB"
    assert fmt.size(3 * 1024**3) == "3.0 GiB"
    assert fmt.size(5 * 1024**6) == "5120.0 PiB"
    assert fmt.size(None) == "-"


def test_compact_axis_labels() -> None:
    assert fmt.compact(950) == "950"
    assert fmt.compact(2500) == "2.5k"
    assert fmt.compact(1_200_000) == "1.2M"
    assert fmt.compact(3e9) == "3G"
    assert fmt.compact(0.25) == "0.25"
    assert fmt.compact(40) == "40"


def test_small_formats() -> None:
    assert fmt.ratio(0.84213) == "0.842"
    assert fmt.ratio(None) == "-"
    assert fmt.percent(0.42) == "42%"
    assert fmt.percent(0.4251, decimals=1) == "42.5%"
    assert fmt.percent(None) == "-"
    assert fmt.when(datetime(2026, 11, 27, 14, 5, tzinfo=UTC)) == "2026-11-27 14:05"
    assert fmt.when(date(2026, 11, 27)) == "2026-11-27"
    assert fmt.when(None) == "-"
    assert fmt.months(None) == "-"
    assert fmt.months(0.01) == "now"
    assert fmt.months(3.21) == "3.2 mo"
    assert fmt.capacity(True) == "spot"
    assert fmt.capacity(False) == "on-demand"
    assert fmt.capacity(None) == "-"


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ((8, "H100 SXM", 80.0), "8x H100 SXM 80GB"),
        ((1, "A100 80GB", 80.0), "1x A100 80GB"),
        ((8, "A100 80GB", 80.0, 2), "2 x 8x A100 80GB"),
        ((0, None, None), "CPU"),
        ((0, None, None, 3), "3 x CPU"),
        ((1, "L4", None), "1x L4"),
    ],
)
def test_gpu_descriptions(args: tuple[object, ...], text: str) -> None:
    assert fmt.gpus(*args) == text  # type: ignore[arg-type]


def test_clean_shows_control_characters_as_escapes() -> None:
    assert fmt.clean("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert fmt.clean("a\nb\tc\rd\x00e\x7f\x9b") == "a\\nb\\tc\\rd\\x00e\\x7f\\x9b"
    assert fmt.clean("evil\u202egnp.exe") == "evil\\u202egnp.exe"
    assert fmt.clean("plain [bold] café 東京") == "plain [bold] café 東京"
    assert fmt.clean(42) == "42"
    assert fmt.clean_lines("one\x1b\ntwo") == "one\\x1b\ntwo"


@given(st.text())
def test_cleaned_text_holds_no_control_character(text: str) -> None:
    cleaned = fmt.clean(text)
    assert not any(
        ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in cleaned
    )
    # Nothing is lost: printable text is unchanged.
    if text.isprintable():
        assert cleaned == text


def test_importing_the_formatters_loads_neither_rich_nor_textual() -> None:
    code = (
        "import sys, artenic_opt.presentation.format; "
        "print(sorted(m for m in ('rich', 'textual', 'typer') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
