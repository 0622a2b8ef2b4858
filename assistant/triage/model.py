"""The values triage computes: readings parsed from a log, the series built from them,
the findings the detectors make and the result the CLI and TUI render.

Pure data: no I/O, no rendering, no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")


class TriageInputError(Exception):
    """An input that cannot be analysed: unreadable, empty, binary, or holding no loss.

    ``str(error)`` is one line meant for the user; ``path`` names the input.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one metric, as a reader finds it in a log."""

    name: str
    """Metric name as the log writes it, normalised to lower case: ``loss``, ``val_loss``,
    ``loss_cls``, ``train/box_loss``, ``acc``, ``lr``."""
    split: Split
    """Which data the value was measured on."""
    step: float
    """Position on the x axis: iteration / global step, or the epoch when the log has no steps."""
    value: float
    """The value; nan and inf are kept as such."""
    epoch: float | None = None
    """The epoch of the reading, when the log says it."""


@dataclass(frozen=True, eq=False)
class Series:
    """All readings of one metric in one split, in log order."""

    name: str
    """Metric name, as in :class:`Reading`."""
    split: Split
    """Train, validation or test."""
    steps: np.ndarray
    """float64 x positions, one per reading."""
    values: np.ndarray
    """float64 values, one per reading; nan / inf kept."""
    step_unit: str = "step"
    """What a step counts: ``iteration``, ``step``, ``epoch`` or ``update``."""
    epochs: np.ndarray | None = None
    """float64 epoch per reading when the log says it, else None."""
    readings: int | None = None
    """How many readings the log held, when the series keeps fewer (a very long series is
    reduced to the lowest and highest reading of each block, nan kept); None when all kept."""

    @property
    def total(self) -> int:
        """The number of readings in the log (``readings``, or ``points`` when all are kept)."""
        return self.readings if self.readings is not None else self.points

    @property
    def points(self) -> int:
        """How many readings the series holds."""
        return int(self.values.shape[0])

    @property
    def first_step(self) -> float | None:
        """The step of the first reading, or None for an empty series."""
        return float(self.steps[0]) if self.points else None

    @property
    def last_step(self) -> float | None:
        """The step of the last reading, or None for an empty series."""
        return float(self.steps[-1]) if self.points else None


@dataclass(frozen=True)
class LogData:
    """What a reader extracted from one input."""

    path: str
    """The input as the user named it."""
    format: str
    """The detected format's name, e.g. ``caffe-glog``, ``keras-stdout-v1``."""
    series: tuple[Series, ...]
    """Every metric series found: losses, accuracies, learning rate."""
    notes: tuple[str, ...] = ()
    """Facts a reader noticed that are not series (e.g. ``class count 10``)."""


@dataclass(frozen=True)
class Finding:
    """One symptom a detector sees in a log, with its evidence."""

    symptom: str
    """A symptom id of the knowledge base, e.g. ``stuck-87-3365``."""
    confidence: float
    """0 to 1."""
    summary: str
    """One line with the numbers, e.g. ``loss constant at 87.3365 from iteration 1,200 to
    45,000 (438 readings)``."""
    start_step: float | None = None
    """Where the evidence starts on the series' x axis."""
    end_step: float | None = None
    """Where the evidence ends."""
    series: str | None = None
    """The name of the series the finding is about."""


@dataclass(frozen=True)
class TriageResult:
    """Everything triage says about one input: the data, the findings and the primary one."""

    log: LogData
    """The series read from the input."""
    findings: tuple[Finding, ...]
    """Ranked, best explanation first."""
    primary: str | None
    """The symptom id that best explains the log, or None when nothing could be said."""
    loss: Series | None = None
    """The training loss series the diagnosis rests on."""
    val_loss: Series | None = None
    """The validation loss series, when there is one."""
    extra: dict[str, object] = field(default_factory=dict)
    """Anything else a front end may show (e.g. the other loss components)."""
