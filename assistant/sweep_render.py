"""The rows of a sweep (:class:`assistant.sweep.RunRow`) as a table for the terminal, as CSV or
as JSON objects, and the summary line under the table.

The table fits the width it is given: the path column takes what the other columns leave and
a long path loses its middle (``runs/lr-0.1/…/train.log``). Paths and error messages come from
the file system and the logs, so they pass through :func:`assistant.safe.plain`.
"""

from __future__ import annotations

import csv
import io
import math
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any

from assistant.safe import plain
from assistant.sweep import RunRow

FIELDS: tuple[str, ...] = (
    "path", "format", "last_step", "step_unit", "train_loss", "val_loss", "primary",
    "confidence", "points", "error",
)  # fmt: skip
"""The keys of a JSON row and the columns of the CSV, in order."""

_UNITS = {"iteration": "iter", "step": "step", "epoch": "epoch", "update": "update"}


def _number(value: float | None) -> Any:
    """A loss for JSON: the float, or ``"nan"`` / ``"inf"`` / ``"-inf"`` (JSON has none)."""
    if value is None or math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def row_json(row: RunRow) -> dict[str, Any]:
    """One run as a JSON object with the keys of :data:`FIELDS`."""
    return {
        "path": row.path,
        "format": row.format,
        "last_step": row.last_step,
        "step_unit": row.step_unit,
        "train_loss": _number(row.train_loss),
        "val_loss": _number(row.val_loss),
        "primary": row.primary,
        "confidence": row.confidence,
        "points": row.points,
        "error": row.error,
    }


def rows_csv(rows: Sequence[RunRow]) -> str:
    """The rows as CSV text with a header row (empty cells for missing values)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows:
        data = row_json(row)
        writer.writerow(["" if data[k] is None else data[k] for k in FIELDS])
    return out.getvalue()


def _loss(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.4g}"


def _steps(row: RunRow) -> str:
    if row.last_step is None:
        return "-"
    step = row.last_step
    shown = f"{int(step):,}" if float(step).is_integer() else f"{step:,.2f}"
    return f"{_UNITS.get(row.step_unit or '', row.step_unit or '')} {shown}".strip()


def clip_middle(text: str, columns: int) -> str:
    """``text`` in at most ``columns`` characters, its middle replaced by ``…`` if need be."""
    if len(text) <= columns:
        return text
    if columns <= 1:
        return "…"[:columns]
    keep = columns - 1
    tail = (keep + 1) // 2
    return text[: keep - tail] + "…" + text[len(text) - tail :]


def rows_table(rows: Sequence[RunRow], columns: int) -> str:
    """The rows as a table in ``columns`` characters: path, format, last step, final train and
    validation loss, primary symptom and its confidence; an unreadable run shows its error.
    When the paths would get too little room, the format, last-step and validation-loss
    columns are left out, in that order."""
    header = ("PATH", "FORMAT", "LAST STEP", "TRAIN", "VAL", "PRIMARY", "CONF")
    cells = [
        [
            plain(r.path),
            r.format or "",
            _steps(r),
            _loss(r.train_loss),
            _loss(r.val_loss),
            r.primary or "(none)",
            f"{r.confidence:.2f}" if r.confidence is not None else "-",
        ]
        for r in rows
    ]
    analysed = [c for c, r in zip(cells, rows, strict=True) if not r.error]
    widths = [max([len(header[i])] + [len(c[i]) for c in analysed]) for i in range(len(header))]
    longest = max([len(c[0]) for c in cells] + [4])
    shown = list(range(len(header)))
    for optional in (1, 2, 4):  # format, last step, validation loss: the first to go
        rest = sum(widths[i] for i in shown[1:]) + 2 * (len(shown) - 1)
        if columns - rest >= min(longest, 40):
            break
        shown.remove(optional)  # telling the runs apart matters more
    rest = sum(widths[i] for i in shown[1:]) + 2 * (len(shown) - 1)
    widths[0] = max(12, min(longest, columns - rest))
    right = {2, 3, 4, 6}

    def line(values: Sequence[str]) -> str:
        parts = []
        for i in shown:
            value = clip_middle(values[i], widths[0]) if i == 0 else values[i]
            parts.append(value.rjust(widths[i]) if i in right else value.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    lines = [line(header)]
    for cell, row in zip(cells, rows, strict=True):
        if row.error:
            path = clip_middle(cell[0], widths[0]).ljust(widths[0])
            message = "unreadable: " + plain(row.error)
            room = max(20, columns - widths[0] - 2)
            if len(message) > room:
                message = message[: room - 1] + "…"
            lines.append(path + "  " + message)
        else:
            lines.append(line(cell))
    return "\n".join(lines)


def summary(rows: Sequence[RunRow], columns: int = 100) -> str:
    """One line: how many runs, how many of each primary symptom (most common first) and how
    many could not be read, e.g. ``52 runs: 8 overfitting, 6 stuck-at-chance, 1 unreadable``,
    wrapped to ``columns``."""
    counts = Counter(r.primary or "no diagnosis" for r in rows if not r.error)
    unreadable = sum(1 for r in rows if r.error)
    parts = [f"{n} {name}" for name, n in sorted(counts.items(), key=lambda t: (-t[1], t[0]))]
    if unreadable:
        parts.append(f"{unreadable} unreadable")
    noun = "run" if len(rows) == 1 else "runs"
    # a no-break space keeps each count with its symptom when the line is wrapped
    text = f"{len(rows)}\xa0{noun}: " + ", ".join(p.replace(" ", "\xa0") for p in parts)
    wrapped = textwrap.fill(text, max(40, columns), subsequent_indent="  ", break_on_hyphens=False)
    return wrapped.replace("\xa0", " ")
