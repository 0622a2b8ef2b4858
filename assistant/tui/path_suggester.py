"""Completion of file-system paths for the "attach a log" input."""

from __future__ import annotations

import os

from textual.suggester import Suggester

#: Directory entries looked at per completion (a huge directory costs no more).
MAX_ENTRIES = 2000


class PathSuggester(Suggester):
    """Suggests the first file or directory (with a trailing ``/``) that completes what is
    typed; ``~`` is expanded."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        directory, prefix = os.path.split(expanded)
        try:
            with os.scandir(directory or ".") as entries:
                names = []
                for count, entry in enumerate(entries):
                    if count >= MAX_ENTRIES:
                        break
                    if entry.name.startswith(prefix) and (
                        prefix.startswith(".") or not entry.name.startswith(".")
                    ):
                        names.append(entry.name + ("/" if entry.is_dir() else ""))
        except OSError:
            return None
        if not names:
            return None
        best = sorted(names)[0]
        return value + best[len(prefix) :] if best != prefix else None
