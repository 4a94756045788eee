"""A scatter plot on a braille canvas: the providers view's cost against time picture.

Points off the Pareto frontier are dim dots; frontier points are joined in order of time, and
picked points (cheapest, fastest, balanced) are drawn as marker characters. An axis whose values
span more than ``LOG_SPAN`` (a 1-GPU and a 64-GPU job easily differ 50-fold in hours) switches to
a log scale and says so, so that the interesting corner is not squeezed into one cell.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive

from artenic_opt.presentation import format as fmt
from artenic_opt.tui.widgets.canvas import BrailleCanvas, scale
from artenic_opt.tui.widgets.chart import DIM_SERIES, MARKER_SERIES, ChartWidget

LOG_SPAN = 20.0


@dataclass(frozen=True)
class ScatterPoint:
    x: float
    y: float
    series: int = 0
    on_frontier: bool = False
    marker: str | None = None


@dataclass(frozen=True)
class Axis:
    """Maps values onto dots, on a log scale when the values span more than ``LOG_SPAN``."""

    low: float
    high: float
    log: bool

    @classmethod
    def fit(cls, values: Sequence[float]) -> Axis:
        positive = [v for v in values if v > 0]
        low, high = min(values), max(values)
        log = bool(positive) and len(positive) == len(values) and high / low > LOG_SPAN
        return cls(low, high, log)

    def dot(self, value: float, size: int) -> int:
        if self.log:
            return scale(math.log10(value), math.log10(self.low), math.log10(self.high), size)
        return scale(value, self.low, self.high, size)


class ScatterPlot(ChartWidget):
    DEFAULT_CSS = """
    ScatterPlot {
        height: 12;
    }
    """

    points: reactive[tuple[ScatterPoint, ...]] = reactive(())

    def __init__(
        self,
        *,
        x_format: Callable[[float], str] = fmt.compact,
        y_format: Callable[[float], str] = fmt.compact,
        x_title: str = "x",
        legend: Sequence[tuple[str, str, int]] = (),
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.x_format = x_format
        self.y_format = y_format
        self.x_title = x_title
        self.legend = tuple(legend)

    def set_points(self, points: Sequence[ScatterPoint]) -> None:
        self.points = tuple(points)

    def render(self) -> Text:
        if not self.points:
            return Text("nothing to plot", style=self.style_of("dim"))
        width, height = self.content_size.width, self.content_size.height
        x_axis = Axis.fit([p.x for p in self.points])
        y_axis = Axis.fit([p.y for p in self.points])
        y_labels = (self.y_format(y_axis.high), self.y_format(y_axis.low))
        label_width = max(len(label) for label in y_labels)
        canvas = BrailleCanvas(max(width - label_width - 1, 2), max(height - 3, 2))

        def dot(point: ScatterPoint) -> tuple[int, int]:
            return x_axis.dot(point.x, canvas.dot_width), y_axis.dot(point.y, canvas.dot_height)

        for point in self.points:
            if not point.on_frontier:
                canvas.set_dot(*dot(point), series=DIM_SERIES)
        frontier = sorted((p for p in self.points if p.on_frontier), key=lambda p: (p.x, p.y))
        for first, second in itertools.pairwise(frontier):
            canvas.line(*dot(first), *dot(second), series=first.series)
        for point in frontier:
            canvas.set_dot(*dot(point), series=point.series)
        for point in self.points:
            if point.marker:
                canvas.marker(*dot(point), point.marker, series=MARKER_SERIES)

        axis = self.style_of("axis")
        lines: list[Text] = []
        rows = canvas.rows()
        for index, cells in enumerate(rows):
            label = y_labels[0] if index == 0 else y_labels[1] if index == len(rows) - 1 else ""
            line = Text(no_wrap=True)
            line.append(label.rjust(label_width) + "┤", axis)
            line.append_text(self.canvas_line(cells))
            lines.append(line)
        lines.append(Text(" " * label_width + "└" + "─" * canvas.width, style=axis))
        scale_note = " (log)" if x_axis.log else ""
        low, high = self.x_format(x_axis.low), self.x_format(x_axis.high)
        middle = f"{self.x_title}{scale_note}"
        gap = canvas.width - len(low) - len(high)
        x_line = (
            low + middle.center(gap) + high if gap >= len(middle) + 2 else low.ljust(gap) + high
        )
        lines.append(Text(" " * (label_width + 1) + x_line, style=axis, no_wrap=True))
        lines.append(self._legend(y_axis.log))
        return Text("\n").join(lines)

    def _legend(self, y_log: bool) -> Text:
        legend = Text(no_wrap=True, overflow="ellipsis")
        for symbol, meaning, series in self.legend:
            legend.append(symbol, self.series_style(series))
            legend.append(f" {meaning}  ")
        if y_log:
            legend.append("cost axis: log")
        return legend
