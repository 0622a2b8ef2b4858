"""A step counter that restarts every epoch becomes one increasing axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.triage.read import _cumulative_steps, read_log


def test_restarting_steps_are_counted_on() -> None:
    steps, restarts = _cumulative_steps(np.array([100.0, 200, 300, 100, 200, 300, 100]))
    assert restarts == 2
    assert steps.tolist() == [100, 200, 300, 400, 500, 600, 700]


def test_increasing_steps_are_left_alone() -> None:
    original = np.array([1.0, 2, 3, 4])
    steps, restarts = _cumulative_steps(original)
    assert restarts == 0 and steps is original


def test_a_tutorial_style_log_gets_a_global_step_axis(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    lines = [f"Epoch [{e}/3], Step [{s}/300], Loss: {2.0 / (e * s):.4f}" for e in (1, 2, 3) for s in (100, 200, 300)]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loss = next(s for s in read_log(str(log)).series if s.name == "loss")
    assert np.all(np.diff(loss.steps) > 0)
    assert loss.steps[-1] == 900
