"""The log formats triage reads, one small class per format family (toolong's format_parser
style). ``READERS`` lists one instance-factory per format, most specific first; ``pick``
sniffs a head of text (and the file name) with each and returns a fresh reader of the best.
"""

from __future__ import annotations

from .base import Batch, Reader
from .caffe import CaffeReader
from .csvlogs import CsvTableReader, KerasCsvReader, LightningCsvReader, Yolov5Reader, Yolov8Reader
from .darknet import DarknetReader
from .frameworks import (
    ESPnetReader,
    FairseqReader,
    HFPrintedReader,
    MMDetTextReader,
    MXNetSpeedometerReader,
    NnUNetReader,
    TFObjectDetectionReader,
    TorchExamplesReader,
)
from .generic import GenericReader, PythonLoggingReader
from .jsonlogs import Detectron2Reader, HFTrainerStateReader, JsonLinesReader, MMDetJsonReader
from .keras import KerasV1Reader, KerasV2Reader
from .progressbars import LightningBarReader, ProgressBarReader
from .tensorboard import TensorBoardReader

READERS: list[type[Reader]] = [
    TensorBoardReader,
    HFTrainerStateReader,
    CaffeReader,
    DarknetReader,
    Yolov8Reader,
    Yolov5Reader,
    LightningCsvReader,
    KerasCsvReader,
    Detectron2Reader,
    MMDetJsonReader,
    MMDetTextReader,
    FairseqReader,
    TFObjectDetectionReader,
    MXNetSpeedometerReader,
    ESPnetReader,
    NnUNetReader,
    TorchExamplesReader,
    KerasV1Reader,
    KerasV2Reader,
    HFPrintedReader,
    LightningBarReader,
    ProgressBarReader,
    JsonLinesReader,
    CsvTableReader,
    PythonLoggingReader,
    GenericReader,
]
"""Every format, most specific first (ties go to the earlier one)."""


def sniff_all(head: str, filename: str) -> list[tuple[float, str]]:
    """Every format's score for a head of text, best first."""
    scores = []
    for cls in READERS:
        try:
            s = float(cls().sniff(head, filename))
        except Exception:  # noqa: BLE001 - a sniffer must never break reading
            s = 0.0
        scores.append((s, cls.name))
    return sorted(scores, key=lambda t: -t[0])


def pick(head: str, filename: str) -> Reader:
    """A fresh reader of the format that best matches the head."""
    best: type[Reader] = GenericReader
    best_score = 0.0
    for cls in READERS:
        try:
            s = float(cls().sniff(head, filename))
        except Exception:  # noqa: BLE001
            s = 0.0
        if s > best_score:
            best, best_score = cls, s
    return best()


def by_name(name: str) -> Reader:
    """A fresh reader of the named format."""
    for cls in READERS:
        if cls.name == name:
            return cls()
    raise KeyError(name)


__all__ = ["READERS", "Batch", "Reader", "by_name", "pick", "sniff_all"]
