"""The knowledge-base entry beside the conversation (the symptom or the cause being asked
about), or the diagnosis once the interview ends, rendered as Markdown.

Rich renders the Markdown to styled text once per document and width; the widget shows that
text. Layout and repaint then cost no Markdown parsing, and an entry of many blocks swaps in
one step on every answer.
"""

from __future__ import annotations

import io
from functools import lru_cache

from rich.console import Console
from rich.markdown import Markdown
from rich.segment import Segment
from rich.text import Text
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.widgets import Static


@lru_cache(maxsize=64)
def markdown_text(markdown: str, width: int) -> Text:
    """``markdown`` rendered by Rich at ``width`` columns, as styled text."""
    console = Console(
        width=width,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
    )
    lines = console.render_lines(
        Markdown(markdown, hyperlinks=True), console.options.update_width(width), pad=False
    )
    rendered = Text("\n").join(_line_text(line) for line in lines)
    rendered.rstrip()
    return rendered


def _line_text(segments: list[Segment]) -> Text:
    line = Text()
    for segment in segments:
        if not segment.control:
            line.append(segment.text, segment.style)
    return line


class EntryView(VerticalScroll):
    """Shows one Markdown document; ``entry_id`` names what it is."""

    def __init__(self, markdown: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entry_id: str | None = None
        """The entry shown (``diagnosis`` for the diagnosis, None for the welcome text)."""
        self.markdown = markdown
        """The Markdown source shown."""
        self.symptom_id: str | None = None
        """The symptom the interview is on, when the entry is about it or one of its causes."""
        self._width = 0

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="entry-markdown", markup=False)

    def show(self, entry_id: str | None, markdown: str, symptom_id: str | None = None) -> None:
        """Show ``markdown`` as ``entry_id`` (in the context of ``symptom_id``); nothing
        happens when it is already shown."""
        self.symptom_id = symptom_id
        if entry_id == self.entry_id and markdown == self.markdown:
            return
        self.entry_id, self.markdown = entry_id, markdown
        self._render_markdown()
        self.scroll_home(animate=False)

    def on_resize(self, event: Resize) -> None:
        self._render_markdown()

    def _render_markdown(self) -> None:
        # one column for the vertical scrollbar, which appears when the entry is long
        width = max(20, self.content_size.width - 1)
        if not self.content_size.width:
            return
        self._width = width
        self.query_one("#entry-markdown", Static).update(markdown_text(self.markdown, width))
