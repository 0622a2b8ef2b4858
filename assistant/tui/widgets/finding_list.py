"""The findings of an attached log, best first; choosing one restarts the interview there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from assistant.safe import plain
from assistant.triage.model import Finding


def finding_text(finding: Finding, primary: bool) -> Text:
    """``★ stuck-87-3365 95%  loss constant at ...``; the summary never read as markup."""
    return Text.assemble(
        ("★ " if primary else "  ", "bold yellow"),
        (finding.symptom, "bold"),
        f" {finding.confidence:.0%}  ",
        plain(finding.summary),
    )


class FindingList(OptionList):
    """Shows ``findings``; posts :class:`FindingList.Chosen` for the one picked."""

    @dataclass
    class Chosen(Message):
        """The user chose a finding."""

        finding: Finding
        """The finding chosen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.findings: tuple[Finding, ...] = ()
        """The findings shown, best first."""

    def show(self, findings: Sequence[Finding], primary: str | None) -> None:
        """Replace the findings shown; the one whose symptom is ``primary`` is starred."""
        self.findings = tuple(findings)
        seen_primary = False
        options = []
        for number, finding in enumerate(self.findings):
            is_primary = finding.symptom == primary and not seen_primary
            seen_primary |= is_primary
            options.append(Option(finding_text(finding, is_primary), id=f"finding-{number}"))
        if not options:
            options.append(Option(Text("no findings", style="dim"), disabled=True))
        self.set_options(options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index < len(self.findings):
            self.post_message(self.Chosen(self.findings[event.option_index]))
