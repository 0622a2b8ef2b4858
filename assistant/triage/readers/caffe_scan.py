"""Vectorised scan of a regular Caffe glog piece: numpy over the raw bytes instead of regexes,
and the byte tools it is built from (the print / logging scan of ``generic.py`` uses them too).

The tools work on words: an overlapping little-endian uint64 view of the bytes (:class:`Bytes`)
gives the 8 or 16 bytes after many places with one or two gathers, and SWAR arithmetic on the
words (:func:`zero_bytes`, :func:`non_digit_bytes`, :func:`first_byte`) finds line ends,
dots and digits in all of them at once; :func:`decimals` and :func:`digits_value` convert
digits to numbers exactly as ``float`` does (Clinger's fast path: one exact integer below
2**53, one correctly rounded division by an exact power of ten).

The scan finds every ``Iteration `` (anchor byte ``I``) and every ``... net output #`` /
``Test score #`` (anchor byte ``#``) with whole-array comparisons, checks the bytes around
them with gathers, takes the token after every ``= `` and converts the numbers in bulk:
plain decimals with :func:`decimals`, anything else (nan, ``1.#INF``, trailing text) the way
the regex path does (``to_float`` of the same token). Each output is tied to the last
``Iteration`` line before it by position. Anything the scan does not recognise makes
:func:`scan` return None and the caller takes the regex path (and that one the line-by-line
path), so the scan is only taken where it gives the same readings. It is several times faster
on pieces that fit in the CPU cache (see ``caffe.parse_range``)"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import floats, to_float

_OUT_PREFIX = re.compile(rb"#(\d+):[# ]*([^ \n]*) = ")
_REST_OF_LINE = re.compile(rb"[^\n]*")
_TOKEN = re.compile(rb"[^ \n]*")
_BAD_NAME = re.compile(rb"[\s=]")

PAREN_WIDTH = 64


def windows(a: np.ndarray, pos: np.ndarray, width: int, fill: int) -> np.ndarray:
    """``a[p:p+width]`` for every p of pos as rows of a new array; bytes past the end are fill."""
    n = len(a)
    if n < width:
        a = np.concatenate([a, np.full(width - n, fill, dtype=np.uint8)])
    top = max(n - width, 0)
    # rows as one item each (a memcpy per row rather than a loop over bytes)
    rows = np.ndarray(shape=(top + 1,), dtype=np.dtype((np.void, width)), buffer=a, strides=(1,))
    out = rows[np.minimum(pos, top)].view(np.uint8).reshape(len(pos), width)
    late = np.flatnonzero(pos > top)
    if len(late):  # the few rows that run past the end
        tail = np.concatenate([a[top:n], np.full(width + 1, fill, dtype=np.uint8)])
        out[late] = sliding_window_view(tail, width)[np.minimum(pos[late], n) - top]
    return out


_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_ZEROS_CH = np.uint64(0x3030303030303030)
_NIB_HI = np.uint64(0xF0F0F0F0F0F0F0F0)
_NIB_LO = np.uint64(0x0F0F0F0F0F0F0F0F)
_SIXES = np.uint64(0x0606060606060606)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_U1 = np.uint64(1)
_U8 = np.uint64(8)
_U56 = np.uint64(56)
_U64_BITS = np.uint64(64)
_MASK_FF = np.uint64(0xFF)
_P10 = 10.0 ** np.arange(23)  # exact powers of ten


_TUNED = False


def tune_malloc() -> None:
    """Let glibc keep freed memory of up to a few MB for reuse: the scans make many
    temporary arrays of a few hundred KB, and by default each is a fresh mapping whose pages
    fault in one by one (several times the cost of the arithmetic on it). Once per process;
    nothing elsewhere than glibc."""
    global _TUNED
    if _TUNED:
        return
    _TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 8 * 1024 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 16 * 1024 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _splat(byte: int) -> np.uint64:
    """One byte repeated in all eight bytes of a word."""
    return np.uint64(byte * 0x0101010101010101)


def nonzero_bytes(y: np.ndarray) -> np.ndarray:
    """0x80 in each byte of ``y`` that is not zero, 0 elsewhere (exact: no carries)."""
    return (((y & _LOW7) + _LOW7) | y) & _HIGH


def zero_bytes(y: np.ndarray) -> np.ndarray:
    """0x80 in each byte of ``y`` that is zero, 0 elsewhere (exact)."""
    return ~(((y & _LOW7) + _LOW7) | y | _LOW7)


def non_digit_bytes(x: np.ndarray) -> np.ndarray:
    """0x80 in each byte of ``x`` that is not an ASCII digit."""
    high = (x & _NIB_HI) ^ _ZEROS_CH  # zero where the high nibble is 3
    low = ((x & _NIB_LO) + _SIXES) & _NIB_HI  # zero where the low nibble is at most 9
    return nonzero_bytes(high | low)


_bitcount = getattr(np, "bitwise_count", None)


def first_byte(flags: np.ndarray) -> np.ndarray:
    """Index (0..7) of the lowest byte of each word with its top bit set; 8 where none."""
    low = flags & (~flags + _U1)  # the lowest set bit alone (0: none)
    if _bitcount is not None:
        return (_bitcount(low - _U1) >> 3).astype(np.int64)
    exp = np.frexp(low.astype(np.float64))[1]  # pragma: no cover - numpy < 2
    return np.where(low == 0, 8, (exp - 8) >> 3).astype(np.int64)


def first_of(flags_lo: np.ndarray, flags_hi: np.ndarray) -> np.ndarray:
    """Index (0..15) of the first flagged byte of 16 (the lo word first); 16 where none."""
    a = first_byte(flags_lo)
    return a + first_byte(flags_hi) * (a >> 3)


def low_mask(n: np.ndarray) -> np.ndarray:
    """Words with the low ``n`` bytes set (n <= 0: none, n >= 8: all)."""
    return ~(_ALL << (np.maximum(n, 0).astype(np.uint64) << np.uint64(3)))


def keep_bytes(lo: np.ndarray, hi: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first n (0..16) bytes of each 16 (lo, hi), the rest zero."""
    return lo & low_mask(n), hi & low_mask(n - 8)


def _eight_digits(x: np.ndarray) -> np.ndarray:
    """The value of eight digit values 0..9 in a word (the lowest byte most significant)."""
    x = ((x * np.uint64(10)) + (x >> _U8)) & np.uint64(0x00FF00FF00FF00FF)
    x = ((x * np.uint64(100)) + (x >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    return ((x * np.uint64(10000)) + (x >> np.uint64(32))) & np.uint64(0xFFFFFFFF)


def digits_value(lo: np.ndarray, hi: np.ndarray, nd: np.ndarray | int) -> np.ndarray:
    """The first nd (1..15) bytes of each 16, all ASCII digits, as an exact float64 integer
    (the bytes after them are shifted out, whatever they are). ``nd`` one number for all:
    shifts by one number."""
    if isinstance(nd, int):
        if nd <= 8:
            return _eight_digits((lo - _ZEROS_CH) << np.uint64((8 - nd) * 8)).astype(np.float64)
        first = _eight_digits(lo - _ZEROS_CH).astype(np.float64)
        rest = _eight_digits((hi - _ZEROS_CH) << np.uint64((16 - nd) * 8)).astype(np.float64)
        return first * _P10[nd - 8] + rest
    nd = nd.astype(np.int64)
    if len(nd) and int(nd.max()) <= 8:  # the usual case: all digits in the first word
        s = ((8 - nd) * 8).astype(np.uint64)
        return _eight_digits((lo - _ZEROS_CH) << s).astype(np.float64)
    # shift each word left so its digits end at its top byte (the low bytes: leading zeros)
    s_lo = (np.maximum(8 - nd, 0) * 8).astype(np.uint64)
    s_hi = ((16 - nd) * 8).astype(np.uint64)  # 64 or more when nd <= 8: no digits there
    first = _eight_digits((lo - _ZEROS_CH) << s_lo).astype(np.float64)
    rest = _eight_digits((hi - _ZEROS_CH) << s_hi).astype(np.float64)
    return first * np.take(_P10, np.maximum(nd - 8, 0)) + rest  # below 1e15: exact


def shift_out_first(
    lo: np.ndarray, hi: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Drop the first byte of the 16 where rows is True (a 128-bit shift right by 8)."""
    s = rows.astype(np.uint64) << np.uint64(3)
    return (lo >> s) | (hi << (_U64_BITS - s)), hi >> s  # a shift by 64 gives 0 in numpy


def decimals(lo: np.ndarray, hi: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exactly ``float(token)`` for tokens of 1..16 bytes (``lo``/``hi``: the token's bytes
    as two little-endian words, zero after the token; ``n``: its length) that are a plain
    decimal: an optional sign, 1 to 15 digits and at most one dot (``12``, ``-0.5``, ``3.``,
    ``.25``). Clinger's fast path: the digits make one exact integer below 2**53, divided
    once by an exact power of ten, so the result is the correctly rounded value ``float``
    gives. Returns (values, ok); values where not ok are meaningless."""
    c0 = lo & _MASK_FF
    neg = c0 == np.uint64(0x2D)
    signed = neg | (c0 == np.uint64(0x2B))
    if signed.any():
        lo, hi = shift_out_first(lo, hi, signed)
        n = n - signed
    dot = _splat(0x2E)
    dp = first_of(zero_bytes(lo ^ dot), zero_bytes(hi ^ dot))
    has_dot = dp < n
    nd = n - has_dot
    if has_dot.any():
        # the bytes after the dot move down one: (v & below) | ((v >> 8) & ~below), 128-bit
        b_lo = low_mask(dp)
        b_hi = low_mask(dp - 8)
        lo = (lo & b_lo) | (((lo >> _U8) | (hi << _U56)) & ~b_lo)
        hi = (hi & b_hi) | ((hi >> _U8) & ~b_hi)
        frac = (n - dp - 1) * has_dot
    else:
        frac = np.zeros(len(n), dtype=np.int64)
    bad = (non_digit_bytes(lo) & low_mask(nd)) | (non_digit_bytes(hi) & low_mask(nd - 8))
    ok = (bad == 0) & (nd >= 1) & (nd <= 15)
    v = digits_value(lo, hi, np.clip(nd, 1, 15)) / np.take(_P10, frac)
    np.negative(v, out=v, where=neg)
    return v, ok


class Bytes:
    """A piece as uint8 array plus an overlapping little-endian uint64 view (element i is
    bytes i..i+7), so a literal of up to 8 bytes is checked at many places with one gather
    and 16 bytes after many places are two gathers."""

    __slots__ = ("a", "u", "n")

    def __init__(self, body: bytes | bytearray, start: int = 0) -> None:
        self.a = np.frombuffer(body, dtype=np.uint8)[start:]
        self.n = len(self.a)
        m = max(0, self.n - 7)
        self.u = np.ndarray(shape=(m,), dtype="<u8", buffer=body, offset=start, strides=(1,))

    def word(self, pos: np.ndarray) -> np.ndarray:
        """The 8 bytes at each position as a word; zero past the end."""
        if not len(pos) or int(pos.max()) + 8 <= self.n:
            return self.u[pos]
        return self.words(pos)[0]

    def words(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The 16 bytes at each position as two words (lo: bytes 0..7); zero past the end."""
        n, u = self.n, self.u
        if not len(pos) or int(pos.max()) + 16 <= n:
            return u[pos], u[pos + 8]
        lo = np.zeros(len(pos), dtype=np.uint64)
        hi = np.zeros(len(pos), dtype=np.uint64)
        inside = pos + 16 <= n
        q = pos[inside]
        lo[inside] = u[q]
        hi[inside] = u[q + 8]
        late = np.flatnonzero(~inside)
        top = max(n - 16, 0)
        tail = np.zeros(n - top + 32, dtype=np.uint8)
        tail[: n - top] = self.a[top:]
        tu = np.ndarray(shape=(len(tail) - 7,), dtype="<u8", buffer=tail, strides=(1,))
        q = np.minimum(pos[late], n) - top
        lo[late] = tu[q]
        hi[late] = tu[q + 8]
        return lo, hi

    def at(self, pos: np.ndarray, lit: bytes | bytearray, off: int = 0) -> np.ndarray:
        """Mask of the positions p of pos where ``a[p+off : p+off+len(lit)] == lit``."""
        a, u, n = self.a, self.u, self.n
        if not len(pos):
            return np.zeros(0, dtype=bool)
        q = pos + off if off else pos
        span = -(-len(lit) // 8) * 8
        if int(q.min()) >= 0 and int(q.max()) + span <= n:
            out: np.ndarray | None = None
            for o in range(0, len(lit), 8):
                part = lit[o : o + 8]
                got = u[q + o] if o else u[q]
                if len(part) < 8:
                    got &= np.uint64((1 << (8 * len(part))) - 1)
                hit = got == np.uint64(int.from_bytes(part, "little"))
                out = hit if out is None else np.logical_and(out, hit, out=out)
            assert out is not None
            return out
        out = np.zeros(len(pos), dtype=bool)
        ok = (q >= 0) & (q + len(lit) <= n)
        safe = ok & (q + span <= n)
        if safe.any():
            out[safe] = self.at(q[safe], lit)
        for i in np.flatnonzero(ok & ~safe).tolist():  # the few places near the end
            out[i] = a[q[i] : q[i] + len(lit)].tobytes() == lit
        return out


def _digits(bb: Bytes, pos: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The ASCII digits at each position: (value as float64, number of digits; 0 = none or
    ``width`` (8 or 16) digits or more). Exact: at most 15 digits."""
    lo, hi = bb.words(pos)
    nd = (
        first_of(non_digit_bytes(lo), non_digit_bytes(hi))
        if width > 8
        else first_byte(non_digit_bytes(lo))
    )
    nd[nd >= width] = 0
    return digits_value(lo, hi, np.maximum(nd, 1)), nd


def _U64(lit: bytes) -> np.uint64:
    """Up to 8 bytes as the little-endian uint64 the overlapping view reads for them."""
    return np.uint64(int.from_bytes(lit, "little"))


_NL = _splat(10)
_SP = _splat(32)


def _numbers(
    bb: Bytes, body: bytes | bytearray, base: int, vs: np.ndarray, space_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The numbers starting at vs, as the regex path reads them: ``to_float`` of the rest of
    the line, or of the text up to a space for the rows where ``space_ends``. Returns
    (values, end positions). Tokens of at most 15 bytes are cut from two words per row;
    plain decimals are converted in bulk (:func:`decimals`), runs of one repeated token once,
    other such tokens with ``floats`` and the rest (longer, or at the end) one by one."""
    k = len(vs)
    if not k:
        return np.empty(0), np.empty(0, dtype=np.int64)
    lo, hi = bb.words(vs)
    t_lo = zero_bytes(lo ^ _NL)
    t_hi = zero_bytes(hi ^ _NL)
    if space_ends.any():
        sp = np.where(space_ends, _HIGH, np.uint64(0))
        t_lo |= zero_bytes(lo ^ _SP) & sp
        t_hi |= zero_bytes(hi ^ _SP) & sp
    end_at = first_of(t_lo, t_hi)
    nul_at = first_of(zero_bytes(lo), zero_bytes(hi))
    ok = end_at < nul_at  # a line end (or space) inside the 16 bytes, no NUL before it
    first = np.minimum(end_at, nul_at)
    lo, hi = keep_bytes(lo, hi, first)
    ends = vs + first
    new = np.ones(k, dtype=bool)
    if k > 1:
        new[1:] = ~((lo[1:] == lo[:-1]) & (hi[1:] == hi[:-1]) & ok[1:] & ok[:-1])
    sub = np.flatnonzero(new) if new.sum() * 10 < k * 9 else None
    if sub is not None:
        lo_s, hi_s, f_s, ok_s = lo[sub], hi[sub], first[sub], ok[sub]
    else:
        lo_s, hi_s, f_s, ok_s = lo, hi, first, ok
    out, done = decimals(lo_s, hi_s, f_s)
    rest = ok_s & ~done
    if rest.any():
        toks = np.stack([lo_s[rest], hi_s[rest]], axis=1).view("S16").ravel()
        out[rest] = floats(toks.tolist())
    if sub is not None:
        out = out[np.cumsum(new) - 1]
    for i in np.flatnonzero(~ok).tolist():
        m = (_TOKEN if space_ends[i] else _REST_OF_LINE).match(body, base + int(vs[i]))
        assert m is not None  # both patterns match the empty string
        out[i] = to_float(m.group(0))
        ends[i] = m.end() - base
    return out, ends


def _steps_at(pos: np.ndarray, marks: np.ndarray, nums: np.ndarray) -> np.ndarray:
    """The number of the last mark before each position (NaN: none in this piece)."""
    if not len(nums):
        return np.full(len(pos), np.nan)
    j = np.searchsorted(marks, pos, side="right") - 1
    out = nums[np.maximum(j, 0)]
    out[j < 0] = np.nan
    return out


def share_steps(shared: list[np.ndarray], steps: np.ndarray) -> np.ndarray:
    """``steps``, or an equal array already in ``shared`` (series with the same x axis share
    one array instead of holding copies); a new array is added to ``shared``."""
    for prev in shared:
        if len(prev) == len(steps) and np.array_equal(prev, steps, equal_nan=True):
            return prev
    shared.append(steps)
    return steps


def scan(
    body: bytes | bytearray, start: int, out_name: Callable[..., str], test_re: re.Pattern[bytes]
) -> tuple[list[tuple[str, str, np.ndarray, np.ndarray]], float, float] | None:
    """Readings of ``body[start:]`` (which starts at an ``Iteration`` line) as
    ``(series, last iteration, last test iteration)``; None when the piece has anything the
    scan does not know (the caller then takes the regex path)."""
    bb = Bytes(body, start)
    a, n, _is = bb.a, bb.n, bb.at
    if n == 0:
        return None
    mask = np.empty(n, dtype=bool)  # one buffer for both whole-piece comparisons

    # every "Iteration N" and what follows it: ", loss = ", " (...), loss = ", ", lr = ",
    # ", Testing net"; anything else -> regex path
    np.equal(a, 73, out=mask)
    itp = np.flatnonzero(mask)
    itp = itp[a[np.minimum(itp + 1, n - 1)] == 116]  # "It": most "I"s start glog lines
    itp = itp[_is(itp, b"teration ", 1)]
    if not len(itp):
        return None
    it_num, nd = _digits(bb, itp + 10, 16)
    if not nd.all():
        return None
    d = itp + 10 + nd
    if int(d.max()) + 16 <= n:  # one gather of the 8 bytes after each number tells the kind
        c8 = bb.u[d]
        is_loss = c8 == _U64(b", loss =")
        is_loss[is_loss] = a[d[is_loss] + 8] == 32
        is_lr = (c8 & _U64(b"\xff" * 7)) == _U64(b", lr = ")
        is_test = c8 == _U64(b", Testin")
        is_test[is_test] = _is(d[is_test], b", Testing net")
        paren = (c8 & _U64(b"\xff\xff")) == _U64(b" (")
    else:
        is_loss = _is(d, b", loss = ")
        is_lr = _is(d, b", lr = ")
        is_test = _is(d, b", Testing net")
        paren = _is(d, b" (")
    vstart = np.full(len(itp), -1, dtype=np.int64)
    vstart[is_loss] = d[is_loss] + 9
    vstart[is_lr] = d[is_lr] + 7
    if paren.any():
        pi = np.flatnonzero(paren)
        w = windows(a, d[pi] + 2, PAREN_WIDTH, fill=10)
        close = np.argmax(w == 41, axis=1)
        rows = np.arange(len(pi))
        nl = np.argmax(w == 10, axis=1)
        nl[w[rows, nl] != 10] = PAREN_WIDTH
        after = d[pi] + 2 + close + 1
        okp = (w[rows, close] == 41) & (nl > close) & _is(after, b", loss = ")
        if not okp.all():
            return None
        is_loss[pi] = True
        vstart[pi] = after + 9
    if not (is_loss | is_lr | is_test).all():
        return None
    li = np.flatnonzero(is_loss)
    ri = np.flatnonzero(is_lr)
    if not len(li) and not len(ri):
        return None

    # every "Train net output #", "Test net output #", "Test score #"
    np.equal(a, 35, out=mask)
    hp = np.flatnonzero(mask)
    del mask
    hp = hp[a[np.maximum(hp - 1, 0)] == 32]
    out_at = _is(hp, b"output #", -7)
    op = hp[out_at]
    c = a[np.maximum(op - 15, 0)]  # "Tr[a]in net output #" / "T[e]st net output #"
    tr = op[c == 97]
    tr = tr[_is(tr, b"Train net ", -17)]
    te = op[c == 101]
    te = te[_is(te, b"Test net ", -16)]
    sp = hp[~out_at]
    sp = sp[_is(sp, b"Test score ", -11)]
    if len(sp):
        te = np.union1d(te, sp)

    # train outputs: each #k has one "#k: name = " (checked at every line), so the values
    # start at a fixed offset
    outs: list[tuple[str, np.ndarray, int]] = []
    if len(tr):
        k_int = a[tr + 1].astype(np.int64) - 48
        if not (
            ((k_int >= 0) & (k_int < 10)).all() and (a[np.minimum(tr + 2, n - 1)] == 58).all()
        ):  # #k: with one digit
            k_num, knd = _digits(bb, tr + 1, 8)
            if not knd.all() or not (a[np.minimum(tr + 1 + knd, n - 1)] == 58).all():
                return None
            k_int = k_num.astype(np.int64)
        if k_int.max() >= 4096:
            return None
        firsts = sorted(int(np.argmax(k_int == k)) for k in np.flatnonzero(np.bincount(k_int)))
        names: set[str] = set()
        for f in firsts:
            m = _OUT_PREFIX.match(body, start + int(tr[f]))
            if m is None or not m.group(2) or _BAD_NAME.search(m.group(2)):
                return None
            prefix = body[m.start() : m.end()]
            rows_k = tr[k_int == k_int[f]] if len(firsts) > 1 else tr
            if not _is(rows_k, prefix).all():
                return None
            name = out_name(m.group(2))
            if name in names or name in ("loss", "lr"):
                return None
            names.add(name)
            outs.append((name, rows_k, len(prefix)))

    # all the numbers at once: loss, lr, then every output
    vs = np.concatenate([vstart[li], vstart[ri]] + [r + off for _n, r, off in outs])
    space = np.zeros(len(vs), dtype=bool)
    space[len(li) + len(ri) :] = True
    vals, vends = _numbers(bb, body, start, vs, space)
    ends = d + 12  # Testing lines
    ends[li] = vends[: len(li)]
    ends[ri] = vends[len(li) : len(li) + len(ri)]
    if len(itp) > 1 and (itp[1:] < ends[:-1]).any():
        return None  # two Iteration marks on one line
    for h in (tr, te):
        j = np.searchsorted(itp, h, side="right") - 1
        if ((j >= 0) & (h < ends[np.maximum(j, 0)])).any():
            return None  # an output inside an Iteration line

    saved: list[tuple[str, str, np.ndarray, np.ndarray]] = []
    loss_steps = it_num[li]
    if len(li):
        saved.append(("loss", "train", loss_steps, vals[: len(li)]))
    if len(ri):
        saved.append(("lr", "train", it_num[ri], vals[len(li) : len(li) + len(ri)]))
    at = len(li) + len(ri)
    shared = [loss_steps]
    for name, rows_k, _off in outs:
        v = vals[at : at + len(rows_k)]
        at += len(rows_k)
        st = share_steps(shared, _steps_at(rows_k, itp, it_num))
        saved.append((name, "train", st, v))

    # test net: rare lines, read with the regex path's pattern at each place
    last_test = float("nan")
    if len(te):
        t_pos = itp[is_test]
        t_num = it_num[is_test]
        tname: list[str] = []
        tpos: list[int] = []
        tval: list[bytes] = []
        last_end = -1
        seen: dict[tuple[bool, bytes], str] = {}
        for h in te.tolist():
            at = h - (16 if a[h - 2] == 116 else 11)  # "output #" / "score #"
            if at < last_end:
                continue
            m = test_re.match(body, start + at)
            if m is None:
                continue
            last_end = m.end() - start
            nm = m.group(1)
            raw = (nm is None, bytes(nm if nm is not None else m.group(2)))
            if raw not in seen:
                seen[raw] = (
                    out_name(nm, False) if nm is not None else f"score_{m.group(2).decode()}"
                )
            tname.append(seen[raw])
            tpos.append(at)
            tval.append(m.group(3))
        if tname:
            v = floats(tval)
            s = _steps_at(np.array(tpos, dtype=np.int64), t_pos, t_num)
            arr = np.array(tname, dtype=object)
            for name in dict.fromkeys(tname):
                sel = arr == name
                saved.append((name, "val", s[sel], v[sel]))
    if is_test.any():
        last_test = float(it_num[is_test][-1])
    return saved, float(it_num[-1]), last_test
