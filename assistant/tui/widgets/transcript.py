"""The conversation so far: the assistant's questions and replies and the user's answers."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from assistant.interview import Turn
from assistant.safe import plain

#: How each speaker is named in front of a line.
SPEAKERS = {"assistant": "lossdoctor", "user": "you"}


def turn_text(turn: Turn) -> Text:
    """One line of the conversation as plain text: markup and escapes in it stay literal."""
    return Text.assemble(
        (f"{SPEAKERS.get(turn.role, turn.role)}  ", "bold"), plain(turn.text, keep_newlines=True)
    )


class Transcript(VerticalScroll, can_focus=False):
    """Shows ``step.transcript``; only the turns that changed are unmounted or mounted, so a
    long conversation does not re-render on every answer. Stays scrolled to the newest turn."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.turns: tuple[Turn, ...] = ()
        """The turns shown, in order."""

    def show(self, turns: Sequence[Turn]) -> None:
        """Show ``turns``."""
        turns = tuple(turns)
        # keep the common beginning: an answer appends turns, back drops the last few
        kept = 0
        for old, new in zip(self.turns, turns, strict=False):
            if old != new:
                break
            kept += 1
        for widget in list(self.children)[kept:]:
            widget.remove()
        widgets = [
            Static(turn_text(t), classes=f"turn -{t.role}", markup=False) for t in turns[kept:]
        ]
        if widgets:
            self.mount_all(widgets)
        self.turns = turns
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def on_resize(self) -> None:
        # the question or the answers below changed height: keep the newest turn in view
        self.scroll_end(animate=False, immediate=True)

    @property
    def lines(self) -> list[str]:
        """The turns shown, as plain strings (for tests)."""
        return [turn_text(t).plain for t in self.turns]
