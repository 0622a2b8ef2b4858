"""The terminal UI of lossdoctor (Textual): the interview as a conversation, the knowledge
base beside it, a log's loss curve and findings above it.

Importing this package does not import Textual; :func:`run` and :func:`make_app` do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.tui.app import LossDoctorApp

__all__ = ["make_app", "run"]


def make_app(
    *,
    log: str | None = None,
    resume: bool = False,
    state_path: Path | None = None,
    interview: Any = None,
    **options: Any,
) -> LossDoctorApp:
    """Build the app (see :func:`assistant.tui.app.make_app`)."""
    from assistant.tui.app import make_app as _make_app

    return _make_app(log=log, resume=resume, state_path=state_path, interview=interview, **options)


def run(log: str | None = None, resume: bool = False) -> int:
    """Run the TUI until the user quits; returns the exit code (see :func:`assistant.tui.app.run`)."""
    from assistant.tui.app import run as _run

    return _run(log, resume)
