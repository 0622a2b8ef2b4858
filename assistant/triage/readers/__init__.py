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


def _score(cls: type[Reader], head: str, filename: str) -> float:
    try:
        return float(cls().sniff(head, filename))
    except Exception:  # noqa: BLE001 - a sniffer must never break reading
        return 0.0


def sniff_all(head: str, filename: str) -> list[tuple[float, str]]:
    """Every format's score for a head of text, best first."""
    return sorted(((_score(cls, head, filename), cls.name) for cls in READERS), key=lambda t: -t[0])


def pick(head: str, filename: str) -> Reader:
    """A fresh reader of the format that best matches the head (ties go to the earlier one)."""
    best: type[Reader] = GenericReader
    best_score = 0.0
    for cls in READERS:
        score = _score(cls, head, filename)
        if score > best_score:
            best, best_score = cls, score
    return best()


def by_name(name: str) -> Reader:
    """A fresh reader of the named format."""
    for cls in READERS:
        if cls.name == name:
            return cls()
    raise KeyError(name)


__all__ = ["READERS", "Batch", "Reader", "by_name", "pick", "sniff_all"]
