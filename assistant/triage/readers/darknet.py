"""darknet / AlexeyAB darknet training output:
``75: 625.195312, 517.632019 avg[ loss], 0.000000 rate, 351.3 seconds, 4800 images``: the
iteration, the current loss, the running average loss and the learning rate. Series: ``loss``,
``avg_loss``, ``rate`` (the learning rate, named as printed), on iterations."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ..model import Reading
from .base import NUM_B, Batch, Reader, floats

LINE_RE = re.compile(
    rb"(?m)^ *(\d+): *("
    + NUM_B
    + rb"|-?nan|-?inf), *("
    + NUM_B
    + rb"|-?nan|-?inf) avg(?: loss)?, *("
    + NUM_B
    + rb") rate"
)
_HEAD_RE = re.compile(r"(?m)^ *\d+: *[-\d.naif]+, *[-\d.naif]+ avg(?: loss)?, *[-\d.e]+ rate")


class DarknetReader(Reader):
    """darknet detector training output."""

    name = "darknet"
    step_unit = "iteration"

    def sniff(self, head: str, filename: str) -> float:
        n = len(_HEAD_RE.findall(head))
        return 0.95 if n >= 2 else (0.7 if n else 0.0)

    def parse(self, chunks: Iterable[bytes]) -> Iterator[Reading | Batch]:
        for chunk in chunks:
            rows = LINE_RE.findall(chunk)
            if not rows:
                continue
            it, cur, avg, rate = zip(*rows, strict=True)
            steps = floats(it)
            yield Batch("loss", "train", steps, floats(cur))
            yield Batch("avg_loss", "train", steps, floats(avg))
            yield Batch("rate", "train", steps, floats(rate))
