"""The loss curve of an attached log: train and validation in braille dots, the primary
finding's evidence shaded."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from assistant.safe import plain
from assistant.tui.plot import Curve, braille_plot

#: The style of each role of a cell.
STYLES = {
    "train": Style(color="cyan"),
    "val": Style(color="yellow"),
    "axis": Style(dim=True),
    "label": Style(dim=True),
    "": Style(),
}
#: The style of a curve of any other role (a loss component the primary finding is about).
OTHER = Style(color="magenta")
MARKED = Style(bgcolor="grey23")


class LossPlot(Widget):
    """Shows ``curves`` with ``span`` (start, end step) shaded; ``caption`` says what the shading is."""

    DEFAULT_CSS = """
    LossPlot { height: 12; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.curves: tuple[Curve, ...] = ()
        """The curves drawn, already reduced to a few thousand points."""
        self.span: tuple[float, float] | None = None
        """The x range shaded."""
        self.caption = ""
        """What the shaded range is (e.g. the primary finding's symptom)."""

    def show(
        self, curves: Sequence[Curve], span: tuple[float, float] | None = None, caption: str = ""
    ) -> None:
        """Draw ``curves`` with ``span`` shaded."""
        self.curves, self.span, self.caption = tuple(curves), span, caption
        self.refresh()

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        legend = Text()
        for curve in self.curves:
            legend.append("━━ ", STYLES.get(curve.role, OTHER))
            legend.append(f"{plain(curve.role)}  ")
        if self.span is not None:
            legend.append("   ", MARKED)
            legend.append(f" {plain(self.caption)}")
        if not self.curves:
            return Text("no loss curve yet", style="dim")
        rows = braille_plot(list(self.curves), width, max(3, height - 1), span=self.span)
        text = legend
        for row in rows:
            text.append("\n")
            for cell in row:
                style = STYLES.get(cell.role, OTHER)
                text.append(cell.char, style + MARKED if cell.marked else style)
        return text
