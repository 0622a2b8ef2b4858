"""Triage of one log file in a thread worker, with a progress bar: the reading never blocks
the event loop, even for a log of gigabytes.

The worker posts :class:`TriageStatus.Progress` at most every 50 ms, then one
:class:`TriageStatus.Finished` (with the :class:`~assistant.triage.model.TriageResult` and
the curves to plot) or :class:`TriageStatus.Failed`.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, ProgressBar
from textual.worker import get_current_worker

from assistant.safe import plain

#: Seconds between two progress messages.
PROGRESS_INTERVAL = 0.05
#: How much nicer than the UI the reading thread (and the processes it forks) runs: on a
#: busy machine the key presses still get a core first.
TRIAGE_NICENESS = 10


class _Cancelled(BaseException):
    """Raised inside the reader's progress callback to stop a cancelled triage (a
    BaseException, so the reader's own ``except Exception`` lets it through)."""


def _size(count: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


class TriageStatus(Vertical):
    """Shows the progress of triaging ``path``, then one line about what was read."""

    DEFAULT_CSS = """
    TriageStatus { height: auto; }
    TriageStatus ProgressBar { width: 1fr; }
    TriageStatus ProgressBar Bar { width: 1fr; }
    """

    @dataclass
    class Progress(Message):
        """Part of the log has been read."""

        path: str
        """The log being read."""
        done: int
        """Bytes read."""
        total: int
        """Bytes in all (0 when unknown)."""

    @dataclass
    class Finished(Message):
        """Triage is done."""

        path: str
        """The log read."""
        result: Any
        """The :class:`~assistant.triage.model.TriageResult`."""
        curves: tuple[Any, ...]
        """The train and validation loss, reduced for plotting."""

    @dataclass
    class Failed(Message):
        """Triage could not be done."""

        path: str
        """The log that could not be read."""
        problem: str
        """What went wrong, one line for the user."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: str | None = None
        """The log being (or last) triaged."""
        self.running = False
        """True while the worker reads."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Label(id="triage-label", markup=False)
        yield ProgressBar(total=100, show_eta=False, id="triage-progress")

    def start(self, path: str) -> None:
        """Triage ``path`` (a new call cancels the one running)."""
        self.path = path
        self.running = True
        self.query_one(ProgressBar).update(total=100, progress=0)
        self.query_one(ProgressBar).display = True
        self.query_one("#triage-label", Label).tooltip = Text(plain(path))
        self._say(f"Reading {Path(path).name} ...")
        self._triage(path)

    def _say(self, line: str) -> None:
        self.query_one("#triage-label", Label).update(Text(plain(line)))

    @work(thread=True, exclusive=True, group="triage", exit_on_error=False)
    def _triage(self, path: str) -> None:
        worker = get_current_worker()
        try:
            from assistant.triage.detect import diagnose
            from assistant.triage.model import TriageInputError
            from assistant.triage.read import read_log
        except ImportError as error:
            self.post_message(
                self.Failed(path, f"log triage is not available in this installation ({error})")
            )
            return
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            if worker.is_cancelled:
                raise _Cancelled
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL or done >= total:
                last = now
                self.post_message(self.Progress(path, int(done), int(total)))

        _lower_priority()
        try:
            data = read_log(path, progress=progress)
            result = diagnose(data)
            curves = _curves(result)
        except _Cancelled:
            return
        except TriageInputError as error:
            if not worker.is_cancelled:
                self.post_message(self.Failed(path, error.problem))
            return
        except Exception as error:  # noqa: BLE001 - a reader's bug must not take the UI down
            if not worker.is_cancelled:
                problem = f"triage failed: {type(error).__name__}: {error}"
                self.post_message(self.Failed(path, problem))
            return
        if not worker.is_cancelled:
            self.post_message(self.Finished(path, result, curves))

    def on_triage_status_progress(self, message: Progress) -> None:
        if message.path != self.path:
            message.stop()
            return
        bar = self.query_one(ProgressBar)
        if message.total:
            bar.update(total=message.total, progress=message.done)
            self._say(
                f"Reading {Path(message.path).name}: {_size(message.done)} of {_size(message.total)}"
            )

    def on_triage_status_finished(self, message: Finished) -> None:
        if message.path != self.path:
            message.stop()
            return
        self.running = False
        self.query_one(ProgressBar).display = False
        log = message.result.log
        count = sum(s.points for s in log.series)
        name = Path(message.path).name
        self._say(f"{name} · {log.format} · {count:,} readings in {len(log.series)} series")

    def on_triage_status_failed(self, message: Failed) -> None:
        if message.path != self.path:
            message.stop()
            return
        self.running = False
        self.query_one(ProgressBar).display = False
        self._say(f"{Path(message.path).name}: {message.problem}")


def _lower_priority() -> None:
    """Lower the priority of the calling thread only (Linux: a thread is a task with its own
    nice value, inherited by the processes it forks); elsewhere do nothing."""
    try:
        tid = threading.get_native_id()
        os.setpriority(
            os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + TRIAGE_NICENESS)
        )
    except (AttributeError, OSError):
        pass


def _curves(result: Any) -> tuple[Any, ...]:
    """The train and validation loss reduced for plotting, and the series the primary finding
    is about when it is another one (``cls_loss`` stuck at 87.3365 while ``loss`` is nan)."""
    from assistant.tui.plot import reduce_curve

    curves = []
    plotted = []
    for role, series in (("train", result.loss), ("val", result.val_loss)):
        if series is not None and series.points:
            curves.append(reduce_curve(role, series.steps, series.values))
            plotted.append(series.name)
    primary = next((f for f in result.findings if f.symptom == result.primary), None)
    if primary is not None and primary.series and primary.series not in plotted:
        series = next((s for s in result.log.series if s.name == primary.series), None)
        if series is not None and series.points:
            curves.append(reduce_curve(primary.series, series.steps, series.values))
    return tuple(curves)
