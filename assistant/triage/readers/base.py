"""Shared pieces of the log readers: the reader base classes, number parsing (every
NaN / inf spelling), split inference from metric names, and the columnar ``Batch`` that
fast readers yield instead of one :class:`Reading` per value.

A reader is a small class with a ``name``, a ``sniff(head_text, filename) -> float`` score
in [0, 1] and a ``parse(chunks)`` method. ``chunks`` are UTF-8 bytes with ``\\n`` line
ends (the input layer has already decoded other encodings, turned CRLF and progress-bar
``\\r`` refreshes into line breaks and applied ``\\b`` backspaces); every chunk but the last
ends at a line break. ``parse`` yields :class:`Reading` objects or :class:`Batch` objects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..model import Reading, Split

# A number as logs print it, including every NaN / inf spelling we know of:
# nan, NaN, -nan, nan(ind), inf, -inf, Infinity, 1.#INF, 1.#QNAN, -1.#IND.
NUM = (
    r"[-+]?(?:1\.#(?:INF|QNAN|SNAN|IND)\d*|(?:nan|NaN|NAN)(?:\(ind\))?|(?:inf|Inf|INF)(?:inity)?"
    r"|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
)
NUM_RE = re.compile(NUM)
NUM_B = NUM.encode()

_STEP_UNITS = ("iteration", "step", "epoch", "update")


def to_float(text: str | bytes) -> float:
    """One number as printed in a log; NaN / inf in any spelling. Unparseable -> nan."""
    try:
        return float(text)
    except (ValueError, TypeError):
        pass
    s = text.decode("ascii", "replace") if isinstance(text, bytes) else str(text)
    s = s.strip().rstrip(",;")
    try:
        return float(s)
    except ValueError:
        pass
    up = s.upper()
    neg = up.startswith("-")
    if "#INF" in up or up.lstrip("+-").startswith("INF"):
        return -math.inf if neg else math.inf
    if "NAN" in up or "#IND" in up or "#Q" in up or "#S" in up:
        return math.nan
    m = NUM_RE.search(s)
    if m and m.group(0) != s:
        return to_float(m.group(0))
    return math.nan


def floats(values: Iterable[bytes | str]) -> np.ndarray:
    """Many printed numbers at once as float64 (fast path in C, per-item fallback)."""
    seq = values if isinstance(values, (list, tuple)) else list(values)
    try:
        return np.fromiter(map(float, seq), dtype=np.float64, count=len(seq))
    except (ValueError, TypeError):
        return np.fromiter((to_float(v) for v in seq), dtype=np.float64, count=len(seq))


def is_number(text: str) -> bool:
    """Whether the whole text is one number (any NaN / inf spelling counts)."""
    return NUM_RE.fullmatch(text.strip()) is not None


_VAL_PREFIXES = (
    "val_",
    "val/",
    "val-",
    "val.",
    "valid_",
    "valid/",
    "valid-",
    "validation_",
    "validation/",
    "validation-",
    "validation.",
    "eval_",
    "eval/",
    "eval-",
    "dev_",
    "dev/",
    "val ",
    "valid ",
    "validation ",
    "eval ",
)
_TEST_PREFIXES = ("test_", "test/", "test-", "test ")


def split_of(name: str, default: Split = "train") -> Split:
    """The split a metric name implies: ``val_loss`` -> val, ``test/acc`` -> test."""
    n = name.lower()
    if n.startswith(_VAL_PREFIXES) or n in ("val", "valid", "validation", "eval"):
        return "val"
    if n.startswith(_TEST_PREFIXES):
        return "test"
    if n.startswith(("train_", "train/", "train-", "train ", "training_", "training ")):
        return "train"
    return default


def norm_name(name: str) -> str:
    """A metric name as written, lower-cased, inner whitespace as ``_``."""
    return "_".join(name.strip().lower().split())


LOSS_WORDS = ("loss", "cross-entropy", "cross_entropy", "crossentropy", "nll", "objective", "cost")


def is_loss_name(name: str) -> bool:
    """Whether a metric name denotes a loss (or a loss component)."""
    n = name.lower()
    return any(w in n for w in LOSS_WORDS)


# Fields that are bookkeeping, not metrics: dropped by the key/value readers.
NOT_METRICS = frozenset(
    {
        "eta",
        "time",
        "data_time",
        "memory",
        "eta_seconds",
        "rank_data_time",
        "wps",
        "ups",
        "wpb",
        "bsz",
        "wall",
        "train_wall",
        "oom",
        "iter_time",
        "forward_time",
        "backward_time",
        "optim_step_time",
        "optim0_lr0_time",
        "train_time",
        "epoch",
        "step",
        "iter",
        "iteration",
        "global_step",
        "num_updates",
        "v_num",
        "gb_free",
        "speed",
        "samples/sec",
        "it/s",
        "s/it",
        "total_flos",
        "train_runtime",
        "eval_runtime",
        "train_samples_per_second",
        "train_steps_per_second",
        "eval_samples_per_second",
        "eval_steps_per_second",
        "mode",
        "num_input_tokens_seen",
        "time_per_step",
        "per-step_time",
        "batch",
        "seconds",
        "images",
    }
)


@dataclass(frozen=True, eq=False)
class Batch:
    """Many readings of one metric at once (columnar), for readers that work in bulk."""

    name: str
    split: Split
    steps: np.ndarray
    values: np.ndarray
    epochs: np.ndarray | None = None

    def readings(self) -> Iterator[Reading]:
        """The batch as single readings."""
        ep = self.epochs
        for i in range(len(self.values)):
            e = None if ep is None or math.isnan(ep[i]) else float(ep[i])
            yield Reading(self.name, self.split, float(self.steps[i]), float(self.values[i]), e)


class Reader:
    """A log format: sniffs a head of text, parses a stream of chunks into readings."""

    name: ClassVar[str] = "base"
    step_unit: str = "step"
    """What the step axis counts; a parse may change it (e.g. to ``epoch``)."""
    whole: ClassVar[bool] = False
    """True when the reader needs the whole text at once (small JSON documents)."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.units: dict[str, str] = {}
        """Per-series step unit overrides, keyed by ``name|split``."""

    def sniff(self, head: str, filename: str) -> float:
        """How likely (0..1) the text is in this format."""
        return 0.0

    def parse(self, chunks: Iterable[bytes]) -> Iterator[Reading | Batch]:
        """Every reading of the input."""
        raise NotImplementedError

    def readings(self, chunks: Iterable[bytes]) -> Iterator[Reading]:
        """Every reading of the input, batches expanded."""
        for item in self.parse(chunks):
            if isinstance(item, Batch):
                yield from item.readings()
            else:
                yield item


def iter_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Decoded lines (without line ends) of a chunk stream."""
    for chunk in chunks:
        text = chunk.decode("utf-8", "replace")
        yield from text.split("\n")


class LineReader(Reader):
    """A reader that looks at one decoded line at a time (fine for logs of modest size)."""

    def parse(self, chunks: Iterable[bytes]) -> Iterator[Reading | Batch]:
        return self.parse_lines(iter_lines(chunks))

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        """Every reading found in the lines."""
        raise NotImplementedError


# key: value / key=value pairs: `loss: 0.69`, `val_loss=0.7`, `Loss/total_loss': 0.5`.
KV_RE = re.compile(r"(?<![\w/.\-])([A-Za-z][\w/.\-()]*?)['\"]?\s*[:=]\s*(" + NUM + r")(?![\w.#/:])")


def kv_pairs(text: str) -> list[tuple[str, float]]:
    """``(name, value)`` for each ``name: value`` / ``name=value`` in a text, names normalised."""
    return [(norm_name(k), to_float(v)) for k, v in KV_RE.findall(text)]
