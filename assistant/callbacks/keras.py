"""A Keras 3 callback that diagnoses the loss during ``model.fit``.

    from assistant.callbacks.keras import LossDoctorCallback

    doctor = LossDoctorCallback(stop_on=["nan-loss", "diverging"])
    model.fit(x, y, validation_split=0.2, epochs=50, callbacks=[doctor])
    print([f.symptom for f in doctor.watcher.findings])  # what was found, if anything

Each training batch's loss is fed to the incremental detectors at a global step counted
across epochs and ``fit`` calls (Keras logs the mean over the epoch so far; the callback
turns it back into the batch's own loss, see ``running_mean``); at each epoch end the other
training metrics (accuracy...) and the ``val_*`` metrics are fed at the current step and the
detectors run. A finding is logged at WARNING on the ``lossdoctor`` logger with its top fix;
a symptom in ``stop_on`` sets ``model.stop_training`` (the fit ends after that batch), one in
``raise_on`` raises :class:`~assistant.callbacks.core.LossDoctorAlarm` out of ``fit``.
It uses only the backend-neutral Keras 3 API; the tests run it on the torch backend
(``KERAS_BACKEND=torch``).
"""

from __future__ import annotations

import math
from typing import Any, Unpack

try:
    import keras
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError("assistant.callbacks.keras needs keras 3: pip install keras") from error
if int(keras.__version__.split(".")[0]) < 3:  # pragma: no cover - tf.keras 2
    raise ImportError(
        f"assistant.callbacks.keras needs keras 3 (found {keras.__version__}): pip install -U keras"
    )

from assistant.callbacks.core import LossDoctorAlarm, Watcher, WatcherOptions, as_float, logger
from assistant.triage.select import is_loss

__all__ = ["LossDoctorAlarm", "LossDoctorCallback"]


class LossDoctorCallback(keras.callbacks.Callback):  # type: ignore[misc]
    """Feeds Keras' logged metrics to lossdoctor's detectors (see the module docstring).

    Arguments are those of :class:`~assistant.callbacks.core.Watcher`, and ``running_mean``:
    whether the losses in the batch logs are means over the epoch so far (Keras' built-in
    ``train_step`` and its ``Mean`` trackers), to be turned back into each batch's loss.
    None (the default) says True for the built-in ``train_step`` and False for a model that
    overrides it. ``watcher`` holds the findings and the monitor
    (``watcher.monitor.result()`` is the full diagnosis).
    """

    def __init__(
        self, *, running_mean: bool | None = None, **options: Unpack[WatcherOptions]
    ) -> None:
        super().__init__()
        self.watcher = Watcher(source="<keras>", **options)
        self.running_mean = running_mean
        self.step = 0
        """Training batches seen, across epochs and ``fit`` calls."""
        self.epoch = 0
        """The current epoch, counted from 1 as Keras prints it."""
        metric = options.get("metric")
        self._metric = metric.lower() if metric else None
        self._is_loss: dict[str, bool] = {}
        self._means: dict[str, tuple[int, float]] = {}  # name -> (batches, mean) this epoch

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.running_mean is None:
            self.running_mean = type(self.model).train_step is keras.Model.train_step

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch + 1
        self._means.clear()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.step += 1
        if not logs:
            return
        found = False
        for name, value in logs.items():
            if not self._watched(name):
                continue  # accuracies and the like: their epoch values, at the epoch end
            if self.running_mean:
                value = self._batch_value(name, value, batch + 1)
                if value is None:
                    continue
            if self.watcher.add(name, value, self.step, "train", self.epoch):
                found = True
        if found:
            self._maybe_stop()

    def _watched(self, name: str) -> bool:
        """Whether a metric is fed every batch: a loss, or the ``metric`` asked for."""
        watched = self._is_loss.get(name)
        if watched is None:
            watched = self._is_loss[name] = is_loss(name) or name.lower() == self._metric
        return watched

    def _batch_value(self, name: str, value: Any, batches: int) -> float | None:
        """The loss of the batches since the last call, from the mean over the epoch so far.

        Keras weighs each batch by its size: the result is exact for equal batches and, for a
        short last batch, lies between the batch's loss and the epoch's mean. Keras keeps the
        mean in float32, so the result is off by about ``batches * 6e-8`` of the loss (6e-4
        of it at the 10,000th batch of an epoch).
        """
        try:
            mean = as_float(value)
        except (TypeError, ValueError, RuntimeError):
            return None
        before, before_mean = self._means.get(name, (0, 0.0))
        self._means[name] = (batches, mean)
        if batches <= before or not math.isfinite(before_mean):
            return mean
        return (batches * mean - before * before_mean) / (batches - before)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for name, value in (logs or {}).items():
            if name.startswith("val_"):
                self.watcher.add(name, value, self.step, "val", epoch + 1)
            elif not self._watched(name):  # the batches gave the losses already
                self.watcher.add(name, value, self.step, "train", epoch + 1)
        self.watcher.check()
        self._maybe_stop()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.watcher.check()

    def _maybe_stop(self) -> None:
        if self.watcher.should_stop and not self.model.stop_training:
            logger.warning("%s", self.watcher.stop_message("model.fit"))
            self.model.stop_training = True
