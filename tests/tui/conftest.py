"""Fixtures of the TUI tests: one engine for the session, a private state file and save
directory per test, and the screen as plain text."""

from __future__ import annotations

import asyncio
import functools
import io
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

os.environ.setdefault(
    "LOSSDOCTOR_CACHE",
    str(Path(__file__).resolve().parents[2] / ".pytest_cache" / "lossdoctor-index"),
)

SIZE = (100, 32)
"""Every TUI test runs at this terminal size."""


@pytest.fixture(scope="session")
def interview():  # type: ignore[no-untyped-def]
    """The engine over the shipped knowledge base, loaded once."""
    from assistant.interview import default_interview

    return default_interview()


@pytest.fixture
def app_factory(
    interview, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., object]:  # type: ignore[no-untyped-def]
    """``make_app`` with the shared engine, a state file and save directory under tmp, and
    no cursor blink; keyword arguments override."""
    from assistant.tui import make_app

    monkeypatch.setenv("LOSSDOCTOR_STATE", str(tmp_path / "never-used.json"))

    def factory(**options: object) -> object:
        settings: dict[str, object] = {
            "interview": interview, "state_path": tmp_path / "state" / "interview.json",
            "save_dir": tmp_path / "saved", "blink": False,
        }  # fmt: skip
        settings.update(options)
        return make_app(**settings)  # type: ignore[arg-type]

    return factory


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows, as plain text."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(
            full=True, screen_stack=app._background_screens, simplify=True
        )
    )
    return console.export_text()


def in_event_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` test in a fresh event loop (no async pytest plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper
