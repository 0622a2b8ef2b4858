"""Opening a triage input: a file, a gzip file (by magic bytes), a directory (a TensorBoard
run directory or a run directory holding one known log file) or ``-`` for standard input.

Text is delivered as UTF-8 byte chunks with ``\\n`` line ends, whatever the input's encoding
(UTF-8 with or without BOM, UTF-16 LE/BE with or without BOM, GBK / GB18030 and others via
charset-normalizer), with CRLF and progress-bar ``\\r`` refreshes turned into line breaks and
``\\b`` backspaces applied. Every chunk but the last ends at a line break, so a line of many
megabytes is held whole but nothing else is. Unusable input raises
:class:`~assistant.triage.model.TriageInputError` with a one-line problem.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from .model import TriageInputError

HEAD_BYTES = 64 * 1024
HEAD_MAX_BYTES = 16 * 1024 * 1024
CHUNK_BYTES = 16 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"

# Known log files of a run directory, best first (glob-like patterns on the base name).
KNOWN_LOGS: tuple[str, ...] = (
    r"trainer_state\.json",
    r"metrics\.csv",
    r"results\.csv",
    r"metrics\.json",
    r"scalars\.json",
    r".*\.log\.json",
    r"training\.log",
    r"log\.txt",
    r"train\.log",
    r".*\.log",
    r"progress\.csv",
    r"history\.csv",
    r"log\.csv",
    r".*\.jsonl",
)
_KNOWN_RES = tuple(re.compile(p + r"\Z", re.IGNORECASE) for p in KNOWN_LOGS)

Progress = Callable[[int, int], None]


@dataclass
class Opened:
    """An input opened for reading."""

    path: str
    """The input as the user named it."""
    kind: str
    """``text`` or ``tensorboard``."""
    filename: str = ""
    """Base name of the file read (``""`` for standard input)."""
    real_path: str | None = None
    """The file actually read (a directory's log file), None for standard input."""
    event_files: list[str] = field(default_factory=list)
    """TensorBoard event files (kind ``tensorboard``)."""
    event_root: str | None = None
    """The directory the event files are under."""
    size: int = 0
    """Total bytes to read, as far as known (0 when unknown)."""
    encoding: str = "utf-8"
    """The text encoding found."""
    head: bytes = b""
    """The first bytes of the raw (decompressed) stream."""
    stream: BinaryIO | None = None
    """The raw stream, positioned after ``head``."""
    compressed: bool = False
    """True for gzip input."""

    @property
    def plain_utf8_file(self) -> bool:
        """True for an uncompressed UTF-8 file on disk (may be split across processes)."""
        return (
            self.real_path is not None
            and not self.compressed
            and self.encoding == "utf-8"
            and self.kind == "text"
        )


def _fail(path: str, problem: str) -> TriageInputError:
    return TriageInputError(path, problem)


def find_event_files(root: str, limit: int = 10000) -> list[str]:
    """TensorBoard event files under a directory (recursive), sorted by path."""
    found: list[str] = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if "tfevents" in f:
                found.append(os.path.join(dirpath, f))
                if len(found) >= limit:
                    return sorted(found)
    return sorted(found)


def find_known_log(root: str) -> str | None:
    """The best known log file of a run directory: top level first, then the newest below."""

    def rank(name: str) -> int | None:
        for i, rx in enumerate(_KNOWN_RES):
            if rx.match(name):
                return i
        return None

    try:
        top = sorted(os.listdir(root))
    except OSError:
        return None
    best: tuple[int, str] | None = None
    for name in top:
        p = os.path.join(root, name)
        r = rank(name)
        if r is not None and os.path.isfile(p) and os.path.getsize(p) > 0:
            if best is None or r < best[0]:
                best = (r, p)
    if best:
        return best[1]
    cands: list[tuple[int, float, str]] = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            r = rank(name)
            if r is not None:
                p = os.path.join(dirpath, name)
                try:
                    st = os.stat(p)
                except OSError:
                    continue
                if st.st_size > 0:
                    cands.append((r, -st.st_mtime, p))
    if not cands:
        return None
    cands.sort()
    return cands[0][2]


def _detect_encoding(head: bytes, path: str) -> tuple[str, int]:
    """(codec name, BOM length) of a text head; raises for binary data."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        return ("utf-32-le" if head.startswith(codecs.BOM_UTF32_LE) else "utf-32-be"), 4
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = head[:8192]
    if b"\x00" in sample:
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        half = max(1, len(sample) // 2)
        if odd > 0.3 * half and even < 0.05 * half:
            return "utf-16-le", 0
        if even > 0.3 * half and odd < 0.05 * half:
            return "utf-16-be", 0
        raise _fail(path, "binary file, not a text log (NUL bytes)")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8", 0
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(head).best()
    except Exception:  # pragma: no cover - library trouble is treated as undecodable
        best = None
    if best is None or not best.encoding:
        raise _fail(path, "binary file, not a text log (undecodable bytes)")
    enc = best.encoding
    if enc.lower().replace("-", "_") in ("gb2312", "gbk", "hz", "big5", "cp936"):
        enc = "gb18030" if enc.lower() != "big5" else enc
    return enc, 0


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\n\r\t\b\f\x1b") or c == "\ufffd")
    return bad / len(text)


def open_input(path: str, *, stdin: BinaryIO | None = None) -> Opened:
    """Open an input for reading; raise TriageInputError when it cannot be used."""
    if path == "-":
        raw: BinaryIO = stdin if stdin is not None else sys.stdin.buffer
        return _open_stream(path, raw, filename="", real_path=None, size=0)
    if not os.path.exists(path):
        raise _fail(path, "no such file or directory")
    if os.path.isdir(path):
        events = find_event_files(path)
        if events:
            return Opened(
                path=path,
                kind="tensorboard",
                filename=os.path.basename(events[0]),
                event_files=events,
                event_root=path,
                size=sum(os.path.getsize(e) for e in events),
            )
        try:
            entries = os.listdir(path)
        except OSError as e:
            raise _fail(path, f"cannot list directory ({e.strerror})") from None
        if not entries:
            raise _fail(path, "empty directory")
        log = find_known_log(path)
        if log is None:
            raise _fail(
                path,
                "directory holds no known training log (metrics.csv, "
                "trainer_state.json, results.csv, *.log, TensorBoard events)",
            )
        opened = _open_file(path, log)
        return opened
    return _open_file(path, path)


def _open_file(path: str, real: str) -> Opened:
    base = os.path.basename(real)
    if "tfevents" in base:
        return Opened(
            path=path,
            kind="tensorboard",
            filename=base,
            event_files=[real],
            event_root=os.path.dirname(real) or ".",
            size=os.path.getsize(real),
            real_path=real,
        )
    try:
        size = os.path.getsize(real)
        fh: BinaryIO = open(real, "rb")  # noqa: SIM115 - closed by the chunk iterator
    except OSError as e:
        raise _fail(path, f"cannot open ({e.strerror})") from None
    if size == 0:
        fh.close()
        raise _fail(path, "empty file")
    try:
        return _open_stream(path, fh, filename=base, real_path=real, size=size)
    except BaseException:
        fh.close()
        raise


def _open_stream(
    path: str, raw: BinaryIO, *, filename: str, real_path: str | None, size: int
) -> Opened:
    try:
        magic = _peek(raw, 2)
    except OSError as e:
        raise _fail(path, f"cannot read ({e.strerror})") from None
    compressed = magic[0] == GZIP_MAGIC if magic[0] else False
    stream: BinaryIO = raw
    prefix = magic[0]
    if compressed:
        stream = _ClosingGzip(fileobj=_Prefixed(prefix, raw), mode="rb")  # type: ignore[assignment]
        prefix = b""
        if filename.lower().endswith(".gz"):
            filename = filename[:-3]
    try:
        head = prefix + _read_upto(stream, HEAD_BYTES - len(prefix))
        # a head of a few giant lines says nothing: read on (up to 16 MB) for more lines
        while head.count(b"\n") < 50 and len(head) < HEAD_MAX_BYTES:
            more = _read_upto(stream, 1024 * 1024)
            if not more:
                break
            head += more
    except (OSError, EOFError, zlib.error) as e:
        raise _fail(path, f"corrupt gzip data ({e})") from None
    if not head:
        raise _fail(path, "empty input")
    if "tfevents" in filename:
        raise _fail(path, "compressed TensorBoard event file: decompress it first")
    enc, _bom = _detect_encoding(head, path)
    text = head[:8192].decode(enc, "replace")
    if not text.strip():
        raise _fail(path, "input holds only whitespace")
    if _control_ratio(text) > 0.10:
        raise _fail(path, "binary file, not a text log")
    return Opened(
        path=path,
        kind="text",
        filename=filename,
        real_path=real_path,
        size=size,
        encoding=enc,
        head=head,
        stream=stream,
        compressed=compressed,
    )


def _peek(raw: BinaryIO, n: int) -> tuple[bytes, None]:
    data = _read_upto(raw, n)
    return data, None


def _read_upto(stream: BinaryIO, n: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < n:
        b = stream.read(n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


class _ClosingGzip(gzip.GzipFile):
    """A GzipFile that also closes the stream under it."""

    def close(self) -> None:
        inner = self.fileobj
        try:
            super().close()
        finally:
            closer = getattr(inner, "close", None)
            if closer is not None:
                closer()


class _Prefixed(io.RawIOBase):
    """A stream with some already-read bytes put back in front."""

    def __init__(self, prefix: bytes, raw: BinaryIO) -> None:
        self._prefix = prefix
        self._raw = raw

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._raw.read(len(b))
        if not data:
            return 0
        b[: len(data)] = data
        return len(data)


_BS_RE = re.compile(rb"[^\n]*\x08[^\n]*")
_ANSI_RE = re.compile(rb"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\n]*\x07|[@-Z\\-_])")


def _apply_backspaces(line: bytes) -> bytes:
    out = bytearray()
    for ch in line:
        if ch == 8:
            if out:
                out.pop()
        else:
            out.append(ch)
    return bytes(out)


def normalise(chunk: bytes) -> bytes:
    """CRLF and bare CR to LF, ANSI escapes removed, backspaces applied; bytes in, bytes out."""
    if b"\x1b" in chunk:
        chunk = _ANSI_RE.sub(b"", chunk)
    if b"\r" in chunk:
        chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b"\x08" in chunk:
        chunk = _BS_RE.sub(lambda m: _apply_backspaces(m.group(0)), chunk)
    return chunk


def raw_chunks(
    op: Opened, chunk_size: int = CHUNK_BYTES, progress: Progress | None = None
) -> Iterator[bytes]:
    """The decoded input as normalised UTF-8 chunks ending at line breaks."""
    stream = op.stream
    if stream is None:
        return
    enc = op.encoding
    decoder = None if enc == "utf-8" else codecs.getincrementaldecoder(enc)("replace")
    done = 0
    total = op.size
    pending = b""
    first = True
    tail_cr = False
    try:
        while True:
            if first:
                data = op.head
                first = False
            else:
                try:
                    data = stream.read(chunk_size)
                except (OSError, EOFError, zlib.error):
                    data = b""  # truncated gzip: keep what was read
            if not data:
                break
            done += len(data)
            if decoder is not None:
                text = decoder.decode(data)
                if done == len(data) and text.startswith("\ufeff"):
                    text = text[1:]
                data = text.encode("utf-8")
            elif pending == b"" and done == len(data) and data.startswith(codecs.BOM_UTF8):
                data = data[3:]
            if tail_cr and data.startswith(b"\n"):
                data = data[1:]
            tail_cr = data.endswith(b"\r")
            buf = pending + data if pending else data
            cut = max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1
            if cut == 0:
                pending = buf
                continue
            pending = buf[cut:]
            if progress is not None and total:
                progress(min(done, total) if not op.compressed else _pos(op, total), total)
            yield normalise(buf[:cut])
        if decoder is not None:
            pending += decoder.decode(b"", final=True).encode("utf-8")
        if pending:
            yield normalise(pending)
        if progress is not None and total:
            progress(total, total)
    finally:
        if op.real_path is not None:  # standard input is the caller's to close
            try:
                stream.close()
            except Exception:  # pragma: no cover
                pass


def _pos(op: Opened, total: int) -> int:
    try:
        fileobj = getattr(op.stream, "fileobj", None)
        raw = getattr(fileobj, "_raw", None)
        if raw is not None:
            return min(int(raw.tell()), total)
    except (OSError, ValueError, AttributeError):
        pass
    return 0


def head_text(op: Opened) -> str:
    """The decoded, normalised head of a text input, for sniffing."""
    data = op.head
    if op.encoding == "utf-8":
        if data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        text = data.decode("utf-8", "replace")
    else:
        text = codecs.getincrementaldecoder(op.encoding)("replace").decode(data)
        if text.startswith("\ufeff"):
            text = text[1:]
    text = normalise(text.encode("utf-8")).decode("utf-8", "replace")
    # sniffers see at most 2000 characters of a line and 64K characters in all
    lines = [ln[:2000] for ln in text.split("\n")]
    return "\n".join(lines)[:HEAD_BYTES]
