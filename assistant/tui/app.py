"""The lossdoctor TUI application: built by :func:`make_app` (which tests use too) and run by
:func:`run` (``lossdoctor`` and ``lossdoctor interview``).

The app only holds the configuration and the engine; :class:`InterviewScreen` coordinates.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from assistant.tui import session
from assistant.tui.commands import KnowledgeBaseCommands
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.interview import InterviewScreen

if TYPE_CHECKING:
    from assistant.interview import Interview


class LossDoctorApp(App[int]):
    """Diagnose a training run whose loss will not go down, by conversation."""

    CSS_PATH = "app.tcss"
    TITLE = "lossdoctor"
    SUB_TITLE = "interview"
    COMMANDS = App.COMMANDS | {KnowledgeBaseCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        Binding("f1", "help", "Help", id="help", tooltip="Keys and how the interview works"),
        Binding(
            "question_mark",
            "help",
            "Help",
            show=False,
            id="help-question-mark",
            tooltip="Keys and how the interview works",
        ),
        Binding(
            "ctrl+q", "quit", "Quit", id="quit", tooltip="Quit (the interview is saved as you go)"
        ),
    ]

    def __init__(
        self,
        *,
        log: str | None,
        resume: bool,
        state_path: Path,
        interview: Interview | None,
        save_dir: Path,
        blink: bool,
    ) -> None:
        super().__init__()
        self.log_path = log
        """The log given on the command line, triaged at start."""
        self.resume = resume
        """Continue the interview saved at :attr:`state_path`."""
        self.state_path = state_path
        """Where the interview is saved after every answer."""
        self.interview = interview
        """The engine; None until loaded in the background."""
        self.save_dir = save_dir
        """Where Ctrl+S writes transcripts."""
        self.blink = blink
        """Whether the chat box's cursor blinks (off for snapshots)."""

    def get_default_screen(self) -> Screen[None]:
        return InterviewScreen()

    def action_help(self) -> None:
        """Show the help screen."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def make_app(
    *,
    log: str | None = None,
    resume: bool = False,
    state_path: Path | None = None,
    interview: Interview | None = None,
    save_dir: Path | None = None,
    blink: bool = True,
) -> LossDoctorApp:
    """The app. ``state_path`` defaults to :func:`session.default_state_path`, ``save_dir``
    to the current directory; without ``interview`` the shipped knowledge base is loaded in
    the background after the first frame."""
    return LossDoctorApp(
        log=log,
        resume=resume,
        state_path=state_path or session.default_state_path(),
        interview=interview,
        save_dir=save_dir or Path.cwd(),
        blink=blink,
    )


def run(log: str | None = None, resume: bool = False) -> int:
    """Run the TUI until the user quits; returns the exit code."""
    app = make_app(log=log, resume=resume)
    code = app.run()
    return int(code or app.return_code or 0)
