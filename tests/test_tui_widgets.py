"""Drawing and table logic of the dashboard, without running an app: canvas, bars, axes,
label placement, sorting, filtering and number formatting."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from artenic_opt.tui.widgets.bar_chart import bar_text
from artenic_opt.tui.widgets.canvas import BRAILLE_BASE, BrailleCanvas, nice_ceiling, scale
from artenic_opt.tui.widgets.chart import SERIES_COUNT, series_for
from artenic_opt.tui.widgets.line_chart import place_labels, x_position
from artenic_opt.tui.widgets.scatter_plot import Axis
from artenic_opt.tui.widgets.view_table import Column, matches, sort_rows

# -- canvas -----------------------------------------------------------------------------------


def test_bottom_left_dot_lands_in_the_last_row() -> None:
    canvas = BrailleCanvas(2, 2)
    canvas.set_dot(0, 0, series=3)
    rows = canvas.rows()
    assert rows[0][0].char == " "
    # Dot 7 of the braille cell (bottom left) is bit 0x40.
    assert rows[1][0].char == chr(BRAILLE_BASE + 0x40)
    assert rows[1][0].series == 3


def test_top_right_dot_is_dot_eight_of_the_first_row() -> None:
    canvas = BrailleCanvas(2, 2)
    canvas.set_dot(3, 7)
    assert canvas.rows()[0][1].char == chr(BRAILLE_BASE + 0x08)


def test_dots_outside_the_canvas_are_clipped() -> None:
    canvas = BrailleCanvas(1, 1)
    for x, y in ((-1, 0), (0, -1), (2, 0), (0, 4)):
        canvas.set_dot(x, y)
        canvas.marker(x, y, "X")
    assert [[c.char for c in row] for row in canvas.rows()] == [[" "]]


def test_line_lights_both_ends_and_every_column_between() -> None:
    canvas = BrailleCanvas(4, 1)
    canvas.line(0, 0, 7, 3, series=1)
    lit = {cell for cell in range(4) if canvas.rows()[0][cell].char != " "}
    assert lit == {0, 1, 2, 3}
    assert all(cell.series == 1 for cell in canvas.rows()[0])


def test_line_drawn_backwards_is_the_same_line() -> None:
    forward, backward = BrailleCanvas(5, 3), BrailleCanvas(5, 3)
    forward.line(1, 2, 9, 10)
    backward.line(9, 10, 1, 2)
    assert forward.rows() == backward.rows()


def test_marker_replaces_the_braille_of_its_cell() -> None:
    canvas = BrailleCanvas(2, 1)
    canvas.set_dot(0, 0, series=0)
    canvas.marker(1, 3, "◆", series=-2)
    row = canvas.rows()[0]
    assert row[0].char == "◆"
    assert row[0].series == -2


def test_empty_canvas_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one cell"):
        BrailleCanvas(0, 3)


@given(st.floats(0, 1000), st.integers(1, 200))
def test_scale_stays_inside_the_axis(value: float, size: int) -> None:
    assert 0 <= scale(value, 0.0, 1000.0, size) <= size - 1


def test_scale_maps_the_ends_to_the_ends() -> None:
    assert scale(0, 0, 10, 40) == 0
    assert scale(10, 0, 10, 40) == 39
    assert scale(5, 5, 5, 40) == 0  # a flat range


@given(st.floats(1e-6, 1e12, allow_nan=False))
def test_nice_ceiling_is_a_round_number_not_below_the_value(value: float) -> None:
    top = nice_ceiling(value)
    assert top >= value * (1 - 1e-9)
    assert top <= value * 10 * (1 + 1e-9)
    digits = f"{top:.6e}".split("e")[0].rstrip("0").rstrip(".")
    assert digits in {"1", "2", "2.5", "5"}


def test_nice_ceiling_of_nothing_is_one() -> None:
    assert nice_ceiling(0) == 1.0
    assert nice_ceiling(473.18) == 500


# -- bars, axes, labels -----------------------------------------------------------------------


def test_largest_bar_fills_the_width_and_others_are_proportional() -> None:
    assert bar_text(10, 10, 8) == "█" * 8
    assert bar_text(5, 10, 8) == "█" * 4
    assert bar_text(8, 16, 1) == "▌"  # half of one cell


def test_tiny_positive_bar_stays_visible_and_zero_is_empty() -> None:
    assert bar_text(0.0001, 1000, 10) == "▏"
    assert bar_text(0, 10, 10) == ""
    assert bar_text(3, 10, 0) == ""


@given(st.floats(0.001, 1e6), st.floats(0.001, 1e6), st.integers(1, 80))
def test_bar_never_exceeds_its_width(value: float, maximum: float, width: int) -> None:
    assert len(bar_text(value, maximum, width)) <= width


def test_bucket_positions_span_the_plot() -> None:
    assert x_position(0, 5, 41) == 0
    assert x_position(4, 5, 41) == 40
    assert x_position(0, 1, 40) == 20


def test_labels_at_both_ends_and_the_middle() -> None:
    line = place_labels(["2026-11-01", "2026-11-02", "2026-11-03"], 40)
    assert line.startswith("2026-11-01")
    assert line.endswith("2026-11-03")
    assert "2026-11-02" in line


def test_labels_that_would_touch_are_left_out() -> None:
    line = place_labels(["aaaa", "bbbb", "cccc"], 10)
    assert line == "aaaa  cccc"
    assert place_labels(["too long for it"], 5) == ""
    assert place_labels([], 10) == ""


def test_axis_switches_to_log_for_wide_ranges() -> None:
    assert Axis.fit([1, 100]).log
    assert not Axis.fit([1, 10]).log
    assert not Axis.fit([0, 100]).log  # log needs positive values
    wide = Axis.fit([1, 1000])
    assert wide.dot(10, 31) == 10  # one third of the way on a log scale


def test_provider_colours_are_stable_and_distinct_for_the_catalog() -> None:
    known = ["AWS", "Azure", "GCP", "Lambda", "RunPod", "OVHcloud", "Paperspace", "Nebius"]
    assert len({series_for(p) for p in known}) == len(known)
    assert series_for("aws") == series_for("AWS")
    assert 0 <= series_for("SomeNewCloud") < SERIES_COUNT


# -- sorting and filtering --------------------------------------------------------------------

ROWS = [("b", 2.0), ("A", None), ("c", 1.0), ("a", 3.0)]
BY_VALUE: Column[tuple[str, float | None]] = Column("v", "V", lambda r: r[1], lambda r: str(r[1]))
BY_NAME: Column[tuple[str, float | None]] = Column("n", "N", lambda r: r[0], lambda r: r[0])


def test_unknown_values_sort_last_in_both_directions() -> None:
    assert [r[1] for r in sort_rows(ROWS, BY_VALUE)] == [1.0, 2.0, 3.0, None]
    assert [r[1] for r in sort_rows(ROWS, BY_VALUE, reverse=True)] == [3.0, 2.0, 1.0, None]


def test_text_sorts_case_insensitively_and_stably() -> None:
    assert [r[0] for r in sort_rows(ROWS, BY_NAME)] == ["A", "a", "b", "c"]


def test_filter_needs_every_word_somewhere_in_the_row() -> None:
    assert matches(["AWS", "us-east-1", "8x H100"], "aws h100")
    assert not matches(["AWS", "us-east-1", "8x H100"], "aws a100")
    assert matches(["anything"], "   ")
