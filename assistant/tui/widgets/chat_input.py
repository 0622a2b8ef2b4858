"""The chat box at the bottom: free text, a value or an option's number; Enter sends."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import Input


class ChatInput(Input):
    """An :class:`Input` where a number key on an empty box picks an option.

    ``pickable`` (set by the screen) is how many options a number key may pick: 0 when the
    question accepts a typed value, so ``87.33`` can be typed from its first digit.
    """

    @dataclass
    class Picked(Message):
        """A number key picked an option."""

        key: str
        """The option's key, as typed."""

    def __init__(self, *, id: str | None = None, blink: bool = True) -> None:
        super().__init__(
            placeholder="Describe the problem, type a value, or press a number to pick",
            id=id,
        )
        self.cursor_blink = blink
        self.pickable = 0
        """How many options the number keys 1-9 pick while the box is empty."""

    def picks(self, character: str | None) -> bool:
        """True when ``character`` typed now picks an option instead of being typed."""
        if not character or self.value or character not in "123456789":
            return False
        return int(character) <= self.pickable

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return not self.picks(character) and super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if self.picks(event.character):
            event.stop()
            event.prevent_default()
            self.post_message(self.Picked(str(event.character)))
            return
        await super()._on_key(event)
