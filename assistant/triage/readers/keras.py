"""Keras ``model.fit`` console output.

verbose=1: ``Epoch 3/20`` then a progress bar refreshed with ``\\r`` / ``\\b``
(``60000/60000 [======] - 5s 80us/step - loss: 0.69 - acc: 0.5 - val_loss: ...``); the
input layer turns each refresh into a line, and the reader keeps the last refresh of each
epoch (the one with the epoch's final averages and the validation metrics).
verbose=2: ``Epoch 3/20`` then one line per epoch (``4s - loss: 0.1 - acc: 0.9 - ...`` or
``1875/1875 - 3s - loss: ... - 3s/epoch - 2ms/step``). Steps are epochs (1-based as printed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ..model import Reading
from .base import NUM, Batch, LineReader, norm_name, split_of, to_float

EPOCH_RE = re.compile(r"^\s*Epoch (\d+)/(\d+)\s*$")
BAR_RE = re.compile(r"(\d+)/(\d+) (?:\[[=>.\-\s]*\]|[\u2500-\u257f\s]+)")
METRIC_RE = re.compile(r" - ([A-Za-z][\w/.\-]*): (" + NUM + r")(?![\w.])")
V2_RE = re.compile(
    r"^\s*(?:\d+/\d+ - )?\d+(?:\.\d+)?m?s(?: - \d+\w*/step| \d+\w*/step)? - [A-Za-z_][\w/]*: "
)
_SKIP = {"eta"}


class _KerasBase(LineReader):
    step_unit = "epoch"
    bar = True

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        # records: [epoch or None, done, total, metrics]
        records: list[tuple[int | None, list[tuple[str, float]]]] = []
        epoch: int | None = None
        last_for_epoch: dict[int | None, int] = {}
        complete: dict[int | None, bool] = {}
        seen_epochs: list[int] = []
        for line in lines:
            m = EPOCH_RE.match(line)
            if m:
                epoch = int(m.group(1))
                seen_epochs.append(epoch)
                continue
            if " - " not in line or ": " not in line:
                continue
            metrics = [(norm_name(k), to_float(v)) for k, v in METRIC_RE.findall(line)]
            metrics = [(k, v) for k, v in metrics if k not in _SKIP]
            if not metrics:
                continue
            b = BAR_RE.search(line)
            done = b is not None and b.group(1) == b.group(2)
            if "ETA" in line and not done:
                done = False
            is_final = done or "ETA" not in line
            key = epoch
            if key in last_for_epoch and complete.get(key) and is_final and not seen_epochs:
                # a second finished epoch line and no `Epoch k/N` lines at all: the headers were
                # not pasted, so each finished line is the next epoch
                epoch = key = (key if key is not None else 1) + 1
            if key in last_for_epoch and complete.get(key) and not is_final:
                continue
            if key in last_for_epoch:
                records[last_for_epoch[key]] = (key, metrics)
            else:
                last_for_epoch[key] = len(records)
                records.append((key, metrics))
            complete[key] = complete.get(key, False) or is_final
        # a first epoch printed before any `Epoch k/N` line is the epoch before the first one seen
        first_seen = seen_epochs[0] if seen_epochs else 1
        for key, metrics in records:
            ep = key if key is not None else (first_seen - 1 if seen_epochs else 1)
            for name, value in metrics:
                yield Reading(name, split_of(name), float(ep), value, float(ep))


class KerasV1Reader(_KerasBase):
    """Keras verbose=1 (progress bars)."""

    name = "keras-stdout-v1"

    def sniff(self, head: str, filename: str) -> float:
        bars = len(
            re.findall(r"\d+/\d+ (?:\[[=>.]+\]|[\u2500-\u257f]+) [^\n]{0,80}? - loss: ", head)
        )
        if bars:
            return 0.9 if re.search(r"(?m)^\s*Epoch \d+/\d+\s*$", head) or bars > 2 else 0.7
        return 0.0


class KerasV2Reader(_KerasBase):
    """Keras verbose=2 (one line per epoch)."""

    name = "keras-stdout-v2"

    def sniff(self, head: str, filename: str) -> float:
        lines = head.split("\n")
        v2 = sum(1 for ln in lines if V2_RE.match(ln))
        if v2 and re.search(r"(?m)^\s*Epoch \d+/\d+\s*$", head):
            return 0.88
        return 0.5 if v2 >= 2 else 0.0
