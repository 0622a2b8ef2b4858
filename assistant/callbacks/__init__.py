"""Training callbacks that diagnose the loss while the model trains: Keras 3, PyTorch Lightning
and the Hugging Face ``Trainer``.

Each framework's callback lives in its own module and imports that framework; this package
imports none of them, so lossdoctor never requires one::

    from assistant.callbacks.keras import LossDoctorCallback         # needs keras 3
    from assistant.callbacks.lightning import LossDoctorCallback     # needs lightning
    from assistant.callbacks.transformers import LossDoctorCallback  # needs transformers

All three feed each logged loss to the same :class:`Watcher` (see :mod:`.core`): on a finding
they log one line with the knowledge base's top fix, and optionally stop the training
(``stop_on=``) or raise :class:`LossDoctorAlarm` out of it (``raise_on=``).
"""

from __future__ import annotations

from assistant.callbacks.core import ALL, LossDoctorAlarm, Watcher

__all__ = ["ALL", "LossDoctorAlarm", "Watcher"]
