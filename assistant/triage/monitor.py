"""Incremental triage: feed readings one at a time, as a running job logs them, and learn of
a symptom as soon as the detectors are confident of it.

The same detectors as :func:`assistant.triage.detect.diagnose` run on a bounded summary of
each series, so the work per new reading does not grow with the length of the run:

- each series keeps at most ``capacity`` readings; when it is full it is reduced to the
  envelope :func:`assistant.triage.read.collect` uses for long logs (the lowest and highest
  reading of each block, the first nan of a block kept), so constants, spikes, nan onsets and
  trends survive;
- the detectors run again when a series has grown by half since the last run (so the
  cost of all runs is a constant per reading), and at once when a reading changes kind: the
  first nan or inf, a value that enters a known constant (87.3365, ln C...), a loss at or
  below zero, a validation reading. :meth:`Monitor.check` runs them on demand (``watch``
  calls it whenever it has caught up with the file).

A finding is reported once per symptom. Findings that one reading proves (nan, a magic
constant, zero or negative loss, divergence) are reported the first time they reach
:data:`REPORT_CONFIDENCE`; curve shapes (overfitting, plateau, oscillation...) must also hold
when the evidence has doubled (or a new validation reading came), and lead the
diagnosis or be very confident, so that a shape seen in the first few
readings does not raise an alarm that the next few disprove. ``still-learning`` and
``slow-decrease`` are never alarms (they are about the whole run).

Pure logic: no I/O, no printing, no knowledge-base access (see :func:`top_fix` for that).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from kb.model import KnowledgeBase

from .detect import _TARGET_VALUES, _known_constant, diagnose
from .model import Finding, LogData, Reading, Series, Split, TriageResult
from .read import _envelope
from .readers.base import Batch, split_of
from .select import is_loss, is_val

REPORT_CONFIDENCE = 0.5
"""A finding is reported once its confidence reaches this (the detectors' primary threshold)."""
SURE_CONFIDENCE = 0.8
"""A curve-shape finding this confident is reported without waiting for a second run."""
INSTANT = frozenset(
    {"nan-loss", "stuck-87-3365", "stuck-at-clamp", "zero-loss", "negative-loss", "diverging"}
)
"""Symptoms that the readings prove by themselves: reported on first sight."""
QUIET = frozenset({"still-learning", "slow-decrease"})
"""Never an alarm: what these say is about the whole run, and no reason to stop it. They are
in :meth:`Monitor.result` like everything else."""
CAPACITY = 4096
"""Readings kept per series before it is reduced to its envelope."""
GROWTH = 2
"""The detectors run again when a series has grown by 1/GROWTH of what it keeps."""
MIN_SHAPE_READINGS = 20
"""A curve-shape finding needs this many training-loss readings (the start of every run looks
like a plateau at chance level for a few readings)."""
MIN_VAL_READINGS = 4
"""A finding about validation against training needs this many validation readings."""
VAL_RELATIONS = frozenset(
    {"overfitting", "train-flat-val-falling", "val-below-train", "both-rising"}
)
URGENT_READINGS = 8
"""After a reading changes kind, this many readings of the series each run the detectors."""


@dataclass
class _Track:
    """One series as it grows: preallocated arrays, reduced when full."""

    name: str
    split: Split
    capacity: int
    steps: np.ndarray = field(init=False)
    values: np.ndarray = field(init=False)
    epochs: np.ndarray = field(init=False)
    n: int = 0
    total: int = 0
    has_epoch: bool = False
    since: int = 0
    urgent: int = 0
    watched: bool = False
    held_out: bool = False
    last_raw: float = -math.inf
    offset: float = 0.0
    kinds: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.steps = np.empty(self.capacity, dtype=np.float64)
        self.values = np.empty(self.capacity, dtype=np.float64)
        self.epochs = np.full(self.capacity, np.nan, dtype=np.float64)
        self.watched = is_loss(self.name)

    def add(self, step: float | None, value: float, epoch: float | None) -> None:
        if self.n == self.capacity:
            self._reduce()
        if step is None:
            step = (self.steps[self.n - 1] + 1.0) if self.n else 1.0
            raw = step
        else:
            raw = float(step)
            if raw < self.last_raw:  # the counter restarts (once per epoch): count on
                self.offset = float(self.steps[self.n - 1]) if self.n else 0.0
            self.last_raw = raw
            step = raw + self.offset
        self.steps[self.n] = step
        self.values[self.n] = value
        if epoch is not None:
            self.epochs[self.n] = epoch
            self.has_epoch = True
        self.n += 1
        self.total += 1
        self.since += 1

    def _reduce(self) -> None:
        s, v, e = _envelope(
            self.steps[: self.n],
            self.values[: self.n],
            self.epochs[: self.n] if self.has_epoch else None,
            self.capacity // 2,
        )
        k = v.shape[0]
        self.steps[:k], self.values[:k] = s, v
        self.epochs[:] = np.nan
        if e is not None:
            self.epochs[:k] = e
        self.n = k

    def due(self) -> bool:
        return self.watched and (self.urgent > 0 or self.since >= max(1, self.n // GROWTH))

    def series(self, unit: str) -> Series:
        n = self.n
        return Series(
            name=self.name,
            split=self.split,
            steps=self.steps[:n].copy(),
            values=self.values[:n].copy(),
            step_unit=unit,
            epochs=self.epochs[:n].copy() if self.has_epoch else None,
            readings=self.total if self.total != n else None,
        )


_SORTED_TARGETS = sorted(float(v) for v in _TARGET_VALUES)


def _kind(value: float) -> str:
    """What sort of value a loss reading is, for noticing when that changes."""
    if not math.isfinite(value):
        return "nonfinite"
    if value <= 0.0:
        return "nonpositive"
    # a cheap look first: no clamp constant within 1 %, no need to ask the detector (which
    # weighs the printed precision and is the costliest part of a reading)
    i = bisect.bisect_left(_SORTED_TARGETS, value)
    near = _SORTED_TARGETS[max(0, i - 1) : i + 1]
    if any(abs(t - value) <= 0.01 * t for t in near) and _known_constant(value) is not None:
        return "constant"
    return "plain"


class Monitor:
    """Incremental triage of one run.

    >>> m = Monitor()
    >>> [f.symptom for v in [2.3, 2.1, float("nan")] for f in m.add("loss", v)]
    ['nan-loss']

    ``add`` and ``add_reading`` return the findings that became reportable with that reading
    (usually none); ``check`` runs the detectors now; ``result`` is the full diagnosis of
    everything seen so far, as ``lossdoctor triage`` would give it.
    """

    def __init__(
        self,
        metric: str | None = None,
        *,
        path: str = "<live>",
        format: str = "live",
        step_unit: str = "step",
        capacity: int = CAPACITY,
    ) -> None:
        self.metric = metric.lower() if metric else None
        self.path = path
        self.format = format
        self.step_unit = step_unit
        self.capacity = max(64, capacity)
        self._tracks: dict[tuple[str, str], _Track] = {}
        self._pending: dict[str, int] = {}
        self._result: TriageResult | None = None
        self.reported: list[Finding] = []
        """Every finding reported so far, in the order it was reported."""
        self.readings = 0
        """How many readings have been added."""
        self.checks = 0
        """How many times the detectors have run."""

    # ---------------------------------------------------------------- feeding

    def add(
        self,
        name: str,
        value: float,
        step: float | None = None,
        *,
        split: Split | None = None,
        epoch: float | None = None,
    ) -> list[Finding]:
        """Add one logged value (``split`` inferred from the name when not given: ``val_loss``
        is validation) and return the findings it made reportable."""
        name = name.strip().lower()
        key_split: Split = split or split_of(name)
        return self._add(name, key_split, float(value), step, epoch)

    def add_reading(self, reading: Reading | Batch) -> list[Finding]:
        """Add what a log reader yielded (one reading or a batch of them)."""
        if isinstance(reading, Batch):
            out: list[Finding] = []
            for r in reading.readings():
                out += self._add(r.name, r.split, r.value, r.step, r.epoch)
            return out
        return self._add(reading.name, reading.split, reading.value, reading.step, reading.epoch)

    def feed(self, readings: Iterable[Reading | Batch]) -> list[Finding]:
        """Add many readings; the findings they made reportable, in order."""
        out: list[Finding] = []
        for r in readings:
            out += self.add_reading(r)
        return out

    def _add(
        self, name: str, split: Split, value: float, step: float | None, epoch: float | None
    ) -> list[Finding]:
        key = (name, split)
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track(name, split, self.capacity)
            if self.metric is not None:
                track.watched = name == self.metric or track.watched
            track.held_out = is_val(_stub(track))
        track.add(step, value, epoch)
        self.readings += 1
        self._result = None
        if not track.watched:
            return []
        kind = _kind(value)
        if kind not in track.kinds:  # the first nan, the first value at a constant...
            track.kinds.add(kind)
            track.urgent = URGENT_READINGS
        if track.held_out:
            track.urgent = max(track.urgent, 1)  # validation readings are few and telling
        if not track.due():
            return []
        if track.urgent > 0:
            track.urgent -= 1
        return self.check()

    # ---------------------------------------------------------------- detecting

    @property
    def unchecked(self) -> bool:
        """Whether readings arrived since the detectors last ran."""
        return any(t.since for t in self._tracks.values())

    def check(self) -> list[Finding]:
        """Run the detectors on everything seen so far; return the newly reportable findings."""
        self.checks += 1
        for t in self._tracks.values():
            t.since = 0
        result = self.result()
        new: list[Finding] = []
        seen = {f.symptom for f in self.reported}
        current: dict[str, int] = {}
        enough = result.loss is not None and result.loss.total >= MIN_SHAPE_READINGS
        val_enough = result.val_loss is not None and result.val_loss.total >= MIN_VAL_READINGS
        for f in result.findings:
            if f.symptom in QUIET or f.symptom in seen:
                continue
            if f.confidence < REPORT_CONFIDENCE:
                continue
            if f.symptom in INSTANT:
                ready = True
            else:
                # a shape must still hold when the evidence has grown (the training loss has
                # doubled its readings, or a new validation reading came), lead the diagnosis
                # or be sure of itself, and never rest on the first few readings
                val = f.symptom in VAL_RELATIONS
                size = _size(result.val_loss if val else result.loss)
                first = self._pending.get(f.symptom, size if val else max(size, MIN_SHAPE_READINGS))
                current[f.symptom] = first
                grown = size > first if val else size >= 2 * first
                ready = grown and (val_enough if val else enough)
                ready = ready and (f.symptom == result.primary or f.confidence >= SURE_CONFIDENCE)
            if ready:
                new.append(f)
                seen.add(f.symptom)
        self._pending = {k: v for k, v in current.items() if k not in seen}
        self.reported += new
        return new

    def log_data(self) -> LogData:
        """The series seen so far (each bounded by ``capacity``), as a reader would give them."""
        return LogData(
            path=self.path,
            format=self.format,
            series=tuple(t.series(self.step_unit) for t in self._tracks.values() if t.n),
        )

    def result(self) -> TriageResult:
        """The full diagnosis of what has been seen so far."""
        if self._result is None:
            self._result = diagnose(self.log_data(), self.metric)
        return self._result


def _size(series: Series | None) -> int:
    return series.total if series is not None else 0


def _stub(track: _Track) -> Series:
    """An empty series with the track's name and split (for the name-based checks)."""
    empty = np.empty(0, dtype=np.float64)
    return Series(track.name, track.split, empty, empty)


def top_fix(kb: KnowledgeBase, symptom: str) -> tuple[str, str] | None:
    """The first fix of the most likely cause of a symptom, as ``(fix id, fix title)``."""
    if symptom not in kb:
        return None
    for cause in kb.causes_of(symptom):
        for fix in kb.fixes_of(cause):
            return fix.id, fix.title
    return None
