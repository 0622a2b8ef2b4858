"""Logs as people paste them: restarting step counters, missing headers, tutorial and GAN formats."""

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
    lines = [
        f"Epoch [{e}/3], Step [{s}/300], Loss: {2.0 / (e * s):.4f}"
        for e in (1, 2, 3)
        for s in (100, 200, 300)
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loss = next(s for s in read_log(str(log)).series if s.name == "loss")
    assert np.all(np.diff(loss.steps) > 0)
    assert loss.steps[-1] == 900


def test_keras_verbose_2_lines_pasted_without_epoch_headers_are_separate_epochs(
    tmp_path: Path,
) -> None:
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


def test_the_pytorch_examples_mnist_output_is_read_with_fractional_epochs(tmp_path: Path) -> None:
    log = tmp_path / "mnist.log"
    log.write_text(
        "Train Epoch: 1 [0/60000 (0%)]\tLoss: 2.305119\n"
        "Train Epoch: 1 [30000/60000 (50%)]\tLoss: 0.405119\n"
        "\nTest set: Average loss: 0.2012, Accuracy: 9411/10000 (94%)\n\n"
        "Train Epoch: 2 [0/60000 (0%)]\tLoss: 0.305119\n",
        encoding="utf-8",
    )
    data = read_log(str(log))
    series = {(s.name, s.split): s for s in data.series}
    assert data.format == "pytorch-examples"
    assert series[("loss", "train")].steps.tolist() == [0.0, 0.5, 1.0]
    assert series[("test_loss", "test")].values.tolist() == [0.2012]
    assert series[("test_accuracy", "test")].values.tolist() == [0.9411]


def test_a_gan_log_is_judged_by_its_discriminator_not_by_the_sum_of_both_players(
    tmp_path: Path,
) -> None:
    from assistant.triage.detect import diagnose

    d_losses = [0.6931, 0.05, 0.004, 0.0003, 0.00002, 0.00001, 0.00001, 0.000008, 0.000006]
    log = tmp_path / "gan.log"
    log.write_text(
        "".join(
            f"[Epoch 1/10] [Batch {i * 100}/938] [D loss: {d}] [G loss: {0.7 + i * 1.5:.3f}]\n"
            for i, d in enumerate(d_losses)
        ),
        encoding="utf-8",
    )
    result = diagnose(read_log(str(log)))
    assert result.loss is not None and result.loss.name == "d_loss"
    assert result.primary == "zero-loss"
