"""Attach a log: a path input with file-system completion; Enter attaches, Escape cancels."""

from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from assistant.safe import plain
from assistant.tui.path_suggester import PathSuggester


class AttachLogScreen(ModalScreen[str | None]):
    """Asks for a log path; dismisses with the path, or None when cancelled."""

    BINDINGS = [
        Binding(
            "escape",
            "dismiss",
            "Cancel",
            id="cancel-attach",
            tooltip="Close without attaching a log",
        ),
        Binding(
            "tab",
            "complete",
            "Complete",
            id="complete-path",
            tooltip="Accept the suggested path",
            show=False,
        ),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="attach-dialog"):
            yield Label("Attach a training log (text, CSV, JSON, gzip or a TensorBoard directory)")
            yield Input(placeholder="path/to/train.log", suggester=PathSuggester(), id="log-path")
            yield Label("→ or Tab completes · Enter attaches · Escape cancels", classes="hint")
            yield Label("", id="attach-problem", markup=False)

    def action_complete(self) -> None:
        path_input = self.query_one("#log-path", Input)
        path_input.action_cursor_right()
        path_input.cursor_position = len(path_input.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = os.path.expanduser(event.value.strip())
        if not path:
            return
        if not os.path.exists(path):
            self.query_one("#attach-problem", Label).update(
                Text(f"No such file or directory: {plain(path)}", style="red")
            )
            return
        self.dismiss(path)
