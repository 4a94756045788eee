"""A horizontal bar chart drawn with Unicode block characters.

One row per bar: ``label  ███████▍   value``. Bars are scaled to the largest value and drawn to an
eighth of a cell with the partial blocks ``▏▎▍▌▋▊▉``. Each bar keeps the colour its caller gives
it (the dashboard gives a provider the same colour in every chart), and ``highlight`` marks one
bar (the cheapest) with ``◀``. Chosen over a plotting dependency because a bar is one line of
text: it renders the same at 80 columns and in SVG snapshots, and follows the theme through CSS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive

from artenic_opt.tui.widgets.chart import ChartWidget

_PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"
_FULL_BLOCK = "█"
_MAX_LABEL = 16


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    value_text: str
    series: int = 0


def bar_text(value: float, maximum: float, width: int) -> str:
    """The blocks of a bar of ``value`` when ``maximum`` fills ``width`` cells."""
    if width <= 0 or maximum <= 0 or value <= 0:
        return ""
    eighths = round(min(value / maximum, 1.0) * width * 8)
    full, partial = divmod(eighths, 8)
    text = _FULL_BLOCK * full + (_PARTIAL_BLOCKS[partial] if partial else "")
    # A positive value never disappears: the smallest bar is one eighth wide.
    return text or _PARTIAL_BLOCKS[1]


class BarChart(ChartWidget):
    """Horizontal bars with a title line; ``height: auto`` fits the number of bars."""

    DEFAULT_CSS = """
    BarChart {
        height: auto;
        /* The height counts one line per bar: a wrapped line would push the last bars out. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    bars: reactive[tuple[Bar, ...]] = reactive((), layout=True)
    highlight: reactive[int | None] = reactive(None)

    def __init__(
        self,
        title: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = title

    def set_bars(self, bars: Sequence[Bar], *, highlight: int | None = None) -> None:
        self.bars = tuple(bars)
        self.highlight = highlight

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:  # noqa: ARG002 (Textual's signature)
        return len(self.bars) + (1 if self.title else 0) or 1

    def render(self) -> Text:
        width = self.content_size.width
        lines: list[Text] = []
        if self.title:
            lines.append(Text(self.title, style=self.style_of("label")))
        if not self.bars:
            lines.append(Text("nothing to show", style=self.style_of("dim")))
            return Text("\n").join(lines)
        value_width = max(cell_len(bar.value_text) for bar in self.bars)
        # The value and the highlight mark keep their room and a bar keeps one cell; the label
        # gives way when the chart is narrow (and disappears when nothing is left for it).
        label_width = min(max(cell_len(bar.label) for bar in self.bars), _MAX_LABEL)
        label_width = max(min(label_width, width - value_width - 6), 0)
        gap = 2 if label_width else 0
        # The gap after the label, one space before the value, and room for the highlight mark.
        bar_width = max(width - label_width - gap - value_width - 3, 1)
        maximum = max(bar.value for bar in self.bars)
        for index, bar in enumerate(self.bars):
            blocks = bar_text(bar.value, maximum, bar_width)
            line = Text()
            if label_width:
                line.append(set_cell_size(bar.label, label_width), self.style_of("axis"))
                line.append(" " * gap)
            line.append(blocks, self.series_style(bar.series))
            line.append(" " * (bar_width - len(blocks) + 1))
            line.append(bar.value_text.rjust(value_width))
            if index == self.highlight:
                line.append(" ◀", self.style_of("marker"))
            lines.append(line)
        return Text("\n").join(lines)
