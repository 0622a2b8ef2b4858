"""Loss curves drawn with Unicode braille dots: a pure function from series to rows of cells.

Each character cell holds a 2 x 4 grid of dots, so a 60 x 10 plot area has 120 x 40 pixels.
Every pixel column shows the minimum to the maximum of the readings that fall into it (a
spike of one reading among thousands stays visible) and is joined to the previous column.
No Textual here: :class:`~assistant.tui.widgets.loss_plot.LossPlot` turns the cells into
styled text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Bit of each dot in a braille cell, indexed ``[row][column]`` (Unicode's dot numbering).
_DOT_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BRAILLE_BLANK = 0x2800
#: Width of the y-axis labels.
LABEL_WIDTH = 9


@dataclass(frozen=True)
class Curve:
    """One series to draw."""

    role: str
    """What it is, which is also its style name: ``train`` or ``val``."""
    steps: np.ndarray
    """x positions."""
    values: np.ndarray
    """y values; nan and inf are skipped."""


@dataclass(frozen=True)
class Cell:
    """One character of the plot and what it shows."""

    char: str
    """The character."""
    role: str
    """``train``, ``val``, ``axis``, ``label`` or ``""`` (empty plot area)."""
    marked: bool = False
    """True inside the marked x range (the primary finding's evidence)."""


def nice_number(value: float) -> str:
    """A short axis label: ``87.34``, ``1.2e+04``, ``0.0012``."""
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.2g}"
    text = f"{value:.4g}"
    return text if len(text) <= LABEL_WIDTH - 1 else f"{value:.2g}"


def _finite(curve: Curve, log_y: bool) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(curve.steps, dtype=float)
    y = np.asarray(curve.values, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if log_y:
        keep &= y > 0
    x, y = x[keep], y[keep]
    return x, (np.log10(y) if log_y else y)


def wants_log_scale(curves: list[Curve]) -> bool:
    """True when every value is positive and they span more than three decades (a loss that
    exploded would flatten everything else on a linear axis)."""
    values = [c.values[np.isfinite(c.values)] for c in curves]
    values = [v for v in values if v.size]
    if not values:
        return False
    joined = np.concatenate(values)
    return bool(joined.min() > 0 and joined.max() / joined.min() > 1e3)


def braille_plot(
    curves: list[Curve],
    width: int,
    height: int,
    *,
    span: tuple[float, float] | None = None,
    log_y: bool | None = None,
) -> list[list[Cell]]:
    """``height`` rows of ``width`` cells: y labels on the left, x labels on the last row,
    each curve in braille dots, the columns inside ``span`` marked."""
    width, height = max(width, LABEL_WIDTH + 4), max(height, 3)
    if log_y is None:
        log_y = wants_log_scale(curves)
    columns, rows = width - LABEL_WIDTH - 1, height - 1
    pixels_x, pixels_y = columns * 2, rows * 4
    points = [(c.role, *_finite(c, log_y)) for c in curves]
    points = [(role, x, y) for role, x, y in points if x.size]
    grid = [[Cell(" ", "") for _ in range(width)] for _ in range(height)]
    if not points:
        message = "no finite loss values to plot"
        for i, char in enumerate(message[: width - LABEL_WIDTH - 1]):
            grid[rows // 2][LABEL_WIDTH + 1 + i] = Cell(char, "label")
        return grid
    x_min = min(float(x.min()) for _, x, _ in points)
    x_max = max(float(x.max()) for _, x, _ in points)
    y_min = min(float(y.min()) for _, _, y in points)
    y_max = max(float(y.max()) for _, _, y in points)
    if x_max == x_min:
        x_min, x_max = x_min - 0.5, x_max + 0.5
    if y_max == y_min:
        pad = abs(y_min) * 0.05 or 0.5
        y_min, y_max = y_min - pad, y_max + pad

    bits = np.zeros((rows, columns), dtype=np.int64)
    owner = np.full((rows, columns), "", dtype=object)
    for role, x, y in points:
        px = np.clip(
            np.rint((x - x_min) / (x_max - x_min) * (pixels_x - 1)), 0, pixels_x - 1
        ).astype(np.int64)
        py = np.clip(
            np.rint((y_max - y) / (y_max - y_min) * (pixels_y - 1)), 0, pixels_y - 1
        ).astype(np.int64)
        order = np.argsort(px, kind="stable")
        px, py = px[order], py[order]
        starts = np.flatnonzero(np.r_[True, px[1:] != px[:-1]])
        column_of = px[starts]
        low = np.minimum.reduceat(py, starts)
        high = np.maximum.reduceat(py, starts)
        first_y = py[starts]
        last_y = py[np.r_[starts[1:] - 1, py.size - 1]]

        def draw(column: int, from_y: int, to_y: int, role: str = role) -> None:
            cell_col, dot_col = divmod(column, 2)
            for pixel_y in range(min(from_y, to_y), max(from_y, to_y) + 1):
                cell_row, dot_row = divmod(pixel_y, 4)
                bits[cell_row, cell_col] |= _DOT_BITS[dot_row][dot_col]
                owner[cell_row, cell_col] = role

        previous_column: int | None = None
        previous_y: int = 0
        for column, top, bottom, start_y, end_y in zip(
            column_of.tolist(),
            low.tolist(),
            high.tolist(),
            first_y.tolist(),
            last_y.tolist(),
            strict=True,
        ):
            if previous_column is not None:
                gap = column - previous_column
                joined = previous_y
                # sparse readings: a straight line across the empty columns between them
                for k in range(1, gap):
                    pixel = int(round(previous_y + (start_y - previous_y) * k / gap))
                    draw(previous_column + k, joined, pixel)
                    joined = pixel
                draw(column, min(top, joined), max(bottom, joined))
            else:
                draw(column, top, bottom)
            previous_column, previous_y = column, end_y

    marked_columns: set[int] = set()
    if span is not None and math.isfinite(span[0]) and math.isfinite(span[1]):
        lo, hi = sorted(span)
        start = int((lo - x_min) / (x_max - x_min) * (columns - 1) + 0.5)
        stop = int((hi - x_min) / (x_max - x_min) * (columns - 1) + 0.5)
        marked_columns = set(range(max(start, 0), min(stop, columns - 1) + 1))

    def y_label(value: float) -> str:
        return (
            nice_number(10**value if log_y else value)[: LABEL_WIDTH - 1].rjust(LABEL_WIDTH - 1)
            + " "
        )

    labels = {0: y_label(y_max), rows - 1: y_label(y_min)}
    if rows >= 5:
        labels[(rows - 1) // 2] = y_label((y_max + y_min) / 2)
    for row in range(rows):
        for i, char in enumerate(labels.get(row, " " * LABEL_WIDTH)):
            grid[row][i] = Cell(char, "label")
        grid[row][LABEL_WIDTH] = Cell("┤" if row in labels else "│", "axis")
        for col in range(columns):
            value = int(bits[row, col])
            marked = col in marked_columns
            grid[row][LABEL_WIDTH + 1 + col] = Cell(
                chr(_BRAILLE_BLANK + value) if value else " ",
                owner[row, col] if value else "",
                marked,
            )
    bottom_cells = [Cell(" ", "")] * LABEL_WIDTH + [Cell("└", "axis")]
    bottom_cells += [Cell("─", "axis", c in marked_columns) for c in range(columns)]
    left, right = nice_number(x_min), nice_number(x_max)
    text = left.ljust(columns - len(right)) + right if len(left) + len(right) < columns else left
    for i, char in enumerate(text[:columns]):
        if char != " ":
            bottom_cells[LABEL_WIDTH + 1 + i] = Cell(char, "label", i in marked_columns)
    grid[rows] = bottom_cells
    if log_y:
        for i, char in enumerate("log"):
            grid[rows][i] = Cell(char, "label")
    return grid


def reduce_curve(role: str, steps: np.ndarray, values: np.ndarray, max_points: int = 4000) -> Curve:
    """``steps`` / ``values`` as a :class:`Curve` of at most about ``max_points`` points: each
    block of readings keeps its lowest and highest finite value (a plot of a million readings
    looks the same, and a lone spike survives); nan and inf are kept once per block."""
    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    n = int(values.shape[0])
    if n <= max_points:
        return Curve(role, steps, values)
    block = -(-n // (max_points // 2))
    usable = (n // block) * block
    x = steps[:usable].reshape(-1, block)
    y = values[:usable].reshape(-1, block)
    finite = np.isfinite(y)
    low = np.where(finite, y, np.inf).argmin(axis=1)
    high = np.where(finite, y, -np.inf).argmax(axis=1)
    rows = np.arange(x.shape[0])
    keep_x = np.stack(
        [x[rows, np.minimum(low, high)], x[rows, np.maximum(low, high)]], axis=1
    ).ravel()
    keep_y = np.stack(
        [
            np.where(low <= high, y[rows, low], y[rows, high]),
            np.where(low <= high, y[rows, high], y[rows, low]),
        ],
        axis=1,
    ).ravel()
    if usable < n:
        keep_x = np.r_[keep_x, steps[usable:]]
        keep_y = np.r_[keep_y, values[usable:]]
    return Curve(role, keep_x, keep_y)
