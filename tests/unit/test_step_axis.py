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


def test_keras_verbose_2_lines_pasted_without_epoch_headers_are_separate_epochs(tmp_path: Path) -> None:
    log = tmp_path / "pasted.log"
    log.write_text(
        "469/469 - 3s - loss: 0.3025 - accuracy: 0.9123 - val_loss: 0.1500 - val_accuracy: 0.9550\n"
        "469/469 - 2s - loss: 0.1425 - accuracy: 0.9580 - val_loss: 0.1100 - val_accuracy: 0.9660\n"
        "469/469 - 2s - loss: 0.1025 - accuracy: 0.9690 - val_loss: 0.0950 - val_accuracy: 0.9710\n",
        encoding="utf-8",
    )
    data = read_log(str(log))
    loss = next(s for s in data.series if s.name == "loss")
    assert data.format == "keras-stdout-v2"
    assert loss.steps.tolist() == [1.0, 2.0, 3.0]
    assert loss.values.tolist() == [0.3025, 0.1425, 0.1025]
