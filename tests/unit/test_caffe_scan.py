"""The vectorised Caffe scan (readers/caffe_scan.py) gives the same series as the
line-by-line parser, on a generated log of a few MB with every NaN / inf spelling, numbers
the bulk conversion cannot take, odd and short lines; and so does the parallel reader."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from assistant.triage.read import read_log
from assistant.triage.readers import caffe
from assistant.triage.readers.caffe import Piece, _exact, combine, parse_piece, sub_chunks

VALUES = [
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1.#QNAN",
    "-1.#IND",
    "1.#INF",
    "1e+05",
    "1.5E-3",
    "0",
    "-0",
    "12345678901234567",
    "3.",
    ".5",
    "+2.5",
    "7e-30",
    "1e400",
    "0.1 (avg)",
    "0.25 ",
    "9.999999999999999e22",
    "1.2.3",
    "-",
    "4e",
]
NOISE = [
    "I0525 14:53:40.1 28821 blocking_queue.cpp:49] Waiting for data",
    "",
    "x",
    "#",
    "I",
    "W0525 14:53:40.1 28821 net.cpp:112] Ignoring source layer drop6 (#3)",
    "I0525 14:53:40.1 28835 data_layer.cpp:73] Restarting data prefetching from start.",
]


def _value(rnd: random.Random) -> str:
    if rnd.random() < 0.08:
        return rnd.choice(VALUES)
    return rnd.choice(["%g", "%.6g", "%.17g", "%.3e"]) % (rnd.random() * 10 ** rnd.randint(-6, 4))


def _log(seed: int, blocks: int, odd: bool) -> bytes:
    rnd = random.Random(seed)
    out = ["Log file created at: 2017/05/25 14:53:40"]
    t = "I0525 14:53:40.123456 28821"
    for b in range(blocks):
        i = b * 20
        if b % 50 == 0:
            out.append(f"{t} solver.cpp:330] Iteration {i}, Testing net (#0)")
            out.append(f"{t} solver.cpp:397]     Test net output #0: accuracy = {_value(rnd)}")
            out.append(
                f"{t} solver.cpp:397]     Test net output #1: loss = {_value(rnd)} (* 1 = 1 loss)"
            )
            if b % 100 == 0:
                out.append(f"{t} solver.cpp:397]     Test score #2: {_value(rnd)}")
        if rnd.random() < 0.1:
            out.append(f"{t} solver.cpp:219] Iteration {i}, loss = {_value(rnd)}")
        else:
            out.append(
                f"{t} solver.cpp:219] Iteration {i} ({rnd.random():.5g} iter/s, 12.5s/20 iters), "
                f"loss = {_value(rnd)}"
            )
        out.append(f"{t} solver.cpp:238]     Train net output #0: accuracy = {_value(rnd)}")
        out.append(
            f"{t} solver.cpp:238]     Train net output #1: loss_bbox = {_value(rnd)} (* 1 = 0.5 loss)"
        )
        out.append(
            f"{t} solver.cpp:238]     Train net output #2: ## loss = {_value(rnd)} (* 1 = 0.5 loss)"
        )
        out.append(
            f"{t} sgd_solver.cpp:105] Iteration {i}, lr = {0.01 if b < blocks // 2 else _value(rnd)}"
        )
        if rnd.random() < 0.2:
            out.append(rnd.choice(NOISE))
        if odd and rnd.random() < 0.002:  # lines the scan does not take: that piece falls back
            out.append(
                rnd.choice(
                    [
                        f"{t} x.cpp:1] Iteration {i} done",
                        f"Iteration {i}, loss_x = 1",
                        f"{t} solver.cpp:238]     Train net output #0: my acc = 1",
                    ]
                )
            )
    return ("\n".join(out) + "\n").encode()


def _flat(p: Piece) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    return {
        k: (np.concatenate([s for s, _ in v]), np.concatenate([x for _, x in v]))
        for k, v in p.cols.items()
    }


def _same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert np.array_equal(a[k][0], b[k][0], equal_nan=True), k
        # bitwise: -0.0 stays -0.0, every value exactly as float() reads it
        assert np.array_equal(
            np.nan_to_num(a[k][1], nan=7.5).view(np.int64),
            np.nan_to_num(b[k][1], nan=7.5).view(np.int64),
        ), k


@pytest.mark.parametrize("odd", [False, True])
def test_scan_matches_line_by_line(odd: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _log(1 if odd else 2, 6000, odd)  # ~2.3 MB
    taken: list[bool] = []
    real = caffe.scan

    def counting(*args, **kw):  # type: ignore[no-untyped-def]
        got = real(*args, **kw)
        taken.append(got is not None)
        return got

    monkeypatch.setattr(caffe, "scan", counting)
    fast = combine(parse_piece(c) for c in sub_chunks(data, 64 * 1024))
    exact = Piece()
    _exact(data, exact)
    _same(_flat(fast), _flat(exact))
    assert sum(taken) >= len(taken) // 2 and (any(taken) if odd else all(taken))
    assert fast.last_iter == exact.last_iter and fast.last_test_iter == exact.last_test_iter


def test_scan_parallel_reader_matches_sequential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.triage import read

    p = tmp_path / "caffe.log"
    p.write_bytes(b"\xef\xbb\xbf" + _log(3, 3000, True))
    seq = read_log(str(p))
    monkeypatch.setattr(read, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(read, "PIECE_BYTES", 200_000)
    monkeypatch.setattr(read, "SUB_BYTES", 30_000)
    par = read_log(str(p))
    assert [(s.name, s.split) for s in seq.series] == [(s.name, s.split) for s in par.series]
    for a, b in zip(seq.series, par.series, strict=True):
        assert np.array_equal(a.steps, b.steps), a.name
        assert np.array_equal(a.values, b.values, equal_nan=True), a.name
    assert {"loss", "lr", "accuracy", "loss_bbox", "output_loss"} <= {s.name for s in par.series}
