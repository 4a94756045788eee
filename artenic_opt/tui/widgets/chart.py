"""Shared styling of the dashboard's charts: axis, series and marker styles come from CSS.

Every chart exposes the same component classes (``chart--axis``, ``chart--label``,
``chart--series-0`` .. ``chart--series-11``, ``chart--marker``, ``chart--dim``), coloured in
``dashboard.tcss`` for the light and the dark theme alike, so a provider keeps its colour from
one chart to the next and a theme switch recolours everything without code.
"""

from __future__ import annotations

import zlib
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from artenic_opt.tui.widgets.canvas import CanvasCell

SERIES_COUNT = 12
#: Pseudo series indices for canvas cells drawn in the dim style and in the marker style.
DIM_SERIES = -1
MARKER_SERIES = -2

# The providers of the embedded catalog get distinct colours in a fixed order, so a provider is
# the same colour in every chart and every session; others are spread by a stable hash.
_KNOWN_PROVIDERS = (
    "aws",
    "azure",
    "gcp",
    "lambda",
    "runpod",
    "ovhcloud",
    "paperspace",
    "nebius",
    "scaleway",
    "vast.ai",
    "digitalocean",
    "coreweave",
)


def series_for(provider: str) -> int:
    """The colour index of ``provider`` (case-insensitive), the same everywhere."""
    key = provider.casefold()
    if key in _KNOWN_PROVIDERS:
        return _KNOWN_PROVIDERS.index(key)
    return zlib.crc32(key.encode()) % SERIES_COUNT


class ChartWidget(Widget):
    """A widget that draws with the chart component classes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "chart--axis",
        "chart--label",
        "chart--marker",
        "chart--dim",
        *(f"chart--series-{index}" for index in range(SERIES_COUNT)),
    }

    def series_style(self, index: int | None) -> Style:
        if index is None:
            return Style()
        if index == DIM_SERIES:
            return self.get_component_rich_style("chart--dim")
        if index == MARKER_SERIES:
            return self.get_component_rich_style("chart--marker")
        return self.get_component_rich_style(f"chart--series-{index % SERIES_COUNT}")

    def style_of(self, component: str) -> Style:
        return self.get_component_rich_style(f"chart--{component}")

    def canvas_line(self, cells: list[CanvasCell]) -> Text:
        """A canvas row as styled text."""
        line = Text()
        for cell in cells:
            line.append(cell.char, self.series_style(cell.series))
        return line
