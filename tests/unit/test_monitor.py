"""The incremental monitor (``assistant.triage.monitor``): fed a real log one reading at a time,
in the order a running job writes it, it ends with the batch diagnosis, raises no alarm on a
healthy run, reports what one reading proves on that reading, and keeps its work per reading
bounded however long the run gets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assistant.triage.model import LogData
from assistant.triage.monitor import CAPACITY, INSTANT, Monitor
from assistant.triage.read import _cumulative_steps, read_log
from tests.unit.test_triage_fixtures import DATA, _rows

FIXTURES = _rows("sample") + _rows("generated")


def _replay(log: LogData) -> list[tuple[float, str, str, float, float | None]]:
    """Every reading of a log in the order a job writes it: by step, training before
    validation at the same step."""
    items = []
    for s in log.series:
        epochs = s.epochs if s.epochs is not None else np.full(s.points, np.nan)
        for x, v, e in zip(s.steps, s.values, epochs, strict=True):
            items.append((float(x), s.split != "train", s.name, s.split, float(v), e))
    items.sort(key=lambda t: (t[0], t[1]))
    return [(x, n, sp, v, None if math.isnan(e) else float(e)) for x, _, n, sp, v, e in items]


def _stream(rel: str) -> tuple[Monitor, list[tuple[float, str]]]:
    log = read_log(str(DATA / rel))
    monitor = Monitor(path=rel, format=log.format, step_unit=log.series[0].step_unit)
    alerts: list[tuple[float, str]] = []
    for step, name, split, value, epoch in _replay(log):
        alerts += [
            (step, f.symptom) for f in monitor.add(name, value, step, split=split, epoch=epoch)
        ]  # type: ignore[arg-type]
    alerts += [(math.inf, f.symptom) for f in monitor.check()]
    return monitor, alerts


@pytest.mark.parametrize(("rel", "symptom"), [pytest.param(*r, id=r[0]) for r in FIXTURES])
def test_streamed_fixture_ends_with_the_batch_diagnosis(rel: str, symptom: str) -> None:
    monitor, alerts = _stream(rel)
    assert monitor.result().primary == symptom
    reported = {s for _, s in alerts}
    if symptom == "still-learning":
        assert not reported, f"false alarm on a healthy run: {alerts}"
    if symptom in INSTANT:
        assert symptom in reported, alerts
    assert len(reported) == len(alerts), "a symptom was reported twice"


def test_nan_is_reported_by_the_reading_that_shows_it() -> None:
    monitor = Monitor()
    for step, value in enumerate([2.30, 2.10, 1.95, 1.90]):
        assert monitor.add("loss", value, step) == []
    found = monitor.add("loss", float("nan"), 4)
    assert [f.symptom for f in found] == ["nan-loss"]
    assert found[0].start_step == 4


def test_entering_the_clamp_is_reported_at_once() -> None:
    monitor = Monitor()
    for step in range(0, 600, 20):
        assert monitor.add("loss", 2.3 * math.exp(-step / 150) + 0.2, step) == []
    found = monitor.add("loss", 87.3365, 600)
    assert [f.symptom for f in found] == ["stuck-87-3365"]


def test_the_start_of_a_healthy_run_is_not_an_alarm() -> None:
    """Every run starts near ln C and looks flat for a few readings: no alarm for that."""
    monitor = Monitor()
    rng = np.random.default_rng(0)
    alerts = []
    for step in range(3000):
        loss = 2.3026 / (1 + step / 40) ** 0.5 + rng.normal(0, 0.01)
        alerts += monitor.add("loss", loss, step)
        if step % 300 == 299:
            alerts += monitor.add("val_loss", 2.3026 / (1 + step / 40) ** 0.5 + 0.05, step)
    alerts += monitor.check()
    assert alerts == []
    assert monitor.result().primary == "still-learning"


def test_work_per_reading_does_not_grow_with_the_run() -> None:
    """The series kept is bounded, and the detectors run a bounded number of times per reading:
    ten times the readings cost at most ten times the detector runs."""
    rng = np.random.default_rng(1)

    def run(n: int) -> Monitor:
        monitor = Monitor()
        for step in range(n):
            monitor.add("loss", 1.0 / (1 + step / 1000) + rng.normal(0, 0.01), step)
            assert monitor._tracks[("loss", "train")].n <= CAPACITY
        return monitor

    short, long = run(20_000), run(200_000)
    assert long.readings == 200_000
    assert long.result().loss is not None and long.result().loss.total == 200_000
    assert long.checks <= 10 * short.checks + 10
    assert long.checks <= 200_000 / (CAPACITY / 8)


def test_a_restarting_step_counter_is_counted_on() -> None:
    monitor = Monitor()
    for epoch in range(3):
        for step in range(0, 100, 10):
            monitor.add("loss", 1.0 - epoch * 0.1 - step / 1000, step)
    steps = monitor.result().loss.steps  # type: ignore[union-attr]
    raw = np.concatenate([np.arange(0, 100, 10.0)] * 3)
    assert steps.tolist() == _cumulative_steps(raw)[0].tolist()
    assert steps[-1] == 270
