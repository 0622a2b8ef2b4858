"""The fallback for a script's own print / logging lines and anything else with losses:
``epoch 3 iter 100 loss 0.69``, ``[3/20] train_loss=0.69 val_loss=0.70``, ``loss: 0.69 -
val_loss: 0.70``, ``Epoch: 1 Loss: 0.6924``, ``iter: 20 / 70000, total loss: nan`` followed
by ``>>> rpn_loss_cls: 0.648`` lines, and pipe tables (``| epoch | loss |``).

The step context (epoch, iteration / step) is carried from line to line. The step axis is the
iteration when the log has one, else the epoch, else the reading number.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable, Iterator

import numpy as np

from ..model import Reading
from .base import (
    NOT_METRICS,
    NUM,
    Batch,
    Reader,
    floats,
    is_loss_name,
    norm_name,
    split_of,
    to_float,
)

EPOCH_RE = re.compile(r"\b(?:epoch|Epoch|EPOCH)\b\s*[:#=\[]?\s*(\d+)(?:\s*/\s*(\d+))?")
ITER_RE = re.compile(
    r"\b(?:iter|Iter|ITER|iters|iteration|Iteration|ITERATION|step|Step|STEP|global_step|"
    r"batch|Batch|it)\b\s*[:#=\[]?\s*(\d+)(?:\s*/\s*(\d+))?"
)
BRACKET_RE = re.compile(r"^\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
_KEY = r"[A-Za-z][\w/.\-]*(?:\([\w]*\))?(?: [A-Za-z][\w\-]*){0,2}"
PAIR_RE = re.compile(r"(?<![\w/.\-])(" + _KEY + r")\s*(?:[:=]|\s)\s*(" + NUM + r")(?![\w.#/:])")
_CONTEXT = {"epoch", "epochs", "iter", "iters", "iteration", "step", "global_step", "batch", "it"}
_METRIC_WORDS = (
    "loss",
    "acc",
    "lr",
    "ppl",
    "perplexity",
    "dice",
    "iou",
    "map",
    "f1",
    "error",
    "err",
    "nll",
    "cost",
    "learning_rate",
    "precision",
    "recall",
    "bleu",
    "cross-entropy",
    "cross_entropy",
    "auc",
    "mse",
    "mae",
    "rmse",
    "score",
    "grad",
)


def _metric_like(name: str) -> bool:
    return any(w in name for w in _METRIC_WORDS)


class _State:
    """What the line parser carries from line to line, and the readings so far (columnar)."""

    def __init__(self) -> None:
        self.epoch: float | None = None
        self.it: float | None = None
        self.any_iter = False
        self.any_epoch = False
        self.table: list[str] | None = None
        # per metric name: parts of (values, iterations, epochs), NaN where unknown
        self.cols: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.buf: dict[str, tuple[array, array, array]] = {}
        self.learn: tuple[str, list[tuple[int, int, str]]] | None = None

    def add(self, name: str, value: float) -> None:
        b = self.buf.get(name)
        if b is None:
            b = self.buf[name] = (array("d"), array("d"), array("d"))
        b[0].append(value)
        b[1].append(math.nan if self.it is None else self.it)
        b[2].append(math.nan if self.epoch is None else self.epoch)

    def flush(self) -> None:
        for name, (v, i, e) in self.buf.items():
            if v:
                self.cols.setdefault(name, []).append(
                    (
                        np.array(v, dtype=np.float64),
                        np.array(i, dtype=np.float64),
                        np.array(e, dtype=np.float64),
                    )
                )
        self.buf = {}


_DIGIT_RE = re.compile(r"\d")
_SPACES_RE = re.compile(r" +")
NUM_TOKEN_RE = re.compile(r"(?<![\w.])(?:" + NUM + r")(?![\w.])")


def _lit(text: str) -> str:
    return _SPACES_RE.sub(" +", re.escape(text).replace("\\ ", " "))


Template = tuple[re.Pattern[bytes], list[str], re.Pattern[bytes]]


def _template(line: str, roles: list[tuple[int, int, str]]) -> Template | None:
    """A bytes regex matching lines shaped like ``line`` (same words, any numbers), capturing
    the numbers that have a role (a metric name, ``@iter`` or ``@epoch``), the roles, and a
    regex matching whole such lines (to remove them). The regex starts at the words just before the first captured number (a literal prefix the
    regex engine finds fast) and runs to the end of the line."""
    by_span = {(a, b): r for a, b, r in roles}
    tokens = list(NUM_TOKEN_RE.finditer(line))
    first = next((k for k, m in enumerate(tokens) if (m.start(), m.end()) in by_span), None)
    if first is None:
        return None
    begin = tokens[first - 1].end() if first > 0 else 0
    lead = line[begin : tokens[first].start()]
    if len(lead.strip()) < 3:
        return None
    parts: list[str] = [re.escape(lead)]
    names: list[str] = []
    pos = tokens[first].start()
    for m in tokens[first:]:
        if m.start() > pos:
            parts.append(_lit(line[pos : m.start()]))
        role = by_span.get((m.start(), m.end()))
        if role is None:
            parts.append(r"[-+.\w#()]+")
        else:
            parts.append("(" + NUM + ")")
            names.append(role)
        pos = m.end()
    parts.append(_lit(line[pos:]) + "$")
    if len(names) != len(roles) or not any(not r.startswith("@") for r in names):
        return None
    try:
        body = "".join(parts).encode("utf-8")
        return re.compile(body, re.M), names, re.compile(rb"^[^\n]*?" + body + rb"\n?", re.M)
    except (re.error, UnicodeEncodeError):
        return None


class GenericReader(Reader):
    """Any text with ``name: value`` / ``name=value`` / ``name value`` metrics.

    Large inputs take a fast path: the first metric line with its own step context becomes a
    template (its words literal, its numbers captured) matched over whole chunks with one
    ``findall``; the chunk's other lines go through the line parser. A chunk where that would
    change the result (the other lines need the template lines' context, or write the same
    metrics) is parsed line by line instead.
    """

    name = "plain-print"
    step_unit = "step"
    BULK_MIN_BYTES = 1 << 20

    def sniff(self, head: str, filename: str) -> float:
        return 0.1 if re.search(r"(?i)loss|cross-entropy", head) else 0.01

    def parse(self, chunks: Iterable[bytes]) -> Iterator[Reading | Batch]:
        st = _State()
        tmpl: Template | None = None
        misses = 0
        for chunk in chunks:
            if tmpl is not None and misses < 3 and len(chunk) >= self.BULK_MIN_BYTES:
                if self._bulk(chunk, tmpl, st):
                    continue
                misses += 1
            self._lines(chunk.decode("utf-8", "replace").split("\n"), st)
            if tmpl is None and st.learn is not None:
                tmpl = _template(*st.learn)
        st.flush()
        yield from self._finish(st)

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        """Every reading of decoded lines (no fast path)."""
        st = _State()
        self._lines(lines, st)
        st.flush()
        yield from self._finish(st)

    def _bulk(self, chunk: bytes, tmpl: Template, st: _State) -> bool:
        rx, roles, whole = tmpl
        rows = rx.findall(chunk)
        if not rows:
            return False
        rest = whole.sub(b"", chunk)
        sub = _State()
        self._lines(rest.decode("utf-8", "replace").split("\n"), sub)
        sub.flush()
        metric_roles = [r for r in roles if not r.startswith("@")]
        for name, parts in sub.cols.items():
            if name in metric_roles:
                return False  # the same metric outside the template: order would change
            for _v, i, e in parts:
                need = i if ("@iter" in roles or st.any_iter or sub.any_iter) else e
                if np.isnan(need).any():
                    return False  # needs the context of the template lines
        cols = list(zip(*rows, strict=True)) if len(roles) > 1 else [tuple(rows)]
        n = len(rows)
        it = floats(cols[roles.index("@iter")]) if "@iter" in roles else np.full(n, np.nan)
        ep = floats(cols[roles.index("@epoch")]) if "@epoch" in roles else np.full(n, np.nan)
        if "@iter" not in roles and st.it is not None:
            it = np.full(n, st.it)
        if "@epoch" not in roles and st.epoch is not None:
            ep = np.full(n, st.epoch)
        st.flush()
        for j, r in enumerate(roles):
            if not r.startswith("@"):
                st.cols.setdefault(r, []).append((floats(cols[j]), it, ep))
        for name, parts in sub.cols.items():
            st.cols.setdefault(name, []).extend(parts)
        if "@iter" in roles:
            st.any_iter = True
            st.it = float(it[-1])
        if "@epoch" in roles:
            st.any_epoch = True
            st.epoch = float(ep[-1])
        st.any_iter |= sub.any_iter
        st.any_epoch |= sub.any_epoch
        return True

    def _lines(self, lines: Iterable[str], st: _State) -> None:
        for line in lines:
            if not line or not _DIGIT_RE.search(line, 0, 4096):
                if line.strip().startswith("|") and line.count("|") >= 3:
                    cells = [c.strip() for c in line.strip().strip("|").split("|")]
                    if any(is_loss_name(c) for c in cells):
                        st.table = [norm_name(c) for c in cells]
                continue
            if st.table is not None and line.strip().startswith("|"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if set("".join(cells)) <= set("-: "):
                    continue
                if len(cells) == len(st.table):
                    row = dict(zip(st.table, cells, strict=True))
                    for k in ("epoch", "ep"):
                        if k in row and row[k].isdigit():
                            st.epoch, st.any_epoch = float(row[k]), True
                    for k in ("iter", "iteration", "step", "it"):
                        if k in row and row[k].isdigit():
                            st.it, st.any_iter = float(row[k]), True
                    for k, c in row.items():
                        if k in _CONTEXT or k in NOT_METRICS:
                            continue
                        if re.fullmatch(NUM, c):
                            st.add(k, to_float(c))
                    continue
                st.table = None
            roles: list[tuple[int, int, str]] = []
            b = BRACKET_RE.match(line)
            start = 0
            if b:
                st.epoch, st.any_epoch = float(b.group(1)), True
                roles.append((b.start(1), b.end(1), "@epoch"))
                start = b.end()
            m = EPOCH_RE.search(line, start)
            if m:
                st.epoch, st.any_epoch = float(m.group(1)), True
                roles.append((m.start(1), m.end(1), "@epoch"))
            m = ITER_RE.search(line, start)
            if m:
                st.it, st.any_iter = float(m.group(1)), True
                roles.append((m.start(1), m.end(1), "@iter"))
            got = False
            for pm in PAIR_RE.finditer(line, start):
                name = norm_name(pm.group(1).strip(">-* "))
                if name in _CONTEXT or name in NOT_METRICS or not _metric_like(name):
                    continue
                st.add(name, to_float(pm.group(2)))
                roles.append((pm.start(2), pm.end(2), name))
                got = True
            if (
                got
                and st.learn is None
                and len(roles) > 1
                and any(r[2].startswith("@") for r in roles)
                and len(line) < 2000
            ):
                st.learn = (line, roles)

    def _finish(self, st: _State) -> Iterator[Batch]:
        if not st.cols:
            return
        if st.any_iter:
            self.step_unit = "iteration"
        elif st.any_epoch:
            self.step_unit = "epoch"
        else:
            self.step_unit = "step"
            self.notes.append("no step or epoch in the log: steps are reading numbers")
        for name, parts in st.cols.items():
            v = np.concatenate([p[0] for p in parts])
            it = np.concatenate([p[1] for p in parts])
            ep = np.concatenate([p[2] for p in parts])
            if st.any_iter:
                steps = it
            elif st.any_epoch:
                steps = ep
            else:
                steps = np.arange(1, len(v) + 1, dtype=np.float64)
            keep = ~np.isnan(steps)  # readings before the first step / epoch mark
            epochs = ep[keep] if not np.isnan(ep).all() else None
            yield Batch(name, split_of(name), steps[keep], v[keep], epochs)


LOGGING_RE = re.compile(
    r"(?m)^(?:\d{4}-\d\d-\d\d[ T][\d:,.]+\s*[-|]?\s*(?:\S+\s*-\s*)?(?:DEBUG|INFO|WARNING)\b"
    r"|(?:DEBUG|INFO|WARNING):[\w.]+:|\[\d{4}-\d\d-\d\d [\d:,.]+\]\[?(?:\S+\]\[)?(?:INFO|DEBUG)"
    r"|\[\d{4}-\d\d-\d\d [\d:,.]+\])"
)


class PythonLoggingReader(GenericReader):
    """Metrics written through Python's ``logging`` (``2024-01-01 10:00:00,123 - train -
    INFO - epoch 1/30 - train_loss: 1.98 - val_loss: 1.83``): parsed like print lines."""

    name = "python-logging"

    def sniff(self, head: str, filename: str) -> float:
        lines = [ln for ln in head.split("\n") if "loss" in ln.lower()]
        if not lines:
            return 0.0
        logged = sum(1 for ln in lines if LOGGING_RE.match(ln))
        return 0.15 if logged >= max(1, len(lines) // 2) else 0.0
