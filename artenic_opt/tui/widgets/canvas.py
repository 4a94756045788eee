"""A braille dot canvas: the drawing surface of the dashboard's line chart and scatter plot.

Each terminal cell holds a 2 x 4 grid of braille dots (U+2800 block), so a ``w x h`` cell canvas
is a ``2w x 4h`` dot grid. Pure Python and free of Textual, so that what a chart draws can be
tested without running an app.

Decisions:

* Dot ``y`` grows upwards (``y = 0`` is the bottom row) because every chart here plots values
  that grow upwards; the conversion to terminal rows happens once, in ``rows``.
* A cell keeps the colour of the last series that drew in it. Braille cannot colour single dots,
  and "last drawn wins" lets a caller decide which series stays on top by drawing it last.
* Markers (a whole character such as ``◆``) replace the braille of their cell; they mark points
  that must stay readable, like anomalies or the picks on a Pareto frontier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BRAILLE_BASE = 0x2800
# Bit of each dot, indexed [x % 2][3 - y % 4] (the braille dot numbering runs top to bottom).
_DOT_BITS: tuple[tuple[int, int, int, int], tuple[int, int, int, int]] = (
    (0x01, 0x02, 0x04, 0x40),
    (0x08, 0x10, 0x20, 0x80),
)


@dataclass(frozen=True)
class CanvasCell:
    """One rendered terminal cell: its character and the series index that coloured it."""

    char: str
    series: int | None


@dataclass
class BrailleCanvas:
    """A grid of ``width x height`` terminal cells to plot dots, lines and markers on."""

    width: int
    height: int
    _bits: list[list[int]] = field(init=False, repr=False)
    _colour: list[list[int | None]] = field(init=False, repr=False)
    _markers: dict[tuple[int, int], tuple[str, int | None]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError("a canvas needs at least one cell in each direction")
        self._bits = [[0] * self.width for _ in range(self.height)]
        self._colour = [[None] * self.width for _ in range(self.height)]
        self._markers = {}

    @property
    def dot_width(self) -> int:
        return self.width * 2

    @property
    def dot_height(self) -> int:
        return self.height * 4

    def set_dot(self, x: int, y: int, series: int | None = None) -> None:
        """Light the dot at ``(x, y)``; dots outside the canvas are ignored (clipping)."""
        if not (0 <= x < self.dot_width and 0 <= y < self.dot_height):
            return
        row = self.height - 1 - y // 4
        column = x // 2
        self._bits[row][column] |= _DOT_BITS[x % 2][3 - y % 4]
        if series is not None:
            self._colour[row][column] = series

    def line(self, x0: int, y0: int, x1: int, y1: int, series: int | None = None) -> None:
        """Draw a straight line of dots between two points (Bresenham, both ends included)."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        step_x = 1 if x0 < x1 else -1
        step_y = 1 if y0 < y1 else -1
        error = dx + dy
        while True:
            self.set_dot(x0, y0, series)
            if x0 == x1 and y0 == y1:
                return
            doubled = 2 * error
            if doubled >= dy:
                error += dy
                x0 += step_x
            if doubled <= dx:
                error += dx
                y0 += step_y

    def marker(self, x: int, y: int, char: str, series: int | None = None) -> None:
        """Put ``char`` in the cell that holds dot ``(x, y)``, replacing its braille."""
        if not (0 <= x < self.dot_width and 0 <= y < self.dot_height):
            return
        self._markers[(self.height - 1 - y // 4, x // 2)] = (char, series)

    def rows(self) -> list[list[CanvasCell]]:
        """The canvas as terminal rows, top row first; empty cells are spaces."""
        rendered: list[list[CanvasCell]] = []
        for row_index in range(self.height):
            cells: list[CanvasCell] = []
            for column in range(self.width):
                mark = self._markers.get((row_index, column))
                if mark is not None:
                    cells.append(CanvasCell(mark[0], mark[1]))
                    continue
                bits = self._bits[row_index][column]
                if bits:
                    cells.append(
                        CanvasCell(chr(BRAILLE_BASE + bits), self._colour[row_index][column])
                    )
                else:
                    cells.append(CanvasCell(" ", None))
            rendered.append(cells)
        return rendered


def scale(value: float, low: float, high: float, size: int) -> int:
    """Map ``value`` in ``[low, high]`` onto ``0 .. size - 1`` dots (a flat range maps to 0)."""
    if size <= 1 or high <= low:
        return 0
    position = (value - low) / (high - low) * (size - 1)
    return max(0, min(size - 1, round(position)))


def nice_ceiling(value: float) -> float:
    """The smallest "round" number (1, 2, 2.5 or 5 times a power of ten) at or above ``value``.

    Axis tops land on round figures so that the labels read as 500 or 2.5k rather than 473.18.
    """
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** _floor_log10(value)
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= factor * magnitude * (1 + 1e-9):
            return factor * magnitude
    return 10.0 * magnitude  # pragma: no cover - the loop always returns by factor 10


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value /= 10
        exponent += 1
    while value < 1:
        value *= 10
        exponent -= 1
    return exponent
