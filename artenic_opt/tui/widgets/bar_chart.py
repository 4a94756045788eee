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
        label_width = min(max(len(bar.label) for bar in self.bars), _MAX_LABEL)
        value_width = max(len(bar.value_text) for bar in self.bars)
        # Two spaces after the label, one before the value, and room for the highlight mark.
        bar_width = max(width - label_width - value_width - 5, 1)
        maximum = max(bar.value for bar in self.bars)
        for index, bar in enumerate(self.bars):
            blocks = bar_text(bar.value, maximum, bar_width)
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(bar.label[:label_width].ljust(label_width), self.style_of("axis"))
            line.append("  ")
            line.append(blocks, self.series_style(bar.series))
            line.append(" " * (bar_width - len(blocks) + 1))
            line.append(bar.value_text.rjust(value_width))
            if index == self.highlight:
                line.append(" ◀", self.style_of("marker"))
            lines.append(line)
        return Text("\n").join(lines)
