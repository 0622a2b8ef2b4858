"""The framework-free part of the training callbacks: a :class:`Watcher` that feeds each logged
value to an incremental :class:`~assistant.triage.monitor.Monitor` and acts on what it finds.

    >>> from assistant.callbacks import Watcher
    >>> watcher = Watcher(stop_on="nan-loss")
    >>> for step, loss in enumerate([2.3, 2.1, 1.9, float("nan")], start=1):
    ...     found = watcher.add("loss", loss, step)
    >>> [f.symptom for f in watcher.findings], watcher.should_stop
    (['nan-loss'], True)

On each new finding the watcher

1. logs one line at WARNING through ``logging.getLogger("lossdoctor")``: the step, the
   symptom, its confidence, the evidence and the knowledge base's top fix, e.g.
   ``lossdoctor: step 41: nan-loss (confidence 0.95): loss became nan at step 41 ... — top
   fix: Lower the learning rate (lower-learning-rate); run 'lossdoctor show nan-loss'``;
2. calls ``on_finding(finding)`` when given;
3. sets :attr:`Watcher.should_stop` when the symptom is in ``stop_on`` (the framework
   callback then asks its trainer to stop after the current step), and raises
   :class:`LossDoctorAlarm` when it is in ``raise_on``.

``symptoms`` (only these) and ``ignore`` (never these) choose which findings are acted on;
:attr:`Watcher.monitor` keeps seeing everything. ``stop_on``, ``raise_on``, ``symptoms`` and
``ignore`` take a symptom id, a list of them, or ``"all"``.

The per-step path is one float conversion and one :meth:`Monitor.add`; the knowledge base is
loaded (once, ~100 ms) only when a finding is reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypedDict

from assistant.safe import plain
from assistant.triage.model import Finding, Split
from assistant.triage.monitor import Monitor, top_fix
from assistant.triage.stats import fmt_step
from kb.model import SYMPTOM_IDS

logger = logging.getLogger("lossdoctor")
"""Where findings are logged (WARNING) and the stop is announced."""

ALL = "all"
"""Stands for every symptom in ``stop_on``, ``raise_on`` and ``symptoms``."""

Symptoms = str | Iterable[str] | None
"""A symptom id, several, ``"all"``, or None for none."""

_NO_FINDINGS: list[Finding] = []


class LossDoctorAlarm(RuntimeError):
    """Raised out of the training loop when a finding's symptom is in ``raise_on``.

    ``finding`` is the :class:`~assistant.triage.model.Finding`; ``fix`` the knowledge base's
    top fix as ``(fix id, title)`` or None; ``step`` the step at which it was reported. The
    message is the line that was logged.
    """

    def __init__(
        self, finding: Finding, message: str, *, fix: tuple[str, str] | None, step: float | None
    ) -> None:
        super().__init__(message)
        self.finding = finding
        self.fix = fix
        self.step = step


def _symptom_set(value: Symptoms, what: str) -> frozenset[str] | None:
    """The symptom ids of an option; None means all of them."""
    if value is None:
        return frozenset()
    ids = (value,) if isinstance(value, str) else tuple(value)
    wanted = frozenset(s.strip() for s in ids if s.strip())
    if wanted & {ALL, "any"}:
        return None
    unknown = sorted(wanted - set(SYMPTOM_IDS))
    if unknown:
        raise ValueError(
            f"{what}: unknown symptom {', '.join(unknown)}; known: {', '.join(SYMPTOM_IDS)}, "
            f"or {ALL!r}"
        )
    return wanted


def _has(chosen: frozenset[str] | None, symptom: str) -> bool:
    return chosen is None or symptom in chosen


def as_float(value: Any) -> float:
    """A logged value as a float: a tensor or numpy scalar through ``.item()``, else ``float``.

    Raises ``TypeError``, ``ValueError`` or ``RuntimeError`` (a tensor of several elements)
    for what is not one number.
    """
    if type(value) is float:
        return value
    item = getattr(value, "item", None)
    if item is not None:
        value = item()
    return float(value)


_KB: Any = None


def _load_kb() -> Any:
    """The knowledge base, loaded on the first finding and kept; False if it cannot load."""
    global _KB
    if _KB is None:
        try:
            from kb.index import load_kb

            _KB = load_kb()
        except Exception as error:  # a broken cache or content must not stop a training run
            logger.warning("lossdoctor: cannot load the knowledge base (%s); no fixes shown", error)
            _KB = False
    return _KB


class WatcherOptions(TypedDict, total=False):
    """The keyword arguments of :class:`Watcher` that every framework callback passes on."""

    stop_on: Symptoms
    raise_on: Symptoms
    symptoms: Symptoms
    ignore: Symptoms
    on_finding: Callable[[Finding], object] | None
    metric: str | None


class Watcher:
    """Watches one training run: owns a :class:`Monitor`, acts on each new finding.

    ``stop_on``: symptoms after which :attr:`should_stop` turns True (default: none).
    ``raise_on``: symptoms that raise :class:`LossDoctorAlarm` (default: none).
    ``symptoms``: act only on these (default: all); ``ignore``: never act on these.
    ``on_finding``: called with each finding acted on, after it is logged.
    ``metric``: the series to diagnose, when the training loss is not found by its name.
    """

    def __init__(
        self,
        *,
        stop_on: Symptoms = None,
        raise_on: Symptoms = None,
        symptoms: Symptoms = ALL,
        ignore: Symptoms = None,
        on_finding: Callable[[Finding], object] | None = None,
        metric: str | None = None,
        source: str = "<training>",
    ) -> None:
        self.stop_on = _symptom_set(stop_on, "stop_on")
        self.raise_on = _symptom_set(raise_on, "raise_on")
        self.symptoms = _symptom_set(symptoms, "symptoms")
        ignored = _symptom_set(ignore, "ignore")
        self.ignore = frozenset(SYMPTOM_IDS) if ignored is None else ignored
        self.on_finding = on_finding
        self.monitor = Monitor(metric, path=source, format="callback")
        """The incremental monitor; ``monitor.result()`` is the full diagnosis so far."""
        self.findings: list[Finding] = []
        """The findings acted on (logged), in order."""
        self.should_stop = False
        """Whether a finding in ``stop_on`` asks the training to stop."""
        self.stop_finding: Finding | None = None
        """The finding that asked to stop, if any."""
        self.last_step: float | None = None
        """The step of the latest value added."""

    def add(
        self,
        name: str,
        value: Any,
        step: float | None = None,
        split: Split | None = None,
        epoch: float | None = None,
    ) -> list[Finding]:
        """Feed one logged value (a float, a numpy scalar or a one-element tensor); return the
        findings acted on because of it (usually none). Values that are not one number are
        skipped."""
        try:
            number = value if type(value) is float else as_float(value)
        except (TypeError, ValueError, RuntimeError):
            return _NO_FINDINGS
        self.last_step = step
        found = self.monitor.add(name, number, step, split=split, epoch=epoch)
        return self._act(found) if found else _NO_FINDINGS

    def check(self) -> list[Finding]:
        """Run the detectors now (at an epoch end) and act on what became reportable."""
        return self._act(self.monitor.check()) if self.monitor.unchecked else _NO_FINDINGS

    def _act(self, found: list[Finding]) -> list[Finding]:
        kept = [f for f in found if _has(self.symptoms, f.symptom) and f.symptom not in self.ignore]
        alarm: LossDoctorAlarm | None = None
        for finding in kept:
            fix = self._fix(finding.symptom)
            line = self.message(finding, fix, self.last_step)
            logger.warning("%s", line)
            self.findings.append(finding)
            if self.on_finding is not None:
                self.on_finding(finding)
            if not self.should_stop and _has(self.stop_on, finding.symptom):
                self.should_stop = True
                self.stop_finding = finding
            if alarm is None and _has(self.raise_on, finding.symptom):
                alarm = LossDoctorAlarm(finding, line, fix=fix, step=self.last_step)
        if alarm is not None:
            raise alarm
        return kept

    @staticmethod
    def _fix(symptom: str) -> tuple[str, str] | None:
        kb = _load_kb()
        return top_fix(kb, symptom) if kb else None

    @staticmethod
    def message(finding: Finding, fix: tuple[str, str] | None, step: float | None) -> str:
        """The line logged for a finding (terminal-safe: metric names come from user code)."""
        where = f"step {fmt_step(step)}: " if step is not None else ""
        text = (
            f"lossdoctor: {where}{finding.symptom} (confidence {finding.confidence:.2f}): "
            f"{finding.summary}"
        )
        if fix is not None:
            text += f" — top fix: {fix[1]} ({fix[0]})"
        return plain(f"{text}; run 'lossdoctor show {finding.symptom}'")

    def stop_message(self, what: str) -> str:
        """The line logged when the framework is asked to stop (``what``: e.g. ``training``)."""
        symptom = self.stop_finding.symptom if self.stop_finding else "?"
        where = f" at step {fmt_step(self.last_step)}" if self.last_step is not None else ""
        return f"lossdoctor: stopping {what}{where} (stop_on {symptom})"
