"""The numbered answers offered with the current question; a click, Enter or the number key
picks one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option as ListOption

from assistant.interview import Option
from assistant.safe import plain


def option_text(option: Option) -> Text:
    """``1  It goes up  上升``: the label never read as markup."""
    text = Text.assemble((f"{option.key} ", "bold"), " ", plain(option.label))
    if option.label_zh:
        text.append(f"  {plain(option.label_zh)}", style="dim")
    return text


class Choices(OptionList):
    """Shows ``step.options`` (kept as :attr:`choices`); posts :class:`Choices.Picked` when one is chosen."""

    @dataclass
    class Picked(Message):
        """The user chose an option."""

        key: str
        """The option's key (``1``, ``2``, ...), which is also the answer to send."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.choices: tuple[Option, ...] = ()
        """The options shown."""

    def show(self, options: Sequence[Option]) -> None:
        """Replace the options shown."""
        options = tuple(options)
        if options == self.choices:
            return
        self.choices = options
        self.set_options([ListOption(option_text(o), id=f"option-{o.key}") for o in options])
        self.display = bool(options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Picked(self.choices[event.option_index].key))
