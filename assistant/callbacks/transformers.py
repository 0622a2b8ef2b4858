"""A Hugging Face ``Trainer`` callback that diagnoses the loss during ``trainer.train()``.

    from assistant.callbacks.transformers import LossDoctorCallback

    doctor = LossDoctorCallback(stop_on=["nan-loss", "diverging"])
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val,
                      callbacks=[doctor])
    trainer.train()
    print([f.symptom for f in doctor.watcher.findings])  # what was found, if anything

Each time the Trainer logs (every ``logging_steps``), ``loss`` and ``learning_rate`` are fed
as training values and ``eval_loss`` (and the other ``eval_*`` metrics) as validation values,
at ``state.global_step`` and epoch ``state.epoch``; after an evaluation and at each epoch end
the detectors run. A finding is logged at WARNING on the ``lossdoctor`` logger with its top
fix; a symptom in ``stop_on`` sets ``control.should_training_stop`` (training ends after that
step), one in ``raise_on`` raises :class:`~assistant.callbacks.core.LossDoctorAlarm` out of
``train()``.

The Trainer hides nan and inf losses by default (``logging_nan_inf_filter=True`` logs the
average of the other steps in their place, 0 when ``logging_steps=1``), so a nan shows as a
loss frozen at its last value or as ``zero-loss``; the callback says so once when training
starts. Set ``logging_nan_inf_filter=False`` in ``TrainingArguments`` for ``nan-loss`` to be
named.
A small ``logging_steps`` (the default is 500) gives the detectors more to go on.
"""

from __future__ import annotations

from typing import Any, Unpack

try:
    from transformers import TrainerCallback
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "assistant.callbacks.transformers needs transformers: pip install transformers"
    ) from error

from assistant.callbacks.core import LossDoctorAlarm, Watcher, WatcherOptions, logger

__all__ = ["LossDoctorAlarm", "LossDoctorCallback"]

SKIPPED = frozenset({"epoch", "step", "total_flos"})
"""Logged numbers that are not metrics."""
_SKIPPED_PARTS = ("runtime", "per_second")
"""Throughput and timing entries of the logs (``eval_runtime``, ``eval_samples_per_second``)."""


class LossDoctorCallback(TrainerCallback):  # type: ignore[misc]
    """Feeds the Trainer's logged losses to lossdoctor's detectors (see the module docstring).

    Arguments are those of :class:`~assistant.callbacks.core.Watcher`; ``watcher`` holds the
    findings and the monitor (``watcher.monitor.result()`` is the full diagnosis).
    """

    def __init__(self, **options: Unpack[WatcherOptions]) -> None:
        self.watcher = Watcher(source="<transformers>", **options)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if getattr(args, "logging_nan_inf_filter", False):
            logger.warning(
                "lossdoctor: logging_nan_inf_filter=True logs a nan or inf loss as the average "
                "of the others (or 0), so a nan shows as a frozen or zero loss; pass "
                "logging_nan_inf_filter=False to TrainingArguments to have it named"
            )

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if not logs or "train_runtime" in logs:  # the summary of the whole run, at its end
            return
        step, epoch = state.global_step, state.epoch
        add = self.watcher.add
        evaluated = False
        for name, value in logs.items():
            if name in SKIPPED or any(part in name for part in _SKIPPED_PARTS):
                continue
            if name.startswith("eval_"):
                add(name, value, step, "val", epoch)
                evaluated = True
            else:
                add(name, value, step, "train", epoch)
        if evaluated:
            self.watcher.check()
        self._maybe_stop(control)

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.watcher.check()
        self._maybe_stop(control)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.watcher.check()

    def _maybe_stop(self, control: Any) -> None:
        if self.watcher.should_stop and not control.should_training_stop:
            logger.warning("%s", self.watcher.stop_message("trainer.train()"))
            control.should_training_stop = True
