"""Caffe solver output (glog): ``Iteration N (...), loss = X``, ``Train net output #k:
name = X (* w = Y loss)``, ``Iteration N, Testing net (#0)`` + ``Test net output #k: ...``,
old ``Test score #k: X`` and ``Iteration N, lr = X``.

The parse is built for very large logs: big byte chunks, one compiled bytes regex per line
family run with ``findall`` over the whole chunk, numbers converted in bulk. Train net outputs
are tied to their iteration by matching each ``Iteration ..., loss`` line together with the
output lines that follow it; a chunk whose counts do not add up is re-read line by line (the
exact path), so the fast path never silently drops a value. ``parse_piece`` works on one
independent piece of a file so read.py may spread a large file across processes.

Before that regex path, ``parse_piece`` tries the vectorised scan of caffe_scan.py (numpy over
the raw bytes, several times faster), which gives up on anything irregular; ``parse_range``
runs it over cache-sized sub-pieces of a large chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..model import Reading
from .base import Batch, Reader, floats, norm_name
from .caffe_scan import scan, share_steps

# one pass over `Iteration N (...), loss = X` and `Iteration N, lr = X` lines
ITER_RE = re.compile(rb"Iteration (\d+)(?: \([^)]*\))?, (l\w+) = ([^\n]*)")
# one pass over `Train net output #k: name = X (...)` lines, values only (no tuples)
OUT_RE = re.compile(rb"Train net output #\d+:[# ]*[^ \n]* = ([^ \n]*)")
OUT_NAMED_RE = re.compile(rb"Train net output #(\d+):[# ]*([^ \n]*) = ")
LR_RE = re.compile(rb"Iteration (\d+), lr = ([^\n]*)")
TESTING_RE = re.compile(rb"Iteration (\d+), Testing net")
TESTING_MARK = b", Testing net"
TEST_OUT_RE = re.compile(rb"Test (?:net output #\d+:[# ]*([^ ]*) = |score #(\d+): )([^ \n]*)")

# exact (line-by-line) patterns
_L_ITER = re.compile(r"Iteration (\d+)\b[^\n]*?\bloss = (\S+)")
_L_LR = re.compile(r"Iteration (\d+), lr = (\S+)")
_L_TESTING = re.compile(r"Iteration (\d+), Testing net")
_L_OUT = re.compile(r"(Train|Test) net output #\d+:[#\s]*([^\s=]+) = (\S+)")
_L_SCORE = re.compile(r"Test score #(\d+): (\S+)")

_HEAD_RE = re.compile(
    r"(solver\.cpp:\d+\]|Iteration \d+.{0,80}loss = |Train net output #\d+:|"
    r"Test net output #\d+:|Iteration \d+, lr = )"
)


@dataclass
class Piece:
    """Readings of one piece of a Caffe log; NaN steps mean "the iteration before the piece"."""

    cols: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    last_iter: float = float("nan")
    last_test_iter: float = float("nan")

    def add(self, name: str, split: str, steps: np.ndarray, values: np.ndarray) -> None:
        if len(values):
            self.cols.setdefault((name, split), []).append((steps, values))


def _nan_fill(steps: np.ndarray, carry: float) -> np.ndarray:
    if len(steps) and np.isnan(steps[0]):
        steps = steps.copy()
        steps[np.isnan(steps)] = carry
    return steps


def parse_piece(chunk: bytes | bytearray) -> Piece:
    """All readings of one self-contained chunk (fast path, exact path where needed)."""
    piece = Piece()
    first = chunk.find(b"Iteration ")
    if first < 0:
        _exact(bytes(chunk), piece)
        return piece
    line_start = chunk.rfind(b"\n", 0, first) + 1
    if line_start > 0:
        _exact(bytes(chunk[:line_start]), piece)
    if _scan(chunk, line_start, piece):
        return piece
    chunk = bytes(chunk)
    if not _fast(chunk, line_start, piece):
        # counts did not add up: re-read the body line by line
        rest = Piece()
        _exact(chunk[line_start:], rest)
        for key, parts in rest.cols.items():
            for s, v in parts:
                piece.cols.setdefault(key, []).append((s, v))
        if not np.isnan(rest.last_iter):
            piece.last_iter = rest.last_iter
        if not np.isnan(rest.last_test_iter):
            piece.last_test_iter = rest.last_test_iter
    return piece


SUB_BYTES = 2 * 1024 * 1024
"""Sub-piece size of :func:`parse_range`: the vectorised scan makes many passes over a piece,
which are several times faster while the piece stays in the CPU cache."""


def sub_chunks(data: bytes, size: int = SUB_BYTES) -> Iterator[bytes]:
    """``data`` cut at line breaks into chunks of about ``size`` bytes."""
    pos = 0
    while pos < len(data):
        end = len(data)
        if pos + size + size // 2 < len(data):
            end = data.rfind(b"\n", pos, pos + size) + 1
            if end <= pos:
                nl = data.find(b"\n", pos + size)
                end = len(data) if nl < 0 else nl + 1
        yield data[pos:end] if pos or end < len(data) else data
        pos = end


def parse_range(data: bytes) -> Piece:
    """All readings of a large self-contained chunk: :func:`parse_piece` over cache-sized
    sub-pieces cut at line breaks, merged into one :class:`Piece`."""
    return combine(parse_piece(c) for c in sub_chunks(data))


def combine(pieces: Iterable[Piece]) -> Piece:
    """Consecutive pieces as one (the same readings as one ``parse_piece`` over their text):
    unknown leading steps of a piece filled from the pieces before it; those of the first
    stay NaN for the caller's carry. Series with equal steps share one steps array."""
    parts: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = {}
    carry = float("nan")
    carry_test = float("nan")
    for p in pieces:
        for key, lst in p.cols.items():
            fill = carry_test if key[1] == "val" else carry
            parts.setdefault(key, []).extend((_nan_fill(st, fill), v) for st, v in lst)
        if not np.isnan(p.last_iter):
            carry = p.last_iter
        if not np.isnan(p.last_test_iter):
            carry_test = p.last_test_iter
    out = Piece(last_iter=carry, last_test_iter=carry_test)
    shared: list[np.ndarray] = []
    for key, lst in parts.items():
        st = np.concatenate([x for x, _ in lst]) if len(lst) > 1 else lst[0][0]
        v = np.concatenate([x for _, x in lst]) if len(lst) > 1 else lst[0][1]
        out.add(key[0], key[1], share_steps(shared, st), v)
    return out


def _scan(body: bytes | bytearray, start: int, piece: Piece) -> bool:
    """The vectorised scan of ``body[start:]`` (see caffe_scan); False when the piece is not
    regular enough for it (the caller then takes the regex path)."""
    got = scan(body, start, _out_name, TEST_OUT_RE)
    if got is None:
        return False
    saved, last_iter, last_test = got
    for name, split, st, v in saved:
        piece.add(name, split, st, v)
    piece.last_iter = last_iter
    if not np.isnan(last_test):
        piece.last_test_iter = last_test
    return True


def _fast(body: bytes, start: int, piece: Piece) -> bool:
    """Bulk parse of ``body[start:]`` (which starts at an ``Iteration`` line); False when the
    output lines do not form one regular group per loss line (the caller then re-reads the
    body line by line)."""
    it_rows = ITER_RE.findall(body, start)
    if not it_rows:
        return False
    its, kinds, vals = zip(*it_rows, strict=True)
    kind_arr = np.array(kinds, dtype="S4")
    is_loss = kind_arr == b"loss"
    is_lr = kind_arr == b"lr"
    if not (is_loss | is_lr).all():
        return False
    n_loss = int(is_loss.sum())
    if n_loss != body.count(b", loss = ", start):
        return False  # loss lines the pattern missed (hand-edited lines): exact path
    steps_all = floats(its)
    values_all = floats(vals)
    loss_steps = steps_all[is_loss]
    saved: list[tuple[str, str, np.ndarray, np.ndarray]] = []
    if n_loss:
        saved.append(("loss", "train", loss_steps, values_all[is_loss]))
    if is_lr.any():
        saved.append(("lr", "train", steps_all[is_lr], values_all[is_lr]))
    ovals = OUT_RE.findall(body, start)
    if len(ovals) != body.count(b"Train net output #", start):
        return False
    if ovals:
        # outputs #0..#G-1 after every loss line, always the same names: the names come from
        # the first group, and every `#j: name = ` must occur once per group
        # (the piece may end inside the last group: the output lines after it are cut off)
        first: list[tuple[bytes, bytes]] = []
        for m in OUT_NAMED_RE.finditer(body, start):
            if first and m.group(1) == b"0":
                break
            first.append((m.group(1), m.group(2)))
        g = len(first)
        full, rem = divmod(len(ovals), g)
        if g == 0 or first[0][0] != b"0" or not (full + (rem > 0) == n_loss or full + 1 == n_loss):
            return False
        for j, (k, nm) in enumerate(first):
            want = full + (1 if j < rem else 0)
            if body.count(b"Train net output #" + k + b": " + nm + b" = ", start) != want:
                return False
        cut: dict[int, np.ndarray] = {len(loss_steps): loss_steps}
        for j, (_k, nm) in enumerate(first):
            v = floats(ovals[j::g])
            if len(v) not in cut:  # one steps array per length, shared by the outputs
                cut[len(v)] = loss_steps[: len(v)].copy()
            saved.append((_out_name(nm), "train", cut[len(v)], v))
    for name, split, st, v in saved:
        piece.add(name, split, st, v)
    piece.last_iter = float(steps_all[-1])
    # test net: rare lines, matched with their positions
    if body.find(b"Test", start) >= 0:
        marks = []
        at = body.find(TESTING_MARK, start)
        while at >= 0:
            ls = body.rfind(b"\n", 0, at) + 1
            mark = TESTING_RE.search(body, ls, at + len(TESTING_MARK))
            if mark:
                marks.append((mark.start(), float(mark.group(1))))
            at = body.find(TESTING_MARK, at + 1)
        pos = np.array([p for p, _ in marks], dtype=np.int64)
        t_its = np.array([i for _, i in marks], dtype=np.float64)
        tname: list[str] = []
        tstep: list[float] = []
        tval: list[bytes] = []
        for out in TEST_OUT_RE.finditer(body, start):
            idx = int(np.searchsorted(pos, out.start(), side="right")) - 1
            step = t_its[idx] if idx >= 0 else piece.last_test_iter
            nm = out.group(1)
            name = _out_name(nm, False) if nm is not None else f"score_{out.group(2).decode()}"
            tname.append(name)
            tstep.append(step)
            tval.append(out.group(3))
        if tname:
            v = floats(tval)
            s = np.array(tstep, dtype=np.float64)
            for name in dict.fromkeys(tname):
                mask = np.array([t == name for t in tname])
                piece.add(name, "val", s[mask], v[mask])
        if len(t_its):
            piece.last_test_iter = float(t_its[-1])
    return True


def _out_name(raw: bytes | str, train: bool = True) -> str:
    """A net output's name; a train output called ``loss`` becomes ``output_loss`` so it does
    not mix with the (smoothed, total) loss of the ``Iteration N, loss = X`` line."""
    s = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    name = norm_name(s.strip("#"))
    return "output_loss" if train and name == "loss" else name


def _exact(chunk: bytes | bytearray, piece: Piece) -> None:
    """Line-by-line parse; NaN steps where the iteration is not known yet."""
    it = piece.last_iter
    test_it = piece.last_test_iter
    acc: dict[tuple[str, str], tuple[list[float], list[str]]] = {}

    def add(name: str, split: str, step: float, raw: str) -> None:
        s, v = acc.setdefault((name, split), ([], []))
        s.append(step)
        v.append(raw)

    for line in chunk.decode("utf-8", "replace").split("\n"):
        if "Iteration" in line:
            m = _L_TESTING.search(line)
            if m:
                test_it = float(m.group(1))
                it = test_it
                continue
            m = _L_LR.search(line)
            if m:
                it = float(m.group(1))
                add("lr", "train", it, m.group(2))
                continue
            m = _L_ITER.search(line)
            if m:
                it = float(m.group(1))
                add("loss", "train", it, m.group(2))
                continue
        if "net output" in line:
            m = _L_OUT.search(line)
            if m:
                if m.group(1) == "Train":
                    add(_out_name(m.group(2)), "train", it, m.group(3))
                else:
                    add(_out_name(m.group(2), False), "val", test_it, m.group(3))
            continue
        if "Test score" in line:
            m = _L_SCORE.search(line)
            if m:
                add(f"score_{m.group(1)}", "val", test_it, m.group(2))
    for (name, split), (s, v) in acc.items():
        piece.add(name, split, np.array(s, dtype=np.float64), floats(v))
    piece.last_iter = it
    piece.last_test_iter = test_it


def merge_pieces(pieces: Iterable[Piece]) -> Iterator[Batch]:
    """Batches of consecutive pieces, unknown leading steps filled from the piece before."""
    carry = float("nan")
    carry_test = float("nan")
    for piece in pieces:
        for (name, split), parts in piece.cols.items():
            for s, v in parts:
                fill = carry_test if split == "val" else carry
                yield Batch(name, split, _nan_fill(s, fill), v)  # type: ignore[arg-type]
        if not np.isnan(piece.last_iter):
            carry = piece.last_iter
        if not np.isnan(piece.last_test_iter):
            carry_test = piece.last_test_iter


class CaffeReader(Reader):
    """Caffe glog solver output."""

    name = "caffe-glog"
    step_unit = "iteration"
    parallel = True

    def sniff(self, head: str, filename: str) -> float:
        hits = len(_HEAD_RE.findall(head[:65536]))
        if hits >= 2:
            return 0.95
        return 0.6 if hits == 1 else 0.0

    def parse(self, chunks: Iterable[bytes]) -> Iterator[Reading | Batch]:
        # pieces are parsed independently; the carry is applied while merging
        state = Piece()

        def gen() -> Iterator[Piece]:
            for chunk in chunks:
                p = parse_range(chunk)
                yield p
                if not np.isnan(p.last_iter):
                    state.last_iter = p.last_iter

        yield from merge_pieces(gen())
