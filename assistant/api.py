"""The Python API: triage a log file or values you already hold, and get the same result
objects the command line renders.

    >>> from assistant import api
    >>> result = api.triage([2.31, 2.30, 2.30, 2.31, 2.30, 2.30, 2.31, 2.30])
    >>> result.primary
    'stuck-at-chance'
    >>> result.findings[0].summary  # doctest: +ELLIPSIS
    'loss flat at 2.30... = ln 10 = 2.3026: the prediction is uniform over 10 classes'

What :func:`triage` accepts:

- a path (``str`` or ``os.PathLike``): a log file in any format ``lossdoctor triage`` reads,
  a gzip file or a run directory;
- a sequence of numbers (list, tuple, numpy array): the training loss, one value per step;
- a mapping of metric names to values: ``{"loss": [...], "val_loss": [...]}``. Each value is
  a sequence of numbers (steps 0, 1, 2... unless ``steps`` is given), a sequence of
  ``(step, value)`` pairs, or a mapping ``{step: value}``; names say the split as in logs
  (``val_loss``, ``eval_loss``, ``test/acc`` are held out);
- a pandas ``DataFrame``: one column per metric; the step is the column named ``step``,
  ``global_step``, ``iteration``, ``iter`` or ``epoch`` (in that order of preference), else the
  index. A NaN means "not logged on that row" when the row holds metrics of another split
  and none of its own (Lightning's ``metrics.csv`` writes training and validation rows
  apart); anywhere else it is a nan value;
- a pandas ``Series``: one metric, named by the series' name (``loss`` when it has none);
- a :class:`~assistant.triage.model.LogData` that a reader produced.

The result is a :class:`~assistant.triage.model.TriageResult`: ``primary`` (a symptom id or
None), ``findings`` (ranked, each with ``symptom``, ``confidence``, ``summary``,
``start_step``, ``end_step``), the ``loss`` and ``val_loss`` series it rests on, and ``log``
(every series read). :func:`to_json` gives the dictionary ``lossdoctor triage --json`` prints,
:func:`to_text` the text report. For a job still running, feed a :class:`Monitor` one value
at a time; it says as soon as a symptom shows (see :mod:`assistant.triage.monitor`). Inside a
training loop, the callbacks of :mod:`assistant.callbacks` (Keras 3, PyTorch Lightning, the
Hugging Face ``Trainer``) do that for you and can stop the training or raise on a finding.

Unusable input raises :class:`~assistant.triage.model.TriageInputError` (its ``str`` is one
line for the user) for paths, and ``ValueError`` / ``TypeError`` for in-memory values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from assistant.triage.detect import diagnose
from assistant.triage.model import (
    Finding,
    LogData,
    Series,
    TriageInputError,
    TriageResult,
)
from assistant.triage.monitor import Monitor, top_fix
from assistant.triage.readers.base import norm_name, split_of

__all__ = [
    "Finding",
    "LogData",
    "Monitor",
    "Series",
    "TriageInputError",
    "TriageResult",
    "read",
    "to_json",
    "to_text",
    "top_fix",
    "triage",
]

STEP_COLUMNS = ("step", "global_step", "iteration", "iter", "epoch")
"""DataFrame columns taken as the x axis, best first."""


def triage(
    source: Any,
    *,
    metric: str | None = None,
    steps: Sequence[float] | np.ndarray | None = None,
    name: str = "loss",
) -> TriageResult:
    """Diagnose a training run: a log path, or values in memory (see the module docstring).

    ``metric`` names the series to diagnose instead of the training loss chosen by name.
    ``steps`` gives the x positions of plain sequences; ``name`` names a bare sequence
    (``"val_loss"`` makes it a validation series).
    """
    log = read(source, steps=steps, name=name)
    if metric is not None and metric.lower() not in {s.name for s in log.series}:
        found = ", ".join(sorted({s.name for s in log.series})[:12])
        raise TriageInputError(log.path, f"no series named {metric!r} (found: {found})")
    return diagnose(log, metric.lower() if metric else None)


def read(
    source: Any, *, steps: Sequence[float] | np.ndarray | None = None, name: str = "loss"
) -> LogData:
    """The series of ``source`` (anything :func:`triage` accepts), without the diagnosis."""
    if isinstance(source, LogData):
        return source
    if isinstance(source, (str, os.PathLike)):
        from assistant.triage.read import read_log

        return read_log(os.fspath(source))
    if _is_pandas(source, "DataFrame"):
        return _from_frame(source)
    if _is_pandas(source, "Series"):
        label = str(source.name) if source.name is not None else name
        xs = steps if steps is not None else _index_steps(source.index)
        return _log("<pandas.Series>", "pandas", [_series(label, xs, source.to_numpy())])
    if isinstance(source, Mapping):
        return _log("<dict>", "python", [_series_of(k, v, steps) for k, v in source.items()])
    if isinstance(source, (bytes, bytearray)):
        raise TypeError("pass a path or values, not bytes (write the log to a file first)")
    if isinstance(source, (Sequence, np.ndarray)):
        return _log("<values>", "python", [_series_of(name, source, steps)])
    raise TypeError(
        f"cannot triage a {type(source).__name__}: pass a path, a sequence of numbers, "
        "a dict of them, or a pandas DataFrame / Series"
    )


def to_json(result: TriageResult) -> dict[str, Any]:
    """The dictionary ``lossdoctor triage --json`` prints for a result."""
    from assistant import render

    return render.triage_json(result)


def to_text(result: TriageResult, *, plot: bool = False) -> str:
    """The text report ``lossdoctor triage`` prints, with the knowledge base's causes and fixes."""
    from assistant import render
    from kb.index import load_kb

    return render.triage_text(result, load_kb(), plot=plot)


# ------------------------------------------------------------------------------- building


def _log(path: str, fmt: str, series: list[Series]) -> LogData:
    kept = tuple(s for s in series if s.points)
    if not kept:
        raise ValueError("no values to triage")
    return LogData(path=path, format=fmt, series=kept)


def _series(label: object, steps: Any, values: Any) -> Series:
    name = norm_name(str(label))
    if not name:
        raise ValueError("a metric needs a name")
    v = _floats(values, name)
    s = np.arange(v.shape[0], dtype=np.float64) if steps is None else _floats(steps, "steps")
    if s.shape != v.shape:
        raise ValueError(f"{name}: {v.shape[0]} values but {s.shape[0]} steps")
    if np.isnan(s).any():
        raise ValueError(f"{name}: a step is nan")
    return Series(name=name, split=split_of(name), steps=s, values=v)


def _series_of(label: object, values: Any, steps: Any) -> Series:
    if isinstance(values, Mapping):
        pairs = sorted(values.items())
        return _series(label, [p[0] for p in pairs], [p[1] for p in pairs])
    if _is_pandas(values, "Series"):
        return _series(
            label, _index_steps(values.index) if steps is None else steps, values.to_numpy()
        )
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{label}: expected a sequence of numbers, got {type(values).__name__}")
    arr = np.asarray(values, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 2:  # (step, value) pairs
        return _series(label, arr[:, 0], arr[:, 1])
    return _series(label, steps, values)


def _floats(values: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what}: not numbers ({error})") from None
    if arr.ndim != 1:
        raise ValueError(f"{what}: expected one value per step, got shape {arr.shape}")
    return arr


def _is_pandas(obj: object, kind: str) -> bool:
    cls = type(obj)
    return cls.__module__.startswith("pandas") and cls.__name__ == kind


def _index_steps(index: Any) -> np.ndarray | None:
    try:
        return np.asarray(index, dtype=np.float64)
    except (TypeError, ValueError):
        return None  # a non-numeric index: count the rows


def _from_frame(frame: Any) -> LogData:
    columns = {str(c).strip().lower(): c for c in frame.columns}
    step_col = next((columns[c] for c in STEP_COLUMNS if c in columns), None)
    index = _index_steps(frame.index)
    if step_col is not None:
        x: np.ndarray = np.asarray(frame[step_col], dtype=np.float64)
    elif index is not None:
        x = index
    else:
        x = np.arange(len(frame), dtype=np.float64)
    epoch_col = columns.get("epoch")
    epochs = np.asarray(frame[epoch_col], dtype=np.float64) if epoch_col is not None else None
    metrics: list[tuple[Any, np.ndarray]] = []
    for col in frame.columns:
        if col in (step_col, epoch_col):
            continue
        try:
            metrics.append((col, np.asarray(frame[col], dtype=np.float64)))
        except (TypeError, ValueError):
            continue  # text columns (a run name, a timestamp) are not metrics
    if not metrics:
        raise ValueError("the DataFrame has no numeric column")
    present = np.column_stack([~np.isnan(v) for _, v in metrics])
    splits = [split_of(norm_name(str(col))) for col, _ in metrics]
    out: list[Series] = []
    for i, (col, v) in enumerate(metrics):
        same = [j for j, sp in enumerate(splits) if sp == splits[i] and j != i]
        other = [j for j, sp in enumerate(splits) if sp != splits[i]]
        # a NaN is "not logged on this row" when the row holds another split's metrics and
        # none of this split's: Lightning writes training and validation rows apart
        gap = np.isnan(v) & present[:, other].any(axis=1) & ~present[:, same].any(axis=1)
        keep = ~np.isnan(x) & ~gap
        if not keep.any():
            continue
        s = _series(col, x[keep], v[keep])
        if epochs is not None:
            s = Series(s.name, s.split, s.steps, s.values, "step", epochs[keep])
        out.append(s)
    return _log("<pandas.DataFrame>", "pandas", out)
