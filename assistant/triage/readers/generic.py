"""The fallback for a script's own print / logging lines and anything else with losses:
``epoch 3 iter 100 loss 0.69``, ``[3/20] train_loss=0.69 val_loss=0.70``, ``loss: 0.69 -
val_loss: 0.70``, ``Epoch: 1 Loss: 0.6924``, ``iter: 20 / 70000, total loss: nan`` followed
by ``>>> rpn_loss_cls: 0.648`` lines, and pipe tables (``| epoch | loss |``).

The step context (epoch, iteration / step) is carried from line to line. The step axis is the
iteration when the log has one, else the epoch, else the reading number.

Large inputs take a vectorised path (:func:`scan_text`): the log's frequent line shapes become
templates (their words literal, their numbers slots); numpy checks every line against them
at once and converts the numbers of matching lines in bulk, and every other line goes through
the line parser with the context the lines before it set. Most lines of a machine-written log
repeat the layout of another line of the same length (the same words, the same number widths
and dot places), so lines are first grouped by length and checked against one line of their
group byte by byte (:func:`_fixed_slots`); the rest are matched number by number
(:func:`_match`). What each shape of line reads is
learnt by running the line parser on one line of that shape, so both paths give the same
readings; pieces of one file can be read in separate processes (:func:`scan_range`), the
context a piece inherits filled in when the pieces are merged (:func:`merge_ranges`).
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable, Iterator

import numpy as np

from ..model import Reading
from .base import (
    NOT_METRICS,
    NUM,
    Batch,
    Reader,
    is_loss_name,
    norm_name,
    split_of,
    to_float,
)
from .caffe_scan import (
    Bytes,
    digits_value,
    first_byte,
    first_of,
    low_mask,
    non_digit_bytes,
    tune_malloc,
    windows,
    zero_bytes,
)

EPOCH_RE = re.compile(r"\b(?:epoch|Epoch|EPOCH)\b\s*[:#=\[]?\s*(\d+)(?:\s*/\s*(\d+))?")
ITER_RE = re.compile(
    r"\b(?:iter|Iter|ITER|iters|iteration|Iteration|ITERATION|step|Step|STEP|global_step|"
    r"batch|Batch|it)\b\s*[:#=\[]?\s*(\d+)(?:\s*/\s*(\d+))?"
)
BRACKET_RE = re.compile(r"^\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
# a metric name of up to three words; a nan / inf spelling is a value, never a word of a name
# ("loss nan lr 0.01" is loss = nan and lr = 0.01, not loss_nan_lr = 0.01)
_NOT_A_WORD = r"(?!(?:nan|NaN|NAN|inf|Inf|INF|Infinity|infinity)\b)"
_KEY = r"[A-Za-z][\w/.\-]*(?:\([\w]*\))?(?: " + _NOT_A_WORD + r"[A-Za-z][\w\-]*){0,2}"
PAIR_RE = re.compile(r"(?<![\w/.\-])(" + _KEY + r")\s*(?:[:=]|\s)\s*(" + NUM + r")(?![\w.#/:])")
_CONTEXT = {"epoch", "epochs", "iter", "iters", "iteration", "step", "global_step", "batch", "it"}
_METRIC_WORDS = (
    "loss",
    "acc",
    "lr",
    "ppl",
    "perplexity",
    "dice",
    "iou",
    "map",
    "f1",
    "error",
    "err",
    "nll",
    "cost",
    "learning_rate",
    "precision",
    "recall",
    "bleu",
    "cross-entropy",
    "cross_entropy",
    "auc",
    "mse",
    "mae",
    "rmse",
    "score",
    "grad",
)


def _metric_like(name: str) -> bool:
    return any(w in name for w in _METRIC_WORDS)


class _State:
    """What the line parser carries from line to line, and the readings so far (columnar).

    Beside each reading's value, iteration and epoch (NaN where unknown) a sort key is kept:
    the vectorised path orders the readings of line-parsed runs among template lines by it."""

    def __init__(self) -> None:
        self.epoch: float | None = None
        self.it: float | None = None
        self.any_iter = False
        self.any_epoch = False
        self.table: list[str] | None = None
        self.key = 0.0
        # per metric name: parts of (values, iterations, epochs), NaN where unknown
        self.cols: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.buf: dict[str, tuple[array, array, array, array]] = {}

    def add(self, name: str, value: float) -> None:
        b = self.buf.get(name)
        if b is None:
            b = self.buf[name] = (array("d"), array("d"), array("d"), array("d"))
        b[0].append(value)
        b[1].append(math.nan if self.it is None else self.it)
        b[2].append(math.nan if self.epoch is None else self.epoch)
        b[3].append(self.key)

    def flush(self) -> None:
        for name, (v, i, e, _k) in self.buf.items():
            if v:
                self.cols.setdefault(name, []).append(
                    (
                        np.array(v, dtype=np.float64),
                        np.array(i, dtype=np.float64),
                        np.array(e, dtype=np.float64),
                    )
                )
        self.buf = {}


_DIGIT_RE = re.compile(r"\d")


def _line(line: str, st: _State) -> list[tuple[int, int, str, int]] | None:
    """Parse one line into ``st``; returns the roles of its numbers (their character spans,
    what they set: a metric name, ``@iter`` or ``@epoch``, and where the text the name was
    read from starts), None for a line the generic parse does not look at (no digit, or a
    pipe-table line)."""
    if not line or not _DIGIT_RE.search(line, 0, 4096):
        if line.strip().startswith("|") and line.count("|") >= 3:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if any(is_loss_name(c) for c in cells):
                st.table = [norm_name(c) for c in cells]
        return None
    if st.table is not None and line.strip().startswith("|"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= set("-: "):
            return None
        if len(cells) == len(st.table):
            row = dict(zip(st.table, cells, strict=True))
            for k in ("epoch", "ep"):
                if k in row and row[k].isdigit():
                    st.epoch, st.any_epoch = float(row[k]), True
            for k in ("iter", "iteration", "step", "it"):
                if k in row and row[k].isdigit():
                    st.it, st.any_iter = float(row[k]), True
            for k, c in row.items():
                if k in _CONTEXT or k in NOT_METRICS:
                    continue
                if re.fullmatch(NUM, c):
                    st.add(k, to_float(c))
            return None
        st.table = None
    roles: list[tuple[int, int, str, int]] = []
    b = BRACKET_RE.match(line)
    start = 0
    if b:
        st.epoch, st.any_epoch = float(b.group(1)), True
        roles.append((b.start(1), b.end(1), "@epoch", b.start(1)))
        start = b.end()
    m = EPOCH_RE.search(line, start)
    if m:
        st.epoch, st.any_epoch = float(m.group(1)), True
        roles.append((m.start(1), m.end(1), "@epoch", m.start(1)))
    m = ITER_RE.search(line, start)
    if m:
        st.it, st.any_iter = float(m.group(1)), True
        roles.append((m.start(1), m.end(1), "@iter", m.start(1)))
    for pm in PAIR_RE.finditer(line, start):
        name = norm_name(pm.group(1).strip(">-* "))
        if name in _CONTEXT or name in NOT_METRICS or not _metric_like(name):
            continue
        st.add(name, to_float(pm.group(2)))
        roles.append((pm.start(2), pm.end(2), name, pm.start(1)))
    return roles


def _lines(lines: Iterable[str], st: _State) -> None:
    """Parse lines into ``st``, one after the other."""
    for line in lines:
        _line(line, st)


# ---------------------------------------------------------------------------------------------
# The vectorised path
# ---------------------------------------------------------------------------------------------

CARRY = -1.0
"""Iteration / epoch of a reading whose context was set before the piece it is in (a piece
read on its own); :func:`merge_ranges` fills it in. Real ones are never negative."""

MAX_TEMPLATES = 16
"""Line shapes learnt per piece of text at most."""
MAX_SLOTS = 31
"""Numbers per template line at most (two bits of layout each make one int64 key)."""
MAX_TOKEN = 15
"""Bytes per number at most (two words hold it and the byte after it)."""
_SLOT_RE = re.compile(rb"[0-9.]*[0-9][0-9.]*")  # a maximal run of digits and dots
_PIPE_START_RE = re.compile(rb"[ \t\x0b\x0c\r\x1c-\x1f\x80-\xff]*\|")
"""A line that may start with ``|`` once stripped (a pipe-table line)."""
_EXP_LITS = (b"e", b"E", b"e-", b"E-", b"e+", b"E+")
_DOTS = np.uint64(0x2E2E2E2E2E2E2E2E)
_SLASHES = np.uint64(0x2F2F2F2F2F2F2F2F)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH = np.uint64(0x8080808080808080)
_ADD_2E = np.uint64(0x5252525252525252)  # 0x80 - 0x2E per byte
_ADD_3A = np.uint64(0x4646464646464646)  # 0x80 - 0x3A per byte
_P10 = 10.0 ** np.arange(23)


def _skeleton(line: bytes) -> tuple[bytes, ...] | None:
    """The literal text around the numbers of a line (``(L0, L1, ..., Lk)`` for k numbers),
    or None for a line the vectorised path does not take (no number, too many, a number with
    two dots or longer than 15 bytes, a pipe-table line, a very long line)."""
    if len(line) > 1500 or _PIPE_START_RE.match(line):
        return None
    parts = _SLOT_RE.split(line)  # the literal text: no groups in the pattern
    if not 2 <= len(parts) <= MAX_SLOTS + 1:
        return None
    for num in _SLOT_RE.findall(line):
        if len(num) > MAX_TOKEN or num.count(b".") > 1:
            return None
    if b"#" in line and any(p.startswith(b"#") for p in parts[1:]):
        return None  # "1.#INF": the digit before "#" counts for the number pattern
    return tuple(parts)


class _Roles:
    """What the line parser reads from lines of one template and one number layout."""

    __slots__ = ("metrics", "it", "epoch")

    def __init__(
        self,
        metrics: list[tuple[str, int, float, int, float]],
        it: int | None,
        epoch: int | None,
    ) -> None:
        self.metrics = metrics
        """(name, slot, sign, exponent slot or -1, exponent sign) in the line's order."""
        self.it = it
        """The slot that sets the iteration, if any."""
        self.epoch = epoch
        """The slot that sets the epoch, if any."""


class Template:
    """A line shape: its literal text between numbers, and what each number layout reads."""

    __slots__ = ("lits", "roles")

    def __init__(self, lits: tuple[bytes, ...]) -> None:
        self.lits = lits
        self.roles: dict[int, _Roles | None] = {}
        """Per layout key (the dot place of every number): the roles, None where the line
        parser reads lines of that layout in a way the vectorised path does not copy."""

    def learn(self, line: bytes, starts: list[int], ends: list[int], key: int) -> _Roles | None:
        """The roles of lines like ``line`` (one of them) and its layout, by running the
        line parser on it and tying each number it reads to a slot."""
        roles = self.roles[key] = _learn_roles(self.lits, line, starts, ends)
        return roles


def _learn_roles(
    lits: tuple[bytes, ...], line: bytes, starts: list[int], ends: list[int]
) -> _Roles | None:
    text = line.decode("utf-8", "replace")
    st = _State()
    got = _line(text, st)
    if got is None or st.table is not None or len(got) > 63:
        return None
    if text.isascii():

        def at(c: int) -> int:
            return c

    else:
        if text.encode("utf-8") != line:
            return None

        def at(c: int) -> int:
            return len(text[:c].encode("utf-8"))

    slot_at = {s: j for j, s in enumerate(starts)}
    metrics: list[tuple[str, int, float, int, float]] = []
    it = epoch = None
    for c0, c1, role, k0 in got:
        b0, b1 = at(c0), at(c1)
        if any(at(k0) <= x < b0 for x in starts):
            return None  # a name with a number in it ("lr1 0.01"): it changes line to line
        if role.startswith("@"):
            j = slot_at.get(b0)
            if j is None or ends[j] != b1 or b"." in line[b0:b1]:
                return None
            if role == "@iter":
                it = j
            else:
                epoch = j
            continue
        sign = 1.0
        j = slot_at.get(b0)
        if j is None and line[b0 : b0 + 1] in (b"-", b"+") and (b0 + 1) in slot_at:
            j = slot_at[b0 + 1]
            sign = -1.0 if line[b0 : b0 + 1] == b"-" else 1.0
        if j is None:
            return None
        if ends[j] == b1:
            metrics.append((role, j, sign, -1, 1.0))
            continue
        if (
            j + 1 < len(starts)
            and ends[j + 1] == b1
            and lits[j + 1] in _EXP_LITS
            and b"." not in line[starts[j + 1] : ends[j + 1]]
        ):
            metrics.append((role, j, sign, j + 1, -1.0 if lits[j + 1].endswith(b"-") else 1.0))
            continue
        return None
    return _Roles(metrics, it, epoch)


def learn_templates(
    body: bytes | bytearray, lines: Iterable[tuple[int, int]], have: list[Template], limit: int
) -> None:
    """Add templates for the frequent shapes among the given lines (byte ranges of body)."""
    counts: dict[tuple[bytes, ...], int] = {}
    known = {t.lits for t in have}
    for a, b in lines:
        sk = _skeleton(bytes(body[a:b]))
        if sk is not None and sk not in known:
            counts[sk] = counts.get(sk, 0) + 1
    for sk, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if n < 4 or len(have) >= MAX_TEMPLATES or limit <= 0:
            break
        have.append(Template(sk))
        limit -= 1


def _count_flags(x: np.ndarray) -> np.ndarray:
    """How many bytes of each word have their top bit set (the only bit set in them)."""
    return ((x >> np.uint64(7)) * np.uint64(0x0101010101010101)) >> np.uint64(56)


def _non_class(x: np.ndarray) -> np.ndarray:
    """0x80 in each byte of x that is neither an ASCII digit nor a dot."""
    y = x & _LOW7
    ge_2e = (y + _ADD_2E) & _HIGH
    ge_3a = (y + _ADD_3A) & _HIGH
    return ((~ge_2e | ge_3a | x) & _HIGH) | zero_bytes(x ^ _SLASHES)


class _Slots:
    """The numbers of the lines that match one template: per slot the token's words, its
    length and its dot place (16: none)."""

    __slots__ = ("rows", "alive", "lo", "hi", "size", "dot", "key", "starts")

    def __init__(self) -> None:
        self.rows = np.empty(0, dtype=np.int64)
        """The candidate lines (indices); ``alive``: those that match."""
        self.alive = np.empty(0, dtype=bool)
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.size: list[np.ndarray] = []
        self.dot: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []
        self.key = np.empty(0, dtype=np.int64)


def _general_layout(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(length, dot place or 16, unusable) of the run of digits and dots each 16 bytes start
    with: unusable when it is empty, longer than 15 bytes, has two dots or no digit."""
    size = first_byte(_non_class(lo))
    more = size == 8
    if more.any():
        size += more * first_byte(_non_class(hi))
    d_lo = zero_bytes(lo ^ _DOTS) & low_mask(size)
    d_hi = zero_bytes(hi ^ _DOTS) & low_mask(size - 8)
    dot = first_of(d_lo, d_hi)
    bad = (size < 1) | (size > MAX_TOKEN) | (size <= (dot < 16))
    bad |= (_count_flags(d_lo) + _count_flags(d_hi)) > 1
    return size, dot, bad


def _flags(first: int, stop: int, skip: int) -> np.uint64:
    """0x80 in bytes first..stop-1 of a word (byte indices clipped to the word), but skip."""
    out = 0
    for i in range(max(first, 0), min(stop, 8)):
        if i != skip:
            out |= 0x80 << (8 * i)
    return np.uint64(out)


def _fits(lo: np.ndarray, hi: np.ndarray | None, size: int, dot: int) -> np.ndarray:
    """Whether each 16 bytes start with a run of exactly ``size`` digits and dots with the
    dot (if any, ``dot`` < ``size``) at ``dot``: the layout most rows of a slot share,
    checked with a fraction of the work of :func:`_general_layout`."""
    nd_lo = non_digit_bytes(lo)
    ok = (nd_lo & _flags(0, size, dot)) == 0
    nd_hi = None
    if size >= 8:
        assert hi is not None
        nd_hi = non_digit_bytes(hi)
        ok &= (nd_hi & _flags(0, size - 8, dot - 8)) == 0
    if dot < size:
        word = lo if dot < 8 else hi
        assert word is not None
        ok &= ((word >> np.uint64(8 * (dot % 8))) & np.uint64(0xFF)) == np.uint64(0x2E)
    # the byte after the run: neither a digit nor a dot
    word, flags = (lo, nd_lo) if size < 8 else (hi, nd_hi)
    assert word is not None and flags is not None
    at = size % 8
    ok &= (flags & np.uint64(0x80 << (8 * at))) != 0  # type: ignore[operator]
    ok &= ((word >> np.uint64(8 * at)) & np.uint64(0xFF)) != np.uint64(0x2E)
    return ok


def _layout(
    bb: Bytes, p: np.ndarray, lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_general_layout` of the run at each place p (``lo``: its first word), and the
    second words: the layout of most of the first rows is checked for all at once, the
    general work done only for the rows that do not have it; the second words are read only
    where a run may reach them (zero elsewhere: the conversions then never look at them)."""
    n = len(lo)
    if n < 64:
        every = bb.word(p + 8)
        return (*_general_layout(lo, every), every)
    s0, d0, b0 = _general_layout(lo[:32], bb.word(p[:32] + 8))
    good = ~b0
    if not good.any():
        every = bb.word(p + 8)
        return (*_general_layout(lo, every), every)
    pair = s0[good] * 32 + d0[good]
    common = int(np.bincount(pair).argmax())
    size0, dot0 = divmod(common, 32)
    hi = bb.word(p + 8) if size0 >= 8 else None
    fit = _fits(lo, hi, size0, dot0)
    size = np.full(n, size0, dtype=np.int64)
    dot = np.full(n, dot0, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    miss = np.flatnonzero(~fit)
    if len(miss):
        hi_miss = bb.word(p[miss] + 8) if hi is None else hi[miss]
        s1, d1, b1 = _general_layout(lo[miss], hi_miss)
        size[miss] = s1
        dot[miss] = d1
        bad[miss] = b1
        if hi is None:
            hi = np.zeros(n, dtype=np.uint64)
            hi[miss] = hi_miss
    if hi is None:
        hi = np.zeros(n, dtype=np.uint64)
    return size, dot, bad, hi


def _match(
    bb: Bytes, starts: np.ndarray, ends: np.ndarray, cand: np.ndarray, t: Template
) -> _Slots:
    """The lines among ``cand`` (indices into starts / ends) that match template t."""
    lits = t.lits
    out = _Slots()
    p = starts[cand]
    if lits[0]:
        ok = bb.at(p, lits[0])
        if not ok.all():
            cand, p = cand[ok], p[ok]
        p = p + len(lits[0])
    k = len(lits) - 1
    keys = np.zeros(len(cand), dtype=np.int64)
    alive = np.ones(len(cand), dtype=bool)
    cols: list[tuple[np.ndarray, ...]] = []
    for j in range(k):
        if not len(cand):
            return out
        lo = bb.word(p)
        size, dot, bad, hi = _layout(bb, p, lo)
        alive &= ~bad
        has = dot < 16
        code = has * np.where(dot == 0, 1, 2 + (dot < size - 1))
        nxt = p + size
        lit = lits[j + 1]
        if lit:
            if len(lit) < 8 and int(size.max()) + len(lit) <= 8:  # in the word already read
                shift = size.astype(np.uint64) << np.uint64(3)
                got = (lo >> shift) & np.uint64((1 << (8 * len(lit))) - 1)
                alive &= got == np.uint64(int.from_bytes(lit, "little"))
            else:
                alive &= bb.at(nxt, lit)
            nxt += len(lit)
        if j == k - 1:
            alive &= nxt == ends[cand]
        keys |= code << (2 * j)
        cols.append((p, lo, hi, size, dot))
        if 2 * int(np.count_nonzero(alive)) < len(alive):  # mostly other lines: drop them
            ok = np.flatnonzero(alive)
            cand, nxt, keys, alive = cand[ok], nxt[ok], keys[ok], alive[ok]
            cols = [tuple(c[ok] for c in col) for col in cols]
        p = nxt
    out.rows = cand
    out.alive = alive
    out.key = keys
    for ps, lo, hi, size, dot in cols:
        out.starts.append(ps)
        out.lo.append(lo)
        out.hi.append(hi)
        out.size.append(size)
        out.dot.append(dot)
    return out


def _constant(x: np.ndarray) -> int | None:
    """The value of an array that is one value broadcast (a fixed layout's size or dot
    place, see :func:`_fixed_columns`), else None."""
    return int(x[0]) if x.ndim == 1 and len(x) and x.strides[0] == 0 else None


def _digits(lo: np.ndarray, hi: np.ndarray, nd: np.ndarray) -> np.ndarray:
    """:func:`digits_value`, with shifts by one number where every token has nd digits."""
    k = _constant(nd)
    return digits_value(lo, hi, nd if k is None else k)


def _values(
    lo: np.ndarray, hi: np.ndarray, size: np.ndarray, dot: np.ndarray
) -> tuple[np.ndarray, np.ndarray | int]:
    """(digits as an exact integer, decimal places) of tokens of digits with at most one dot."""
    k, d = _constant(size), _constant(dot)
    if k is not None and d is not None:  # one layout: masks and shifts by one number
        if d >= k:
            return _digits(lo, hi, size), 0
        below = np.uint64((1 << (8 * d)) - 1 if d < 8 else (1 << 64) - 1)
        moved = lo >> np.uint64(8)
        if k > 8:
            moved |= hi << np.uint64(56)
            hi_below = np.uint64((1 << (8 * (d - 8))) - 1) if d > 8 else np.uint64(0)
            hi = (hi & hi_below) | ((hi >> np.uint64(8)) & ~hi_below)
        lo = (lo & below) | (moved & ~below)
        return _digits(lo, hi, np.broadcast_to(np.int64(k - 1), lo.shape)), k - d - 1
    has = dot < size
    if has.any():
        b_lo = low_mask(dot)
        b_hi = low_mask(dot - 8)
        lo = (lo & b_lo) | (((lo >> np.uint64(8)) | (hi << np.uint64(56))) & ~b_lo)
        hi = (hi & b_hi) | ((hi >> np.uint64(8)) & ~b_hi)
        return digits_value(lo, hi, size - has), (size - dot - 1) * has
    return digits_value(lo, hi, size), np.zeros(len(size), dtype=np.int64)


def _metric_values(
    body: bytes | bytearray,
    sl: _Slots,
    sel: np.ndarray | None,
    role: tuple[str, int, float, int, float],
) -> np.ndarray:
    """Exactly ``to_float`` of each selected row's number (the mantissa in one slot, and the
    exponent in another for ``1e-05``), computed for every candidate row of the template."""
    _name, slot, sign, eslot, esign = role
    m, frac = _values(sl.lo[slot], sl.hi[slot], sl.size[slot], sl.dot[slot])
    if eslot < 0:
        v = m / np.take(_P10, frac)
        if sel is not None:
            v = v[sel]
    else:
        if sel is not None:
            m = m[sel]
            frac = frac[sel] if isinstance(frac, np.ndarray) else frac
        e = _digits(*_cols(sl, sel, eslot))
        t = esign * e - frac
        fast = np.abs(t) <= 22
        ti = np.where(fast, t, 0).astype(np.int64)
        p10 = np.take(_P10, np.abs(ti))
        v = np.where(ti >= 0, m * p10, m / p10)
        if not fast.all():  # a far exponent: float() of the number, once per run of one
            far = np.flatnonzero(~fast)
            fm, ft = m[far], t[far]
            new = np.ones(len(far), dtype=bool)
            new[1:] = (fm[1:] != fm[:-1]) | (ft[1:] != ft[:-1])
            firsts = np.flatnonzero(new)
            got = [float(f"{int(a)}e{int(b)}") for a, b in zip(fm[firsts], ft[firsts], strict=True)]
            v[far] = np.array(got, dtype=np.float64)[np.cumsum(new) - 1]
    if sign < 0:
        v = -v
    return v


FIXED_MIN_LINES = 16
"""Lines of one length at least for the fixed-layout check (:func:`_fixed_slots`)."""
FIXED_GUESSES = 4
"""Layouts tried per line length at most."""


def _layout_of(line: bytes) -> tuple[list[int], list[int], int]:
    """(starts, ends, layout key) of the numbers of a line :func:`_skeleton` takes: the key
    is the one :func:`_match` computes (two bits per number: no dot, a dot first, last or
    inside)."""
    starts: list[int] = []
    ends: list[int] = []
    key = 0
    for j, m in enumerate(_SLOT_RE.finditer(line)):
        a, b = m.start(), m.end()
        starts.append(a)
        ends.append(b)
        d = line.find(b".", a, b)
        if d >= 0:
            key |= (1 if d == a else 2 if d == b - 1 else 3) << (2 * j)
    return starts, ends, key


def _fixed_slots(
    bb: Bytes,
    starts: np.ndarray,
    ends: np.ndarray,
    free: np.ndarray,
    templates: list[Template],
    unknown: np.ndarray,
) -> Iterator[tuple[Template, _Roles | None, _Slots]]:
    """The lines among ``free`` that have exactly the layout of another line of the same
    length: its template's literal bytes at the same places and digits where it has digits
    (so the same skeleton, number sizes and dot places, hence the same roles). Lines are
    grouped by length; for each group the first line not yet placed is the guess, and the
    lines of the group are checked against it all at once (:func:`_fitting`). Yields
    (template, roles, the slots of the lines that fit) with only the numbers the roles use
    filled in. A guess that is no template's line marks the lines of its layout
    ``unknown``: no template can take them (a shape to learn), so :func:`_match` need not
    try. Lines that fit no guess are left to :func:`_match`. Much less work per line than
    finding where each number ends one by one."""
    by_lits = {t.lits: t for t in templates}
    lens = ends[free] - starts[free]
    ok = (lens >= 1) & (lens <= 1500)
    if not ok.all():
        free, lens = free[ok], lens[ok]
    if len(free) < FIXED_MIN_LINES:
        return
    order = np.argsort(lens.astype(np.int16), kind="stable")
    by_len = lens[order]
    cuts = np.flatnonzero(by_len[1:] != by_len[:-1]) + 1
    for a, b in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(order)].tolist(), strict=True):
        if b - a < FIXED_MIN_LINES:
            continue
        length = int(by_len[a])
        rows = free[order[a:b]]  # in line order (a stable sort of lines in order)
        for _guess in range(FIXED_GUESSES):
            if len(rows) < FIXED_MIN_LINES:
                break
            x0 = int(starts[rows[0]])
            line = bytes(bb.a[x0 : x0 + length])
            n_starts, n_ends, key = _layout_of(line)
            sk = _skeleton(line)
            t = by_lits.get(sk) if sk is not None else None
            if t is None:  # a shape no template has: so have the lines of its layout
                fit = _fitting(bb.a, starts[rows], line, n_starts, n_ends, [])[0]
                unknown[rows[fit]] = True
            else:
                roles = t.roles[key] if key in t.roles else t.learn(line, n_starts, n_ends, key)
                used: list[int] = []
                if roles is not None:
                    read = {r[1] for r in roles.metrics} | {r[3] for r in roles.metrics}
                    read |= {j for j in (roles.it, roles.epoch) if j is not None}
                    used = sorted(j for j in read if j >= 0)
                fit, lo, hi = _fitting(bb.a, starts[rows], line, n_starts, n_ends, used)
                n_fit = int(np.count_nonzero(fit))
                if n_fit < len(rows):
                    lo = [c[fit] for c in lo]
                    hi = [c[fit] if c.strides[0] else _zeros(n_fit) for c in hi]
                words = {j: (lo[k], hi[k]) for k, j in enumerate(used)}
                got = rows[fit] if n_fit < len(rows) else rows
                yield t, roles, _fixed_columns(got, line, n_starts, n_ends, words)
            if fit.all():
                break
            rows = rows[~fit]


def _fitting(
    a: np.ndarray,
    pos: np.ndarray,
    line: bytes,
    n_starts: list[int],
    n_ends: list[int],
    used: list[int],
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Which of the lines at ``pos`` (all as long as ``line``) have ``line``'s bytes where it
    has literal text and digits where it has digits: each line's bytes minus a lower bound
    (the byte, or ``0`` for a digit) must not exceed a range (0, or 9 for a digit), in
    unsigned bytes. Checked in blocks of lines that stay in the CPU cache, which also give
    the 16 bytes at the numbers ``used`` (indices into n_starts) as two words each (the
    second only for numbers longer than 8 bytes, zero otherwise)."""
    length = len(line)
    width = (length + 7) // 8 * 8 + 8  # a word past the line: 16 bytes after any number
    low = np.zeros(width, dtype=np.uint8)
    span = np.full(width, 255, dtype=np.uint8)  # past the line: anything
    low[:length] = np.frombuffer(line, dtype=np.uint8)
    span[:length] = 0
    digit = (low >= 48) & (low <= 57) & (span == 0)
    low[digit] = 48
    span[digit] = 9
    fit = np.ones(len(pos), dtype=bool)
    block = max(1, _CHECK_BYTES // width)
    words = width // 8
    los: list[list[np.ndarray]] = [[] for _ in used]
    his: list[list[np.ndarray]] = [[] for _ in used]
    scratch = np.empty((min(block, len(pos)), width), dtype=np.uint8)
    for i in range(0, len(pos), block):
        grid = windows(a, pos[i : i + block], width, 0)
        m = len(grid)
        diff = np.subtract(grid, low, out=scratch[:m])
        bad = np.greater(diff, span)
        fit[np.flatnonzero(bad.view(np.uint64)) // words + i] = False
        for k, j in enumerate(used):
            x = n_starts[j]
            los[k].append(_column(grid, x, width))
            if n_ends[j] - x > 8:
                his[k].append(_column(grid, x + 8, width))
    lo = [np.concatenate(c) if len(c) > 1 else c[0] for c in los]
    hi = [(np.concatenate(c) if len(c) > 1 else c[0]) if c else _zeros(len(pos)) for c in his]
    return fit, lo, hi


def _column(grid: np.ndarray, at: int, width: int) -> np.ndarray:
    """The 8 bytes at column ``at`` of each row of a C-ordered uint8 grid, as words."""
    return np.ndarray(
        shape=(grid.shape[0],), dtype="<u8", buffer=grid, offset=at, strides=(width,)
    ).copy()


_CHECK_BYTES = 1 << 19
"""Bytes of lines checked at once by :func:`_fitting` (a block that stays in the cache)."""


def _fixed_columns(
    rows: np.ndarray,
    line: bytes,
    n_starts: list[int],
    n_ends: list[int],
    words: dict[int, tuple[np.ndarray, np.ndarray]],
) -> _Slots:
    """The slots of lines of one layout, ``line``'s: the words of the numbers the roles
    read (``words``: per number, the lo and hi words of each line), sizes and dot places
    the same for all."""
    n = len(rows)
    sl = _Slots()
    sl.rows = rows
    sl.alive = np.ones(n, dtype=bool)
    for j, (x, y) in enumerate(zip(n_starts, n_ends, strict=True)):
        sl.starts.append(_NONE)  # only read to learn roles: known already
        if j not in words:
            sl.lo.append(_NONE)
            sl.hi.append(_NONE)
            sl.size.append(_NONE)
            sl.dot.append(_NONE)
            continue
        d = line.find(b".", x, y)
        sl.lo.append(words[j][0])
        sl.hi.append(words[j][1])
        sl.size.append(np.broadcast_to(np.int64(y - x), (n,)))
        sl.dot.append(np.broadcast_to(np.int64(d - x if d >= 0 else 16), (n,)))
    return sl


def _zeros(n: int) -> np.ndarray:
    return np.broadcast_to(np.uint64(0), (n,))


_NONE = np.empty(0, dtype=np.int64)
"""The columns of a number no role reads (never looked at)."""


class ScanState:
    """The context a piece of text starts with and ends with, and what it read: readings
    per metric in order of first appearance, as (values, iterations, epochs) parts."""

    def __init__(self, it: float | None = CARRY, epoch: float | None = CARRY) -> None:
        self.it = it
        self.epoch = epoch
        self.table: list[str] | None = None
        self.any_iter = False
        self.any_epoch = False
        self.cols: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.templates: list[Template] = []
        self.slow_lines = 0
        self.pipes = False
        """Whether the text had lines that may be pipe-table lines."""


def _ffill(set_at: np.ndarray, vals: np.ndarray, first: float) -> np.ndarray:
    """Per line: the value of the last line at or before it that sets one, else ``first``."""
    idx = np.where(set_at, np.arange(len(set_at)), -1)
    np.maximum.accumulate(idx, out=idx)
    out = vals[np.maximum(idx, 0)]
    out[idx < 0] = first
    return out


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def _pipe_lines(bb: Bytes, starts: np.ndarray, ends: np.ndarray) -> bool:
    """Whether any line may start with ``|`` once stripped (see :data:`_PIPE_START_RE`):
    the first byte of each line that is not blank-like, eight bytes at a time."""
    lead = bb.a[starts]
    odd = np.flatnonzero((lead <= 32) | (lead >= 0x80) | (lead == 0x7C))
    if not len(odd):
        return False
    w = bb.words(starts[odd])[0].view(np.uint8).reshape(-1, 8)
    blank = (
        (w == 32) | ((w >= 9) & (w <= 13) & (w != 10)) | ((w >= 0x1C) & (w <= 0x1F)) | (w >= 0x80)
    )
    first = np.argmin(blank, axis=1)  # the first byte that is not blank-like (0: none)
    pipe = w[np.arange(len(odd)), first] == 0x7C
    unsure = np.flatnonzero(blank.all(axis=1))  # blank-like for eight bytes: look closer
    if pipe.any():
        return True
    body = bb.a
    return any(
        _PIPE_START_RE.match(body.data, int(x), int(y))  # type: ignore[call-overload]
        for x, y in zip(starts[odd][unsure].tolist(), ends[odd][unsure].tolist(), strict=True)
    )


_MAYBE_READ_RE = re.compile(rb"[0-9|\x80-\xff]")
"""A line without these bytes has no digit and no pipe: the line parser skips it."""


def _maybe_read(a: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each line (bytes starts..ends of a): whether it has a byte of
    :data:`_MAYBE_READ_RE`, for many lines at once."""
    flag = np.zeros(len(a) + 1, dtype=np.uint8)  # one more: a line may end at the end
    flag[:-1] = (a - np.uint8(48) < 10) | (a == 124) | (a >= 128)
    idx = np.empty(2 * len(starts), dtype=np.int64)
    idx[0::2] = starts
    idx[1::2] = ends  # an empty line: its start is its end, a line break (0)
    return np.maximum.reduceat(flag, idx)[0::2].astype(bool)


def scan_text(body: bytes | bytearray, ss: ScanState) -> None:
    """Read one piece of text (whole lines) into ``ss``, continuing its context: lines that
    match a template in bulk, the others with the line parser (in order, each run of them
    with the context the lines before it set). Learns templates for frequent line shapes."""
    bb = Bytes(body)
    a = bb.a
    n = len(a)
    if not n:
        return
    nl = np.flatnonzero(a == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [n]))
    if starts[-1] >= n:  # the text ends with a line break: no empty last line
        starts, ends = starts[:-1], ends[:-1]
    n_lines = len(starts)
    if not ss.pipes:
        ss.pipes = _pipe_lines(bb, starts, ends)
    if not ss.templates:
        head = min(n_lines, 400)
        learn_templates(
            body, zip(starts[:head].tolist(), ends[:head].tolist(), strict=True), ss.templates, 4
        )

    matched = np.zeros(n_lines, dtype=bool)
    set_it = np.zeros(n_lines, dtype=bool)
    set_ep = np.zeros(n_lines, dtype=bool)
    it_at = np.zeros(n_lines, dtype=np.float64)
    ep_at = np.zeros(n_lines, dtype=np.float64)
    # (template slots, the rows of one layout among them or None for all, roles)
    groups: list[tuple[_Slots, np.ndarray | None, _Roles]] = []
    took: dict[int, int] = {}  # lines per template (by id)

    def take(t: Template, sl: _Slots, sel: np.ndarray | None, roles: _Roles) -> None:
        rows = sl.rows if sel is None else sl.rows[sel]
        took[id(t)] = took.get(id(t), 0) + len(rows)
        matched[rows] = True
        if roles.it is not None:
            set_it[rows] = True
            it_at[rows] = _digits(*_cols(sl, sel, roles.it))
        if roles.epoch is not None:
            set_ep[rows] = True
            ep_at[rows] = _digits(*_cols(sl, sel, roles.epoch))
        groups.append((sl, sel, roles))

    def match(templates: list[Template]) -> None:
        unknown = np.zeros(n_lines, dtype=bool)
        if n_lines >= FIXED_MIN_LINES:  # most lines: by their length's layout
            free = np.flatnonzero(~matched) if matched.any() else np.arange(n_lines)
            for t, roles, sl in _fixed_slots(bb, starts, ends, free, templates, unknown):
                if roles is not None:
                    take(t, sl, None, roles)
        for t in templates:  # the others (not of a shape no template has): number by number
            free = np.flatnonzero(~(matched | unknown))
            if not len(free):
                return
            sl = _match(bb, starts, ends, free, t)
            if not sl.alive.any():
                continue
            live = sl.key[sl.alive]
            key0 = int(live[0])
            every = bool(sl.alive.all())
            uniq = [key0] if (live == key0).all() else np.unique(live).tolist()
            for key in uniq:
                sel = (
                    None if every and len(uniq) == 1 else np.flatnonzero(sl.alive & (sl.key == key))
                )
                if key in t.roles:
                    roles = t.roles[key]
                else:
                    r0 = 0 if sel is None else int(sel[0])
                    row = int(sl.rows[r0])
                    base = int(starts[row])
                    roles = t.learn(
                        bytes(body[base : int(ends[row])]),
                        [int(c[r0]) - base for c in sl.starts],
                        [
                            int(c[r0] + z[r0]) - base
                            for c, z in zip(sl.starts, sl.size, strict=True)
                        ],
                        key,
                    )
                if roles is not None:
                    take(t, sl, sel, roles)

    def others() -> np.ndarray:
        """The lines no template took that the line parser may read something from."""
        slow = np.flatnonzero(~matched)
        if len(slow) > 10_000:  # many: all at once (a pass over the whole text)
            return slow[_maybe_read(a, starts[slow], ends[slow])]
        keep = [
            r
            for r, x, y in zip(
                slow.tolist(), starts[slow].tolist(), ends[slow].tolist(), strict=True
            )
            if _MAYBE_READ_RE.search(body, x, y)
        ]
        return np.array(keep, dtype=np.int64)

    match(ss.templates)
    if len(ss.templates) > 1:  # the templates that took most lines first next time
        ss.templates.sort(key=lambda t: -took.get(id(t), 0))
    slow = others()
    if len(slow) > max(32, n_lines // 500) and len(ss.templates) < MAX_TEMPLATES:
        # a new line shape: learn it and take its lines in bulk too
        known = len(ss.templates)
        sample = slow[:: max(1, len(slow) // 400)][:400]
        learn_templates(
            body, zip(starts[sample].tolist(), ends[sample].tolist(), strict=True), ss.templates, 4
        )
        if len(ss.templates) > known:
            match(ss.templates[known:])
            slow = others()

    # the other lines: runs of them (no template line between), each read with the context
    # the lines before it set; lines without digits or pipes change nothing and are skipped
    ss.slow_lines += len(slow)
    parts: dict[str, list[_Part]] = {}
    first_it, first_ep = ss.it, ss.epoch
    if len(slow):
        t_it = _ffill_index(set_it)
        t_ep = _ffill_index(set_ep)
        done = np.cumsum(matched)[slow]  # template lines up to each
        cuts = np.flatnonzero(np.diff(done) != 0) + 1
        run_a = slow[np.r_[0, cuts]].tolist()
        run_b = slow[np.r_[cuts - 1, len(slow) - 1]].tolist()
        st = _State()
        st.it, st.epoch, st.table = ss.it, ss.epoch, ss.table
        last_run_end = -1
        for r0, r1 in zip(run_a, run_b, strict=True):
            if r0 > 0:
                ti = int(t_it[r0 - 1])
                if ti > last_run_end:
                    st.it = float(it_at[ti])
                te = int(t_ep[r0 - 1])
                if te > last_run_end:
                    st.epoch = float(ep_at[te])
            st.key = float(r0)
            text = bytes(body[int(starts[r0]) : int(ends[r1])]).decode("utf-8", "replace")
            _lines(text.split("\n"), st)
            last_run_end = r1
            # the run's end context, as if its last line set it (unchanged: the same value)
            set_it[r1] = set_ep[r1] = True
            it_at[r1] = _nan(st.it)
            ep_at[r1] = _nan(st.epoch)
        ss.table = st.table
        ss.any_iter |= st.any_iter
        ss.any_epoch |= st.any_epoch
        for name, (bv, bi, be, bk) in st.buf.items():
            parts.setdefault(name, []).append(
                (
                    np.frombuffer(bk, dtype=np.float64).astype(np.int64),
                    0,
                    np.frombuffer(bv, dtype=np.float64),
                    np.frombuffer(bi, dtype=np.float64),
                    np.frombuffer(be, dtype=np.float64),
                )
            )
    its = _ffill(set_it, it_at, _nan(first_it))
    eps = _ffill(set_ep, ep_at, _nan(first_ep))
    if set_it.any():
        ss.it = _none(float(its[-1]))
    if set_ep.any():
        ss.epoch = _none(float(eps[-1]))
    for sl, sel, roles in groups:
        rows = sl.rows if sel is None else sl.rows[sel]
        ss.any_iter |= roles.it is not None
        ss.any_epoch |= roles.epoch is not None
        for order, role in enumerate(roles.metrics):
            v = _metric_values(body, sl, sel, role)
            parts.setdefault(role[0], []).append((rows, order, v, None, None))
    _merge_parts(parts, ss, its, eps)


def _none(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _ffill_index(set_at: np.ndarray) -> np.ndarray:
    idx = np.where(set_at, np.arange(len(set_at)), -1)
    np.maximum.accumulate(idx, out=idx)
    return idx


def _cols(sl: _Slots, sel: np.ndarray | None, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if sel is None:
        return sl.lo[j], sl.hi[j], sl.size[j]
    return sl.lo[j][sel], sl.hi[j][sel], sl.size[j][sel]


_Part = tuple[np.ndarray, int, np.ndarray, np.ndarray | None, np.ndarray | None]
"""Readings of one metric from one group of lines: (line of each reading, the metric's place
in its line, values, iterations, epochs). The line parser's readings take the first line of
their run of lines (no template line is inside a run), place 0; template lines leave their
iterations and epochs None (those of their lines)."""


def _merge_parts(
    parts: dict[str, list[_Part]], ss: ScanState, its: np.ndarray, eps: np.ndarray
) -> None:
    """The readings of one piece, per metric in line order, into ss (metrics in order of
    their first reading). Groups of lines never share a line, so the line order of the
    parts of a metric is a stable sort by line, the same for all metrics read from the same
    groups: it is found once, and the iterations and epochs merged once per set of parts
    (metrics of the same lines keep sharing them)."""
    firsts = sorted(
        (min(int(p[0][0]) * 64 + p[1] for p in lst), n, name)
        for n, (name, lst) in enumerate(parts.items())
    )
    lines_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    orders: dict[tuple[int, ...], np.ndarray] = {}
    merged: dict[tuple[int, ...], np.ndarray] = {}
    pool: list[np.ndarray] = []

    def context(p: _Part) -> tuple[np.ndarray, np.ndarray]:
        if p[3] is not None and p[4] is not None:
            return p[3], p[4]
        if id(p[0]) not in lines_of:  # template lines: the iteration and epoch of the line
            lines_of[id(p[0])] = (its[p[0]], eps[p[0]])
        return lines_of[id(p[0])]

    def merge(arrays: list[np.ndarray], order: np.ndarray, sig: tuple[int, ...]) -> np.ndarray:
        key = (*sig, *map(id, arrays))  # the arrays are alive meanwhile: ids are unique
        if key not in merged:
            merged[key] = _shared(np.concatenate(arrays)[order], pool)
        return merged[key]

    for _k, _n, name in firsts:
        lst = parts[name]
        if len(lst) == 1:
            v = lst[0][2]
            i, e = context(lst[0])
        else:
            sig = tuple(id(p[0]) for p in lst)
            if sig not in orders:
                orders[sig] = np.argsort(np.concatenate([p[0] for p in lst]), kind="stable")
            order = orders[sig]
            v = np.concatenate([p[2] for p in lst])[order]
            ctx = [context(p) for p in lst]
            i = merge([c[0] for c in ctx], order, sig)
            e = merge([c[1] for c in ctx], order, sig)
        ss.cols.setdefault(name, []).append((v, i, e))


def _shared(arr: np.ndarray, pool: list[np.ndarray]) -> np.ndarray:
    """``arr``, or a bitwise equal array of the pool (then one array serves both)."""
    for prev in pool:
        if len(prev) == len(arr) and np.array_equal(prev.view(np.int64), arr.view(np.int64)):
            return prev
    pool.append(arr)
    return arr


class GenericReader(Reader):
    """Any text with ``name: value`` / ``name=value`` / ``name value`` metrics.

    Chunks of at least ``BULK_MIN_BYTES`` take the vectorised path (:func:`scan_text`, in
    cache-sized pieces); smaller input is read line by line. Both give the same readings.
    """

    name = "plain-print"
    step_unit = "step"
    parallel = True
    BULK_MIN_BYTES = 1 << 20
    SUB_BYTES = 4 * 1024 * 1024

    def sniff(self, head: str, filename: str) -> float:
        return 0.1 if re.search(r"(?i)loss|cross-entropy", head) else 0.01

    def parse(self, chunks: Iterable[bytes]) -> Iterator[Reading | Batch]:
        from .caffe import sub_chunks

        ss = ScanState(None, None)
        for chunk in chunks:
            if len(chunk) >= self.BULK_MIN_BYTES:
                tune_malloc()
                for sub in sub_chunks(chunk, self.SUB_BYTES):
                    scan_text(sub, ss)
            else:
                read_lines(chunk, ss)
        yield from self.finish(ss)

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        """Every reading of decoded lines (no fast path)."""
        st = _State()
        _lines(lines, st)
        st.flush()
        yield from self.finish(st)

    def finish(self, st: _State | ScanState) -> Iterator[Batch]:
        """The batches of everything read, one per series, the step axis chosen for the
        whole log (the iteration when the log has one, else the epoch, else the reading
        number)."""
        if not st.cols:
            return
        self.settle(st.any_iter, st.any_epoch)
        joined: dict[tuple[int, ...], np.ndarray] = {}

        def join(arrays: list[np.ndarray]) -> np.ndarray:
            if len(arrays) == 1:
                return arrays[0]
            key = tuple(map(id, arrays))  # the parts are alive meanwhile: ids are unique
            if key not in joined:  # iterations / epochs of one template: joined once
                joined[key] = np.concatenate(arrays)
            return joined[key]

        whole = {
            name: [
                (
                    join([p[0] for p in parts]),
                    join([p[1] for p in parts]),
                    join([p[2] for p in parts]),
                )
            ]
            for name, parts in st.cols.items()
        }
        yield from self.batches(whole, step_axis(st.any_iter, st.any_epoch), {})

    def settle(self, any_iter: bool, any_epoch: bool) -> None:
        """Set the step unit (and its note) for a log that has iterations / epochs or not."""
        if any_iter:
            self.step_unit = "iteration"
        elif any_epoch:
            self.step_unit = "epoch"
        else:
            self.step_unit = "step"
            self.notes.append("no step or epoch in the log: steps are reading numbers")

    def batches(
        self,
        cols: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]],
        axis: str,
        counts: dict[str, int],
    ) -> Iterator[Batch]:
        """One batch per part of ``cols`` with ``axis`` (``iteration``, ``epoch`` or
        ``count``: the reading number, continued from ``counts``) as steps; readings with no
        step (before the first mark) left out. The reader of the batches joins the parts
        (parts that are the very same arrays stay shared)."""
        for name, parts in cols.items():
            split = split_of(name)
            for v, it, ep in parts:
                if axis == "iteration":
                    steps = it
                elif axis == "epoch":
                    steps = ep
                else:
                    done = counts.get(name, 0)
                    steps = np.arange(done + 1, done + len(v) + 1, dtype=np.float64)
                    counts[name] = done + len(v)
                bad = np.isnan(steps)
                if bad.any():
                    keep = ~bad
                    steps, v, ep = steps[keep], v[keep], ep[keep]
                if len(v):
                    yield Batch(name, split, steps, v, None if np.isnan(ep).all() else ep)


def step_axis(any_iter: bool, any_epoch: bool) -> str:
    """What the steps of a log are: ``iteration``, ``epoch`` or ``count`` (reading number)."""
    return "iteration" if any_iter else ("epoch" if any_epoch else "count")


def read_lines(body: bytes | bytearray, ss: ScanState) -> None:
    """Read text (whole lines) into ``ss`` with the line parser only."""
    st = _State()
    st.it, st.epoch, st.table = ss.it, ss.epoch, ss.table
    _lines(bytes(body).decode("utf-8", "replace").split("\n"), st)
    st.flush()
    ss.it, ss.epoch, ss.table = st.it, st.epoch, st.table
    ss.any_iter |= st.any_iter
    ss.any_epoch |= st.any_epoch
    for name, lst in st.cols.items():
        ss.cols.setdefault(name, []).extend(lst)


def continue_from(carry: ScanState, piece: ScanState) -> None:
    """Fill in the iterations and epochs a piece read on its own took from before it
    (:data:`CARRY`, only ever in the readings before the first line of the piece that sets
    one) from ``carry``, the context after the pieces before, and move ``carry`` on."""
    fill_it, fill_ep = _nan(carry.it), _nan(carry.epoch)
    done: set[int] = set()
    for lst in piece.cols.values():
        for _v, i, e in lst:
            for arr, fill in ((i, fill_it), (e, fill_ep)):
                if id(arr) in done or not len(arr) or arr[0] != CARRY:
                    continue
                done.add(id(arr))
                stop = np.flatnonzero(arr != CARRY)
                arr[: stop[0] if len(stop) else len(arr)] = fill
    if piece.it != CARRY:
        carry.it = piece.it
    if piece.epoch != CARRY:
        carry.epoch = piece.epoch
    carry.any_iter |= piece.any_iter
    carry.any_epoch |= piece.any_epoch


def merge_ranges(pieces: Iterable[ScanState]) -> ScanState:
    """Consecutive pieces read on their own as one (see :func:`continue_from`)."""
    out = ScanState(None, None)
    for p in pieces:
        continue_from(out, p)
        for name, lst in p.cols.items():
            out.cols.setdefault(name, []).extend(lst)
    return out


LOGGING_RE = re.compile(
    r"(?m)^(?:\d{4}-\d\d-\d\d[ T][\d:,.]+\s*[-|]?\s*(?:\S+\s*-\s*)?(?:DEBUG|INFO|WARNING)\b"
    r"|(?:DEBUG|INFO|WARNING):[\w.]+:|\[\d{4}-\d\d-\d\d [\d:,.]+\]\[?(?:\S+\]\[)?(?:INFO|DEBUG)"
    r"|\[\d{4}-\d\d-\d\d [\d:,.]+\])"
)


class PythonLoggingReader(GenericReader):
    """Metrics written through Python's ``logging`` (``2024-01-01 10:00:00,123 - train -
    INFO - epoch 1/30 - train_loss: 1.98 - val_loss: 1.83``): parsed like print lines."""

    name = "python-logging"

    def sniff(self, head: str, filename: str) -> float:
        lines = [ln for ln in head.split("\n") if "loss" in ln.lower()]
        if not lines:
            return 0.0
        logged = sum(1 for ln in lines if LOGGING_RE.match(ln))
        return 0.15 if logged >= max(1, len(lines) // 2) else 0.0
