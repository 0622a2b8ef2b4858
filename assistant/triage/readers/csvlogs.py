"""Comma / tab separated metric tables: Keras CSVLogger (``epoch,loss,val_loss...``),
PyTorch Lightning CSVLogger ``metrics.csv`` (sparse columns, step and epoch rows), YOLOv5 /
YOLOv8 ``results.csv`` (padded column names; a derived total ``train/loss`` / ``val/loss`` =
sum of the loss components per split) and any other CSV / TSV with a loss column.

Every numeric column is a series named by its header (lower-cased, stripped); empty cells
are skipped; the step axis is the table's step / iteration column when it has one, else the
epoch column, else the row number.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

import numpy as np

from ..model import Reading, Split
from .base import (
    NOT_METRICS,
    Batch,
    LineReader,
    is_loss_name,
    is_number,
    norm_name,
    split_of,
    to_float,
)

STEP_COLS = (
    "step",
    "global_step",
    "iteration",
    "iter",
    "it",
    "num_updates",
    "update",
    "updates",
    "batch",
    "trainer/global_step",
    "_step",
)
EPOCH_COLS = ("epoch", "epochs", "ep")


def _delimiter(header: str) -> str | None:
    counts = {d: header.count(d) for d in (",", "\t", ";")}
    d, n = max(counts.items(), key=lambda kv: kv[1])
    return d if n >= 1 else None


def _header_cells(head: str) -> list[str]:
    first = next((ln for ln in head.split("\n") if ln.strip()), "")
    d = _delimiter(first)
    if d is None:
        return []
    return [c.strip().strip('"').lower() for c in first.split(d)]


def _looks_table(head: str) -> bool:
    lines = [ln for ln in head.split("\n")[:6] if ln.strip()]
    if len(lines) < 2:
        return False
    d = _delimiter(lines[0])
    if d is None:
        return False
    cells = [c.strip() for c in lines[1].split(d)]
    return sum(1 for c in cells if c == "" or is_number(c)) >= max(1, len(cells) - 1)


class CsvTableReader(LineReader):
    """Any delimited table with a loss column (generic CSV / TSV)."""

    name = "csv-table"
    step_unit = "step"

    def sniff(self, head: str, filename: str) -> float:
        cells = _header_cells(head)
        if not cells or not _looks_table(head):
            return 0.0
        if not any(is_loss_name(c) for c in cells):
            return 0.2
        return 0.6

    def split_for(self, name: str) -> Split:
        """The split of a column."""
        return split_of(name)

    def derived(self, cols: dict[str, list[float]], step: np.ndarray) -> Iterator[Batch]:
        """Extra series computed from the columns (YOLO totals)."""
        return iter(())

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        it = iter(lines)
        header_line = ""
        for ln in it:
            if ln.strip():
                header_line = ln
                break
        d = _delimiter(header_line) or ","
        header = [c.strip().strip('"') for c in next(csv.reader([header_line], delimiter=d))]
        names = [norm_name(h) for h in header]
        n = len(names)
        data: list[list[float]] = [[] for _ in range(n)]
        for ln in it:
            if not ln.strip():
                continue
            try:
                row = next(csv.reader([ln], delimiter=d))
            except (csv.Error, StopIteration):
                continue
            if len(row) < n:
                row = row + [""] * (n - len(row))
            if [c.strip().lower() for c in row[:n]] == names:
                continue  # a repeated header
            vals: list[float] = []
            for c in row[:n]:
                c = c.strip()
                vals.append(to_float(c) if c and is_number(c) else np.nan if c else _MISSING)
            for j in range(n):
                data[j].append(vals[j])
        if not data or not data[0]:
            return
        cols = {names[j]: data[j] for j in range(n)}
        arr = {k: np.array(v, dtype=np.float64) for k, v in cols.items()}
        step_col = next((c for c in STEP_COLS if c in arr), None)
        epoch_col = next((c for c in EPOCH_COLS if c in arr), None)
        rows = len(data[0])
        if step_col is not None:
            step = arr[step_col]
            self.step_unit = (
                "iteration"
                if step_col in ("iteration", "iter", "it")
                else ("update" if "update" in step_col else "step")
            )
        elif epoch_col is not None:
            step = arr[epoch_col]
            self.step_unit = "epoch"
        else:
            step = np.arange(1, rows + 1, dtype=np.float64)
            self.step_unit = "step"
            self.notes.append("no step or epoch column: steps are row numbers")
        epochs = arr[epoch_col] if epoch_col is not None else None
        for name, v in arr.items():
            if name in (step_col, epoch_col) or not name or name in NOT_METRICS:
                continue
            keep = ~np.isnan(v) | _is_nan_cell(cols[name])
            keep &= ~_missing(v, cols[name])
            keep &= ~np.isnan(step) if step is not None else keep
            if not keep.any():
                continue
            e = None
            if epochs is not None:
                e = epochs[keep]
            yield Batch(name, self.split_for(name), step[keep], v[keep], e)
        yield from self.derived(cols, step)


_MISSING = -1.2345678901234567e308  # placeholder for an empty cell


def _missing(v: np.ndarray, raw: list[float]) -> np.ndarray:
    return v == _MISSING


def _is_nan_cell(raw: list[float]) -> np.ndarray:
    return np.isnan(np.array(raw, dtype=np.float64))


class KerasCsvReader(CsvTableReader):
    """Keras CSVLogger: ``epoch,<metrics>``, one row per epoch (0-based as written)."""

    name = "keras-csvlogger"

    def sniff(self, head: str, filename: str) -> float:
        cells = _header_cells(head)
        if (
            cells
            and cells[0] == "epoch"
            and "step" not in cells
            and _looks_table(head)
            and ("loss" in cells or "val_loss" in cells)
        ):
            return 0.85
        return 0.0


class LightningCsvReader(CsvTableReader):
    """PyTorch Lightning CSVLogger ``metrics.csv``: sparse rows with ``epoch`` and ``step``."""

    name = "lightning-csv"

    def sniff(self, head: str, filename: str) -> float:
        cells = _header_cells(head)
        if not cells or not _looks_table(head):
            return 0.0
        if "step" in cells and "epoch" in cells:
            return (
                0.9
                if filename.lower() == "metrics.csv" or any(is_loss_name(c) for c in cells)
                else 0.5
            )
        return 0.0


_YOLO_LOSS = re.compile(r"^(train|val)/(box|obj|cls|dfl|seg|pose|kobj|rle)_loss$")


class _YoloBase(CsvTableReader):
    step_unit = "epoch"

    def split_for(self, name: str) -> Split:
        """YOLO's ``metrics/*`` (precision, recall, mAP) are measured on the validation set."""
        return "val" if name.startswith("metrics/") else split_of(name)

    def derived(self, cols: dict[str, list[float]], step: np.ndarray) -> Iterator[Batch]:
        for split in ("train", "val"):
            parts = [
                np.array(v, dtype=np.float64)
                for k, v in cols.items()
                if (m := _YOLO_LOSS.match(k)) and m.group(1) == split
            ]
            if parts:
                with np.errstate(all="ignore"):
                    total = np.sum(parts, axis=0)
                keep = ~np.isnan(step)
                self.notes.append(f"{split}/loss is the sum of the {split} loss components")
                yield Batch(
                    f"{split}/loss",
                    "train" if split == "train" else "val",
                    step[keep],
                    total[keep],
                    step[keep],
                )

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        for item in super().parse_lines(lines):
            if isinstance(item, Batch) and item.epochs is None:
                item = Batch(item.name, item.split, item.steps, item.values, item.steps)
            yield item


class Yolov5Reader(_YoloBase):
    """YOLOv5 ``results.csv`` (padded names, ``obj_loss``, 0-based epochs)."""

    name = "yolov5-results-csv"

    def sniff(self, head: str, filename: str) -> float:
        cells = _header_cells(head)
        if (
            "train/box_loss" in cells
            and "time" not in cells
            and ("train/obj_loss" in cells or "metrics/map_0.5" in cells)
        ):
            return 0.95
        return 0.0


class Yolov8Reader(_YoloBase):
    """Ultralytics YOLOv8+ ``results.csv`` (``time`` column, ``dfl_loss``, ``(B)`` metrics)."""

    name = "yolov8-results-csv"

    def sniff(self, head: str, filename: str) -> float:
        cells = _header_cells(head)
        if "train/box_loss" in cells and (
            "time" in cells or "train/dfl_loss" in cells or any(c.endswith("(b)") for c in cells)
        ):
            return 0.96
        if any(c.startswith("train/") and c.endswith("_loss") for c in cells) and any(
            c.startswith("val/") for c in cells
        ):
            return 0.7
        return 0.0
