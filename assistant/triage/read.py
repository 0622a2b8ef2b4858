"""``read_log``: open an input, sniff its format, stream it through the best reader and
build tidy float64 :class:`~assistant.triage.model.Series`.

Large plain Caffe logs are split across the machine's cores (byte ranges cut at line
breaks, each parsed by a worker process, merged in order). Memory stays bounded: single
readings are buffered in ``array('d')``, batches stay the numpy arrays the readers made, and
large series that have the same steps (a Caffe loss and its net outputs) share one read-only
steps array. Unusable input raises
:class:`~assistant.triage.model.TriageInputError`, never anything else.
"""

from __future__ import annotations

import math
import os
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import numpy as np

from .inputs import CHUNK_BYTES, Opened, head_text, normalise, open_input, raw_chunks
from .model import LogData, Reading, Series, TriageInputError
from .readers import GenericReader, by_name, pick
from .readers.base import Batch, Reader, is_loss_name
from .readers.caffe import SUB_BYTES, Piece, combine, merge_pieces, parse_piece

Progress = Callable[[int, int], None]

PARALLEL_MIN_BYTES = 64 * 1024 * 1024
PIECE_BYTES = 32 * 1024 * 1024
WHOLE_MAX_BYTES = 512 * 1024 * 1024
SHARE_MIN_POINTS = 1 << 20
"""Series of at least this many points that have the same steps share one read-only array."""


class _Acc:
    """The readings of one series: single readings buffered in ``array('d')``, batches kept
    as the arrays the reader made (series of one reader often share one steps array)."""

    __slots__ = ("steps", "values", "epochs", "s_buf", "v_buf", "e_buf", "has_epoch")

    def __init__(self) -> None:
        self.steps: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.epochs: list[np.ndarray | None] = []
        self.s_buf = array("d")
        self.v_buf = array("d")
        self.e_buf = array("d")
        self.has_epoch = False

    def add(self, step: float, value: float, epoch: float | None) -> None:
        self.s_buf.append(step)
        self.v_buf.append(value)
        if epoch is None:
            self.e_buf.append(math.nan)
        else:
            self.e_buf.append(epoch)
            self.has_epoch = True
        if len(self.s_buf) >= 1 << 20:
            self._flush()

    def add_batch(self, b: Batch) -> None:
        self._flush()
        self.steps.append(np.asarray(b.steps, dtype=np.float64))
        self.values.append(np.asarray(b.values, dtype=np.float64))
        if b.epochs is not None:
            self.epochs.append(np.asarray(b.epochs, dtype=np.float64))
            self.has_epoch = True
        else:
            self.epochs.append(None)

    def _flush(self) -> None:
        if self.s_buf:
            self.steps.append(np.frombuffer(self.s_buf, dtype=np.float64))
            self.values.append(np.frombuffer(self.v_buf, dtype=np.float64))
            self.epochs.append(np.frombuffer(self.e_buf, dtype=np.float64))
            self.s_buf = array("d")
            self.v_buf = array("d")
            self.e_buf = array("d")


TRIM_MIN_POINTS = 1 << 18
_TRIM: Callable[[int], int] | None = None


def _release_freed() -> None:
    """Hand freed heap memory back to the OS. The parts of a large series are many
    mid-sized arrays; glibc keeps their memory after they are freed, so without this the
    peak RSS of joining them is the parts plus the joined series instead of about one."""
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = lambda _pad: 0  # noqa: E731 - not glibc: nothing to do
    _TRIM(0)


def _concat(
    parts: list[np.ndarray],
    cache: dict[int, list[np.ndarray]],
    same: dict[tuple[int, ...], np.ndarray] | None = None,
) -> np.ndarray:
    """One array of the parts; a large result equal to an earlier one is that earlier array
    (read-only, shared by the series). ``same`` remembers large results by the identity of
    their parts: series made of the very same part arrays (the parts are all alive while
    the series are joined, so equal ids are the same arrays) reuse the result uncopied."""
    total = sum(len(p) for p in parts)
    sig = tuple(map(id, parts)) if same is not None and total >= SHARE_MIN_POINTS else None
    if sig is not None and same is not None and sig in same:
        parts.clear()
        return same[sig]
    out = _drain(parts)
    if len(out) < SHARE_MIN_POINTS:
        return out
    for prev in cache.setdefault(len(out), []):
        if np.array_equal(prev.view(np.int64), out.view(np.int64)):  # bitwise: one pass
            out = prev
            break
    else:
        out.flags.writeable = False
        cache[len(out)].append(out)
    if sig is not None and same is not None:
        same[sig] = out
    return out


def _drain(parts: list[np.ndarray]) -> np.ndarray:
    """One array of the parts, each part released as soon as it is copied (bounded peak)."""
    out = np.empty(sum(len(p) for p in parts), dtype=np.float64)
    pos = 0
    parts.reverse()
    while parts:
        p = parts.pop()
        out[pos : pos + len(p)] = p
        pos += len(p)
        del p
    return out


def collect(items: Iterable[Reading | Batch], reader: Reader) -> tuple[list[Series], list[str]]:
    """Series from a stream of readings and batches (order of first appearance kept)."""
    accs: dict[tuple[str, str], _Acc] = {}
    for item in items:
        key = (item.name, item.split)
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = _Acc()
        if isinstance(item, Batch):
            acc.add_batch(item)
        else:
            acc.add(item.step, item.value, item.epoch)
    series: list[Series] = []
    notes: list[str] = []
    dropped = 0
    cache: dict[int, list[np.ndarray]] = {}
    same: dict[tuple[int, ...], np.ndarray] = {}
    for acc in accs.values():  # every part exists before any is joined (see _concat)
        acc._flush()
    for (name, split), acc in list(accs.items()):
        acc._flush()
        if acc.has_epoch:
            e = np.concatenate(
                [
                    x if x is not None else np.full(len(vv), np.nan)
                    for x, vv in zip(acc.epochs, acc.values, strict=True)
                ]
            )
        else:
            e = None
        s = _concat(acc.steps, cache, same)
        v = _drain(acc.values)
        if len(v) >= TRIM_MIN_POINTS:
            _release_freed()
        bad = np.isnan(s)
        if bad.any():
            dropped += int(bad.sum())
            keep = ~bad
            s, v = s[keep], v[keep]
            e = e[keep] if e is not None else None
        if not len(v):
            continue
        s, restarted = _cumulative_steps(s)
        readings = None
        if len(v) > MAX_KEPT_POINTS:
            readings = len(v)
            s, v, e = _envelope(s, v, e, MAX_KEPT_POINTS)
        if restarted:
            notes.append(
                f"{name}: the step counter restarts {restarted} time(s) (once per epoch?); steps are counted on"
            )
        unit = reader.units.get(f"{name}|{split}", reader.step_unit)
        series.append(
            Series(
                name=name,
                split=split,  # type: ignore[arg-type]
                steps=s,
                values=v,
                step_unit=unit,
                epochs=e,
                readings=readings,
            )
        )
    if dropped:
        notes.append(f"{dropped} reading(s) before the first step mark dropped")
    return series, notes


#: A series longer than this is reduced to an envelope before the detectors see it.
MAX_KEPT_POINTS = 250_000


def _envelope(
    steps: np.ndarray, values: np.ndarray, epochs: np.ndarray | None, limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """At most about ``limit`` readings that keep what the detectors look for: the lowest and
    the highest reading of each block (so spikes, constants and trends survive) and the first
    nan of any block that has one (so the nan onset stays exact)."""
    n = values.shape[0]
    block = -(-n // (limit // 2))
    whole = n // block * block
    grid = values[:whole].reshape(-1, block)
    nan = np.isnan(grid)
    if nan.any():
        low = np.where(nan, np.inf, grid).argmin(axis=1)
        high = np.where(
            nan.any(axis=1), nan.argmax(axis=1), np.where(nan, -np.inf, grid).argmax(axis=1)
        )
    else:
        low, high = grid.argmin(axis=1), grid.argmax(axis=1)
    del grid, nan
    base = np.arange(0, whole, block)
    mask = np.zeros(n, dtype=bool)  # a mask, not np.unique: no sort of a million indices
    mask[base + low] = True
    mask[base + high] = True
    mask[whole:] = True
    keep = np.flatnonzero(mask)
    return steps[keep], values[keep], (epochs[keep] if epochs is not None else None)


def _cumulative_steps(steps: np.ndarray) -> tuple[np.ndarray, int]:
    """Steps that restart (``Epoch [2/5], Step [100/600]`` after step 600) made cumulative:
    each restarted segment is shifted by the largest step of the segments before it. Returns
    the steps and how many restarts there were (0: unchanged)."""
    if steps.shape[0] < 3:
        return steps, 0
    resets = np.flatnonzero(steps[1:] < steps[:-1]) + 1  # one pass, no float temporary
    if not resets.shape[0] or resets.shape[0] > steps.shape[0] // 2:
        return steps, 0  # no restart, or no order at all: leave the axis as it is
    bounds = np.concatenate(([0], resets, [steps.shape[0]]))
    out = np.array(steps, dtype=np.float64, copy=True)
    offset = 0.0
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        out[a:b] += offset
        offset = float(out[a:b].max())
    return out, int(resets.shape[0])


def _ranges(path: str, size: int, piece: int) -> list[tuple[int, int]]:
    """Byte ranges of a file, each ending just after a line break."""
    cuts = [0]
    with open(path, "rb") as fh:
        pos = piece
        while pos < size:
            fh.seek(pos)
            line = fh.readline()
            pos += len(line)
            if pos >= size:
                break
            cuts.append(pos)
            pos += piece
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _caffe_range(args: tuple[str, int, int]) -> Piece:
    """Readings of one byte range of a plain Caffe log (in a worker process): read and
    parsed in cache-sized sub-pieces cut at line breaks, merged into one piece."""
    path, start, end = args

    def chunks() -> Iterator[bytes | bytearray]:
        # each sub-piece is read into its own buffer, cut back to its last line break (the
        # file position goes back to the start of the cut-off line): no copies
        buf = bytearray(min(SUB_BYTES, end - start))
        with open(path, "rb", buffering=0) as fh:
            pos = start
            while pos < end:
                want = min(SUB_BYTES, end - pos)
                try:  # reuse the buffer (the last piece's readings do not point into it)
                    if len(buf) < want:
                        buf += bytes(want - len(buf))
                    elif len(buf) > want:
                        del buf[want:]
                except BufferError:  # pragma: no cover - still exported: take a new one
                    buf = bytearray(want)
                fh.seek(pos)
                got = fh.readinto(buf)
                if not got:
                    break
                if got < want:
                    del buf[got:]
                cut = got
                if pos + got < end:
                    cut = buf.rfind(b"\n") + 1
                    while cut == 0 and pos + len(buf) < end:  # a line longer than the buffer
                        more = fh.read(min(SUB_BYTES, end - pos - len(buf)))
                        if not more:
                            break
                        nl = more.find(b"\n")
                        buf += more if nl < 0 else more[: nl + 1]
                        if nl >= 0:
                            cut = len(buf)
                    if cut == 0:
                        cut = len(buf)
                    del buf[cut:]
                if pos == 0 and buf.startswith(b"\xef\xbb\xbf"):
                    del buf[:3]
                pos += cut
                yield normalise(buf)  # type: ignore[arg-type]

    return combine(parse_piece(c) for c in chunks())


def _parallel_caffe(op: Opened, progress: Progress | None) -> Iterator[Batch]:
    import multiprocessing as mp

    assert op.real_path is not None
    if op.stream is not None:
        op.stream.close()
    path = op.real_path
    ranges = _ranges(path, op.size, PIECE_BYTES)
    ctx = mp.get_context("fork")
    procs = max(1, min(os.cpu_count() or 1, 8))
    with ctx.Pool(procs) as pool:

        def pieces() -> Iterator[Piece]:
            jobs = [(path, a, b) for a, b in ranges]
            for (_a, b), piece in zip(ranges, pool.imap(_caffe_range, jobs), strict=True):
                if progress is not None:
                    progress(b, op.size)
                yield piece

        yield from merge_pieces(pieces())


def _has_loss(series: list[Series]) -> bool:
    return any(is_loss_name(s.name) for s in series)


def read_log(
    path: str, *, progress: Progress | None = None, stdin: BinaryIO | None = None
) -> LogData:
    """Read one training log (file, gzip, directory or ``-``) into series.

    ``progress(bytes_done, bytes_total)`` is called now and then for inputs of known size.
    Raises :class:`TriageInputError` for input that cannot be used.
    """
    hugepages = _set_hugepages(False)
    try:
        return _read(path, progress, stdin)
    except TriageInputError:
        raise
    except MemoryError:
        raise TriageInputError(path, "out of memory while reading the log") from None
    except RecursionError:
        raise TriageInputError(path, "log too deeply nested to read") from None
    except OSError as e:
        raise TriageInputError(path, f"cannot read ({e.strerror or e})") from None
    except Exception as e:  # noqa: BLE001 - a reader bug must not become a traceback
        raise TriageInputError(
            path, f"could not read the log ({type(e).__name__}: {e})".splitlines()[0][:200]
        ) from None
    finally:
        _set_hugepages(hugepages)


def _set_hugepages(on: bool) -> bool:
    """Turn numpy's transparent-huge-page advice for large arrays on or off; returns the
    previous setting. Off while reading: where the kernel compacts memory for huge pages on
    demand (``defrag = madvise``), each fresh large array of the join costs several times
    its copy, and the arrays here are written once, sequentially."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - other numpy layouts: leave it as it is
        return on
    return bool(_set_madvise_hugepage(on))


def _read(path: str, progress: Progress | None, stdin: BinaryIO | None) -> LogData:
    op = open_input(path, stdin=stdin)
    try:
        return _read_opened(path, op, progress, stdin)
    finally:
        if op.stream is not None and op.real_path is not None:
            op.stream.close()


def _read_opened(
    path: str, op: Opened, progress: Progress | None, stdin: BinaryIO | None
) -> LogData:
    notes: list[str] = []
    if op.kind == "tensorboard":
        reader: Reader = by_name("tensorboard")
        items: Iterable[Reading | Batch] = reader.parse_events(  # type: ignore[attr-defined]
            op.event_root or ".", op.event_files
        )
        series, extra = collect(items, reader)
        if not series:
            raise TriageInputError(path, "TensorBoard events hold no scalars")
    else:
        head = head_text(op)
        reader = pick(head, op.filename)
        if reader.whole and op.size > WHOLE_MAX_BYTES:
            raise TriageInputError(path, f"{reader.name} file too large to read whole")
        if (
            getattr(reader, "parallel", False)
            and op.plain_utf8_file
            and op.size >= PARALLEL_MIN_BYTES
            and _can_fork()
        ):
            items = _parallel_caffe(op, progress)
        else:
            items = reader.parse(raw_chunks(op, CHUNK_BYTES, progress))
        series, extra = collect(items, reader)
        if not _has_loss(series) and not isinstance(reader, GenericReader) and op.real_path:
            # the sniffed format found no loss: give the generic reader a try
            op2 = open_input(path, stdin=stdin)
            generic = GenericReader()
            g_series, g_extra = collect(generic.parse(raw_chunks(op2, CHUNK_BYTES)), generic)
            if _has_loss(g_series):
                reader, series, extra = generic, g_series, g_extra
    notes.extend(reader.notes)
    notes.extend(extra)
    if not series:
        raise TriageInputError(path, f"no training metrics found (read as {reader.name})")
    if not _has_loss(series):
        raise TriageInputError(path, f"no recognisable loss in the log (read as {reader.name})")
    return LogData(
        path=path, format=reader.name, series=tuple(series), notes=tuple(dict.fromkeys(notes))
    )


def _can_fork() -> bool:
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods()
