"""Vectorised scan of a regular Caffe glog piece: numpy over the raw bytes instead of regexes.

Finds every ``Iteration `` (anchor byte ``I``) and every ``... net output #`` / ``Test score #``
(anchor byte ``#``) with whole-array comparisons, checks the bytes around them with gathers
(an overlapping uint64 view checks 8 bytes per gather), cuts a fixed-width window after every
``= `` and converts the numbers in bulk: plain decimals exactly as ``float`` does (Clinger's
fast path, :func:`_decimals`), anything else (nan, ``1.#INF``, trailing text) the way the
regex path does (``to_float`` of the same token). Each output is tied to the last
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

VALUE_WIDTH = 16
PAREN_WIDTH = 64


def _windows(a: np.ndarray, pos: np.ndarray, width: int, fill: int) -> np.ndarray:
    """``a[p:p+width]`` for every p of pos as rows of a new array; bytes past the end are fill."""
    n = len(a)
    if n < width:
        a = np.concatenate([a, np.full(width - n, fill, dtype=np.uint8)])
    top = max(n - width, 0)
    out = sliding_window_view(a, width)[np.minimum(pos, top)]
    late = np.flatnonzero(pos > top)
    if len(late):  # the few rows that run past the end
        tail = np.concatenate([a[top:n], np.full(width + 1, fill, dtype=np.uint8)])
        out[late] = sliding_window_view(tail, width)[np.minimum(pos[late], n) - top]
    return out


class _Bytes:
    """A piece as uint8 array plus an overlapping little-endian uint64 view (element i is
    bytes i..i+7), so a literal of up to 8 bytes is checked at many places with one gather."""

    __slots__ = ("a", "u", "n")

    def __init__(self, body: bytes | bytearray, start: int) -> None:
        self.a = np.frombuffer(body, dtype=np.uint8)[start:]
        self.n = len(self.a)
        m = max(0, self.n - 7)
        self.u = np.ndarray(shape=(m,), dtype="<u8", buffer=body, offset=start, strides=(1,))

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


_P10 = 10.0 ** np.arange(23)  # exact powers of ten


def _digits(a: np.ndarray, pos: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The ASCII digits at each position: (value as float64, number of digits; 0 = none or
    too many). Exact below 2**53 (the digits are summed as exact integers in float64)."""
    w = _windows(a, pos, width, fill=0) - np.uint8(48)
    isd = w < 10
    nd = np.argmin(isd, axis=1)
    nd[isd[:, -1] & isd.all(axis=1)] = 0
    val = np.zeros(len(pos), dtype=np.float64)
    for c in np.flatnonzero(np.bincount(nd, minlength=1)[1:]).tolist():
        c += 1
        r = np.flatnonzero(nd == c)
        val[r] = w[r, :c].astype(np.float64) @ _P10[c - 1 :: -1]
    return val, nd


def _decimals(w: np.ndarray, first: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exactly ``float(token)`` for the rows of ``w`` (token bytes, then zeros; ``first`` =
    token length) that are plain decimals of at most 15 digits with a decimal exponent of at
    most 22 either way (Clinger's fast path: one exact integer, one correctly rounded multiply
    or divide by an exact power of ten). Only rows in ``cand`` are tried; (values, done mask).
    Rows are grouped by layout (length, dot, ``e``, signs) so each group is one or two small
    matrix products."""
    k, width = w.shape
    vals = np.zeros(k, dtype=np.float64)
    done = np.zeros(k, dtype=bool)
    rows_all = np.flatnonzero(cand)
    if not len(rows_all):
        return vals, done
    if len(rows_all) < k:
        w = w[rows_all]
        first = first[rows_all]
    n = len(rows_all)
    rows = np.arange(n)
    dp = (w == 46).argmax(axis=1)
    dp[w[rows, dp] != 46] = width
    ep = ((w | 32) == 101).argmax(axis=1)
    ep[(w[rows, ep] | 32) != 101] = width
    c0 = w[:, 0]
    s0 = (c0 == 45) | (c0 == 43)
    ce = w[rows, np.minimum(ep + 1, width - 1)]
    es = (ep < width) & ((ce == 45) | (ce == 43))
    # a decimal with a dot and no exponent is read as if padded with zeros to the window
    # width (same value, at most 15 digits): one group per dot place instead of per length
    padded = (dp < width) & (ep == width)
    glen = np.where(padded, width, first)
    key = (((glen * (width + 1) + dp) * (width + 1) + ep) * 2 + s0) * 2 + es
    # small keys sort as int16: numpy's stable sort is then a radix sort
    order = np.argsort(key.astype(np.int16) if int(key.max()) < 1 << 15 else key, kind="stable")
    ks = key[order]
    cuts = np.flatnonzero(ks[1:] != ks[:-1]) + 1
    for g0, g1 in zip(np.r_[0, cuts].tolist(), np.r_[cuts, n].tolist(), strict=True):
        r = order[g0:g1]
        i0 = int(r[0])
        length, d, e = int(glen[i0]), int(dp[i0]), int(ep[i0])
        start = 1 if s0[i0] else 0
        mend = min(e, length)
        if d != width and d >= mend:
            continue  # dot in the exponent or none before it
        mcols = [c for c in range(start, mend) if c != d]
        if not 1 <= len(mcols) <= 15:
            continue
        g = w[r]
        gm = g[:, mcols]
        dm = gm - np.uint8(48)
        if padded[i0]:
            pad = gm == 0  # the bytes after the token
            ok = ((dm < 10) | pad).all(axis=1) & (first[r] > start + 1)  # a digit at least
            dm[pad] = 0
        else:
            ok = (dm < 10).all(axis=1)
        m = dm.astype(np.float64) @ _P10[len(mcols) - 1 :: -1]
        e10 = -sum(1 for c in mcols if c > d) if d != width else 0
        if e != width:
            ecols = list(range(e + 1 + int(es[i0]), length))
            if not 1 <= len(ecols) <= 3:
                continue
            de = g[:, ecols] - np.uint8(48)
            ok &= (de < 10).all(axis=1)
            ex = de.astype(np.int64) @ (10 ** np.arange(len(ecols) - 1, -1, -1))
            if es[i0]:
                ex = np.where(g[:, e + 1] == 45, -ex, ex)
            e10a = ex + e10
            ok &= np.abs(e10a) <= 22
            p = _P10[np.minimum(np.abs(e10a), 22)]
            v = np.where(e10a >= 0, m * p, m / p)
        elif e10 >= 0:
            v = m * _P10[e10] if e10 else m
        elif e10 >= -22:
            v = m / _P10[-e10]
        else:
            continue
        if start:
            v = np.where(g[:, 0] == 45, -v, v)
        hit = rows_all[r[ok]]
        vals[hit] = v[ok]
        done[hit] = True
    return vals, done


def _U64(lit: bytes) -> np.uint64:
    """Up to 8 bytes as the little-endian uint64 the overlapping view reads for them."""
    return np.uint64(int.from_bytes(lit, "little"))


_LOW_BYTES = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _numbers(
    a: np.ndarray, body: bytes | bytearray, base: int, vs: np.ndarray, space_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The numbers starting at vs, as the regex path reads them: ``to_float`` of the rest of
    the line, or of the text up to a space for the rows where ``space_ends``. Returns
    (values, end positions). Plain decimals are converted in bulk (:func:`_decimals`), runs
    of one repeated token once, other tokens of the window width with ``floats`` and the
    rest (longer than the window) one by one."""
    k = len(vs)
    if not k:
        return np.empty(0), np.empty(0, dtype=np.int64)
    w = _windows(a, vs, VALUE_WIDTH, fill=10)
    sm = w == 10
    if space_ends.any():
        sm |= (w == 32) & space_ends[:, None]
    sm |= w == 0
    first = sm.argmax(axis=1)
    rows = np.arange(k)
    ok = sm[rows, first] & (w[rows, first] != 0)  # a real end inside the window
    w64 = w.view("<u8")
    for j in range(VALUE_WIDTH // 8):
        w64[:, j] &= _LOW_BYTES[np.clip(first - 8 * j, 0, 8)]
    ends = vs + first
    new = np.ones(k, dtype=bool)
    if k > 1:
        new[1:] = ~((w64[1:, 0] == w64[:-1, 0]) & (w64[1:, 1] == w64[:-1, 1]) & ok[1:] & ok[:-1])
    sub = np.flatnonzero(new) if new.sum() * 10 < k * 9 else None
    ws, fs, oks = (w[sub], first[sub], ok[sub]) if sub is not None else (w, first, ok)
    out, done = _decimals(ws, fs, oks)
    rest = oks & ~done
    if rest.any():
        out[rest] = floats(ws[rest].view(f"S{VALUE_WIDTH}").ravel().tolist())
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
    bb = _Bytes(body, start)
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
    it_num, nd = _digits(a, itp + 10, 16)
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
        w = _windows(a, d[pi] + 2, PAREN_WIDTH, fill=10)
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
            k_num, knd = _digits(a, tr + 1, 8)
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
    vals, vends = _numbers(a, body, start, vs, space)
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
