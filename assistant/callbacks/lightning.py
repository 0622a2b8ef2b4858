"""A PyTorch Lightning callback that diagnoses the loss during ``trainer.fit``.

    from assistant.callbacks.lightning import LossDoctorCallback

    doctor = LossDoctorCallback(stop_on=["nan-loss", "diverging"])
    trainer = lightning.pytorch.Trainer(max_epochs=50, callbacks=[doctor])
    trainer.fit(model, train_loader, val_loader)
    print([f.symptom for f in doctor.watcher.findings])  # what was found, if anything

The training loss of each batch (``outputs["loss"]`` of ``training_step``; when it returns
none, the training losses in ``trainer.callback_metrics``) is fed at ``trainer.global_step``;
after each validation run the validation metrics of ``trainer.callback_metrics``
(``val_loss``, ``val/acc``, ...) are fed at the same step and the detectors run. A finding is
logged at WARNING on the ``lossdoctor`` logger with its top fix; a symptom in ``stop_on`` sets
``trainer.should_stop`` (the fit ends after that batch, once ``min_epochs``/``min_steps`` are
met), one in ``raise_on`` raises :class:`~assistant.callbacks.core.LossDoctorAlarm` out of
``fit``. Uses ``lightning`` and falls back to the older ``pytorch_lightning`` package. Under
distributed training each process watches the loss it computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

try:
    from lightning.pytorch import Callback
except ImportError:  # the package of Lightning 1.x and of `pip install pytorch-lightning`
    try:
        from pytorch_lightning import Callback  # type: ignore[assignment]
    except ImportError as error:  # pragma: no cover - exercised in a subprocess test
        raise ImportError(
            "assistant.callbacks.lightning needs PyTorch Lightning: pip install lightning"
        ) from error

from assistant.callbacks.core import LossDoctorAlarm, Watcher, WatcherOptions, as_float, logger
from assistant.triage.readers.base import split_of
from assistant.triage.select import is_loss

__all__ = ["LossDoctorAlarm", "LossDoctorCallback"]


class LossDoctorCallback(Callback):  # type: ignore[misc]
    """Feeds Lightning's training and validation losses to lossdoctor's detectors (see the
    module docstring).

    Arguments are those of :class:`~assistant.callbacks.core.Watcher`; ``watcher`` holds the
    findings and the monitor (``watcher.monitor.result()`` is the full diagnosis).
    """

    def __init__(self, **options: Unpack[WatcherOptions]) -> None:
        super().__init__()
        self.watcher = Watcher(source="<lightning>", **options)

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step
        epoch = trainer.current_epoch
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if loss is not None:
            accumulate = trainer.accumulate_grad_batches
            if accumulate != 1 and pl_module.automatic_optimization:
                # Lightning divides the loss it hands back by the accumulation: undo that, so
                # that a loss at ln C or 87.3365 still reads as one
                try:
                    loss = as_float(loss) * accumulate
                except (TypeError, ValueError, RuntimeError):
                    return
            found = self.watcher.add("loss", loss, step, "train", epoch)
        else:  # manual optimization or a step that returned nothing: what it logged
            found = []
            for name, value in trainer.callback_metrics.items():
                if split_of(name) == "train" and is_loss(name) and not name.endswith("_epoch"):
                    found += self.watcher.add(name, value, step, "train", epoch)
        if found:
            self._maybe_stop(trainer)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        # after the LightningModule's own on_validation_epoch_end has logged: the epoch's
        # validation values are in callback_metrics now (EarlyStopping reads them here too)
        if trainer.sanity_checking or trainer.state.fn != "fit":
            return
        step, epoch = trainer.global_step, trainer.current_epoch
        for name, value in trainer.callback_metrics.items():
            # a metric logged on_step and on_epoch is there as name_step (the last batch's)
            # and name_epoch (the epoch's): the epoch's is the validation reading
            if split_of(name) == "val" and not name.endswith("_step"):
                self.watcher.add(name, value, step, "val", epoch)
        self.watcher.check()
        self._maybe_stop(trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self.watcher.check()
        self._maybe_stop(trainer)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self.watcher.check()

    def _maybe_stop(self, trainer: Any) -> None:
        if self.watcher.should_stop and not trainer.should_stop:
            logger.warning("%s", self.watcher.stop_message("trainer.fit"))
            trainer.should_stop = True
