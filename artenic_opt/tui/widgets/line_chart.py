"""A multi-series line chart on a braille canvas, with marked points and a legend.

The cost-trends view plots each provider's spend per time bucket with it and marks anomalies.
Layout, top to bottom: the plot with its value axis on the left, the time axis with the first,
middle and last bucket labels, then a legend line. The value axis starts at zero (spend is never
negative, and a chart that starts elsewhere exaggerates changes) and ends at a round figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive

from artenic_opt.presentation import format as fmt
from artenic_opt.tui.widgets.canvas import BrailleCanvas, nice_ceiling, scale
from artenic_opt.tui.widgets.chart import MARKER_SERIES, ChartWidget

_MIN_PLOT_ROWS = 2


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float, ...]
    series: int


@dataclass(frozen=True)
class Marker:
    """A point to mark: bucket ``index`` at ``value``."""

    index: int
    value: float
    char: str = "◆"


def x_position(index: int, count: int, dot_width: int) -> int:
    """Dot column of bucket ``index`` of ``count`` spread over the plot's width."""
    if count <= 1:
        return dot_width // 2
    return round(index * (dot_width - 1) / (count - 1))


def place_labels(labels: Sequence[str], width: int) -> str:
    """The first, middle and last labels on one line of ``width`` columns, where they fit."""
    if not labels or width <= 0:
        return ""
    line = [" "] * width

    def put(text: str, start: int) -> bool:
        start = max(0, min(start, width - len(text)))
        end = start + len(text)
        # Keep a gap of one column so two labels never read as one.
        if end > width or any(c != " " for c in line[max(start - 1, 0) : end + 1]):
            return False
        line[start:end] = list(text)
        return True

    put(labels[0], 0)
    if len(labels) > 1:
        put(labels[-1], width - len(labels[-1]))
    if len(labels) > 2:
        index = len(labels) // 2
        middle = labels[index]
        centre = round(index * (width - 1) / (len(labels) - 1))
        put(middle, centre - len(middle) // 2)
    return "".join(line).rstrip()


class LineChart(ChartWidget):
    """Series of values over shared buckets, drawn as braille lines."""

    DEFAULT_CSS = """
    LineChart {
        height: 12;
    }
    """

    series: reactive[tuple[Series, ...]] = reactive(())
    markers: reactive[tuple[Marker, ...]] = reactive(())

    def __init__(
        self,
        *,
        value_format: Callable[[float], str] = fmt.compact,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.value_format = value_format
        self.bucket_labels: tuple[str, ...] = ()

    def set_data(
        self,
        bucket_labels: Sequence[str],
        series: Sequence[Series],
        markers: Sequence[Marker] = (),
    ) -> None:
        self.bucket_labels = tuple(bucket_labels)
        self.markers = tuple(markers)
        self.series = tuple(series)
        self.refresh()

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        values = [v for s in self.series for v in s.values]
        if not self.bucket_labels or not values:
            return Text("nothing to plot", style=self.style_of("dim"))
        top = nice_ceiling(max(max(values), *(m.value for m in self.markers), 0.0))
        axis_labels = [self.value_format(top), self.value_format(top / 2), self.value_format(0)]
        label_width = max(len(label) for label in axis_labels)
        plot_width = max(width - label_width - 1, 2)
        plot_rows = max(height - 3, _MIN_PLOT_ROWS)
        canvas = BrailleCanvas(plot_width, plot_rows)
        count = len(self.bucket_labels)
        for item in self.series:
            points = [
                (x_position(i, count, canvas.dot_width), scale(v, 0.0, top, canvas.dot_height))
                for i, v in enumerate(item.values)
            ]
            if len(points) == 1:
                canvas.set_dot(*points[0], series=item.series)
            for (x0, y0), (x1, y1) in itertools.pairwise(points):
                canvas.line(x0, y0, x1, y1, series=item.series)
        for marker in self.markers:
            canvas.marker(
                x_position(marker.index, count, canvas.dot_width),
                scale(marker.value, 0.0, top, canvas.dot_height),
                marker.char,
                series=MARKER_SERIES,
            )

        axis = self.style_of("axis")
        lines: list[Text] = []
        # Label the rows holding the dots of 0, half the top and the top exactly.
        labelled = {
            plot_rows - 1 - scale(value, 0.0, top, canvas.dot_height) // 4: label
            for value, label in (
                (top, axis_labels[0]),
                (top / 2, axis_labels[1]),
                (0.0, axis_labels[2]),
            )
        }
        for row, cells in enumerate(canvas.rows()):
            label = labelled.get(row, "")
            line = Text(no_wrap=True)
            line.append(label.rjust(label_width) + "┤", axis)
            line.append_text(self.canvas_line(cells))
            lines.append(line)
        lines.append(Text(" " * label_width + "└" + "─" * plot_width, style=axis))
        lines.append(
            Text(" " * (label_width + 1) + place_labels(self.bucket_labels, plot_width), style=axis)
        )
        lines.append(self._legend())
        return Text("\n").join(lines)

    def _legend(self) -> Text:
        legend = Text(no_wrap=True, overflow="ellipsis")
        for item in self.series:
            legend.append("━━ ", self.series_style(item.series))
            legend.append(f"{item.label}  ")
        if self.markers:
            legend.append(self.markers[0].char, self.style_of("marker"))
            legend.append(" anomaly")
        return legend
