"""tqdm progress bars and the PyTorch Lightning bar:
``Epoch 3: 100%|██████| 50/50 [00:01<00:00, 25.0it/s, loss=0.693, v_num=0]`` and plain tqdm
``  3%|▎   | 30/1000 [00:01<00:30, 30.0it/s, loss=0.69]`` with metrics in the postfix.

The input layer turns each ``\\r`` refresh into a line. Every refresh is a reading at the
global batch (epoch * batches per epoch + n); a value repeated at the same position is kept
once; epoch-level metrics (``val_*``, ``*_epoch``), repeated on every refresh after the
validation that made them, are kept once, at the step where a new value first appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ..model import Reading
from .base import NOT_METRICS, NUM, Batch, LineReader, norm_name, split_of, to_float

BAR_RE = re.compile(r"(\d{1,3})%\|[^|\n]*\|\s*(\d+)/(\d+)\s*\[[^,\]\n]*(?:,\s*([^\]\n]*))?\]")
EPOCH_DESC_RE = re.compile(r"(?:Epoch|epoch) (\d+)(?:/\d+)?:?\s*$")
SKIP_DESC_RE = re.compile(r"(?i)sanity|validat|testing|predict")
# Lightning's RichProgressBar: `Epoch 5/9 ━━━━╸━━ 7/16 0:00:00 • 0:00:01 486.14it/s v_num: 0.000
# train_loss: 1.948`
RICH_RE = re.compile(
    r"Epoch (\d+)/\d+\s+[\u2500-\u257f ]*?\s(\d+)/(\d+)\s[^\n]*?(?:it/s|s/it)\s+(.*)"
)
RICH_CONT_RE = re.compile(r"^\s+(?:[A-Za-z][\w/.\-]*: " + NUM + r"\s*)+$")
RICH_PAIR_RE = re.compile(r"([A-Za-z][\w/.\-]*): (" + NUM + r")(?![\w.])")
PAIR_RE = re.compile(r"([A-Za-z][\w/.\-]*)=(" + NUM + r")")


class ProgressBarReader(LineReader):
    """tqdm / Lightning progress bars with metrics in the postfix."""

    name = "tqdm"
    step_unit = "step"

    def sniff(self, head: str, filename: str) -> float:
        bars = [m for m in BAR_RE.finditer(head) if m.group(4) and "=" in m.group(4)]
        if not bars:
            return 0.0
        if any("loss" in m.group(4) for m in bars):
            return 0.8 if re.search(r"(?:Epoch|epoch) \d+", head) else 0.7
        return 0.3

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        bar_index = -1
        last_n = -1
        last_total = -1
        last_idx: dict[str, int] = {}
        shown: dict[str, float] = {}
        later: list[Reading] = []
        out: list[Reading] = []

        def record(ep: float, n: int, total: int, pairs: list[tuple[str, str]]) -> None:
            step = ep * total + n
            for k, v in pairs:
                name = norm_name(k)
                if name in NOT_METRICS:
                    continue
                value = to_float(v)
                split = split_of(name)
                if split != "train" or name.endswith("_epoch"):
                    # shown on every refresh after the validation that made it: kept once, at
                    # the step where it first appears with that value
                    prev = shown.get(name)
                    if prev is None or not (prev == value or prev != prev and value != value):
                        shown[name] = value
                        later.append(Reading(name, split, step, value, ep))
                    continue
                i = last_idx.get(name)
                if i is not None and out[i].step == step:
                    out[i] = Reading(name, split, step, value, ep)  # a refresh at the same batch
                    continue
                last_idx[name] = len(out)
                out.append(Reading(name, split, step, value, ep))

        rich: tuple[float, int, int] | None = None
        for line in lines:
            if "%|" not in line:
                r = RICH_RE.search(line) if "/" in line and ": " in line else None
                if r is not None:
                    rich = (float(r.group(1)), int(r.group(2)), int(r.group(3)))
                    record(*rich, RICH_PAIR_RE.findall(r.group(4)))
                elif rich is not None and RICH_CONT_RE.match(line):
                    record(*rich, RICH_PAIR_RE.findall(line))  # metrics wrapped to a new line
                elif line.strip():
                    rich = None
                continue
            prev_end = 0
            for m in BAR_RE.finditer(line):
                post = m.group(4) or ""
                n, total = int(m.group(2)), int(m.group(3))
                text = line[max(prev_end, m.start() - 200) : m.start()].rstrip(" :")
                prev_end = m.end()
                if SKIP_DESC_RE.search(text):
                    continue  # Lightning's sanity / validation bars restart their counts
                desc = EPOCH_DESC_RE.search(text)
                if desc is not None:
                    ep = float(desc.group(1))
                else:
                    if n < last_n or total != last_total:
                        bar_index += 1
                    ep = float(max(bar_index, 0))
                last_n, last_total = n, total
                record(ep, n, total, PAIR_RE.findall(post))
        self.step_unit = "step"
        yield from out
        yield from later


class LightningBarReader(ProgressBarReader):
    """The PyTorch Lightning progress bar (``Epoch 3: 100%|...| 50/50 [..., v_num=0, ...]``)."""

    name = "lightning-stdout"

    def sniff(self, head: str, filename: str) -> float:
        if (
            "v_num" in head
            or RICH_RE.search(head)
            or re.search(r"Epoch \d+: +\d+%\|", head)
            and ("LOCAL_RANK" in head or "Trainable params" in head or "GPU available" in head)
        ):
            return 0.85
        return 0.0
