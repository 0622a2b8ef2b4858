"""``read_log``: open an input, sniff its format, stream it through the best reader and
build tidy float64 :class:`~assistant.triage.model.Series`.

Large plain Caffe and print / logging logs are split across the machine's cores (byte
ranges cut at line breaks, each parsed by a worker process, merged in order; the readings
come back through shared memory, :class:`_Workers`). Memory stays bounded: readings are
collected as they stream in, and a series longer than :data:`MAX_KEPT_POINTS` is reduced
on the fly to the lowest and highest reading of each block (:class:`_Reduced`). Unusable
input raises
:class:`~assistant.triage.model.TriageInputError`, never anything else.
"""

from __future__ import annotations

import io
import math
import mmap
import os
import pickle
import socket
import struct
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

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
        "memo",
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

    def __init__(self, memo: _StepsMemo) -> None:
        self.memo = memo
        # raw readings ((cumulative) steps, values, epochs or None) while not reduced
        self.parts: list[tuple[_Cumulative, np.ndarray, np.ndarray | None]] = []
        self.raw_n = 0
        self.n = 0
        self.dropped = 0
        self.has_epoch = False
        self.s_buf = array("d")
        self.v_buf = array("d")
        self.e_buf = array("d")
        self.prev = -math.inf  # the last step so far
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
        ep = None if b.epochs is None else _float64(b.epochs)
        if ep is not None:
            self.has_epoch = True
        self._take(_float64(b.steps), _float64(b.values), ep)

    def flush(self) -> None:
        if self.s_buf:
            s = np.frombuffer(self.s_buf, dtype=np.float64)
            v = np.frombuffer(self.v_buf, dtype=np.float64)
            e = np.frombuffer(self.e_buf, dtype=np.float64)
            self.s_buf, self.v_buf, self.e_buf = array("d"), array("d"), array("d")
            self._take(s, v, e)

    def _take(self, s: np.ndarray, v: np.ndarray, e: np.ndarray | None) -> None:
        cut = self.memo.cut(s, self.prev, self.offset, self.seg_max)
        if cut.drop is not None:  # readings before the first step mark
            keep, s = cut.drop
            self.dropped += len(v) - len(s)
            v = v[keep]
            e = e[keep] if e is not None else None
        if not len(v):
            return
        self.prev, self.offset, self.seg_max = cut.after
        self.resets += cut.resets
        self.n += len(v)
        if self.reduced is not None:
            self.reduced.add(_Cumulative(s, cut.starts, cut.offsets), v, e)
            return
        # copies: the arrays may be views of a worker's whole piece (see _Workers), which
        # stays in memory while any view of it lives
        self.parts.append(
            (
                _Cumulative(s.copy(), cut.starts, cut.offsets),
                v.copy(),
                e.copy() if e is not None else None,
            )
        )
        self.raw_n += len(v)
        if self.raw_n > MAX_KEPT_POINTS:  # long: reduce from here on
            self.reduced = _Reduced(self.raw_n)
            parts, self.parts = self.parts, []
            for part in parts:
                self.reduced.add(*part)


def _float64(x: np.ndarray) -> np.ndarray:
    """``x`` as float64: itself when it is (``np.asarray`` makes a new view of an unpickled
    array, whose dtype is an equal but other object: the steps shared by several series
    would no longer be one array for :class:`_StepsMemo`)."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x
    return np.asarray(x, dtype=np.float64)


class _Cumulative:
    """Steps ``s`` and how to make them cumulative (see :func:`_cumulative_steps`): the
    steps from ``starts[j]`` on (a restart) have ``offsets[j]`` added. Computed only where
    asked for: a long series keeps two readings a block, and only those need them."""

    __slots__ = ("s", "starts", "offsets")

    def __init__(self, s: np.ndarray, starts: np.ndarray, offsets: np.ndarray) -> None:
        self.s = s
        self.starts = starts
        self.offsets = offsets

    def at(self, places: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """The cumulative steps at ``places``, whose steps are ``steps``: the same sums as
        adding the offsets to all the steps, at a fraction of the work."""
        if len(self.starts) == 1:
            return steps + self.offsets[0]
        return steps + self.offsets[np.searchsorted(self.starts, places, side="right") - 1]

    def span(self, a: int, b: int) -> np.ndarray:
        """The cumulative steps of places a to b."""
        return self.at(np.arange(a, b), self.s[a:b])


class _Cut:
    """What one array of steps gives a series in a given state: the readings to keep and
    their steps (None: all are), where the segments between restarts start and their offsets
    (see :class:`_Cumulative`), the state after them (the last step, the offset and the
    largest raw step of the open segment) and the restarts among them. It holds no
    reference to the array (see :class:`_StepsMemo`)."""

    __slots__ = ("drop", "starts", "offsets", "after", "resets")

    def __init__(
        self,
        drop: tuple[np.ndarray, np.ndarray] | None,
        starts: np.ndarray,
        offsets: np.ndarray,
        after: tuple[float, float, float],
        resets: int,
    ) -> None:
        self.drop = drop
        self.starts = starts
        self.offsets = offsets
        self.after = after
        self.resets = resets


def _cut(s: np.ndarray, prev: float, offset: float, seg_max: float) -> _Cut:
    """Readings with no step dropped, restarts found and the offsets made, the same sums
    in the same order as :func:`_cumulative_steps` on the whole series (adding a constant
    keeps the largest step the largest)."""
    drop = None
    bad = np.isnan(s)
    if bad.any():
        keep = ~bad
        s = s[keep]
        drop = (keep, s)
    if not len(s):
        return _Cut(drop, _ONE_SEGMENT, np.array([offset]), (prev, offset, seg_max), 0)
    r = np.flatnonzero(s[1:] < s[:-1]) + 1
    restart_first = bool(s[0] < prev)  # a restart between the parts
    if not len(r) and not restart_first:
        after = (float(s[-1]), offset, max(seg_max, float(s.max())))
        return _Cut(drop, _ONE_SEGMENT, np.array([offset]), after, 0)
    starts = np.concatenate(([0], r))
    highs = np.maximum.reduceat(s, starts)  # the largest raw step of each segment here
    if restart_first:  # every segment here starts with a restart
        closed = np.concatenate(([seg_max], highs[:-1]))
        offsets = np.cumsum(np.concatenate(([offset], closed)))[1:]
    else:  # the first segment goes on with the open one
        closed = np.concatenate(([max(seg_max, float(highs[0]))], highs[1:-1]))
        offsets = np.cumsum(np.concatenate(([offset], closed)))
    after = (float(s[-1]), float(offsets[-1]), float(highs[-1]))
    return _Cut(drop, starts, offsets, after, len(r) + restart_first)


_ONE_SEGMENT = np.zeros(1, dtype=np.int64)
"""The starts of the segments of steps with no restart among them."""


class _StepsMemo:
    """:func:`_cut` done once per array of steps and state: the metrics of one line share
    one array of steps, and the series of those metrics have seen the same steps before
    it. An entry lives as long as its array (ids are unique among live objects)."""

    def __init__(self) -> None:
        self.done: dict[tuple[int, bytes], _Cut] = {}

    def cut(self, s: np.ndarray, prev: float, offset: float, seg_max: float) -> _Cut:
        key = (id(s), struct.pack("=3d", prev, offset, seg_max))
        got = self.done.get(key)
        if got is None:
            got = self.done[key] = _cut(s, prev, offset, seg_max)
            weakref.finalize(s, self.done.pop, key, None).atexit = False
        return got


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


class _Ends:
    """The lowest (or the highest) reading of each whole block so far: its place, and its
    step, cumulative step, value and epoch as the rows of ``cols``."""

    __slots__ = ("at", "cols")

    def __init__(self) -> None:
        self.at = np.empty(HALF, dtype=np.int64)
        self.cols = np.empty((4, HALF), dtype=np.float64)

    def keep(self, pick: np.ndarray) -> None:
        """Keep the blocks at ``pick`` (as the first ``len(pick)``)."""
        n = len(pick)
        self.at[:n] = self.at[pick]
        self.cols[:, :n] = self.cols[:, pick]


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
        # the readings after the last whole block (steps, cumulative steps, values, epochs)
        self.tail: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.tail_n = 0
        self.count = 0  # whole blocks
        self.low = _Ends()
        self.high = _Ends()

    def add(self, cum: _Cumulative, v: np.ndarray, e: np.ndarray | None) -> None:
        s = cum.s
        if e is None:
            e = np.full(len(v), np.nan)
        m, pos = len(v), 0
        if self.tail_n:  # first the block the readings before began
            need = self.size - self.tail_n
            if m < need:  # copies, as in _Acc._take
                self.tail.append((s.copy(), cum.span(0, m), v.copy(), e.copy()))
                self.tail_n += m
                return
            self.tail.append((s[:need], cum.span(0, need), v[:need], e[:need]))
            bs, bc, bv, be = (np.concatenate(x) for x in zip(*self.tail, strict=True))
            self.tail, self.tail_n = [], 0
            self._blocks(bs, lambda at, _steps: bc[at], bv, be, 0, 1)
            pos = need
        while m - pos >= self.size:
            k = min((m - pos) // self.size, HALF - self.count)
            end = pos + k * self.size
            self._blocks(s, cum.at, v, e, pos, k)  # may double the size
            pos = end
        if pos < m:
            self.tail = [(s[pos:].copy(), cum.span(pos, m), v[pos:].copy(), e[pos:].copy())]
            self.tail_n = m - pos

    def _blocks(
        self,
        s: np.ndarray,
        cumulative: Callable[[np.ndarray, np.ndarray], np.ndarray],
        v: np.ndarray,
        e: np.ndarray,
        pos: int,
        k: int,
    ) -> None:
        """Add k whole blocks (the readings from place ``pos`` on; ``cumulative(places,
        steps)``: the cumulative steps there); join pairs when there are HALF."""
        end = pos + k * self.size
        low, high = _block_ends(v[pos:end].reshape(k, self.size))
        base = np.arange(pos, end, self.size, dtype=np.int64)
        n = self.count
        for ends, at in ((self.low, base + low), (self.high, base + high)):
            ends.at[n : n + k] = at + (self.start - pos)
            steps = s.take(at, out=ends.cols[0, n : n + k])
            ends.cols[1, n : n + k] = cumulative(at, steps)
            v.take(at, out=ends.cols[2, n : n + k])
            e.take(at, out=ends.cols[3, n : n + k])
        self.start += k * self.size
        self.count += k
        if self.count == HALF:
            self._double()

    def _double(self) -> None:
        pairs = np.arange(0, HALF, 2)
        lows = self.low.cols[2]
        key = np.where(np.isnan(lows), np.inf, lows)  # nan: never the lowest
        self.low.keep(pairs + (key[1::2] < key[0::2]))  # a tie: the earlier
        ha, hb = self.high.cols[2, 0::2], self.high.cols[2, 1::2]
        nan_a, nan_b = np.isnan(ha), np.isnan(hb)
        take_a = nan_a | (~nan_b & (ha >= hb))  # the earlier nan, else the higher
        self.high.keep(pairs + ~take_a)
        self.count //= 2
        self.size *= 2

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(steps, cumulative steps, values, epochs) of the kept readings, in order."""
        n = self.count
        low_at, high_at = self.low.at[:n], self.high.at[:n]
        first = low_at <= high_at
        both = np.ones((n, 2), dtype=bool)
        both[:, 1] = low_at != high_at
        keep = both.ravel()
        out = []
        for row in range(4):
            low, high = self.low.cols[row, :n], self.high.cols[row, :n]
            pair = np.empty((n, 2), dtype=np.float64)
            pair[:, 0] = np.where(first, low, high)
            pair[:, 1] = np.where(first, high, low)
            out.append(np.concatenate([pair.ravel()[keep], *(t[row] for t in self.tail)]))
        return out[0], out[1], out[2], out[3]


def collect(items: Iterable[Reading | Batch], reader: Reader) -> tuple[list[Series], list[str]]:
    """Series from a stream of readings and batches (order of first appearance kept); a
    series longer than :data:`MAX_KEPT_POINTS` readings is reduced as it streams in."""
    accs: dict[tuple[str, str], _Acc] = {}
    memo = _StepsMemo()
    for item in items:
        key = (item.name, item.split)
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = _Acc(memo)
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
            s = np.concatenate([p[0].s for p in acc.parts])
            v = np.concatenate([p[1] for p in acc.parts])
            e = np.concatenate(
                [p[2] if p[2] is not None else np.full(len(p[1]), np.nan) for p in acc.parts]
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
    ss.cols = _joined_parts(ss.cols)
    return ss


def _joined_parts(
    cols: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]],
) -> dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """One part per metric (a range is scanned in sub-pieces, each adding a part), joined
    on the way to the main process (:class:`_Join`): it then handles one batch per metric
    and range. Parts that are the same arrays for several metrics (their iterations and
    epochs) make one join, so the joined arrays stay shared."""
    joins: dict[tuple[int, ...], _Join] = {}

    def join(arrays: list[np.ndarray]) -> np.ndarray:
        if len(arrays) == 1:
            return arrays[0]
        key = tuple(map(id, arrays))  # the parts are alive meanwhile: ids are unique
        if key not in joins:
            joins[key] = _Join(arrays)
        return joins[key]  # type: ignore[return-value]  # an array once shipped

    return {
        name: [
            (join([p[0] for p in parts]), join([p[1] for p in parts]), join([p[2] for p in parts]))
        ]
        for name, parts in cols.items()
    }


_SHM: tuple[socket.socket, socket.socket] | None = None
"""In a worker process: the sockets its results' shared memory goes out by and spare shared
memory comes back by (see :class:`_Workers`)."""


def _worker_init(shm: tuple[socket.socket, socket.socket] | None) -> None:
    global _SHM
    _SHM = shm
    tune_malloc()


class _Join:
    """Arrays that a worker's result holds as one: written one after the other into the
    shared memory, they arrive as one array at no cost (through the pipe: joined)."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[np.ndarray]) -> None:
        self.parts = parts

    def __reduce__(self) -> tuple[Any, ...]:
        return (np.concatenate, (self.parts,))


class _Packer(pickle.Pickler):
    """Pickles a worker's result with its 1-d arrays (and :class:`_Join` ones) written into
    a memfd instead (``fd``, taken from ``spares`` when the first array comes), each once
    however often it is referred to."""

    def __init__(self, file: io.BytesIO, spares: socket.socket) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.spares = spares
        self.fd: int | None = None
        self.size = 0
        self.placed: dict[int, tuple[int, int, str]] = {}
        self.alive: list[object] = []  # the objects placed: their ids stay theirs

    def persistent_id(self, obj: object) -> tuple[int, int, str] | None:
        if isinstance(obj, _Join):
            parts = obj.parts
        elif type(obj) is np.ndarray and obj.ndim == 1 and obj.flags.c_contiguous:
            parts = [obj]
        else:
            return None
        dtype = parts[0].dtype if parts else None
        if dtype is None or dtype.hasobject or any(p.dtype != dtype for p in parts):
            return None
        if not any(len(p) for p in parts):
            return None
        token = self.placed.get(id(obj))
        if token is None:
            if self.fd is None:
                self.fd = _spare_memfd(self.spares)
            at = -(-self.size // 64) * 64  # each array aligned for the vector units
            end = at
            for part in parts:
                raw = np.ascontiguousarray(part).data.cast("B")
                done = 0
                while done < len(raw):
                    done += os.pwrite(self.fd, raw[done:], end + done)
                end += len(raw)
            token = self.placed[id(obj)] = (at, (end - at) // dtype.itemsize, dtype.str)
            self.alive.append(obj)
            self.size = end
        return token


class _Unpacker(pickle.Unpickler):
    """Unpickles a :class:`_Packer` pickle, its arrays views of the mapped memfd (one view
    per array, shared as the arrays were)."""

    def __init__(self, file: io.BytesIO, mem: np.ndarray) -> None:
        super().__init__(file)
        self.mem = mem
        self.views: dict[int, np.ndarray] = {}

    def persistent_load(self, pid: Any) -> np.ndarray:
        at, count, dtype = pid
        view = self.views.get(at)
        if view is None:
            kind = np.dtype(dtype)
            view = self.views[at] = self.mem[at : at + count * kind.itemsize].view(kind)
        return view


class _Shipped:
    """A worker's result, its arrays waiting in the shared memory the worker sent for job
    ``job`` (``size`` bytes)."""

    __slots__ = ("job", "meta", "size")

    def __init__(self, job: int, meta: bytes, size: int) -> None:
        self.job = job
        self.meta = meta
        self.size = size


def _run(task: tuple[Callable[[Any], object], int, Any]) -> object:
    """Run one job in a worker; a result holding arrays goes back as :class:`_Shipped`, its
    arrays written into shared memory whose descriptor goes over the results socket."""
    fn, job, args = task
    result = fn(args)
    if _SHM is None or result is None:
        return result
    results, spares = _SHM
    meta = io.BytesIO()
    packer = _Packer(meta, spares)
    try:
        packer.dump(result)
        if packer.fd is None:  # no arrays
            return result
        socket.send_fds(results, [job.to_bytes(8, "little")], [packer.fd])
    finally:
        if packer.fd is not None:
            os.close(packer.fd)
    return _Shipped(job, meta.getvalue(), packer.size)


def _spare_memfd(spares: socket.socket) -> int:
    """Shared memory the main process is done with (its pages are reused: no fresh pages to
    clear, and none to free in the main process), else a new memfd."""
    try:
        _msg, fds, _flags, _addr = socket.recv_fds(spares, 1, 1)  # non-blocking
    except BlockingIOError:
        fds = []
    return fds[0] if fds else os.memfd_create("lossdoctor-result", os.MFD_CLOEXEC)


def _shm_sockets() -> list[tuple[socket.socket, socket.socket]]:
    """The (results, spares) socket pairs of :class:`_Workers` ([0]: the main process's end,
    [1]: the workers'), or none where memfds or Unix sockets cannot be had."""
    if not hasattr(os, "memfd_create") or not hasattr(socket, "send_fds"):
        return []
    try:
        os.close(os.memfd_create("lossdoctor-result", os.MFD_CLOEXEC))  # not forbidden
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in "rs"]
    except OSError:
        return []
    for sock in pairs[1]:  # spares: taken and given back without waiting
        sock.setblocking(False)
    return pairs


class _Workers:
    """A pool of forked worker processes whose results come back through shared memory.

    A piece's readings are tens of MB of float64 arrays: pickled through the pool's pipe,
    the main process would copy them twice (and the pool's worker-handler thread spins while
    the pipe holds data), competing with the workers for the cores. Instead each result's
    arrays go into an anonymous shared file (memfd, :class:`_Packer`) whose descriptor is
    passed over a Unix socket; the main process maps it, and the arrays it unpickles are
    views of that memory (:class:`_Unpacker`). When the last of them goes, the memfd goes
    back to the workers for a later result: its pages are written again, not freed and
    cleared, and stay mapped in the main process, which faults none of them in again.
    Nothing is left behind whatever way the processes end. Where memfds are not available,
    results are pickled through the pipe."""

    def __init__(self, procs: int) -> None:
        import multiprocessing as mp

        self.socks = _shm_sockets()
        shm = (self.socks[0][1], self.socks[1][1]) if self.socks else None
        self.pool = mp.get_context("fork").Pool(procs, initializer=_worker_init, initargs=(shm,))
        self.waiting: dict[int, int] = {}  # descriptors received ahead of their result
        # the memfds in use, mapped once: a result in one that was mapped before faults in
        # no pages (the worker wrote into the same pages)
        self.maps: dict[tuple[int, int], mmap.mmap] = {}
        self.keep_maps = 2 * procs + 2  # more are mapped for their result only

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.terminate()
        self.pool.join()
        for fd in self.waiting.values():
            os.close(fd)
        self.maps.clear()  # each unmapped when no array uses it any more
        for pair in self.socks:  # descriptors still in them are closed with them
            for sock in pair:
                sock.close()

    def imap(self, fn: Callable[[Any], object], jobs: Iterable[Any]) -> Iterator[Any]:
        """``fn(job)`` for each job, in order (``fn`` at module level)."""
        tasks = ((fn, n, job) for n, job in enumerate(jobs))
        for result in self.pool.imap(_run, tasks):
            yield self._receive(result) if isinstance(result, _Shipped) else result

    def _receive(self, shipped: _Shipped) -> object:
        # the worker sent the descriptor before returning: it is in the socket by now
        while shipped.job not in self.waiting:
            msg, fds, _flags, _addr = socket.recv_fds(self.socks[0][0], 8, 1)
            self.waiting[int.from_bytes(msg, "little")] = fds[0]
        fd = self.waiting.pop(shipped.job)
        try:
            st = os.fstat(fd)
            memfd = (st.st_dev, st.st_ino)  # the mapping keeps it alive: no other has it
            mem = self.maps.get(memfd)
            if mem is None or len(mem) < shipped.size:
                mem = mmap.mmap(fd, st.st_size, flags=mmap.MAP_SHARED)
                if memfd in self.maps or len(self.maps) < self.keep_maps:
                    self.maps[memfd] = mem
        except BaseException:
            os.close(fd)
            raise
        lease = np.frombuffer(mem, dtype=np.uint8)  # the base of every array of the result
        weakref.finalize(lease, self._spare, fd, memfd).atexit = False
        return _Unpacker(io.BytesIO(shipped.meta), lease).load()

    def _spare(self, fd: int, memfd: tuple[int, int]) -> None:
        """Hand a memfd no array uses any more back to the workers (once they are gone, or
        when too many wait, it is closed and its mapping dropped: its memory is freed)."""
        try:
            socket.send_fds(self.socks[1][0], [b"\0"], [fd])  # non-blocking
        except OSError:
            self.maps.pop(memfd, None)
        finally:
            os.close(fd)


def _procs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _parallel_caffe(op: Opened, progress: Progress | None) -> Iterator[Batch]:
    assert op.real_path is not None
    if op.stream is not None:
        op.stream.close()
    path = op.real_path
    ranges = _ranges(path, op.size, PIECE_BYTES)
    with _Workers(_procs()) as workers:

        def pieces() -> Iterator[Piece]:
            jobs = [(path, a, b) for a, b in ranges]
            for (_a, b), piece in zip(ranges, workers.imap(_caffe_range, jobs), strict=True):
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
    with _Workers(_procs()) as workers:
        jobs = [(path, a, b, templates) for a, b in ranges]
        for (_a, b), piece in zip(ranges, workers.imap(_generic_range, jobs), strict=True):
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
