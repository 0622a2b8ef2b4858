"""Large plain logs read in parallel: worker results handed over through shared memory, the
long series reduced as they stream in, must give bit for bit what one sequential read gives,
and leave no shared memory or descriptor behind."""

from __future__ import annotations

import gc
import math
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.triage import read
from assistant.triage.model import LogData, TriageInputError
from assistant.triage.read import read_log
from assistant.triage.readers.generic import GenericReader

pytestmark = pytest.mark.skipif(not read._can_fork(), reason="the parallel read needs fork")


def _value(rng: random.Random, i: int) -> str:
    if rng.random() < 0.003:
        return rng.choice(["nan", "inf", "-inf"])
    return f"{2.5 * 0.9999**i + rng.random() * 0.1:.4f}"


def _iteration_log(rng: random.Random, lines: int) -> str:
    """Readings before the first step mark, the iteration restarting every epoch, three
    metrics on one line (one array of steps), a metric of its own, nan and inf readings."""
    out = [f"loss: {rng.random():.3f}" for _ in range(7)]  # no step yet: dropped
    epoch, it = 1, 0
    for i in range(lines):
        if rng.random() < 0.002:
            out.append("  warnings.warn('lr_scheduler.step() before optimizer.step()')")
        out.append(
            f"Epoch {epoch} | iter {it}/500 | loss: {_value(rng, i)} | "
            f"acc: {rng.random():.4f} | lr: {0.01 / epoch:.6f}"
        )
        it += 10
        if it >= 500:
            out.append(f"Epoch {epoch} val_loss: {_value(rng, i)} val_acc: {rng.random():.3f}")
            epoch, it = epoch + 1, 0
    return "\n".join(out) + "\n"


def _epoch_log(rng: random.Random, lines: int) -> str:
    """Steps are epochs (no iteration anywhere), each epoch many readings."""
    out = [f"loss {rng.random():.3f}" for _ in range(3)]
    return (
        "\n".join(
            out
            + [
                f"epoch {1 + i // 40} loss {_value(rng, i)} acc {rng.random():.3f}"
                for i in range(lines)
            ]
        )
        + "\n"
    )


def _count_log(rng: random.Random, lines: int) -> str:
    """No step or epoch at all: the steps are reading numbers, counted across the ranges."""
    return (
        "\n".join(f"loss: {_value(rng, i)} - acc: {rng.random():.3f}" for i in range(lines)) + "\n"
    )


LOGS = {"iteration": _iteration_log, "epoch": _epoch_log, "count": _count_log}


def _same(a: LogData, b: LogData) -> None:
    assert (a.format, a.notes) == (b.format, b.notes)
    assert [(s.name, s.split) for s in a.series] == [(s.name, s.split) for s in b.series]
    for x, y in zip(a.series, b.series, strict=True):
        assert (x.step_unit, x.readings) == (y.step_unit, y.readings), x.name
        assert x.steps.tobytes() == y.steps.tobytes(), x.name
        assert x.values.tobytes() == y.values.tobytes(), x.name
        assert (x.epochs is None) == (y.epochs is None), x.name
        if x.epochs is not None and y.epochs is not None:
            assert x.epochs.tobytes() == y.epochs.tobytes(), x.name


def _small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Long series from a small file: reduced, with many joins of block pairs."""
    monkeypatch.setattr(read, "MAX_KEPT_POINTS", 2000)
    monkeypatch.setattr(read, "HALF", 1000)


def _sequential(path: Path) -> LogData:
    with pytest.MonkeyPatch.context() as m:
        m.setattr(read, "PARALLEL_MIN_BYTES", 1 << 62)
        return read_log(str(path))


def _parallel(path: Path, monkeypatch: pytest.MonkeyPatch, piece: int) -> LogData:
    monkeypatch.setattr(read, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(read, "PIECE_BYTES", piece)
    monkeypatch.setattr(GenericReader, "SUB_BYTES", 5000)  # several parts per range
    return read_log(str(path))


@pytest.mark.parametrize(("kind", "piece"), [(k, p) for k in LOGS for p in (9000, 70_000)])
def test_a_log_read_in_ranges_by_workers_is_the_sequential_read(
    kind: str, piece: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_limits(monkeypatch)
    path = tmp_path / "train.log"
    path.write_text(LOGS[kind](random.Random(kind), 24_000))
    want = _sequential(path)
    got = _parallel(path, monkeypatch, piece)
    _same(got, want)
    loss = next(s for s in got.series if s.name == "loss")
    assert loss.readings == 24_000  # reduced as it streamed in; none before a step mark
    assert np.isnan(loss.values).any() and np.isinf(loss.values).any()
    if kind == "iteration":
        assert any("restarts" in n for n in got.notes)


def test_a_short_log_read_in_ranges_keeps_every_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No series long enough to be reduced: the raw readings of every range are kept (copies:
    the ranges' shared memory goes when the range is read)."""
    path = tmp_path / "train.log"
    path.write_text(_iteration_log(random.Random(5), 3000))
    want = _sequential(path)
    got = _parallel(path, monkeypatch, 4000)
    _same(got, want)
    assert all(s.readings is None for s in got.series)
    assert sum(len(s.values) for s in got.series) > 9000


def test_results_pickled_through_the_pipe_where_there_is_no_memfd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_limits(monkeypatch)
    path = tmp_path / "train.log"
    path.write_text(_iteration_log(random.Random(8), 12_000))
    want = _sequential(path)
    monkeypatch.delattr(os, "memfd_create")
    _same(_parallel(path, monkeypatch, 9000), want)


def _shared_memory_left() -> list[str]:
    """This process's mappings and descriptors of the workers' shared memory."""
    gc.collect()
    maps = Path("/proc/self/maps").read_text().splitlines()
    left = [m for m in maps if "lossdoctor-result" in m]
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if "lossdoctor-result" in target:
            left.append(target)
    return left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memfds are Linux's")
def test_no_shared_memory_is_left_after_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "train.log"
    path.write_text(_iteration_log(random.Random(3), 12_000))
    log = _parallel(path, monkeypatch, 9000)
    assert log.series and not _shared_memory_left()


_GENERIC_RANGE = read._generic_range


def _fails_in_the_fourth_range(args: tuple[str, int, int, list[object]]) -> object:
    if args[1] >= 3 * read.PIECE_BYTES:
        raise ValueError("a reader bug")
    return _GENERIC_RANGE(args)  # type: ignore[arg-type]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memfds are Linux's")
def test_a_worker_error_is_an_input_error_and_leaves_no_shared_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "train.log"
    path.write_text(_iteration_log(random.Random(4), 12_000))
    monkeypatch.setattr(read, "_generic_range", _fails_in_the_fourth_range)
    with pytest.raises(TriageInputError, match="a reader bug"):
        _parallel(path, monkeypatch, 9000)
    assert not _shared_memory_left()


def test_steps_shared_by_several_series_are_cut_once_per_state() -> None:
    """The metrics of one line share their array of steps: its restarts and offsets are
    found once for all the series in the same state, and again for one in another."""
    memo = read._StepsMemo()
    steps = np.array([5.0, 10.0, 0.0, 5.0, 10.0])
    first = memo.cut(steps, -math.inf, 0.0, -math.inf)
    assert memo.cut(steps, -math.inf, 0.0, -math.inf) is first
    assert first.resets == 1 and first.after == (10.0, 10.0, 10.0)
    other = memo.cut(steps, 20.0, 100.0, 20.0)  # a series whose steps went on to 20 before
    assert other is not first and other.resets == 2
    del steps
    gc.collect()
    assert not memo.done  # an entry goes with its array
