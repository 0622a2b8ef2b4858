"""JSON logs: Hugging Face ``trainer_state.json`` (``log_history``), Detectron2
``metrics.json`` (one JSON object per line with ``iteration``), MMDetection ``*.log.json``
(``"mode": "train"``, ``epoch``, ``iter``) and MMEngine ``scalars.json`` (``step``), and any
other JSON Lines file with loss fields. Every numeric field is a series named by its key
(lower-cased); bookkeeping fields (times, eta, memory) are dropped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ..model import Reading, Split
from .base import NOT_METRICS, Batch, Reader, is_loss_name, norm_name, split_of, to_float

_CONSTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=lambda c: _CONSTS.get(c, math.nan))


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and re.fullmatch(r"\s*[-+]?(nan|inf|infinity|\d[\d.eE+\-]*)\s*", v, re.I):
        return to_float(v)
    return None


def iter_json_objects(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """JSON objects, one per line; broken lines (a truncated last line) are skipped."""
    for ln in lines:
        ln = ln.strip().rstrip(",")
        if not ln.startswith("{"):
            continue
        try:
            obj = _loads(ln)
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict):
            yield obj


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    for chunk in chunks:
        yield from chunk.decode("utf-8", "replace").split("\n")


class JsonLinesReader(Reader):
    """Generic JSON Lines with loss fields."""

    name = "json-lines"
    step_keys: tuple[str, ...] = (
        "iteration",
        "global_step",
        "step",
        "iter",
        "num_updates",
        "_step",
        "epoch",
    )

    def sniff(self, head: str, filename: str) -> float:
        lines = [ln for ln in head.split("\n")[:20] if ln.strip()]
        objs = list(iter_json_objects(lines))
        if len(objs) >= 1 and len(objs) >= len(lines) // 2:
            if any(is_loss_name(k) for o in objs for k in o):
                return 0.6
            return 0.2
        return 0.0

    def split_of(self, obj: dict[str, Any], key: str) -> Split:
        """The split of one field of one record."""
        return split_of(key)

    def step_of(self, obj: dict[str, Any]) -> tuple[float | None, str]:
        """The step of one record and its unit."""
        for k in self.step_keys:
            v = _num(obj.get(k))
            if v is not None:
                unit = {
                    "iteration": "iteration",
                    "iter": "iteration",
                    "num_updates": "update",
                    "epoch": "epoch",
                }.get(k, "step")
                return v, unit
        return None, "step"

    def parse(self, chunks: Iterable[bytes]) -> Iterator[Reading | Batch]:
        n = 0
        units: set[str] = set()
        for obj in iter_json_objects(_lines(chunks)):
            n += 1
            step, unit = self.step_of(obj)
            if step is None:
                step, unit = float(n), "step"
            units.add(unit)
            ep = _num(obj.get("epoch"))
            for key, v in obj.items():
                name = norm_name(str(key))
                if name in NOT_METRICS or name in self.step_keys:
                    continue
                val = _num(v)
                if val is None:
                    continue
                yield Reading(name, self.split_of(obj, name), step, val, ep)
        if units:
            self.step_unit = sorted(units, key=["iteration", "update", "step", "epoch"].index)[0]


class Detectron2Reader(JsonLinesReader):
    """Detectron2 ``metrics.json``."""

    name = "detectron2-metrics-json"
    step_keys = ("iteration",)

    def sniff(self, head: str, filename: str) -> float:
        if '"iteration"' in head and ('"total_loss"' in head or '"loss_cls"' in head):
            return 0.95
        if '"iteration"' in head and filename == "metrics.json":
            return 0.8
        return 0.0

    def step_of(self, obj: dict[str, Any]) -> tuple[float | None, str]:
        v = _num(obj.get("iteration"))
        return v, "iteration"


class MMDetJsonReader(JsonLinesReader):
    """MMDetection ``*.log.json`` and MMEngine ``scalars.json``."""

    name = "mmdet-json"
    step_keys = ("step", "iter", "epoch")

    def __init__(self) -> None:
        super().__init__()
        self._iters_per_epoch = 0.0

    def sniff(self, head: str, filename: str) -> float:
        if '"mode": "train"' in head or '"mode": "val"' in head:
            return 0.93
        if filename.endswith("scalars.json") or filename.endswith(".log.json"):
            return 0.85 if '"loss' in head or '"step"' in head else 0.5
        return 0.0

    def split_of(self, obj: dict[str, Any], key: str) -> Split:
        mode = obj.get("mode")
        if mode in ("val", "eval", "test"):
            return "test" if mode == "test" else "val"
        if "/" in key and key.split("/")[0] in ("coco", "pascal_voc", "bbox", "segm", "mIoU"):
            return "val"
        return split_of(key)

    def step_of(self, obj: dict[str, Any]) -> tuple[float | None, str]:
        if "mode" in obj:  # mmdet 2.x: epoch + iter within the epoch
            ep = _num(obj.get("epoch"))
            it = _num(obj.get("iter"))
            if obj.get("mode") == "train" and it is not None:
                self._iters_per_epoch = max(self._iters_per_epoch, it)
                if ep is not None:
                    return (ep - 1) * self._iters_per_epoch + it, "iteration"
                return it, "iteration"
            if ep is not None:
                return ep * self._iters_per_epoch if self._iters_per_epoch else ep, (
                    "iteration" if self._iters_per_epoch else "epoch"
                )
        v = _num(obj.get("step"))
        if v is not None:
            return v, "step"
        return super().step_of(obj)


class HFTrainerStateReader(Reader):
    """Hugging Face ``trainer_state.json`` (its ``log_history``)."""

    name = "hf-trainer-state"
    step_unit = "step"
    whole = True

    def sniff(self, head: str, filename: str) -> float:
        if '"log_history"' in head:
            return 0.99
        if filename == "trainer_state.json":
            return 0.8
        return 0.0

    def parse(self, chunks: Iterable[bytes]) -> Iterator[Reading | Batch]:
        text = b"".join(chunks).decode("utf-8", "replace")
        try:
            doc = _loads(text)
        except (ValueError, RecursionError):
            doc = _salvage_history(text)
        hist = doc.get("log_history") if isinstance(doc, dict) else None
        if not isinstance(hist, list):
            return
        for i, entry in enumerate(hist):
            if not isinstance(entry, dict):
                continue
            step = _num(entry.get("step"))
            ep = _num(entry.get("epoch"))
            if step is None:
                step = ep if ep is not None else float(i)
            for key, v in entry.items():
                name = norm_name(str(key))
                if name in ("step", "epoch") or name in NOT_METRICS:
                    continue
                val = _num(v)
                if val is None:
                    continue
                yield Reading(name, split_of(name), step, val, ep)


def _salvage_history(text: str) -> dict[str, Any]:
    """The complete entries of a truncated ``log_history``."""
    i = text.find('"log_history"')
    if i < 0:
        return {}
    entries = []
    for m in re.finditer(r"\{[^{}]*\}", text[i:]):
        try:
            obj = _loads(m.group(0))
        except ValueError:
            continue
        if isinstance(obj, dict):
            entries.append(obj)
    return {"log_history": entries}
