"""The fast paths give exactly what the slow paths give.

The vectorised print / logging reader (``generic.scan_text``, in sub-pieces and in byte ranges
read by worker processes) against the line parser, on every fixture log and on generated
awkward logs (every NaN / inf spelling, exponents, long and non-ASCII lines, lines that need
the step of the lines before, pipe tables, ranges cut anywhere); the word-at-a-time number
conversion against ``float``; the numpy rolling median against pandas; the faster envelope
against the plain one.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from assistant.triage import read
from assistant.triage.inputs import open_input, raw_chunks
from assistant.triage.read import _envelope, read_log
from assistant.triage.readers import caffe_scan
from assistant.triage.readers.base import Batch
from assistant.triage.readers.generic import GenericReader, ScanState, merge_ranges, scan_text
from assistant.triage.stats import rolling_median

DATA = Path(__file__).resolve().parents[1] / "data" / "logs"
FIXTURES = sorted(
    p
    for p in DATA.rglob("*")
    if p.is_file() and p.name not in ("README.md", "labels.tsv") and "tfevents" not in p.name
)


def _joined(batches: list[Batch]) -> dict[tuple[str, str], tuple[np.ndarray, ...]]:
    """Batches of one reader joined per series, in order of first appearance."""
    parts: dict[tuple[str, str], list[Batch]] = {}
    for b in batches:
        parts.setdefault((b.name, b.split), []).append(b)
    out = {}
    for key, bs in parts.items():
        ep = [b.epochs if b.epochs is not None else np.full(len(b.values), np.nan) for b in bs]
        out[key] = (
            np.concatenate([b.steps for b in bs]),
            np.concatenate([b.values for b in bs]),
            np.concatenate(ep) if any(b.epochs is not None for b in bs) else None,
        )
    return out


def _same(fast: dict, slow: dict) -> None:  # type: ignore[type-arg]
    assert list(fast) == list(slow)
    for key, (s1, v1, e1) in slow.items():
        s2, v2, e2 = fast[key]
        assert np.array_equal(s1.view(np.int64), s2.view(np.int64)), key
        assert np.array_equal(v1.view(np.int64), v2.view(np.int64)), key  # bitwise: -0.0, nan
        assert (e1 is None) == (e2 is None), key
        if e1 is not None:
            assert np.array_equal(e1.view(np.int64), e2.view(np.int64)), key


def _text(path: Path) -> bytes:
    return b"".join(raw_chunks(open_input(str(path))))


def _fast_and_slow(
    text: bytes, sub_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict, dict, GenericReader, GenericReader]:  # type: ignore[type-arg]
    monkeypatch.setattr(GenericReader, "BULK_MIN_BYTES", 1)
    monkeypatch.setattr(GenericReader, "SUB_BYTES", sub_bytes)
    fast_reader, slow_reader = GenericReader(), GenericReader()
    fast = _joined(list(fast_reader.parse([text])))
    slow = _joined(list(slow_reader.parse_lines(text.decode("utf-8", "replace").split("\n"))))
    return fast, slow, fast_reader, slow_reader


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(DATA)) for p in FIXTURES])
def test_the_vectorised_print_reader_reads_every_fixture_like_the_line_parser(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _text(path)
    for sub_bytes in (1 << 20, 3000):  # whole, and cut into many pieces that carry context
        fast, slow, fr, sr = _fast_and_slow(text, sub_bytes, monkeypatch)
        _same(fast, slow)
        assert fr.step_unit == sr.step_unit and fr.notes == sr.notes


VALUES = [
    "nan", "NaN", "-nan", "NAN", "nan(ind)", "inf", "-inf", "Inf", "Infinity", "1.#INF",
    "-1.#IND", "1.#QNAN", "1e-05", "1E+3", "2.5e-30", "1e400", "-0", "-0.0", "+2.5", ".5",
    "5.", "12345678901234567", "0.000000000000001", "1.2.3", "3e", "0.1,",
]  # fmt: skip


def _value(rnd: random.Random) -> str:
    if rnd.random() < 0.1:
        return rnd.choice(VALUES)
    fmt = rnd.choice(["%.4f", "%g", "%.6g", "%.3e", "%.17g", "%d", "%.1f"])
    x = rnd.random() * 10 ** rnd.randint(-7, 6) * rnd.choice([1, 1, 1, -1])
    return fmt % (int(x) if fmt == "%d" else x)


def _awkward_log(seed: int, lines: int) -> bytes:
    """Print / logging lines of many shapes, most of them regular (templates), some not."""
    rnd = random.Random(seed)
    out: list[str] = []
    it, epoch = 0, 1
    for _ in range(lines):
        r = rnd.random()
        it += 10
        if r < 0.55:
            out.append(
                f"Epoch {epoch} | iter {it % 500}/500 | loss: {_value(rnd)} | acc: "
                f"{rnd.random():.4f} | lr: {rnd.choice(['0.010000', '1e-05', '5e-4'])}"
            )
        elif r < 0.7:
            out.append(
                f"2024-05-01 12:00:{it % 60:02d},123 INFO epoch {epoch} iter {it} loss "
                f"{_value(rnd)} lr {_value(rnd)}"
            )
        elif r < 0.75:
            out.append(f"Epoch {epoch} validation | val_loss: {_value(rnd)} | val_acc: 0.5")
            epoch += rnd.random() < 0.5
        elif r < 0.78:
            out.append(f"[{epoch}/20] train_loss={_value(rnd)} val_loss={_value(rnd)}")
        elif r < 0.8:
            out.append(f"step {it}")  # context only
        elif r < 0.82:
            out.append(f"  >>> rpn_loss_cls: {_value(rnd)}  损失: {_value(rnd)} 轮次 {epoch}")
        elif r < 0.84:
            out.append(f"loss: {_value(rnd)} loss: {_value(rnd)}")  # one name twice on a line
        elif r < 0.85:
            out.append("x" * rnd.randint(2000, 70000) + f" loss {_value(rnd)}")
        elif r < 0.88:
            out.append(rnd.choice(["", "Saving checkpoint", "data loader: worker 3 restarted"]))
        elif r < 0.9:
            out.append(f"iter: {it} / 70000, total loss: {_value(rnd)}")
        elif r < 0.92:
            out.append(f"loss {_value(rnd)}\x00 acc 3 v1.2.3 ({it})")
        else:
            out.append(
                f"Epoch {epoch} | iter {it % 500}/500 | loss: {rnd.random():.4f} | acc: "
                f"{rnd.random():.4f} | lr: 0.010000"
            )
    return ("\n".join(out) + rnd.choice(["", "\n"])).encode()


@pytest.mark.parametrize("seed", range(6))
def test_the_vectorised_print_reader_reads_awkward_logs_like_the_line_parser(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _awkward_log(seed, 4000)
    for sub_bytes in (1 << 22, 5000, 700):
        fast, slow, fr, sr = _fast_and_slow(text, sub_bytes, monkeypatch)
        _same(fast, slow)
        assert fr.step_unit == sr.step_unit and fr.notes == sr.notes


def _near_misses(seed: int, lines: int) -> bytes:
    """Lines of a few lengths that mostly share one layout, some with one byte changed to
    another digit, a dot, a sign, a letter, a separator or a non-ASCII byte (same length:
    the fixed-layout check must tell them apart), some with a number one digit longer."""
    rnd = random.Random(seed)
    out = []
    for i in range(lines):
        line = (
            f"Epoch {10 + i // 700} | iter {i % 700:03d}/700 | loss: {rnd.random():.4f} | "
            f"acc: {rnd.random():.4f} | lr: {rnd.choice(['0.010000', '0.001000', '1.5e-05'])}"
        )
        r = rnd.random()
        if r < 0.3:
            at = rnd.randrange(len(line))
            new = rnd.choice("0123456789.-+eE:|x #n") if rnd.random() < 0.9 else "\u00e9"
            line = line[:at] + new + line[at + 1 :]
        elif r < 0.35:
            line = line.replace("loss: 0.", "loss: 10.", 1)
        out.append(line)
    return ("\n".join(out) + "\n").encode()


@pytest.mark.parametrize("seed", range(4))
def test_lines_that_nearly_fit_a_layout_are_read_like_the_line_parser(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.triage.readers import generic

    taken = []
    real = generic._fixed_slots

    def counting(*args):  # type: ignore[no-untyped-def]
        for t, roles, sl in real(*args):
            taken.append(len(sl.rows))
            yield t, roles, sl

    monkeypatch.setattr(generic, "_fixed_slots", counting)
    text = _near_misses(seed, 6000)
    for sub_bytes in (1 << 22, 50_000):
        fast, slow, fr, sr = _fast_and_slow(text, sub_bytes, monkeypatch)
        _same(fast, slow)
        assert fr.step_unit == sr.step_unit and fr.notes == sr.notes
    assert sum(taken) > 2 * 6000 * 0.6  # most lines took the fixed-layout path, both times


def test_a_piece_of_mostly_irregular_lines_is_read_like_the_line_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More than 10,000 lines no template takes (the line parser's lines found all at once),
    among them lines with no digit, pipes in the middle, non-ASCII and empty lines."""
    rnd = random.Random(7)
    words = ["loss", "acc", "lr", "note", "done", "val_loss", "步", "x|y", ""]
    lines = []
    for i in range(12_000):
        picked = rnd.sample(words, rnd.randint(1, 4))
        lines.append(" ".join(f"{w}{'=' * (i % 3)} {_value(rnd)}" if w else "" for w in picked))
        if i % 7 == 0:
            lines.append(rnd.choice(["", "no digits here", "epoch ten"]))
    text = ("\n".join(lines) + "\n").encode()
    fast, slow, fr, sr = _fast_and_slow(text, 1 << 22, monkeypatch)
    _same(fast, slow)
    assert fr.step_unit == sr.step_unit and fr.notes == sr.notes


def test_a_pipe_table_is_read_in_order_by_the_vectorised_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = ["| epoch | loss | acc |", "|---|---|---|"]
    lines += [f"| {i} | {1 / (i + 1):.4f} | 0.{i:03d} |" for i in range(300)]
    lines += [f"epoch {i} loss: {i / 7:.3f}" for i in range(300)]
    text = ("\n".join(lines) + "\n").encode()
    fast, slow, _fr, _sr = _fast_and_slow(text, 2000, monkeypatch)
    _same(fast, slow)
    assert len(slow[("loss", "train")][1]) == 600


def test_pieces_read_on_their_own_and_merged_equal_one_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _awkward_log(11, 3000)
    cuts = sorted({text.rfind(b"\n", 0, x) + 1 for x in range(0, len(text), len(text) // 7)})
    pieces = []
    for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True):
        ss = ScanState()
        scan_text(text[a:b], ss)
        pieces.append(ss)
    merged = merge_ranges(pieces)
    fast = _joined(list(GenericReader().finish(merged)))
    slow = _joined(list(GenericReader().parse_lines(text.decode().split("\n"))))
    _same(fast, slow)


def _read_both(path: Path, monkeypatch: pytest.MonkeyPatch, piece: int, sub: int):  # type: ignore[no-untyped-def]
    ranges_read = []
    real = read._parallel_generic

    def spy(*args):  # type: ignore[no-untyped-def]
        try:
            yield from real(*args)
        except read._ReadAgain:
            ranges_read.append(False)
            raise
        ranges_read.append(True)

    with monkeypatch.context() as m:
        m.setattr(read, "_parallel_generic", spy)
        m.setattr(read, "PARALLEL_MIN_BYTES", 1)
        m.setattr(read, "PIECE_BYTES", piece)
        m.setattr(GenericReader, "SUB_BYTES", sub)
        m.setattr(GenericReader, "BULK_MIN_BYTES", 1)
        par = read_log(str(path))
    with monkeypatch.context() as m:
        m.setattr(read, "PARALLEL_MIN_BYTES", 1 << 62)
        m.setattr(GenericReader, "BULK_MIN_BYTES", 1 << 62)
        seq = read_log(str(path))
    return par, seq, ranges_read


@pytest.mark.parametrize("bom", [False, True], ids=["plain", "bom"])
def test_a_print_log_read_in_parallel_ranges_equals_the_line_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bom: bool
) -> None:
    p = tmp_path / "train.log"
    text = _awkward_log(5, 6000).replace(b"\x00", b"\x07")  # a NUL byte: "binary file"
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.replace(b"\n", b"\r\n"))
    par, seq, ranges_read = _read_both(p, monkeypatch, piece=30_000, sub=7_000)  # cut mid-line
    assert ranges_read == [True]  # read in byte ranges by worker processes
    assert par.format == seq.format == "plain-print" and par.notes == seq.notes
    assert [(s.name, s.split) for s in par.series] == [(s.name, s.split) for s in seq.series]
    for a, b in zip(par.series, seq.series, strict=True):
        assert np.array_equal(a.steps.view(np.int64), b.steps.view(np.int64)), a.name
        assert np.array_equal(a.values.view(np.int64), b.values.view(np.int64)), a.name
        assert (a.epochs is None) == (b.epochs is None)
        if a.epochs is not None:
            assert np.array_equal(a.epochs, b.epochs, equal_nan=True), a.name
        assert a.readings == b.readings and a.step_unit == b.step_unit


def test_a_print_log_with_a_pipe_table_is_read_in_one_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _awkward_log(6, 3000).replace(b"\x00", b"\x07")
    table = b"| epoch | loss |\n|---|---|\n" + b"".join(
        b"| %d | 0.%03d |\n" % (i, i) for i in range(50)
    )
    p = tmp_path / "train.log"
    p.write_bytes(body[: len(body) // 2 + 1] + b"\n" + table + body[len(body) // 2 + 1 :])
    par, seq, ranges_read = _read_both(p, monkeypatch, piece=20_000, sub=5_000)
    assert ranges_read == [False]  # a range with pipe-table lines: one stream instead
    assert [(s.name, s.split, s.points) for s in par.series] == [
        (s.name, s.split, s.points) for s in seq.series
    ]
    for a, b in zip(par.series, seq.series, strict=True):
        assert np.array_equal(a.values, b.values, equal_nan=True), a.name


def _words(tokens: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.array(tokens, dtype="S16").view(np.uint64).reshape(-1, 2)
    return w[:, 0].copy(), w[:, 1].copy(), np.array([len(t) for t in tokens])


def test_word_decimals_are_exactly_float_or_refused() -> None:
    rnd = random.Random(3)
    tokens: list[bytes] = []
    for _ in range(60_000):
        r = rnd.random()
        if r < 0.5:
            t = rnd.choice(["%g", "%.6g", "%.17g", "%.4f", "%.10f", "%.15g"]) % (
                rnd.random() * 10 ** rnd.randint(-9, 13)
            )
        elif r < 0.7:
            t = rnd.choice(["-", "+", ""]) + str(rnd.randint(0, 10 ** rnd.randint(1, 17)))
        else:
            t = "".join(rnd.choice("0123456789.-+e/ ") for _ in range(rnd.randint(1, 16)))
        tokens.append(t[:16].encode() or b"0")
    lo, hi, n = _words(tokens)
    values, ok = caffe_scan.decimals(lo, hi, n)
    for tok, value, good in zip(tokens, values.tolist(), ok.tolist(), strict=True):
        body = tok[1:] if tok[:1] in (b"+", b"-") else tok
        digits = body.replace(b".", b"", 1)
        assert good == (digits.isdigit() and len(digits) <= 15), tok
        if good:
            assert value.hex() == float(tok).hex(), tok


def test_word_digits_are_the_integer() -> None:
    tokens = [b"0", b"7", b"12345678", b"123456789", b"999999999999999", b"000123"]
    lo, hi, n = _words(tokens)
    got = caffe_scan.digits_value(lo, hi, n)
    assert got.tolist() == [float(t) for t in tokens]


def test_the_numpy_rolling_median_is_the_pandas_one() -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    for _ in range(2000):
        n = int(rng.integers(0, 40))
        window = int(rng.integers(0, 9))
        v = rng.normal(size=n) * 10.0 ** int(rng.integers(-3, 5))
        if n and rng.random() < 0.5:
            at = rng.integers(0, n, size=int(rng.integers(1, n + 1)))
            v[at] = rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0])
        want = (
            v.copy()
            if n == 0 or window <= 1
            else pd.Series(v).rolling(window, center=True, min_periods=1).median().to_numpy()
        )
        assert np.array_equal(rolling_median(v, window), want, equal_nan=True), (v, window)


def _plain_envelope(steps, values, epochs, limit):  # type: ignore[no-untyped-def]
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
    mask = np.zeros(n, dtype=bool)
    base = np.arange(0, whole, block)
    mask[base + low] = True
    mask[base + high] = True
    mask[whole:] = True
    keep = np.flatnonzero(mask)
    return steps[keep], values[keep], (epochs[keep] if epochs is not None else None)


def test_the_envelope_keeps_what_the_plain_envelope_keeps() -> None:
    rng = np.random.default_rng(1)
    for _ in range(1500):
        n, limit = int(rng.integers(1, 3000)), int(rng.integers(2, 200))
        v = rng.normal(size=n)
        r = rng.random()
        if r < 0.3:
            v[rng.integers(0, n, size=int(rng.integers(1, n + 1)))] = np.nan
        elif r < 0.5:
            v[rng.integers(0, n, size=int(rng.integers(1, n + 1)))] = rng.choice(
                [np.inf, -np.inf, np.nan]
            )
        elif r < 0.6:
            v[:] = np.nan
        elif r < 0.7:
            v = np.round(v)
        s, e = np.arange(n, dtype=float), rng.random(n)
        for got, want in zip(
            _envelope(s, v, e, limit), _plain_envelope(s, v, e, limit), strict=True
        ):
            assert np.array_equal(got, want, equal_nan=True), (n, limit)


def _power_envelope(steps, values, epochs):  # type: ignore[no-untyped-def]
    """The reduction of a whole series in one go: blocks of the smallest power of two that
    makes fewer than MAX_KEPT_POINTS // 2 whole blocks, the lowest and highest of each."""
    n = values.shape[0]
    size = 1
    while n // size >= read.MAX_KEPT_POINTS // 2:
        size *= 2
    whole = n // size * size
    grid = values[:whole].reshape(-1, size)
    nan = np.isnan(grid)
    low = np.where(nan, np.inf, grid).argmin(axis=1)
    high = np.where(
        nan.any(axis=1), nan.argmax(axis=1), np.where(nan, -np.inf, grid).argmax(axis=1)
    )
    mask = np.zeros(n, dtype=bool)
    base = np.arange(0, whole, size)
    mask[base + low] = True
    mask[base + high] = True
    mask[whole:] = True
    keep = np.flatnonzero(mask)
    return steps[keep], values[keep], epochs[keep]


@pytest.mark.parametrize("seed", range(4))
def test_a_long_series_reduced_as_it_streams_in_is_the_whole_series_reduced(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "MAX_KEPT_POINTS", 2000)
    monkeypatch.setattr(read, "HALF", 1000)
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2001, 40_000))
    values = rng.normal(size=n)
    values[rng.integers(0, n, size=n // 50)] = rng.choice([np.nan, np.inf, -np.inf, 5.0])
    if seed % 2:
        values[n // 3 :] = np.round(values[n // 3 :])  # ties
    steps = np.arange(n, dtype=np.float64) % 700  # the counter restarts every 700 readings
    steps[:3] = np.nan  # readings before the first step mark
    epochs = np.floor(np.arange(n) / 700.0)
    cuts = np.sort(rng.choice(np.arange(1, n), size=int(rng.integers(1, 60)), replace=False))
    batches = [
        Batch("loss", "train", s, v, e)
        for s, v, e in zip(
            np.split(steps, cuts), np.split(values, cuts), np.split(epochs, cuts), strict=True
        )
    ]
    (got,), notes = read.collect(batches, GenericReader())
    ok = ~np.isnan(steps)
    cum, restarted = read._cumulative_steps(steps[ok])
    want = _power_envelope(cum, values[ok], epochs[ok])
    assert got.readings == ok.sum() and restarted > 0
    assert np.array_equal(got.steps, want[0])
    assert np.array_equal(got.values, want[1], equal_nan=True)
    assert np.array_equal(got.epochs, want[2])
    assert notes == [
        f"loss: the step counter restarts {restarted} time(s) (once per epoch?); steps are counted on",
        "3 reading(s) before the first step mark dropped",
    ]


def test_a_series_of_single_readings_is_reduced_like_one_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assistant.triage.model import Reading

    monkeypatch.setattr(read, "MAX_KEPT_POINTS", 500)
    monkeypatch.setattr(read, "HALF", 250)
    rng = np.random.default_rng(9)
    values = rng.normal(size=5000)
    readings = [Reading("loss", "train", float(i), float(x), None) for i, x in enumerate(values)]
    (one,), _ = read.collect(readings, GenericReader())
    (two,), _ = read.collect([Batch("loss", "train", np.arange(5000.0), values)], GenericReader())
    assert np.array_equal(one.steps, two.steps) and np.array_equal(one.values, two.values)
    assert one.epochs is None and two.epochs is None and one.readings == two.readings == 5000


def test_a_log_whose_step_axis_changes_after_the_first_range_is_read_in_one_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = "".join(f"epoch {i // 50} loss: {1 / (i + 1):.5f}\n" for i in range(3000))
    then = "".join(f"epoch 60 iter {i} loss: {1 / (i + 2):.5f}\n" for i in range(3000))
    p = tmp_path / "train.log"
    p.write_text(first + then, encoding="utf-8")
    par, seq, ranges_read = _read_both(p, monkeypatch, piece=20_000, sub=5_000)
    assert ranges_read == [False]
    assert [(s.name, s.points, s.step_unit) for s in par.series] == [
        (s.name, s.points, s.step_unit) for s in seq.series
    ]
    assert np.array_equal(par.series[0].values, seq.series[0].values)
    assert par.notes == seq.notes
