"""The question waiting for an answer, in English with the Chinese under it; always in view
between the conversation and the answers."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from assistant.safe import plain


class Question(Static):
    """Shows ``step.prompt`` (``text``) and ``step.prompt_zh``; hidden when there is none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.text = ""
        """The question shown, English ("" when none)."""

    def show(self, text: str, text_zh: str = "") -> None:
        """Show the question ``text`` with its Chinese ``text_zh``."""
        self.text = text
        content = Text(plain(text), style="bold")
        if text_zh:
            content.append("\n" + plain(text_zh), style="dim")
        self.update(content)
        self.display = bool(text)
