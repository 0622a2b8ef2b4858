"""``read_log``: open an input, sniff its format, stream it through the best reader and
build tidy float64 :class:`~assistant.triage.model.Series`.

Large plain Caffe and print / logging logs are split across the machine's cores (byte
ranges cut at line breaks, each parsed by a worker process, merged in order). Memory stays
bounded: readings are collected as they stream in, and a series longer than
:data:`MAX_KEPT_POINTS` is reduced on the fly to the lowest and highest reading of each
block (:class:`_Reduced`). Unusable input raises
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
from .readers.caffe import SUB_BYTES, CaffeReader, Piece, combine, merge_pieces, parse_piece
from .readers.caffe_scan import tune_malloc
from .readers.generic import ScanState, Template, continue_from, scan_text, step_axis

Progress = Callable[[int, int], None]

PARALLEL_MIN_BYTES = 64 * 1024 * 1024
PIECE_BYTES = 32 * 1024 * 1024
WHOLE_MAX_BYTES = 512 * 1024 * 1024


class _Acc:
    """The readings of one series as they stream in (single readings buffered in
    ``array('d')``, batches as the arrays the reader made). Readings without a step are
    counted and dropped, the step counter's restarts counted and the steps made cumulative
    on the way (both kinds are kept until the end decides), and once a series is longer
    than :data:`MAX_KEPT_POINTS` it is reduced on the fly (:class:`_Reduced`): memory stays
    bounded however long the log."""

    __slots__ = (
        "parts",
        "raw_n",
        "n",
        "dropped",
        "has_epoch",
        "s_buf",
        "v_buf",
        "e_buf",
        "prev",
        "offset",
        "seg_max",
        "resets",
        "reduced",
    )

    def __init__(self) -> None:
        # raw readings (steps, cumulative steps, values, epochs or None) while not reduced
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = []
        self.raw_n = 0
        self.n = 0
        self.dropped = 0
        self.has_epoch = False
        self.s_buf = array("d")
        self.v_buf = array("d")
        self.e_buf = array("d")
        self.prev = math.nan  # the last step so far
        self.offset = 0.0  # added to the steps of the current segment (between restarts)
        self.seg_max = -math.inf  # the largest raw step of the current segment
        self.resets = 0
        self.reduced: _Reduced | None = None

    def add(self, step: float, value: float, epoch: float | None) -> None:
        self.s_buf.append(step)
        self.v_buf.append(value)
        if epoch is None:
            self.e_buf.append(math.nan)
        else:
            self.e_buf.append(epoch)
            self.has_epoch = True
        if len(self.s_buf) >= 1 << 16:
            self.flush()

    def add_batch(self, b: Batch) -> None:
        self.flush()
        ep = None if b.epochs is None else np.asarray(b.epochs, dtype=np.float64)
        if ep is not None:
            self.has_epoch = True
        self._take(
            np.asarray(b.steps, dtype=np.float64), np.asarray(b.values, dtype=np.float64), ep
        )

    def flush(self) -> None:
        if self.s_buf:
            s = np.frombuffer(self.s_buf, dtype=np.float64)
            v = np.frombuffer(self.v_buf, dtype=np.float64)
            e = np.frombuffer(self.e_buf, dtype=np.float64)
            self.s_buf, self.v_buf, self.e_buf = array("d"), array("d"), array("d")
            self._take(s, v, e)

    def _take(self, s: np.ndarray, v: np.ndarray, e: np.ndarray | None) -> None:
        bad = np.isnan(s)
        if bad.any():  # readings before the first step mark
            self.dropped += int(bad.sum())
            keep = ~bad
            s, v = s[keep], v[keep]
            e = e[keep] if e is not None else None
        if not len(s):
            return
        c = self._cumulative(s)
        self.n += len(s)
        if self.reduced is not None:
            self.reduced.add(s, c, v, e)
            return
        self.parts.append((s, c, v, e))
        self.raw_n += len(s)
        if self.raw_n > MAX_KEPT_POINTS:  # long: reduce from here on
            self.reduced = _Reduced(self.raw_n)
            parts, self.parts = self.parts, []
            for p in parts:
                self.reduced.add(*p)

    def _cumulative(self, s: np.ndarray) -> np.ndarray:
        """The steps with each segment after a restart shifted by the largest step before
        it, as :func:`_cumulative_steps` does on the whole series (the same sums in the same
        order: adding a constant keeps the largest step the largest)."""
        r = np.flatnonzero(s[1:] < s[:-1]) + 1
        restart_first = bool(s[0] < self.prev)  # a restart between the parts
        self.prev = float(s[-1])
        if not len(r) and not restart_first:
            self.seg_max = max(self.seg_max, float(s.max()))
            return s + self.offset
        self.resets += len(r) + restart_first
        starts = np.concatenate(([0], r))
        highs = np.maximum.reduceat(s, starts)  # the largest raw step of each segment here
        if restart_first:  # every segment here starts with a restart
            closed = np.concatenate(([self.seg_max], highs[:-1]))
            offsets = np.cumsum(np.concatenate(([self.offset], closed)))[1:]
        else:  # the first segment goes on with the open one
            closed = np.concatenate(([max(self.seg_max, float(highs[0]))], highs[1:-1]))
            offsets = np.cumsum(np.concatenate(([self.offset], closed)))
        lengths = np.diff(np.concatenate((starts, [len(s)])))
        self.offset = float(offsets[-1])
        self.seg_max = float(highs[-1])
        return s + np.repeat(offsets, lengths)


HALF = 125_000
"""A long series keeps fewer than this many blocks (two readings each)."""


def _block_ends(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lowest, highest) place in each row: the highest is the first nan of a row that has
    one, the lowest the smallest reading that is not nan (the first place of an all-nan row).
    argmin / argmax return the first nan of a row that has one: only those rows need their
    lowest recomputed without nan."""
    low, high = grid.argmin(axis=1), grid.argmax(axis=1)
    rows = np.flatnonzero(np.isnan(grid[np.arange(grid.shape[0]), low]))
    if rows.shape[0]:
        sub = grid[rows]
        high[rows] = low[rows]
        low[rows] = np.where(np.isnan(sub), np.inf, sub).argmin(axis=1)
    return low, high


_COLS = ("i", "s", "c", "v", "e")


class _Reduced:
    """A long series reduced as it streams in: blocks of ``size`` readings keep their
    lowest and their highest reading (the first nan of a block that has one), so spikes,
    constants, trends and the nan onset survive; the readings after the last whole block are
    kept as they are. ``size`` is the smallest power of two that makes fewer than
    :data:`HALF` whole blocks of the readings so far; when the series grows past that, pairs
    of blocks are joined (the same as blocks of twice the size: the lower of two lows, the
    earlier nan or the higher of two highs), so the result depends on the readings only, not
    on how they came in."""

    def __init__(self, n: int) -> None:
        self.size = 1
        while n // self.size >= HALF:
            self.size *= 2
        self.start = 0  # the place of the first reading not in a whole block
        self.tail: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.tail_n = 0
        self.count = 0  # whole blocks
        # per whole block, the lowest and the highest reading: place, step, cumulative
        # step, value, epoch (in chunks)
        self.low: dict[str, list[np.ndarray]] = {k: [] for k in _COLS}
        self.high: dict[str, list[np.ndarray]] = {k: [] for k in _COLS}

    def add(self, s: np.ndarray, c: np.ndarray, v: np.ndarray, e: np.ndarray | None) -> None:
        cols = (s, c, v, e if e is not None else np.full(len(v), np.nan))
        m, pos = len(v), 0
        if self.tail_n:  # first the block the readings before began
            need = self.size - self.tail_n
            if m < need:
                self.tail.append(cols)
                self.tail_n += m
                return
            self.tail.append(tuple(x[:need] for x in cols))  # type: ignore[arg-type]
            block = tuple(np.concatenate(x) for x in zip(*self.tail, strict=True))
            self.tail, self.tail_n = [], 0
            self._blocks(block, 1)  # type: ignore[arg-type]
            pos = need
        while m - pos >= self.size:
            k = min((m - pos) // self.size, HALF - self.count)
            end = pos + k * self.size
            self._blocks(tuple(x[pos:end] for x in cols), k)  # type: ignore[arg-type]
            pos = end
        if pos < m:
            self.tail = [tuple(x[pos:] for x in cols)]  # type: ignore[list-item]
            self.tail_n = m - pos

    def _blocks(self, cols: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], k: int) -> None:
        """Add k whole blocks (the readings in cols); join pairs when there are HALF."""
        ts, tc, tv, te = cols
        low, high = _block_ends(tv.reshape(k, self.size))
        base = np.arange(k, dtype=np.int64) * self.size
        for dest, at in ((self.low, base + low), (self.high, base + high)):
            dest["i"].append(at + self.start)
            dest["s"].append(ts[at])
            dest["c"].append(tc[at])
            dest["v"].append(tv[at])
            dest["e"].append(te[at])
        self.start += k * self.size
        self.count += k
        if self.count == HALF:
            self._double()

    def _double(self) -> None:
        low = {k: np.concatenate(v) for k, v in self.low.items()}
        high = {k: np.concatenate(v) for k, v in self.high.items()}
        key = np.where(np.isnan(low["v"]), np.inf, low["v"])  # nan: never the lowest
        take_a = key[0::2] <= key[1::2]  # a tie: the earlier
        ha, hb = high["v"][0::2], high["v"][1::2]
        nan_a, nan_b = np.isnan(ha), np.isnan(hb)
        take_ha = nan_a | (~nan_b & (ha >= hb))  # the earlier nan, else the higher
        self.low = {k: [np.where(take_a, x[0::2], x[1::2])] for k, x in low.items()}
        self.high = {k: [np.where(take_ha, x[0::2], x[1::2])] for k, x in high.items()}
        self.count //= 2
        self.size *= 2

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(steps, cumulative steps, values, epochs) of the kept readings, in order."""
        low = {k: np.concatenate(v) if v else np.empty(0) for k, v in self.low.items()}
        high = {k: np.concatenate(v) if v else np.empty(0) for k, v in self.high.items()}
        first = low["i"] <= high["i"]
        both = np.ones((len(first), 2), dtype=bool)
        both[:, 1] = low["i"] != high["i"]
        keep = both.ravel()
        out = []
        for k in ("s", "c", "v", "e"):
            pair = np.empty((len(first), 2), dtype=np.float64)
            pair[:, 0] = np.where(first, low[k], high[k])
            pair[:, 1] = np.where(first, high[k], low[k])
            tails = [t[("s", "c", "v", "e").index(k)] for t in self.tail]
            out.append(np.concatenate([pair.ravel()[keep], *tails]))
        return out[0], out[1], out[2], out[3]


def collect(items: Iterable[Reading | Batch], reader: Reader) -> tuple[list[Series], list[str]]:
    """Series from a stream of readings and batches (order of first appearance kept); a
    series longer than :data:`MAX_KEPT_POINTS` readings is reduced as it streams in."""
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
    for (name, split), acc in accs.items():
        acc.flush()
        dropped += acc.dropped
        if not acc.n:
            continue
        readings = None
        if acc.reduced is not None:
            readings = acc.n
            s, c, v, e = acc.reduced.result()
            restarted = acc.resets if acc.n >= 3 and 0 < acc.resets <= acc.n // 2 else 0
            if restarted:
                s = c
        else:
            s = np.concatenate([p[0] for p in acc.parts])
            v = np.concatenate([p[2] for p in acc.parts])
            e = np.concatenate(
                [p[3] if p[3] is not None else np.full(len(p[2]), np.nan) for p in acc.parts]
            )
            s, restarted = _cumulative_steps(s)
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
                epochs=e if acc.has_epoch else None,
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
    nan of any block that has one (so the nan onset stays exact). For a whole series at
    hand (the monitor's); :func:`collect` reduces as readings stream in (:class:`_Reduced`,
    blocks of a power-of-two size)."""
    n = values.shape[0]
    block = -(-n // (limit // 2))
    whole = n // block * block
    grid = values[:whole].reshape(-1, block)
    low, high = _block_ends(grid)
    del grid
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


def _range_chunks(path: str, start: int, end: int, size: int) -> Iterator[bytes | bytearray]:
    """A byte range of a file (ending at a line break) as normalised sub-pieces of about
    ``size`` bytes cut at line breaks. Each is read into its own buffer and cut back to its
    last line break (the file position goes back to the start of the cut-off line)."""
    buf = bytearray(min(size, end - start))
    with open(path, "rb", buffering=0) as fh:
        pos = start
        while pos < end:
            want = min(size, end - pos)
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
                    more = fh.read(min(size, end - pos - len(buf)))
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


def _caffe_range(args: tuple[str, int, int]) -> Piece:
    """Readings of one byte range of a plain Caffe log (in a worker process): read and
    parsed in cache-sized sub-pieces cut at line breaks, merged into one piece."""
    path, start, end = args
    return combine(parse_piece(c) for c in _range_chunks(path, start, end, SUB_BYTES))


def _generic_range(args: tuple[str, int, int, list[Template]]) -> ScanState | None:
    """Readings of one byte range of a plain print / logging log (in a worker process),
    the context it inherits left open (:data:`CARRY`); None when the range holds pipe-table
    lines (their reading depends on the lines before the range)."""
    path, start, end, templates = args
    ss = ScanState()
    ss.templates = list(templates)
    for chunk in _range_chunks(path, start, end, GenericReader.SUB_BYTES):
        scan_text(chunk, ss)
        if ss.pipes:
            return None
    ss.templates = []
    return ss


def _worker_init() -> None:
    tune_malloc()


def _pool(procs: int):  # type: ignore[no-untyped-def]
    import multiprocessing as mp

    return mp.get_context("fork").Pool(procs, initializer=_worker_init)


def _procs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _parallel_caffe(op: Opened, progress: Progress | None) -> Iterator[Batch]:
    assert op.real_path is not None
    if op.stream is not None:
        op.stream.close()
    path = op.real_path
    ranges = _ranges(path, op.size, PIECE_BYTES)
    with _pool(_procs()) as pool:

        def pieces() -> Iterator[Piece]:
            jobs = [(path, a, b) for a, b in ranges]
            for (_a, b), piece in zip(ranges, pool.imap(_caffe_range, jobs), strict=True):
                if progress is not None:
                    progress(b, op.size)
                yield piece

        yield from merge_pieces(pieces())


class _ReadAgain(Exception):
    """A log read in ranges turned out to need one stream (pipe tables, or a step axis that
    changes after the first range)."""


def _parallel_generic(
    op: Opened, progress: Progress | None, reader: GenericReader
) -> Iterator[Reading | Batch]:
    """The readings of a large plain print / logging log read in byte ranges by worker
    processes (templates learnt from the head first, so each range starts with them), each
    range's batches handed on as soon as it is in (memory stays bounded). Raises
    :class:`_ReadAgain` for a log that must be read in one stream."""
    assert op.real_path is not None
    path = op.real_path
    templates: list[Template] = []
    head = op.head[: op.head.rfind(b"\n") + 1]
    if head:
        ss0 = ScanState()
        scan_text(normalise(head), ss0)
        templates = ss0.templates
    ranges = _ranges(path, op.size, PIECE_BYTES)
    carry = ScanState(None, None)
    axis = None
    counts: dict[str, int] = {}
    with _pool(_procs()) as pool:
        jobs = [(path, a, b, templates) for a, b in ranges]
        for (_a, b), piece in zip(ranges, pool.imap(_generic_range, jobs), strict=True):
            if piece is None:
                raise _ReadAgain
            continue_from(carry, piece)
            now = step_axis(carry.any_iter, carry.any_epoch)
            if axis is not None and now != axis:
                raise _ReadAgain
            axis = now
            if progress is not None:
                progress(b, op.size)
            yield from reader.batches(piece.cols, axis, counts)
    if op.stream is not None:
        op.stream.close()
    reader.settle(carry.any_iter, carry.any_epoch)


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
        parallel = op.plain_utf8_file and op.size >= PARALLEL_MIN_BYTES and _can_fork()
        if parallel and isinstance(reader, CaffeReader):
            items = _parallel_caffe(op, progress)
        elif parallel and isinstance(reader, GenericReader):
            items = _parallel_generic(op, progress, reader)
        else:
            items = reader.parse(raw_chunks(op, CHUNK_BYTES, progress))
        try:
            series, extra = collect(items, reader)
        except _ReadAgain:  # pipe tables, or a step axis that changes: one stream after all
            if op.stream is not None:
                op.stream.close()
            op = open_input(path, stdin=stdin)
            reader = type(reader)()
            series, extra = collect(reader.parse(raw_chunks(op, CHUNK_BYTES, progress)), reader)
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
