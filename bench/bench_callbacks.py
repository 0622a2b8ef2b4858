"""Benchmark of the training callbacks (``assistant.callbacks``): what the per-batch hook costs
against a real training step of the same framework.

For each framework (Keras 3 on torch, PyTorch Lightning, the Hugging Face Trainer):

- step: the median wall time of one training step of a small real model, timed inside the
  framework's own loop (between consecutive end-of-batch hooks of a timing callback, the
  first 20 steps dropped), on CPU with one torch thread. ``--model mlp`` (the default, the
  worst case: a step as short as real training gets): an MLP 784-256-10 (ReLU,
  cross-entropy, SGD) on batches of 64 synthetic MNIST-sized inputs. ``--model cnn``: two
  3x3 convolutions (16 and 32 channels, ReLU, 2x2 max-pooling) and a linear layer on
  batches of 64 synthetic CIFAR-sized 32x32x3 images;
- hook: the callback's per-batch hook (Keras ``on_train_batch_end`` with the logs Keras
  passes, Lightning ``on_train_batch_end`` with ``outputs={"loss": tensor}``, the Trainer's
  ``on_log`` as with ``logging_steps=1``) called ``--calls`` times on a healthy, noisy,
  decreasing loss: the median cost of a call in which the detectors do not run, and the
  amortised cost (all calls, detector runs included, divided by the number of calls);
- the ratio of each to the step (target: under 1 %).

Each figure is the median of ``--runs`` runs, measured in the same process.

    python bench/bench_callbacks.py --runs 5
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET = 0.01
"""The hook should cost less than this fraction of a training step."""
MODELS = {
    "mlp": "MLP 784-256-10, batch 64",
    "cnn": "CNN conv3x3(16)-pool-conv3x3(32)-pool-linear(10) on 32x32x3, batch 64",
}
WARMUP_STEPS = 20


def _losses(n: int, seed: int = 0) -> list[float]:
    """A healthy training loss: decreasing as a power law, with batch noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    steps = np.arange(1, n + 1)
    return (2.3 / np.sqrt(1 + steps / 50) * (1 + rng.normal(0, 0.05, n))).tolist()


def _time_hook(
    calls: int,
    prepare: Callable[[int, float], tuple[Any, ...]],
    hook: Callable[..., None],
    watcher: Any,
) -> tuple[float, float]:
    """(median µs of a call without a detector run, amortised µs per call).

    ``prepare(step, loss)`` builds the hook's arguments as the framework would (not timed).
    """
    plain: list[int] = []
    total = 0
    for i, loss in enumerate(_losses(calls), start=1):
        args = prepare(i, loss)
        checks = watcher.monitor.checks
        start = time.perf_counter_ns()
        hook(*args)
        spent = time.perf_counter_ns() - start
        total += spent
        if watcher.monitor.checks == checks:
            plain.append(spent)
    return statistics.median(plain) / 1e3, total / calls / 1e3


def _step_ms(stamps: list[float]) -> float:
    gaps = [b - a for a, b in zip(stamps[WARMUP_STEPS:], stamps[WARMUP_STEPS + 1 :], strict=False)]
    return statistics.median(gaps) * 1e3


def _data(model: str, n: int, channels_last: bool = False) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    if model == "mlp":
        shape: tuple[int, ...] = (n, 784)
    else:
        shape = (n, 32, 32, 3) if channels_last else (n, 3, 32, 32)
    return rng.normal(size=shape).astype("float32"), rng.integers(0, 10, n)


def _torch_net(model: str) -> Any:
    from torch import nn

    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(3, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 6 * 6, 10),
    )  # fmt: skip


def _keras_net(keras: Any, model: str) -> Any:
    layers = keras.layers
    if model == "mlp":
        return keras.Sequential(
            [keras.Input((784,)), layers.Dense(256, activation="relu"), layers.Dense(10)]
        )
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
            layers.Flatten(), layers.Dense(10),
        ]
    )  # fmt: skip


# ------------------------------------------------------------------------------- Keras


def bench_keras(model_name: str, steps: int, calls: int) -> tuple[float, float, float]:
    import keras

    from assistant.callbacks.keras import LossDoctorCallback

    stamps: list[float] = []

    class Stamp(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            stamps.append(time.perf_counter())

    keras.utils.set_random_seed(0)
    model = _keras_net(keras, model_name)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x, y = _data(model_name, 64 * steps, channels_last=True)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[Stamp()])
    step = _step_ms(stamps)

    doctor = LossDoctorCallback()
    doctor.set_model(model)
    doctor.on_train_begin()
    doctor.on_epoch_begin(0)
    per_epoch = 1000
    running = {"n": 0, "sum": 0.0}

    def prepare(i: int, loss: float) -> tuple[Any, ...]:
        # the logs Keras passes: the epoch's running means, as Python floats
        batch = (i - 1) % per_epoch
        if batch == 0:
            running["n"], running["sum"] = 0, 0.0
            doctor.on_epoch_begin(i // per_epoch)
        running["n"] += 1
        running["sum"] += loss
        return batch, {"accuracy": 0.5, "loss": running["sum"] / running["n"]}

    plain, amortised = _time_hook(calls, prepare, doctor.on_train_batch_end, doctor.watcher)
    return step, plain, amortised


# --------------------------------------------------------------------------- Lightning


def bench_lightning(model_name: str, steps: int, calls: int) -> tuple[float, float, float]:
    import lightning.pytorch as pl
    import torch
    from torch import nn

    from assistant.callbacks.lightning import LossDoctorCallback

    stamps: list[float] = []

    class Stamp(pl.Callback):  # type: ignore[misc]
        def on_train_batch_end(self, *args: Any) -> None:
            stamps.append(time.perf_counter())

    class Classifier(pl.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.net = _torch_net(model_name)

        def training_step(self, batch: Any, index: int) -> Any:
            x, y = batch
            return nn.functional.cross_entropy(self.net(x), y)

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    x, y = _data(model_name, 64 * steps)
    data = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            accelerator="cpu", devices=1, max_epochs=1, logger=False,
            enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
            default_root_dir=tmp, callbacks=[Stamp()],
        )  # fmt: skip
        module = Classifier()
        trainer.fit(module, torch.utils.data.DataLoader(data, batch_size=64))
    step = _step_ms(stamps)

    doctor = LossDoctorCallback()

    progress = trainer.fit_loop.epoch_loop.automatic_optimization.optim_progress

    def prepare(i: int, loss: float) -> tuple[Any, ...]:
        progress.optimizer.step.total.completed = i  # what trainer.global_step reads
        outputs = {"loss": torch.tensor(loss)}  # training_step's loss, as Lightning hands it
        return trainer, module, outputs, None, i

    plain, amortised = _time_hook(calls, prepare, doctor.on_train_batch_end, doctor.watcher)
    return step, plain, amortised


# ------------------------------------------------------------------------ transformers


def bench_transformers(model_name: str, steps: int, calls: int) -> tuple[float, float, float]:
    import torch
    import transformers
    from torch import nn

    from assistant.callbacks.transformers import LossDoctorCallback

    stamps: list[float] = []

    class Stamp(transformers.TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, *args: Any, **kwargs: Any) -> None:
            stamps.append(time.perf_counter())

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = _torch_net(model_name)

        def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
            logits = self.net(x)
            return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}

    x, y = _data(model_name, 64 * steps)
    data = [{"x": torch.from_numpy(x[i]), "labels": torch.tensor(y[i])} for i in range(len(y))]
    with tempfile.TemporaryDirectory() as tmp:
        args = transformers.TrainingArguments(
            output_dir=tmp, use_cpu=True, report_to=[], disable_tqdm=True, logging_steps=1,
            save_strategy="no", optim="sgd", learning_rate=0.01, num_train_epochs=1,
            per_device_train_batch_size=64, lr_scheduler_type="constant",
        )  # fmt: skip
        trainer = transformers.Trainer(
            model=Classifier(), args=args, train_dataset=data, callbacks=[Stamp()]
        )
        trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # no log lines
        trainer.train()
    step = _step_ms(stamps)

    doctor = LossDoctorCallback()
    state = transformers.TrainerState()
    control = transformers.TrainerControl()

    def prepare(i: int, loss: float) -> tuple[Any, ...]:
        state.global_step = i
        state.epoch = i / 1000
        logs = {"loss": round(loss, 4), "grad_norm": 0.8, "learning_rate": 0.01, "epoch": state.epoch}  # fmt: skip
        return args, state, control, logs

    plain, amortised = _time_hook(calls, prepare, doctor.on_log, doctor.watcher)
    return step, plain, amortised


BENCHES: dict[str, Callable[[str, int, int], tuple[float, float, float]]] = {
    "keras": bench_keras,
    "lightning": bench_lightning,
    "transformers": bench_transformers,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per framework (median)")
    parser.add_argument("--steps", type=int, default=200, help="training steps timed per run")
    parser.add_argument("--calls", type=int, default=20_000, help="hook calls timed per run")
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp", help="what a step trains")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append", help="one framework")
    options = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    import warnings

    warnings.filterwarnings("ignore")

    print(f"model: {MODELS[options.model]}, SGD, CPU, 1 torch thread; {options.steps} steps, {options.calls:,} hook calls, "
          f"median of {options.runs} runs; load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"{'framework':<13} {'step ms':>8} {'hook µs':>8} {'ratio':>8} {'amortised µs':>13} {'ratio':>8}")  # fmt: skip
    worst = 0.0
    for name in options.only or list(BENCHES):
        results = [
            BENCHES[name](options.model, options.steps, options.calls) for _ in range(options.runs)
        ]
        step = statistics.median(r[0] for r in results)
        plain = statistics.median(r[1] for r in results)
        amortised = statistics.median(r[2] for r in results)
        ratio, ratio_all = plain / 1e3 / step, amortised / 1e3 / step
        worst = max(worst, ratio_all)
        print(
            f"{name:<13} {step:8.3f} {plain:8.1f} {ratio:8.3%} {amortised:13.1f} {ratio_all:8.3%}"
        )
    verdict = "negligible" if worst < TARGET else "NOT negligible"
    print(f"worst amortised ratio {worst:.3%} (target < {TARGET:.0%}): {verdict}")
    if math.isnan(worst):
        sys.exit(1)


if __name__ == "__main__":
    main()
