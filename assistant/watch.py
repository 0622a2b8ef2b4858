"""``lossdoctor watch``: follow a training log as the job writes it and report each symptom as
soon as the incremental detectors are sure of it.

The pieces, from the file up:

- :class:`Follower` is ``tail -F`` for one path: it waits for the file to appear, returns the
  bytes appended since the last poll, notices truncation (the file got shorter: a new run
  started over it), rotation (the path names another file now: the old one is read to its end
  first) and rewriting in place (its first bytes changed).
- :class:`Feed` turns those bytes into readings. Text is decoded and normalised as
  ``triage`` does it (CRLF, ``\\r`` progress bars, backspaces, other encodings); the new lines
  are parsed with the lines before them as context (:class:`_WindowParser`), so the work per
  new line does not depend on the length of the log. Formats that are whole documents
  (``trainer_state.json``) and TensorBoard run directories are read again when they change, and
  only their new readings are passed on.
- :class:`LogWatch` ties them to a :class:`~assistant.triage.monitor.Monitor` and yields
  :class:`WatchEvent` values (status changes and findings) for a front end to print.

No printing here: ``assistant.cli`` renders the events.
"""

from __future__ import annotations

import codecs
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from assistant.triage.inputs import find_event_files, normalise
from assistant.triage.model import Finding, Reading, TriageInputError
from assistant.triage.monitor import Monitor
from assistant.triage.readers import by_name, pick, sniff_all
from assistant.triage.readers.base import Batch

POLL_SECONDS = 0.1
"""How often the file is looked at when nothing new came."""
IDLE_CHECK_SECONDS = 0.25
"""When the log is quiet, the detectors run at most this often (so findings that need the
curve, not one reading, still come within a second of the line)."""
SNIFF_BYTES = 4096
"""The format is chosen once this much text has come, or the log has been quiet for
``SNIFF_QUIET_SECONDS``, or a specific format scores ``SNIFF_SURE`` on ``SNIFF_LINES`` lines."""
SNIFF_QUIET_SECONDS = 0.3
SNIFF_SURE = 0.8
SNIFF_LINES = 3
HEAD_COMPARE = 1024
"""Bytes at the start of the file compared between polls to notice a rewrite in place."""
RESNAPSHOT_SECONDS = 1.0
"""Whole-document formats and TensorBoard directories are read again at most this often."""


@dataclass(frozen=True)
class WatchEvent:
    """Something a front end should tell the user."""

    kind: str
    """``waiting`` (no file yet), ``format`` (the format was recognised), ``truncated``,
    ``rotated``, ``rewritten``, ``finding`` or ``error``."""
    message: str = ""
    """One line for the user (untrusted text inside: print it through ``safe.plain``)."""
    finding: Finding | None = None
    """The finding, for ``finding`` events."""
    time: float = field(default_factory=time.time)
    """When the event was made (seconds since the epoch)."""


# ------------------------------------------------------------------------------ following


class Follower:
    """The bytes appended to one path, as ``tail -F`` sees them."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh: BinaryIO | None = None
        self._ino: tuple[int, int] | None = None
        self._pos = 0
        self._head = b""
        self.events: list[str] = []
        """What happened to the file since the caller last cleared this list: ``appeared``,
        ``truncated``, ``rotated``, ``rewritten``, ``vanished``."""

    @property
    def position(self) -> int:
        """Bytes read so far from the current file."""
        return self._pos

    def _open(self) -> bool:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - kept open across polls, closed in close()
            st = os.fstat(fh.fileno())
        except OSError:
            return False
        self._fh, self._ino, self._pos, self._head = fh, (st.st_dev, st.st_ino), 0, b""
        return True

    def close(self) -> None:
        """Close the file (the follower can be polled again: it reopens)."""
        fh = self._fh
        if fh is not None:
            fh.close()
        self._fh = None

    def poll(self, limit: int = 16 * 1024 * 1024) -> bytes:
        """What was appended since the last poll (at most ``limit`` bytes; b"" when nothing)."""
        if self._fh is None:
            if not self._open():
                return b""
            self.events.append("appeared")
        fh = self._fh
        assert fh is not None
        try:
            st = os.stat(self.path)
            moved = (st.st_dev, st.st_ino) != self._ino
        except OSError:
            st, moved = None, False  # gone for now: read what the open file still has
        if not moved and st is not None and st.st_size < self._pos:
            self.events.append("truncated")
            fh.seek(0)
            self._pos, self._head = 0, b""
        data: bytes = fh.read(limit)
        if not data and moved:
            # the old file is read to its end: go on with the new one from its start
            self.close()
            if self._open():
                self.events.append("rotated")
                return self.poll(limit)
            return b""
        if data and self._head and not moved and self._rewritten():
            self.events.append("rewritten")
            fh.seek(0)
            self._pos, self._head = 0, b""
            return self.poll(limit)
        if data and self._pos < HEAD_COMPARE:
            self._head += data[: HEAD_COMPARE - self._pos]
        self._pos += len(data)
        return data

    def _rewritten(self) -> bool:
        """Whether the first bytes of the file differ from those read (a rewrite in place);
        read through the open descriptor (same file: the path is not opened again)."""
        try:
            assert self._fh is not None
            fd = self._fh.fileno()
            return os.pread(fd, len(self._head), 0) != self._head
        except OSError:
            return False


# ------------------------------------------------------------------------------ parsing


class _WindowParser:
    """A text format's reader applied to new lines with the lines before them as context.

    Readers are written for whole logs (many collect a run's readings and hand them over at
    the end), so each poll parses the last ``keep_lines`` lines (the context) alone and with
    the new lines appended, and passes on the readings the new lines added: per series, those
    past the count the context alone gives. The first line of the file (a CSV header) and the
    last line naming an epoch that left the context are kept in it too. The work per poll is
    bounded by the context, whatever the length of the log.
    """

    def __init__(self, reader_name: str, keep_lines: int = 256, keep_bytes: int = 256 * 1024):
        self.reader_name = reader_name
        self.keep_lines = keep_lines
        self.keep_bytes = keep_bytes
        self._window: deque[bytes] = deque()
        self._window_bytes = 0
        self._first: bytes | None = None
        self._sticky: bytes | None = None
        self._emitted: dict[tuple[str, str], int] = {}

    def _parse(self, lines: list[bytes]) -> tuple[list[Reading], bool]:
        reader = by_name(self.reader_name)
        out: list[Reading] = []
        for item in reader.parse([b"".join(lines)] if lines else []):
            if isinstance(item, Batch):
                out += item.readings()
            else:
                out.append(item)
        numbered = any("steps are reading numbers" in n for n in reader.notes)
        return out, numbered

    def feed(self, text: bytes) -> list[Reading]:
        """The readings ``text`` (complete, normalised lines) adds to the log."""
        new = text.splitlines(keepends=True)
        if not new:
            return []
        context: list[bytes] = []
        if self._first is not None and (not self._window or self._window[0] is not self._first):
            context.append(self._first)
        if self._sticky is not None:
            context.append(self._sticky)
        context += self._window
        before: dict[tuple[str, str], int] = {}
        if context:
            for r in self._parse(context)[0]:
                before[(r.name, r.split)] = before.get((r.name, r.split), 0) + 1
        after, numbered = self._parse(context + new)
        seen: dict[tuple[str, str], int] = {}
        out: list[Reading] = []
        for r in after:
            key = (r.name, r.split)
            k = seen.get(key, 0)
            seen[key] = k + 1
            if k < before.get(key, 0):
                continue
            if numbered:  # the log has no steps: number the readings over the whole log
                n = self._emitted.get(key, 0) + 1
                self._emitted[key] = n
                r = Reading(r.name, r.split, float(n), r.value, r.epoch)
            out.append(r)
        self._remember(new)
        return out

    def _remember(self, lines: list[bytes]) -> None:
        if self._first is None:
            self._first = lines[0]
        for line in lines:
            self._window.append(line)
            self._window_bytes += len(line)
        while self._window and (
            len(self._window) > self.keep_lines or self._window_bytes > self.keep_bytes
        ):
            old = self._window.popleft()
            self._window_bytes -= len(old)
            if _EPOCH_RE.search(old) and old is not self._first:
                self._sticky = old


_EPOCH_RE = re.compile(rb"(?i)\bepoch\b")


class Feed:
    """Readings from a growing log file or TensorBoard run directory."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.format: str | None = None
        self._follower = Follower(path)
        self._parser: _WindowParser | None = None
        self._head = b""
        self._decoder: codecs.IncrementalDecoder | None = None
        self._pending = b""
        self._last_data = 0.0
        self._snapshot = os.path.isdir(path)
        self._stamp: tuple[int, float] | None = None
        self._last_snapshot = 0.0
        self._counts: dict[tuple[str, str], int] = {}
        self.events: list[str] = []
        """File events since the caller last cleared this list (see :class:`Follower`)."""

    def poll(self) -> list[Reading | Batch]:
        """New readings (possibly none)."""
        if self._snapshot or (self.format is None and os.path.isdir(self.path)):
            self._snapshot = True
            return self._poll_snapshot()
        data = self._follower.poll()
        if self._follower.events:
            self.events += self._follower.events
            if any(e in ("truncated", "rewritten") for e in self._follower.events):
                self._restart()
            self._follower.events.clear()
        if self.format is None:
            return self._sniff(data)
        return self._parse(data)

    def close(self) -> list[Reading | Batch]:
        """The readings the reader held back for the end of the input."""
        self._follower.close()
        out: list[Reading | Batch] = []
        if self.format is None and self._head:
            out += self._start(self._head)
        if self._parser is not None and self._pending:
            out += self._parser.feed(normalise(self._pending))
        self._parser, self._pending = None, b""
        return out

    def _restart(self) -> None:
        self._parser, self.format, self._head, self._pending = None, None, b"", b""
        self._decoder, self._counts = None, {}

    def _sniff(self, data: bytes) -> list[Reading | Batch]:
        self._head += data
        now = time.monotonic()
        if data:
            self._last_data = now
        if b"\n" not in self._head and b"\r" not in self._head:
            return []
        ready = (
            len(self._head) >= SNIFF_BYTES
            or now - self._last_data >= SNIFF_QUIET_SECONDS
            or self._sure(self._head)
        )
        return self._start(self._head) if ready else []

    def _sure(self, head: bytes) -> bool:
        """Whether a specific format already recognises the head (no need to wait for more)."""
        if head.count(b"\n") < SNIFF_LINES:
            return False
        text = normalise(head).decode("utf-8", "replace")
        score, name = sniff_all(text, os.path.basename(self.path))[0]
        return score >= SNIFF_SURE and name not in ("plain-print", "python-logging")

    def _start(self, head: bytes) -> list[Reading | Batch]:
        from assistant.triage.inputs import _detect_encoding

        encoding, skip = _detect_encoding(head, self.path)
        if encoding != "utf-8":
            self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        elif head.startswith(codecs.BOM_UTF8):
            skip = 3
        text = self._decode(head[skip:] if skip else head)
        reader = pick(normalise(text).decode("utf-8", "replace"), os.path.basename(self.path))
        self.format = reader.name
        self.events.append("format")
        if reader.whole:
            self._snapshot = True
            return self._poll_snapshot()
        self._parser = _WindowParser(reader.name)
        self._head = b""
        return self._parse(text, decoded=True)

    def _decode(self, data: bytes) -> bytes:
        if self._decoder is None:
            return data
        return self._decoder.decode(data).encode("utf-8")

    def _parse(self, data: bytes, decoded: bool = False) -> list[Reading | Batch]:
        parser = self._parser
        if parser is None or not data:
            return []
        buf = self._pending + (data if decoded else self._decode(data))
        cut = max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1
        self._pending = buf[cut:]
        return list(parser.feed(normalise(buf[:cut]))) if cut else []

    def _poll_snapshot(self) -> list[Reading | Batch]:
        """Whole documents and TensorBoard runs: read again when they changed, pass on what is new."""
        from assistant.triage.read import read_log

        stamp = _stamp(self.path)
        now = time.monotonic()
        if stamp is None or stamp == self._stamp or now - self._last_snapshot < RESNAPSHOT_SECONDS:
            return []
        self._last_snapshot = now
        try:
            log = read_log(self.path)
        except TriageInputError:
            return []  # half-written: try again when it changes
        self._stamp = stamp
        if self.format is None:
            self.format = log.format
            self.events.append("format")
        out: list[Reading] = []
        for s in log.series:
            key = (s.name, s.split)
            start = self._counts.get(key, 0)
            if s.points < start:  # the document was replaced by a shorter one: a new run
                start = 0
            for i in range(start, s.points):
                epoch = float(s.epochs[i]) if s.epochs is not None else None
                out.append(Reading(s.name, s.split, float(s.steps[i]), float(s.values[i]), epoch))
            self._counts[key] = s.points
        out.sort(key=lambda r: r.step)
        return list(out)


def _stamp(path: str) -> tuple[int, float] | None:
    """Size and modification time of a file, or of a directory's event files."""
    try:
        if os.path.isdir(path):
            files = find_event_files(path)
            if not files:
                return None
            stats = [os.stat(f) for f in files]
            return sum(s.st_size for s in stats), max(s.st_mtime for s in stats)
        st = os.stat(path)
        return st.st_size, st.st_mtime
    except OSError:
        return None


# ------------------------------------------------------------------------------ watching


class LogWatch:
    """One ``lossdoctor watch`` of one path: iterate :meth:`events` to follow it.

    ``follow=False`` reads what the file holds now and stops (with the end-of-input
    findings); ``idle_exit`` stops after that many seconds without new data. ``monitor``
    holds the diagnosis so far (front ends print ``monitor.result()`` at the end).
    """

    def __init__(
        self,
        path: str,
        *,
        metric: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        idle_exit: float | None = None,
        follow: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = path
        self.metric = metric
        self.poll_seconds = poll_seconds
        self.idle_exit = idle_exit
        self.follow = follow
        self.sleep = sleep
        self.feed = Feed(path)
        self.monitor = Monitor(metric, path=path)

    def _add(self, items: list[Reading | Batch]) -> Iterator[WatchEvent]:
        for item in items:
            for f in self.monitor.add_reading(item):
                yield WatchEvent("finding", f.summary, f)

    def _finish(self) -> Iterator[WatchEvent]:
        yield from self._add(self.feed.close())
        for f in self.monitor.check():
            yield WatchEvent("finding", f.summary, f)

    def _file_events(self) -> Iterator[WatchEvent]:
        path, feed = self.path, self.feed
        for ev in feed.events:
            if ev == "format":
                self.monitor.format = feed.format or "unknown"
                yield WatchEvent("format", f"reading {path} as {feed.format}")
            elif ev in ("truncated", "rewritten"):
                reported = self.monitor.reported
                self.monitor = Monitor(self.metric, path=path, format=feed.format or "unknown")
                self.monitor.reported = list(reported)  # a new run: what was said stays said
                yield WatchEvent(ev, f"{path} was {ev}: starting over from its first line")
            elif ev == "rotated":
                yield WatchEvent(ev, f"{path} was rotated: reading the new file")
        feed.events.clear()

    def events(self) -> Iterator[WatchEvent]:
        """What the user should see, as it happens, until the caller stops iterating."""
        last_data = time.monotonic()
        last_check = 0.0
        waiting_said = False
        try:
            while True:
                items = self.feed.poll()
                yield from self._file_events()
                now = time.monotonic()
                if self.feed.format is None and not items and not waiting_said:
                    if not os.path.exists(self.path):
                        waiting_said = True
                        yield WatchEvent("waiting", f"waiting for {self.path} to appear")
                yield from self._add(items)
                if items:
                    last_data = now
                elif self.monitor.unchecked and now - last_check >= IDLE_CHECK_SECONDS:
                    last_check = now
                    for f in self.monitor.check():
                        yield WatchEvent("finding", f.summary, f)
                idle = self.idle_exit is not None and now - last_data >= self.idle_exit
                if not self.follow or idle:
                    yield from self._finish()
                    return
                if not items:
                    self.sleep(self.poll_seconds)
        finally:
            self.feed.close()
