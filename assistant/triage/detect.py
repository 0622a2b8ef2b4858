"""Detectors of the triage engine: name the symptoms a loss curve shows and pick the primary one.

:func:`diagnose` takes the series a reader extracted (:class:`LogData`), selects the training
and validation loss (:mod:`assistant.triage.select`), runs one detector per symptom and
ranks the findings. Detectors rest on robust statistics (:mod:`assistant.triage.stats`):
Mann-Kendall scores and Theil-Sen slopes on block medians, noise from first differences,
medians of the first and last fifth of a run; no verdict rests on a single noisy reading.

Symptom ids (see ``kb``): stuck-87-3365, stuck-at-chance, stuck-at-clamp, stuck-constant,
nan-loss, diverging, oscillating, spikes, plateau, slow-decrease, overfitting,
train-flat-val-falling, both-rising, val-below-train, zero-loss, negative-loss, periodic,
still-learning.

The primary finding is the most specific one that is confident enough (0.5 or more), in
the order of :data:`SYMPTOMS`: a magic constant (in the total, a component or the validation
loss) beats everything; an exactly constant loss or a learning rate of 0, a zero or negative
loss come next; a nan beats the curve shapes, unless the loss exploded by an order of
magnitude or more just before it (then ``diverging``, as a blow-up by orders of magnitude
is); repeated order-of-magnitude spikes outrank the train/validation relations, which
outrank the single-curve shapes; a repeating shape tied to the epoch outranks spikes and
oscillation; ``still-learning`` is the healthy default. When nothing reaches 0.5 the best
supported weak finding is the primary.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from assistant.triage.model import Finding, LogData, Series, TriageResult
from assistant.triage.select import Selection, base_name, select_series
from assistant.triage.stats import (
    autocorrelation,
    block_reduce,
    edge_level,
    fmt_step,
    fmt_value,
    mad_sigma,
    mann_kendall_z,
    moving_mean,
    noise_level,
    print_tolerance,
    printed_decimals,
    rolling_median,
    theil_sen,
)

__all__ = ["diagnose", "SYMPTOMS", "PRIMARY_MIN_CONFIDENCE"]

SYMPTOMS: tuple[str, ...] = (
    "stuck-87-3365",
    "stuck-at-clamp",
    "stuck-at-chance",
    "stuck-constant",
    "zero-loss",
    "negative-loss",
    "nan-loss",
    "both-rising",
    "diverging",
    "overfitting",
    "train-flat-val-falling",
    "val-below-train",
    "periodic",
    "spikes",
    "oscillating",
    "plateau",
    "slow-decrease",
    "still-learning",
)
"""Every symptom id the detectors emit, most specific first (the default ranking)."""

_RANK = {s: float(i) for i, s in enumerate(SYMPTOMS)}
_RANK_DIVERGED_INTO_NAN = _RANK["nan-loss"] - 0.5
"""A loss that exploded by orders of magnitude and then turned nan is labelled diverging."""

_RANK_SEVERE_SPIKES = _RANK["both-rising"] - 0.25
"""Repeated jumps by an order of magnitude outrank the train/validation relations."""

PRIMARY_MIN_CONFIDENCE = 0.5
"""Findings below this confidence are reported but never chosen as primary."""

# ---------------------------------------------------------------------------------------------
# Magic numbers: the clamp constants come from the knowledge base's table (kb.numbers), which
# owns them with their formulas; the tolerances and fractions used on logged values are here.
# ---------------------------------------------------------------------------------------------


def _clamps_from_kb() -> dict[float, tuple[str, str]]:
    from kb.numbers import table

    clamps: dict[float, tuple[str, str]] = {}
    for row in table():
        if row.is_clamp and row.value not in clamps:
            clamps[row.value] = (row.symptom, f"{row.formula.split(',')[0]}: {row.meaning}")
    return clamps


_CLAMPS = _clamps_from_kb()
_FLT_MIN_LOSS = 87.3365447506
_DBL_MIN_LOSS = 708.3964185323
_FRACTIONS_COMMON = ((1, 2), (1, 3), (2, 3), (1, 4), (3, 4), (2, 1), (3, 1))
_FRACTIONS_FINE = tuple((p, q) for q in (5, 6, 7, 8) for p in range(1, q) if math.gcd(p, q) == 1)
_NO_FRACTIONS = (9.7040605278, 16.6355323334)  # values of the table's float16 rows
"""The float16 clamps are k ln 2: their fractions are ln of powers of two (chance levels)."""


def _build_targets() -> list[tuple[float, str, str]]:
    out: list[tuple[float, str, str]] = []
    for k, (sym, desc) in _CLAMPS.items():
        out.append((k, sym, f"{fmt_value(k, 6)} = {desc}"))
        if k in _NO_FRACTIONS:
            continue
        fr = _FRACTIONS_COMMON + (_FRACTIONS_FINE if k in (_FLT_MIN_LOSS, _DBL_MIN_LOSS) else ())
        for p, q in fr:
            v = k * p / q
            c = int(round(math.exp(v))) if v < 30 else 0
            if c >= 2 and abs(math.log(c) - v) < 1e-3 and _plausible_class_count(c):
                continue  # e.g. -ln(1e-12)/4 = ln 1000: a chance level, not a share of the batch
            label = f"{p}/{q}" if q != 1 else f"{p} x"
            what = "a share of the batch at" if q != 1 else "several losses each at"
            out.append(
                (
                    v,
                    sym,
                    f"{fmt_value(v, 6)} = {label} of {fmt_value(k, 6)} ({what} the clamp {desc})",
                )
            )
    return out


def _known_constant(value: float) -> tuple[str, str] | None:
    """The meaning of a loss value if it is a known clamp constant (or a simple fraction of one).

    Returns ``(symptom_id, description)`` or None. The tolerance is the precision the value
    was printed with (87.34 matches 87.3365) but never looser than that.

    The constants are the clamp rows of the knowledge base's magic-number table; the tolerance
    follows the printed precision, which a log's value carries and a query's does not.
    """
    if not np.isfinite(value) or value <= 0:
        return None
    # an integer print ("100", "87") is taken at face value: 87 is not 87.3365
    tol = (
        max(print_tolerance(value), 2e-5 * abs(value))
        if printed_decimals(value) > 0
        else 1e-9 * abs(value)
    )
    d = np.abs(_TARGET_VALUES - value)
    i = int(np.argmin(d))
    if d[i] <= tol:
        return _TARGETS[i][1], _TARGETS[i][2]
    return None


_COMMON_CLASS_COUNTS = frozenset(
    {
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        16,
        17,
        18,
        19,
        20,
        21,
        23,
        24,
        25,
        26,
        30,
        32,
        37,
        40,
        43,
        47,
        50,
        51,
        60,
        64,
        80,
        81,
        90,
        91,
        100,
        101,
        102,
        120,
        128,
        150,
        172,
        196,
        200,
        256,
        257,
        365,
        397,
        500,
        512,
        601,
        1000,
        1001,
        1024,
        5089,
        8631,
        10000,
        10177,
        10575,
        11221,
        21841,
        85742,
        93431,
    }
)
"""Class counts of common data sets (MNIST/CIFAR 10, CIFAR-100, ImageNet 1000/1001/21841,
COCO 80/81/91, VOC 20/21, Places 365, face-identity sets...)."""


def _plausible_class_count(c: int) -> bool:
    if c < 2 or c > 2_000_000:
        return False
    if c <= 20 or c in _COMMON_CLASS_COUNTS:
        return True
    if c & (c - 1) == 0:
        return True
    digits = len(str(c))
    return c % (10 ** (digits - 1)) == 0


def _class_count_for(loss: float, tol: float) -> int | None:
    """The class count C with ln C = loss (C plausible), or None."""
    if not np.isfinite(loss) or loss < 0.5 or loss > 15:
        return None
    est = math.exp(loss)
    cands = {int(math.floor(est)), int(math.ceil(est))}
    digits = len(str(int(est)))
    step = 10 ** max(digits - 1, 0)
    cands |= {int(round(est / step) * step)}
    cands |= {c for c in _COMMON_CLASS_COUNTS if abs(math.log(c) - loss) <= tol}
    best = None
    for c in sorted(cands):
        if not _plausible_class_count(c):
            continue
        d = abs(math.log(c) - loss)
        if d <= tol and (best is None or d < best[0]):
            best = (d, c)
    return best[1] if best else None


_TARGETS = _build_targets()
_TARGET_VALUES = np.array([t[0] for t in _TARGETS])


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@dataclass
class _Cand:
    finding: Finding
    rank: float
    epoch_bound: bool = False
    """For a periodic finding: the period is one epoch (the order of the data)."""
    strength: float = 0.0
    """For a periodic finding: the autocorrelation at the period."""


def _unit(s: Series) -> str:
    u = (s.step_unit or "step").lower()
    return u if u in ("iteration", "step", "epoch", "update") else "step"


def _at(s: Series, step: float) -> str:
    return f"{_unit(s)} {fmt_step(step)}"


def _span(s: Series, a: float, b: float) -> str:
    if a == b:
        return f"at {_at(s, a)}"
    return f"from {_unit(s)} {fmt_step(a)} to {fmt_step(b)}"


def _ratio(r: float) -> str:
    """A growth factor: ``23.5``, ``4,342``, ``9.7e30``."""
    if not np.isfinite(r):
        return "inf"
    if r >= 1e5:
        return fmt_value(r, 2)
    return f"{r:,.0f}" if r >= 100 else f"{r:.1f}"


def _readings(k: int, series: Series) -> str:
    """``k`` readings of ``series`` in words; a reduced series' count is scaled back to the log."""
    if series.readings is not None and series.points:
        return f"about {round(k * series.readings / series.points):,} readings"
    return f"{k:,} reading" + ("" if k == 1 else "s")


def _finite(s: Series) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(s.values)
    return s.steps[ok], s.values[ok]


def _cand(
    symptom: str,
    conf: float,
    summary: str,
    a: float | None,
    b: float | None,
    series: Series | None,
    rank: float | None = None,
) -> _Cand:
    conf = float(min(max(conf, 0.0), 1.0))
    f = Finding(symptom, round(conf, 3), summary, a, b, series.name if series is not None else None)
    return _Cand(f, _RANK[symptom] if rank is None else rank)


def _sig_trend(y: np.ndarray) -> float:
    """Mann-Kendall z, with strictly monotone runs of 3-4 readings counted as significant."""
    n = y.shape[0]
    if n < 2:
        return 0.0
    if n <= 4:
        d = np.diff(y)
        if np.all(d > 0):
            return 2.5
        if np.all(d < 0):
            return -2.5
    return mann_kendall_z(y)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and end (inclusive) index of every run of True in ``mask``."""
    if mask.shape[0] == 0:
        return []
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=False))


def _series_decimals(y: np.ndarray) -> int:
    """The decimals a log prints a series with: the most any of (a sample of) its readings shows."""
    sample = y if y.shape[0] <= 400 else y[np.linspace(0, y.shape[0] - 1, 400).astype(int)]
    return max((printed_decimals(float(v)) for v in sample if np.isfinite(v)), default=0)


def _significant_digits(value: float) -> int:
    """Significant digits of the shortest repr: 2.23 -> 3, 87.3365 -> 6, 100.0 -> 1."""
    mant = repr(abs(float(value))).lower().split("e")[0]
    if mant.endswith(".0"):
        return len(mant[:-2].strip("0")) or 1
    return len(mant.replace(".", "").lstrip("0")) or 1


def _series_digits(y: np.ndarray) -> int:
    """The significant digits a log prints a series with (the most any sampled reading shows)."""
    sample = y if y.shape[0] <= 400 else y[np.linspace(0, y.shape[0] - 1, 400).astype(int)]
    return max(
        (_significant_digits(float(v)) for v in sample if np.isfinite(v) and v != 0), default=0
    )


def _specific(value: float) -> bool:
    """A value printed with enough digits that one reading of it is already telling."""
    return abs(value - round(value)) > 1e-9 and print_tolerance(value) <= 1e-3 * abs(value)


# ---------------------------------------------------------------------------------------------
# Detectors
# ---------------------------------------------------------------------------------------------


def _magic(s: Series, role: str, main: Series | None) -> list[_Cand]:
    """Runs of readings at a clamp constant (87.3365, 100, 16.1181...) or a fraction of one."""
    v = s.values
    ok = np.isfinite(v) & (v > 0)
    if not ok.any():
        return []
    vv = np.where(ok, v, -1.0)
    near = ok & (_nearest_target_rel(vv) <= 2e-3)
    if not near.any():
        return []
    near_idx = np.flatnonzero(near)
    uniq, inverse = np.unique(v[near_idx], return_inverse=True)
    labels: list[str | None] = []
    for u in uniq.tolist():
        k = _known_constant(float(u))
        labels.append(None if k is None else k[1])
    names = sorted({lab for lab in labels if lab is not None})
    if not names:
        return []
    code_of = np.array([-1 if lab is None else names.index(lab) for lab in labels], dtype=int)
    codes = np.full(v.shape[0], -1, dtype=int)
    codes[near_idx] = code_of[inverse]
    out: list[_Cand] = []
    best: dict[str, tuple[int, int, int]] = {}
    for ci, key in enumerate(names):
        mask = codes == ci
        runs = _runs(mask)
        if not runs:
            continue
        a, b = max(runs, key=lambda r: (r[1] - r[0], r[0]))
        best[key] = (a, b, int(mask.sum()))
    for a, b, total in best.values():
        value = float(v[a])
        sym_desc = _known_constant(value)
        if sym_desc is None:
            continue
        sym, desc = sym_desc
        length = b - a + 1
        fraction = "/" in desc.split("=")[1][:6] or " x " in desc.split("=")[1][:6]
        digits = _significant_digits(value)
        integer = abs(value - round(value)) < 1e-9
        # one reading is telling only for the constant itself printed in full (87.3365); a
        # fraction or a short print needs the loss to repeat it (coincidences in long logs)
        if length >= 3 or (length == 2 and (digits >= 5 or integer)):
            conf = 0.88 if fraction else 0.95
        elif length == 1 and not fraction and digits >= 5:
            conf = 0.85
        else:
            continue
        del total
        if role != "loss":
            conf -= 0.03
        tail = ""
        if main is not None and main is not s:
            mv = main.values[np.isfinite(main.steps) & np.isin(main.steps, s.steps[a : b + 1])]
            if mv.shape[0] and not np.isfinite(mv).all():
                tail = f" while {main.name} is nan"
        what = "constant at" if length >= 2 else "at"
        summary = (
            f"{s.name} {what} {fmt_value(value, 6)} {_span(s, s.steps[a], s.steps[b])} "
            f"({_readings(length, s)}){tail}: {desc}"
        )
        out.append(_cand(sym, conf, summary, float(s.steps[a]), float(s.steps[b]), s))
    return out


_SORTED_TARGETS = np.sort(_TARGET_VALUES)


def _nearest_target_rel(vv: np.ndarray) -> np.ndarray:
    """Relative distance of every value to the nearest clamp target (O(n log targets))."""
    t = _SORTED_TARGETS
    i = np.clip(np.searchsorted(t, vv), 1, t.shape[0] - 1)
    lo, hi = t[i - 1], t[i]
    return np.minimum(np.abs(vv - lo) / lo, np.abs(vv - hi) / hi)


def _chance(s: Series, sel: Selection, role: str) -> list[_Cand]:
    """A cross-entropy flat at ln C (C inferred), confirmed by an accuracy near 1/C."""
    x, y = _finite(s)
    n = y.shape[0]
    if n < 2:
        return []
    k = max(2, int(math.ceil(0.3 * n)))
    tail = y[-k:]
    m = float(np.median(tail))
    trending = False
    if k >= 4:
        # noisy per-batch readings around the chance level: small scatter, no drift
        scatter = mad_sigma(tail)
        z = mann_kendall_z(tail)
        if scatter > 0.01 * abs(m) or abs(z) >= 2.5:
            return []
        trending = abs(z) >= 1.5 or bool(np.all(np.diff(tail) > 0) or np.all(np.diff(tail) < 0))
    else:
        scatter = float(tail.max() - tail.min()) / 2
        if 2 * scatter > max(0.004 * abs(m), 1.2 * 10.0 ** -_series_decimals(tail)):
            return []
    # a softmax at chance sits at ln C to the printed precision (large C: C itself is rounded)
    printed = min(0.6 * 10.0 ** -_series_decimals(tail), 0.005)
    c = _class_count_for(m, 0.003 + printed + scatter / math.sqrt(k))
    if c is None:
        c = _class_count_for(m, 0.012 + scatter)
        if c is None or c <= 100:
            return []
    if any(_known_constant(float(t)) for t in tail[-2:]):
        return []
    if trending:
        # a tail still moving must be converging onto ln C, not drifting past it
        lnc = math.log(c)
        if not (
            abs(float(tail[-1]) - lnc) < abs(float(tail[0]) - lnc)
            and abs(float(tail[-1]) - lnc) <= 0.003 + printed
        ):
            return []
    conf = 0.85 if (c <= 20 or c in _COMMON_CLASS_COUNTS) else 0.7
    if y.min() < math.log(c) * 0.8 and y[np.argmin(y)] < m - 0.1:
        conf -= 0.15  # it was well below chance once: more a collapse than a start-up stall
    acc_note = ""
    for a in (*sel.accuracy, *sel.val_accuracy):
        _, av = _finite(a)
        if av.shape[0] and abs(float(np.median(av[-max(1, av.shape[0] // 3) :])) - 1.0 / c) <= max(
            0.02, 0.25 / c
        ):
            conf += 0.08
            acc_note = f"; {a.name} {fmt_value(float(av[-1]))} = 1/{c}"
            break
    first = int(n - k)
    summary = (
        f"{s.name} flat at {fmt_value(m, 6)} {_span(s, x[first], x[-1])} ({_readings(k, s)}) "
        f"= ln {c:,} = {math.log(c):.4f}: the prediction is uniform over {c:,} classes{acc_note}"
    )
    if role != "loss":
        conf -= 0.03
    return [_cand("stuck-at-chance", conf, summary, float(x[first]), float(x[-1]), s)]


def _mse_half(s: Series, sel: Selection) -> list[_Cand]:
    """A squared error converging on 0.25 with 0/1 targets: the model predicts 0.5 for everything."""
    x, y = _finite(s)
    n = y.shape[0]
    if n < 5:
        return []
    k = max(3, int(round(0.2 * n)))
    tail = y[-k:]
    if not np.all(np.abs(tail - 0.25) <= 0.0035) or abs(float(y[-1]) - 0.25) > 0.0015:
        return []
    if float(y.min()) < 0.25 - 0.002:
        return []
    outs = []
    for o in sel.others:
        _, ov = _finite(o)
        if (
            ov.shape[0] >= 2
            and abs(float(np.median(ov[-max(2, ov.shape[0] // 5) :])) - 0.5) <= 0.01
        ):
            outs.append(f"{o.name} {fmt_value(float(ov[-1]))}")
    conf = 0.85 if outs else 0.45
    note = f"; outputs at 0.5 ({', '.join(outs[:3])})" if outs else ""
    summary = (
        f"{s.name} converges on 0.25 ({fmt_value(float(y[0]))} -> {fmt_value(float(y[-1]), 5)} "
        f"at {_at(s, x[-1])}): a squared error of a constant 0.5 prediction for 0/1 targets{note}"
    )
    first = n - k
    return [_cand("stuck-at-chance", conf, summary, float(x[first]), float(x[-1]), s)]


def _stuck_constant(s: Series, sel: Selection, exclude: bool) -> list[_Cand]:
    """A loss exactly constant at a value with no known meaning."""
    if exclude:
        return []
    x, y = _finite(s)
    n = y.shape[0]
    if n < 2:
        return []
    same = np.abs(np.diff(y)) <= 1e-12 * np.maximum(1.0, np.abs(y[1:]))
    runs = [(a, b + 1) for a, b in _runs(same)]
    if not runs:
        return []
    a, b = max(runs, key=lambda r: (r[1] - r[0], r[0]))
    length = b - a + 1
    value = float(y[a])
    # equal readings only mean "exactly constant" when the log prints enough digits for a
    # flat-but-noisy loss to show changes (a loss printed as 1.87 repeats by itself)
    if value == 0 or 10.0 ** -_series_decimals(y) > 1e-3 * abs(value) or _series_digits(y) < 4:
        return []
    if not (length >= 3 or (length == n and _specific(value))):
        return []
    if length < 0.3 * n and b != n - 1:
        return []
    conf = 0.8 if length >= 3 else 0.6
    before = y[max(0, a - 3) : a]
    if before.shape[0] >= 2 and np.all(np.abs(before - value) <= 0.01 * abs(value)):
        d = np.diff(np.concatenate([before, [value]]))
        if np.all(d <= 0) or np.all(d >= 0):
            conf = 0.45  # it crept onto this value: a converged loss printed to 4 digits
    note = ""
    for acc in (*sel.accuracy, *sel.val_accuracy):
        ax, av = _finite(acc)
        if av.shape[0] >= 2 and float(av.max() - av.min()) == 0:
            conf += 0.1
            note = f"; {acc.name} frozen at {fmt_value(float(av[0]))}"
            break
    summary = (
        f"{s.name} constant at {fmt_value(value, 6)} {_span(s, x[a], x[b])} ({_readings(length, s)}), "
        f"a value with no known meaning: the parameters are not being updated{note}"
    )
    return [_cand("stuck-constant", conf, summary, float(x[a]), float(x[b]), s)]


def _lr_zero(sel: Selection) -> list[_Cand]:
    """A learning rate of 0 on every reading: nothing can change."""
    lr = sel.lr
    if lr is None:
        return []
    x, y = _finite(lr)
    if y.shape[0] < 2 or np.any(y != 0):
        return []
    conf = 0.85
    note = ""
    if sel.loss is not None:
        _, ly = _finite(sel.loss)
        if ly.shape[0] >= 4 and np.all(ly > 0):
            start, end = edge_level(ly, 0.2, False), edge_level(ly, 0.2, True)
            if end < 0.5 * start and float(np.mean(np.diff(ly) < 0)) >= 0.7:
                conf = 0.55
                note = " (the loss still fell: the printed rate may be rounded)"
    summary = (
        f"{lr.name} is 0 on every reading {_span(lr, x[0], x[-1])} ({_readings(y.shape[0], lr)}): "
        f"the parameters are not updated{note}"
    )
    return [_cand("stuck-constant", conf, summary, float(x[0]), float(x[-1]), lr)]


def _zero(s: Series) -> list[_Cand]:
    """A loss at exactly 0 (as printed), or collapsed to practically 0: four orders of magnitude
    below where it started and under 1e-3 over its last fifth."""
    x, y = _finite(s)
    if y.shape[0] < 2:
        return []
    zero = np.abs(y) <= 1e-12
    runs = _runs(zero)
    if not runs:
        return _near_zero(s, x, y)
    a, b = max(runs, key=lambda r: (r[1] - r[0], r[0]))
    length = b - a + 1
    if length < 2:
        return []
    if b < y.shape[0] - 1 and length < 0.5 * y.shape[0]:
        return []  # zeros in passing (a value printed as 0.0000) are not a state
    conf = 0.92 if length >= 3 else 0.72
    after = (
        s.values[np.flatnonzero(s.steps == x[b])[-1] + 1 :]
        if np.any(s.steps == x[b])
        else s.values[:0]
    )
    if after.shape[0] and not np.isfinite(after).all():
        conf = 0.45  # the zeros led into nan: the nan is the symptom
    before = y[:a]
    prior = f"; it was {fmt_value(float(before[0]))} at {_at(s, x[0])}" if before.shape[0] else ""
    summary = (
        f"{s.name} is exactly 0 {_span(s, x[a], x[b])} ({_readings(length, s)}){prior}: "
        f"nothing left to learn, or a leak or bug in the loss"
    )
    return [_cand("zero-loss", conf, summary, float(x[a]), float(x[b]), s)]


def _near_zero(s: Series, x: np.ndarray, y: np.ndarray) -> list[_Cand]:
    n = y.shape[0]
    if n < 5 or not np.isfinite(s.values).all() or np.any(y < 0):
        return []
    k = max(2, int(round(0.2 * n)))
    tail = y[-k:]
    start = max(float(y[0]), edge_level(y, 0.2, False))
    if start <= 0 or float(tail.max()) >= min(1e-3, 1e-4 * start):
        return []
    a = n - k
    while a > 0 and y[a - 1] < min(1e-3, 1e-4 * start):
        a -= 1
    summary = (
        f"{s.name} collapsed to practically 0: {fmt_value(float(tail.max()))} or less "
        f"{_span(s, x[a], x[-1])} ({_readings(n - a, s)}), from {fmt_value(float(y[0]))} at {_at(s, x[0])}: "
        f"a leak of the target into the input, or a bug in the loss"
    )
    return [_cand("zero-loss", 0.75, summary, float(x[a]), float(x[-1]), s)]


def _negative(s: Series) -> list[_Cand]:
    x, y = _finite(s)
    if y.shape[0] == 0:
        return []
    neg = y < -1e-9
    k = int(neg.sum())
    if k == 0:
        return []
    if k == y.shape[0]:
        conf = 0.93 if k >= 2 else 0.6
    elif k >= 2:
        conf = 0.75
    else:
        conf = 0.4
    i = np.flatnonzero(neg)
    summary = (
        f"{s.name} is negative on {k} of {y.shape[0]} readings "
        f"({fmt_value(float(y[i[0]]))} at {_at(s, x[i[0]])} ... {fmt_value(float(y[i[-1]]))} "
        f"at {_at(s, x[i[-1]])}): a loss that can go below 0 (dice, log-likelihood, a sign error)"
    )
    return [_cand("negative-loss", conf, summary, float(x[i[0]]), float(x[i[-1]]), s)]


def _nan(s: Series, role: str, parts: tuple[Series, ...] = ()) -> list[_Cand]:
    """Non-finite readings: onset, count, and what the loss did before."""
    v = s.values
    bad = ~np.isfinite(v)
    if not bad.any():
        return []
    idx = np.flatnonzero(bad)
    onset = int(idx[0])
    k = int(bad.sum())
    kind = "nan" if np.isnan(v[onset]) else "inf"
    steps = s.steps
    pre_x, pre_y = steps[:onset][np.isfinite(v[:onset])], v[:onset][np.isfinite(v[:onset])]
    out: list[_Cand] = []
    recovered = bool(np.isfinite(v[onset:]).any())
    where = f"{kind} at {_at(s, steps[onset])}"
    if k > 1:
        where += f" ({k:,} of {v.shape[0]:,} readings, last at {_at(s, steps[idx[-1]])})"
    if pre_y.shape[0] >= 2:
        a, b = float(pre_y[0]), float(pre_y[-1])
        verb = "rose" if b > a * 1.05 else ("fell" if b < a * 0.95 else "stayed at")
        span = pre_x[-1] - pre_x[0]
        if verb == "stayed at":
            prefix = f"{s.name} stayed at {fmt_value(a)}..{fmt_value(b)} over {fmt_step(span)} {_unit(s)}s before "
        else:
            prefix = f"{s.name} {verb} {fmt_value(a)} -> {fmt_value(b)} over {fmt_step(span)} {_unit(s)}s before "
    elif pre_y.shape[0] == 1:
        prefix = f"{s.name} was {fmt_value(float(pre_y[0]))} at {_at(s, pre_x[0])}, then "
    else:
        prefix = f"{s.name} is "
    summary = prefix + where + ("; finite again afterwards" if recovered else "")
    finite_parts = [p.name for p in parts if p.values.shape[0] and np.isfinite(p.values).all()]
    if finite_parts and role == "loss":
        summary += f" while {', '.join(finite_parts[:4])} stay finite"
    if role == "loss":
        conf = 0.95 if k >= 2 else 0.85
        if recovered and k == 1:
            conf = 0.7
    elif role == "val":
        conf = 0.75
    else:
        conf = 0.55
    out.append(_cand("nan-loss", conf, summary, float(steps[onset]), float(steps[idx[-1]]), s))
    if role == "loss" and pre_y.shape[0] >= 2 and np.all(pre_y > 0):
        base = float(np.min(pre_y[:-1]))
        last = float(pre_y[-1])
        if base > 0 and last / base >= 10 and last >= float(np.max(pre_y)) * 0.5:
            i0 = int(np.argmin(pre_y[:-1]))
            summary = (
                f"{s.name} exploded from {fmt_value(base)} at {_at(s, pre_x[i0])} to {fmt_value(last)} at "
                f"{_at(s, pre_x[-1])} (x{_ratio(last / base)}), then {kind} from {_at(s, steps[onset])}"
            )
            out.append(
                _cand(
                    "diverging",
                    0.9,
                    summary,
                    float(pre_x[i0]),
                    float(steps[onset]),
                    s,
                    rank=_RANK_DIVERGED_INTO_NAN,
                )
            )
    return out


@dataclass
class _Shape:
    """Trend summary of one finite series."""

    n: int
    z: float
    start: float
    end: float
    rel: float
    z_tail: float
    tail_rel: float
    tail_from: int
    noise: float


def _shape(y: np.ndarray, x: np.ndarray) -> _Shape | None:
    n = y.shape[0]
    if n < 3:
        return None
    z = _sig_trend(y)
    start = edge_level(y, 0.2, False)
    end = edge_level(y, 0.2, True)
    rel = (end - start) / abs(start) if start != 0 else 0.0
    k = max(3, int(math.ceil(0.4 * n)))
    k = min(k, n)
    ty, tx = y[-k:], x[-k:]
    zt = _sig_trend(ty)
    slope, _ = theil_sen(tx, ty)
    level = abs(float(np.median(ty))) or 1.0
    tail_rel = slope * float(tx[-1] - tx[0]) / level
    return _Shape(n, z, start, end, rel, zt, tail_rel, n - k, noise_level(y))


def _rise(y: np.ndarray) -> tuple[int, float, float] | None:
    """``(index of the low, low level, end level)`` when a positive loss is rising at the end
    from its lowest level (significantly, not by one reading), else None."""
    n = y.shape[0]
    if n < 3 or np.any(y <= 0):
        return None
    sm = rolling_median(y, 3) if n >= 5 else y
    k = int(np.argmin(sm))
    post = y[k:]
    if post.shape[0] < (3 if n >= 5 else 2):
        return None
    lo = float(sm[k])
    end = float(np.median(post[-max(1, post.shape[0] // 3) :]))
    if _sig_trend(post) < 1.5 or end < 1.1 * lo or end - lo < 3 * noise_level(y):
        return None
    return k, lo, end


def _trend_findings(s: Series, sh: _Shape, x: np.ndarray, y: np.ndarray) -> list[_Cand]:
    """still-learning, slow-decrease, plateau or diverging for the training loss."""
    out: list[_Cand] = []
    falling = sh.z <= -2.0 and sh.rel <= -0.02
    rising = sh.z >= 2.0 and sh.rel >= 0.1
    tail_falling = sh.z_tail <= -1.5 and sh.tail_rel <= -0.02
    tail_rising = sh.z_tail >= 1.5 and sh.tail_rel >= 0.02
    drop = -sh.rel
    # slow: under 10% in all, or under 1.2% per reading (log scale) over the last 50 readings'
    # worth: what one sees scrolling a log (a long per-step log is judged by its last 50 lines' pace)
    ratio = sh.start / sh.end if sh.start > 0 and sh.end > 0 else math.inf
    pace = math.log(ratio) / min(sh.n, 50) if 0 < ratio < math.inf else math.inf
    slow = drop < 0.1 or pace < 0.012
    if slow and drop >= 0.1 and tail_falling and _late_share(y) >= 0.65:
        # an accelerating decline that is still going at the end: a short healthy
        # run logged often looks slow per reading, but it is simply still learning
        slow = False
    first = fmt_value(float(y[0]))
    # the last reading, unless it is an outlier: then the level of the last fifth
    last = (
        fmt_value(float(y[-1]))
        if abs(float(y[-1]) - sh.end) <= 0.3 * abs(sh.end)
        else f"about {fmt_value(sh.end)}"
    )
    rise = _rise(y)
    if rise is not None and rise[2] >= 1.5 * rise[1]:
        k, lo, end = rise
        start_ref = max(float(y[0]), sh.start)
        if end >= 10 * start_ref:
            conf, rank = 0.9, _RANK_DIVERGED_INTO_NAN
        elif end >= 2 * start_ref:
            conf, rank = 0.8, None
        else:
            # back up from its low but not above where it started: a bounce may explain it
            conf, rank = 0.6, _RANK["oscillating"] + 0.05
        if k == 0:
            lead = f"{s.name} rises {first} -> {last} {_span(s, x[0], x[-1])}"
        else:
            lead = (
                f"{s.name} fell to {fmt_value(float(y[k]))} at {_at(s, x[k])}, then rose to {last} "
                f"at {_at(s, x[-1])}"
            )
        summary = f"{lead} ({end / lo:,.1f} times its lowest level; it started at {fmt_value(float(y[0]))})"
        out.append(_cand("diverging", conf, summary, float(x[k]), float(x[-1]), s, rank=rank))
        return out
    if rising:
        return out
    tail_flat = not tail_falling and not tail_rising and abs(sh.tail_rel) < 0.05
    a = sh.tail_from
    ty = y[a:]
    flat_text = (
        f"{s.name} is flat at {fmt_value(float(ty.min()))}..{fmt_value(float(ty.max()))} "
        f"{_span(s, x[a], x[-1])} ({_readings(ty.shape[0], s)})"
    )
    if falling and not slow:
        if tail_falling or sh.tail_rel < -0.05:
            conf = (0.8 if drop >= 0.5 else 0.7) if tail_falling else 0.55
            summary = (
                f"{s.name} falls {first} -> {last} {_span(s, x[0], x[-1])} "
                f"(-{drop:.0%}) and is still falling at the end"
            )
            out.append(_cand("still-learning", conf, summary, float(x[0]), float(x[-1]), s))
        else:
            conf = 0.7 if tail_flat else 0.5
            summary = f"after falling {first} -> {fmt_value(float(ty[0]))}, {flat_text}"
            out.append(_cand("plateau", conf, summary, float(x[a]), float(x[-1]), s))
    elif falling and not tail_falling and tail_flat and _late_share(y) < 0.3:
        # it dropped early and has not moved since: a plateau, not a slow descent
        summary = f"after falling {first} -> {fmt_value(float(ty[0]))}, {flat_text}"
        out.append(_cand("plateau", 0.7, summary, float(x[a]), float(x[-1]), s))
    elif falling:
        conf = 0.75 if sh.z <= -3 else 0.65
        summary = (
            f"{s.name} falls only slowly: {fmt_value(sh.start)} -> {fmt_value(sh.end)} "
            f"(-{drop:.0%}, medians of the first and last fifth) {_span(s, x[0], x[-1])} "
            f"({_readings(sh.n, s)}; first {first}, last {last})"
        )
        if drop >= 0.1:
            summary += f", about {min(pace, 1.0):.1%} per reading"
        out.append(_cand("slow-decrease", conf, summary, float(x[0]), float(x[-1]), s))
    elif tail_flat and abs(sh.rel) < 0.1:
        out.append(
            _cand("plateau", 0.7 if sh.n >= 5 else 0.55, flat_text, float(x[a]), float(x[-1]), s)
        )
    elif sh.rel <= -0.2 and sh.z <= -1.0:
        summary = (
            f"{s.name} goes {first} -> {last} {_span(s, x[0], x[-1])} (-{drop:.0%} between the "
            f"first and last fifth), too noisy or too short to be sure it is still falling"
        )
        out.append(_cand("still-learning", 0.5, summary, float(x[0]), float(x[-1]), s))
    elif abs(sh.rel) < 0.1 and not rising:
        summary = (
            f"{s.name} shows no clear trend {_span(s, x[0], x[-1])}: {fmt_value(sh.start)} over the "
            f"first fifth, {fmt_value(sh.end)} over the last ({_readings(sh.n, s)})"
        )
        out.append(_cand("plateau", 0.5, summary, float(x[0]), float(x[-1]), s))
    return out


def _late_share(y: np.ndarray) -> float:
    """Share of the whole decline made after the first 40% of the run (robust levels)."""
    n = y.shape[0]
    k = max(1, n // 10)
    start = float(np.median(y[:k]))
    i = int(0.4 * n)
    mid = float(np.median(y[max(0, i - k // 2) : i + k // 2 + 1]))
    end = float(np.median(y[-k:]))
    total = start - end
    return (mid - end) / total if total > 0 else 0.0


def _val_plateau(v: Series, sel: Selection) -> list[_Cand]:
    """The validation loss fell, then stopped: flat over its last 40%."""
    x, y = _finite(v)
    sh = _shape(y, x)
    if sh is None or sh.n < 5:
        return []
    if not (sh.rel <= -0.1 and abs(sh.z_tail) < 1.5 and abs(sh.tail_rel) < 0.05):
        return []
    recent = max(3, int(math.ceil(0.3 * sh.n)))
    best_before, best_recent = float(np.min(y[:-recent])), float(np.min(y[-recent:]))
    if best_recent < best_before - max(0.01 * abs(best_before), noise_level(y)):
        return []  # still reaching new lows: not a plateau yet
    a = sh.tail_from
    ty = y[a:]
    if ty.shape[0] < 4:
        return []
    train_note = ""
    if sel.loss is not None:
        tx_, ty_ = _finite(sel.loss)
        m = tx_ >= x[a]
        if m.sum() >= 2:
            train_note = (
                f" while {sel.loss.name} goes {fmt_value(float(ty_[m][0]))} -> "
                f"{fmt_value(float(ty_[m][-1]))}"
            )
    summary = (
        f"{v.name} fell {fmt_value(float(y[0]))} -> {fmt_value(best_before)}, then is flat around "
        f"{fmt_value(float(np.median(ty)))} ({fmt_value(float(ty.min()))}..{fmt_value(float(ty.max()))}) "
        f"{_span(v, x[a], x[-1])}{train_note}"
    )
    return [_cand("plateau", 0.65, summary, float(x[a]), float(x[-1]), v)]


def _train_at(train: Series, steps: np.ndarray) -> np.ndarray:
    """Training loss interpolated at ``steps`` (nan outside its range plus one spacing)."""
    tx, ty = _finite(train)
    if tx.shape[0] == 0:
        return np.full(steps.shape[0], np.nan)
    order = np.argsort(tx, kind="stable")
    tx, ty = tx[order], ty[order]
    if ty.shape[0] > 2000:
        tx, ty = block_reduce(tx, 2000)[1], block_reduce(ty, 2000)[1]
    if ty.shape[0] >= 3 * max(steps.shape[0], 1) and ty.shape[0] >= 10:
        ty = rolling_median(ty, 5)  # per-step training loss against per-epoch validation
    gap = float(np.median(np.diff(tx))) if tx.shape[0] >= 2 else 0.0
    val = np.interp(steps, tx, ty)
    outside = (steps < tx[0] - gap) | (steps > tx[-1] + gap)
    val[outside] = np.nan
    return val


def _train_after(train: Series, steps: np.ndarray) -> np.ndarray:
    """The first training reading at or after each step (smoothed when training is per-step)."""
    tx, ty = _finite(train)
    if tx.shape[0] == 0:
        return np.full(steps.shape[0], np.nan)
    order = np.argsort(tx, kind="stable")
    tx, ty = tx[order], ty[order]
    if ty.shape[0] >= 3 * max(steps.shape[0], 1) and ty.shape[0] >= 10:
        ty = rolling_median(ty, 5)
    i = np.searchsorted(tx, steps, side="left")
    out = np.full(steps.shape[0], np.nan)
    ok = i < tx.shape[0]
    out[ok] = ty[i[ok]]
    return out


def _relations(sel: Selection) -> list[_Cand]:
    """Train against validation: overfitting, train-flat-val-falling, both-rising, val-below-train."""
    t, v = sel.loss, sel.val_loss
    if t is None or v is None:
        return []
    out: list[_Cand] = []
    tx, ty = _finite(t)
    vx, vy = _finite(v)
    if vy.shape[0] == 0 or ty.shape[0] == 0:
        return out
    # val below train, paired at the validation steps; the training loss on both sides of each
    # evaluation must be above it (a falling, window-averaged training loss lags behind)
    tr = _train_at(t, vx)
    tr_next = _train_after(t, vx)
    tr = np.where(np.isfinite(tr_next), np.minimum(tr, tr_next), tr)
    ok = np.isfinite(tr) & (tr > 0) & (vy > 0)
    if ok.sum() >= 1:
        ratio = vy[ok] / tr[ok]
        below = ratio < 0.97
        gap = float(np.median(1 - ratio))
        if below.mean() >= 0.8 and gap >= 0.08:
            k = int(ok.sum())
            conf = 0.6 if k == 1 else (0.7 if k < 5 else 0.8)
            i = np.flatnonzero(ok)
            summary = (
                f"{v.name} below {t.name} on {int(below.sum())} of {k} paired readings: "
                f"{fmt_value(float(vy[i[0]]))} vs {fmt_value(float(tr[i[0]]))} at {_at(v, vx[i[0]])}"
            )
            if k > 1:
                summary += f" ... {fmt_value(float(vy[i[-1]]))} vs {fmt_value(float(tr[i[-1]]))} at {_at(v, vx[i[-1]])}"
            summary += f" (median gap {gap:.0%})"
            out.append(
                _cand("val-below-train", conf, summary, float(vx[i[0]]), float(vx[i[-1]]), v)
            )
    if vy.shape[0] < 3 or ty.shape[0] < 3:
        return out
    ts = _shape(ty, tx)
    vs = _shape(vy, vx)
    if ts is None or vs is None:
        return out
    t_rise, v_rise = _rise(ty), _rise(vy)
    if t_rise is not None and v_rise is not None:
        kt, kv = t_rise[0], v_rise[0]
        summary = (
            f"both rise: {t.name} {fmt_value(float(ty[kt]))} -> {fmt_value(float(ty[-1]))} from "
            f"{_at(t, tx[kt])} and {v.name} {fmt_value(float(vy[kv]))} -> {fmt_value(float(vy[-1]))} "
            f"from {_at(v, vx[kv])}"
        )
        conf = 0.8 if min(t_rise[2] / t_rise[1], v_rise[2] / v_rise[1]) >= 1.2 else 0.65
        out.append(
            _cand(
                "both-rising",
                conf,
                summary,
                float(min(tx[kt], vx[kv])),
                float(max(tx[-1], vx[-1])),
                v,
            )
        )
        return out
    # overfitting (a): validation turned up while training kept falling
    sm = rolling_median(vy, 3) if vy.shape[0] >= 7 else vy
    k = int(np.argmin(sm))
    lo_k = max(0, k - 1) + int(
        np.argmin(vy[max(0, k - 1) : k + 2])
    )  # the raw low next to the smoothed one
    post = vy[k + 1 :]
    need = 3 if vy.shape[0] >= 10 else 2
    if post.shape[0] >= need and np.all(vy > 0):
        vmin = float(sm[k])
        noise = noise_level(vy)
        rise = float(np.median(post)) - vmin
        zpost = _sig_trend(vy[k:])
        t_after = ty[tx >= vx[k]] if np.any(tx >= vx[k]) else ty[-1:]
        t_before = ty[tx <= vx[k]]
        t_ref = float(t_before[-1]) if t_before.shape[0] else float(ty[0])
        t_end = float(np.median(t_after[-max(1, t_after.shape[0] // 5) :]))
        train_ok = t_end <= t_ref * 1.02
        if rise >= max(3 * noise, 0.05 * abs(vmin)) and zpost >= 1.5 and train_ok:
            conf = 0.85 if post.shape[0] >= 3 else 0.7
            turned = _turn_label(v, lo_k)
            summary = (
                f"{v.name} turned up at {turned} ({fmt_value(float(vy[lo_k]))}) and reached "
                f"{fmt_value(float(np.max(post)))} (last {fmt_value(float(vy[-1]))}) while {t.name} kept "
                f"falling to {fmt_value(float(ty[-1]))}"
            )
            out.append(_overfit(conf, summary, float(vx[k]), float(vx[-1]), v, sel))
            return out
    # overfitting (c): validation stopped improving while training kept falling and the gap widened
    min_post = max(3, int(math.ceil(0.25 * vy.shape[0])))
    if post.shape[0] >= min_post and np.all(vy > 0) and np.all(ty > 0):
        zpost = _sig_trend(vy[k:])
        t_at_min = float(_train_at(t, vx[k : k + 1])[0])
        v_end = float(np.median(vy[-max(3, post.shape[0] // 3) :]))
        t_end = edge_level(ty[tx >= vx[k]], 0.2, True) if np.any(tx >= vx[k]) else float(ty[-1])
        if np.isfinite(t_at_min) and t_at_min > 0 and zpost > -1.5:
            ratio_min = float(sm[k]) / t_at_min
            ratio_end = v_end / t_end
            if t_end <= 0.9 * t_at_min and ratio_end >= 1.5 and ratio_end >= 1.2 * ratio_min:
                after = vy[lo_k + 1 :] if lo_k + 1 < vy.shape[0] else post
                summary = (
                    f"{v.name} bottomed out at {_turn_label(v, lo_k)} ({fmt_value(float(vy[lo_k]))}) and stayed "
                    f"at {fmt_value(float(np.min(after)))}..{fmt_value(float(np.max(after)))} (last "
                    f"{fmt_value(float(vy[-1]))}) while {t.name} kept falling {fmt_value(t_at_min)} -> "
                    f"{fmt_value(float(ty[-1]))}: validation/training x{ratio_min:.2f} -> x{ratio_end:.2f}"
                )
                out.append(_overfit(0.75, summary, float(vx[k]), float(vx[-1]), v, sel))
                return out
    # overfitting (b): training collapsed towards 0 while validation stayed where it was
    if (
        np.all(ty > 0)
        and np.all(vy > 0)
        and ts.rel <= -0.7
        and vs.rel >= -0.2
        and vs.end >= 3 * ts.end
        and vs.z_tail > -2
    ):
        summary = (
            f"{t.name} fell {fmt_value(ts.start)} -> {fmt_value(ts.end)} (-{-ts.rel:.0%}) while "
            f"{v.name} stayed at {fmt_value(vs.start)} -> {fmt_value(vs.end)}: a gap of "
            f"x{vs.end / max(ts.end, 1e-12):,.0f} between validation and training"
        )
        out.append(_overfit(0.8, summary, float(vx[0]), float(vx[-1]), v, sel))
        return out
    v_falling = vs.z <= -2 and vs.rel <= -0.08
    t_flat = abs(ts.rel) < 0.08 and abs(ts.rel) <= -vs.rel / 2
    if t_flat and v_falling:
        summary = (
            f"{t.name} flat at {fmt_value(ts.start)} -> {fmt_value(ts.end)} while {v.name} falls "
            f"{fmt_value(vs.start)} -> {fmt_value(vs.end)}"
        )
        out.append(_cand("train-flat-val-falling", 0.75, summary, float(vx[0]), float(vx[-1]), v))
    return out


def _overfit(conf: float, summary: str, a: float, b: float, v: Series, sel: Selection) -> _Cand:
    """An overfitting finding, with the train/validation accuracy gap as extra evidence."""
    if sel.accuracy and sel.val_accuracy:
        _, ta = _finite(sel.accuracy[0])
        _, va = _finite(sel.val_accuracy[0])
        if ta.shape[0] and va.shape[0]:
            t_acc, v_acc = float(ta[-1]), float(va[-1])
            summary += f"; {sel.accuracy[0].name} {fmt_value(t_acc)} vs {sel.val_accuracy[0].name} {fmt_value(v_acc)}"
            if t_acc - v_acc >= 0.05:
                conf += 0.05
    return _cand("overfitting", conf, summary, a, b, v)


def _turn_label(v: Series, k: int) -> str:
    if v.epochs is not None and v.epochs.shape[0] == v.values.shape[0] and _unit(v) != "epoch":
        ok = np.isfinite(v.values)
        ep = v.epochs[ok]
        if k < ep.shape[0] and np.isfinite(ep[k]):
            return f"epoch {fmt_step(float(ep[k]))} ({_at(v, _finite(v)[0][k])})"
    return _at(v, float(_finite(v)[0][k]))


def _oscillating(s: Series, role: str) -> list[_Cand]:
    """Large up-and-down swings around the trend, once the initial descent is over.

    Swings are measured between turning points of the detrended curve (log scale for a
    positive loss), in multiples of the level: 3 or more swings of x1.5 or more, making up
    half the swings at least. White per-batch noise swings too, so neighbouring readings must
    be correlated (a wave) or anti-correlated (a strict alternation).
    """
    x, y = _finite(s)
    n = y.shape[0]
    if n < 6 or np.any(y <= 0):
        return []
    if n > 200:
        bx, by = block_reduce(x, 100)[1], block_reduce(y, 100)[1]
    else:
        bx, by = x, y
    m = bx.shape[0]
    half = max(5, m // 2)
    settle_level = float(np.median(by[-half:]))
    below = np.flatnonzero(by <= settle_level)
    first = int(below[0]) if below.shape[0] else m - half
    first = min(first, m - half)
    wx, wy = bx[first:], by[first:]
    if wy.shape[0] < 5:
        return []
    work = np.log(wy)
    slope, intercept = theil_sen(wx, work)
    resid = work - (slope * wx + intercept)
    swings = _swings(resid)
    if swings.shape[0] < 3:
        return []
    r = resid - float(np.median(resid))
    denom = float(np.dot(r, r))
    lag1 = float(np.dot(r[:-1], r[1:])) / denom if denom > 0 else 0.0
    if abs(lag1) < 0.3:
        return []
    big = int(np.sum(swings >= math.log(1.5)))
    spread = float(resid.max() - resid.min())
    if big >= 3 and big >= 0.5 * swings.shape[0] and spread >= math.log(2.5):
        typical = math.exp(min(float(np.median(swings)), 700.0))
        conf = 0.8 if typical >= 2.0 else 0.68
        if role != "loss":
            conf -= 0.1
        summary = (
            f"{s.name} swings between {fmt_value(float(wy.min()))} and {fmt_value(float(wy.max()))} "
            f"{_span(s, wx[0], wx[-1])}: {big} swings of x1.5 or more around its trend "
            f"(typical x{typical:.1f})"
        )
        return [_cand("oscillating", conf, summary, float(wx[0]), float(wx[-1]), s)]
    return []


def _swings(y: np.ndarray) -> np.ndarray:
    """Absolute rises and falls between consecutive turning points of ``y``."""
    d = np.diff(y)
    keep = d != 0
    if keep.sum() < 2:
        return np.abs(d[keep])
    idx = np.flatnonzero(keep)
    sg = np.sign(d[idx])
    turns = idx[1:][sg[1:] != sg[:-1]]  # index in y of each turning point
    ext = np.concatenate([[0], turns, [y.shape[0] - 1]])
    return np.abs(np.diff(y[ext]))


def _flat_from_start(s: Series) -> list[_Cand]:
    """A training loss that never moves from its very first reading: the parameters are not updated."""
    x, y = _finite(s)
    n = y.shape[0]
    if n < 20:
        return []
    spacing = float(np.median(np.diff(x)))
    if spacing <= 0 or x[0] > 2 * spacing:
        return []  # the log does not start at the start of training
    z = mann_kendall_z(y)
    start, end = edge_level(y, 0.2, False), edge_level(y, 0.2, True)
    med = float(np.median(y))
    if med == 0 or abs(z) >= 2 or abs(end - start) / abs(med) >= 0.03:
        return []
    sigma = max(noise_level(y), 1e-12)
    if np.any(np.abs(y[:2] - med) > 3 * sigma + 1e-3 * abs(med)):
        return []  # it moved at the start, then stalled: a plateau
    summary = (
        f"{s.name} has no trend at all from its first reading: {fmt_value(start)} over the first fifth, "
        f"{fmt_value(end)} over the last, scatter +-{fmt_value(sigma)} {_span(s, x[0], x[-1])} "
        f"({_readings(n, s)}): the parameters do not seem to be updated"
    )
    return [_cand("stuck-constant", 0.6, summary, float(x[0]), float(x[-1]), s)]


def _spikes(s: Series) -> list[_Cand]:
    """Sudden jumps far above the recent level that come back down."""
    x, y = _finite(s)
    n = y.shape[0]
    if n < 3 or np.any(y <= 0):
        return []
    if n > 5000:
        # block maxima against the typical block maximum: per-step noise cancels out
        size = int(math.ceil(n / 2500))
        full = n // size
        head = y[: full * size].reshape(full, size)
        arg = head.argmax(axis=1)
        peak = head[np.arange(full), arg]
        bx = x[: full * size].reshape(full, size)[np.arange(full), arg]
        base_series = peak
    else:
        bx, peak, base_series = x, y, y
    m = peak.shape[0]
    ratio_needed = 3.0
    sigma = (
        noise_level(base_series) if m >= 10 else 0.0
    )  # a few readings cannot tell noise from the spike
    k_sigma = 6.0 if m < 30 else 8.0
    window = 5 if m < 30 else 10
    events: list[tuple[int, int, float, float]] = []
    # median of the (up to) ``window`` readings before each one, vectorised
    before = np.full(m, np.nan)
    for i in range(1, min(window, m)):
        before[i] = np.median(base_series[:i])
    if m > window:
        before[window:] = np.median(
            np.lib.stride_tricks.sliding_window_view(base_series, window)[:-1], axis=1
        )
    i = 1 if m < 30 else 3
    while i < m:
        base = float(before[i])
        p = float(peak[i])
        need = ratio_needed if i >= 2 else 5.0
        if base > 0 and p >= need * base and (sigma == 0 or p - base >= k_sigma * sigma):
            j = i
            while j + 1 < m and peak[j + 1] >= max(ratio_needed * base, base + 0.5 * (p - base)):
                j += 1
            later = base_series[j + 1 :]
            top = float(peak[i : j + 1].max())
            if later.shape[0] and float(later.min()) <= base + 0.6 * (top - base):
                if j - i + 1 <= max(3, m // 10):
                    events.append((i, j, base, top))
            i = j + 1
            continue
        i += 1
    if not events:
        return []
    a, b, base, top = max(events, key=lambda e: e[3] / e[2])
    back = base_series[b + 1 :]
    kb = b + 1 + int(np.argmin(back[: max(1, min(back.shape[0], 5))]))
    conf = 0.6 if len(events) == 1 else (0.7 if len(events) == 2 else 0.75)
    if top / base >= 10:
        conf += 0.1
    if len(events) == 1 and m >= 30 and top / base < 5:
        conf = 0.45  # one moderate jump in a long noisy run is not yet a pattern
    # repeated jumps by an order of magnitude dominate the log: they outrank train/val relations
    severe = len(events) >= 2 and top / base >= 10
    count = f"{len(events)} spikes; largest: " if len(events) > 1 else ""
    summary = (
        f"{count}{s.name} jumped from {fmt_value(base)} to {fmt_value(top)} at {_at(s, bx[a])} "
        f"(x{_ratio(top / base)}) and came back to {fmt_value(float(base_series[kb]))} by {_at(s, bx[kb])}"
    )
    return [
        _cand(
            "spikes",
            conf,
            summary,
            float(bx[a]),
            float(bx[kb]),
            s,
            rank=_RANK_SEVERE_SPIKES if severe else None,
        )
    ]


PERIODIC_MAX_POINTS = 1 << 17
"""The periodicity search looks at most at this many (the last) readings."""


def _periodic(s: Series) -> list[_Cand]:
    """A repeating pattern in the detrended loss (autocorrelation peak at a fixed lag)."""
    x, y = _finite(s)
    n = y.shape[0]
    if n < 30:
        return []
    offset = 0
    if n > PERIODIC_MAX_POINTS:
        # a repeating pattern shows in any long stretch: look at the last one
        offset = n - PERIODIC_MAX_POINTS
        x, y = x[offset:], y[offset:]
        n = y.shape[0]
    work = y
    if np.all(y > 0) and float(y.max()) / float(y.min()) > 20:
        work = np.log(y)
    w = max(5, n // 6)
    resid = work - moving_mean(work, w)
    if float(np.std(resid)) == 0:
        return []
    max_lag = min(w, n // 3)
    if max_lag < 4:
        return []
    ac = autocorrelation(resid, min(2 * max_lag + 1, n - 1))
    top = min(max_lag, ac.shape[0] - 2)
    lags = np.arange(2, top + 1)
    if lags.shape[0] == 0:
        return []
    c_all = ac[lags]
    run_min = np.minimum.accumulate(ac[1 : top + 1])  # run_min[l - 1] = min(ac[1..l])
    dip = run_min[lags - 2]  # min(ac[1..l-1])
    ok = (c_all >= 0.4) & (c_all > ac[lags - 1]) & (c_all >= ac[lags + 1]) & (dip <= c_all - 0.25)
    if not ok.any():
        return []
    cand = lags[ok]
    vals = ac[cand]
    # the first peak that is nearly as strong as the strongest (the fundamental, not a multiple)
    strongest = float(vals.max())
    pick = int(np.flatnonzero(vals >= strongest - 0.05)[0])
    lag, c = int(cand[pick]), float(vals[pick])
    if 2 * lag < ac.shape[0] and n >= 3 * lag and ac[2 * lag] < 0.2:
        return []
    if n < 3 * lag:
        return []
    spacing = float(np.median(np.diff(x))) if n > 1 else 1.0
    period = lag * spacing
    conf = min(0.85, 0.6 + 0.4 * (c - 0.4))
    # a periodic loss repeats a shape; spikes every k-th batch repeat only the spikes: with the
    # outliers replaced by the median the autocorrelation at the period must survive
    med, sd = float(np.median(resid)), mad_sigma(resid)
    cleaned = np.where(np.abs(resid - med) > 5 * sd, med, resid)
    spikes_only = float(np.std(cleaned)) == 0 or float(autocorrelation(cleaned, lag)[lag]) < 0.35
    if spikes_only:
        conf = 0.45
    note = ""
    per_epoch = _readings_per_epoch(s, offset)
    if per_epoch and abs(lag - per_epoch) <= 0.1 * per_epoch:
        conf = min(0.9, conf + 0.1)
        note = ", one epoch"
    if not note and not spikes_only and _fundamental_share(resid, lag) >= 0.9:
        # a smooth sine-like wave not tied to the epoch: the optimiser bouncing (momentum, a too
        # large step), not the data order
        summary = (
            f"{s.name} oscillates in a regular wave every {fmt_step(period)} {_unit(s)}s "
            f"({lag} readings; autocorrelation {c:.2f} after removing the trend) {_span(s, x[0], x[-1])}"
        )
        return [_cand("oscillating", min(conf, 0.75), summary, float(x[0]), float(x[-1]), s)]
    summary = (
        f"{s.name} repeats a pattern every {fmt_step(period)} {_unit(s)}s ({lag} readings{note}; "
        f"autocorrelation {c:.2f} after removing the trend) {_span(s, x[0], x[-1])}"
    )
    found = _cand("periodic", conf, summary, float(x[0]), float(x[-1]), s)
    found.epoch_bound = bool(note)
    found.strength = c
    return [found]


def _readings_per_epoch(s: Series, offset: int) -> float | None:
    """How many readings one epoch holds, from the series' epochs (fractional or whole)."""
    if s.epochs is None or s.epochs.shape[0] != s.values.shape[0]:
        return None
    ep = s.epochs[np.isfinite(s.values)][offset:]
    ep = ep[np.isfinite(ep)]
    if ep.shape[0] < 3:
        return None
    whole = np.all(np.abs(ep - np.round(ep)) < 1e-9)
    if whole:
        _, counts = np.unique(ep, return_counts=True)
        inner = counts[1:-1] if counts.shape[0] > 2 else counts
        return float(np.median(inner)) if inner.shape[0] and np.median(inner) > 1 else None
    de = float(np.median(np.diff(ep)))
    return 1.0 / de if de > 0 else None


def _fundamental_share(resid: np.ndarray, lag: int) -> float:
    """Share of the mean period shape's variance in its fundamental: 1 for a pure sine wave,
    low for an arbitrary repeating shape (the order of the data)."""
    n = resid.shape[0] // lag * lag
    if n < 2 * lag:
        return 0.0
    profile = resid[:n].reshape(-1, lag).mean(axis=0)
    power = np.abs(np.fft.rfft(profile - profile.mean())) ** 2
    total = float(power[1:].sum())
    return float(power[1]) / total if total > 0 else 0.0


# ---------------------------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------------------------


def _extra(sel: Selection) -> dict[str, object]:
    def last(s: Series) -> float | None:
        _, y = _finite(s)
        return float(y[-1]) if y.shape[0] else None

    extra: dict[str, object] = {
        "loss_series": sel.loss.name if sel.loss is not None else None,
        "val_loss_series": sel.val_loss.name if sel.val_loss is not None else None,
        "loss_is_val": sel.loss_is_val,
        "loss_is_sum": sel.loss_is_sum,
        "components": {c.name: last(c) for c in sel.components},
        "val_components": {c.name: last(c) for c in sel.val_components},
        "accuracy": {a.name: last(a) for a in (*sel.accuracy, *sel.val_accuracy)},
    }
    if sel.lr is not None:
        extra["lr"] = {
            "name": sel.lr.name,
            "first": float(sel.lr.values[0]),
            "last": float(sel.lr.values[-1]),
        }
    return extra


TREND_MAX_POINTS = 4000
"""Curve-shape detectors see at most this many block medians of a long series."""


def _reduced(s: Series) -> Series:
    """The finite readings of ``s``, reduced to block medians when there are too many."""
    x, y = _finite(s)
    if y.shape[0] <= TREND_MAX_POINTS:
        return s
    # block medians in between, the first and last readings kept as they are
    bx = np.concatenate([x[:1], block_reduce(x[1:-1], TREND_MAX_POINTS - 2)[1], x[-1:]])
    by = np.concatenate([y[:1], block_reduce(y[1:-1], TREND_MAX_POINTS - 2)[1], y[-1:]])
    ep = None
    if s.epochs is not None and s.epochs.shape[0] == s.values.shape[0]:
        e = s.epochs[np.isfinite(s.values)]
        ep = np.concatenate([e[:1], block_reduce(e[1:-1], TREND_MAX_POINTS - 2)[1], e[-1:]])
    return Series(s.name, s.split, bx, by, s.step_unit, ep)


def _choose(cands: list[_Cand]) -> tuple[tuple[Finding, ...], str | None]:
    def key(c: _Cand) -> tuple[bool, float, float]:
        return (c.finding.confidence < PRIMARY_MIN_CONFIDENCE, c.rank, -c.finding.confidence)

    # one finding per symptom: the best-supported one
    best: dict[str, _Cand] = {}
    for c in cands:
        cur = best.get(c.finding.symptom)
        if cur is None or key(c) < key(cur):
            best[c.finding.symptom] = c
    ranked = sorted(best.values(), key=key)
    if not ranked:
        return (), None
    if ranked[0].finding.confidence < PRIMARY_MIN_CONFIDENCE:
        # nothing is sure: the best-supported weak finding leads
        ranked.sort(key=lambda c: (-c.finding.confidence, c.rank))
    return tuple(c.finding for c in ranked), ranked[0].finding.symptom


def diagnose(log: LogData, metric: str | None = None) -> TriageResult:
    """Name the symptoms a training log shows and choose the primary one.

    ``metric`` names the training series to use instead of the one chosen by name. The
    result's ``findings`` are ranked (best explanation first); ``primary`` is None only when
    the log has no usable loss series or nothing at all can be said.
    """
    with np.errstate(all="ignore"):
        return _diagnose(log, metric)


def _diagnose(log: LogData, metric: str | None) -> TriageResult:
    sel = select_series(log, metric)
    extra = _extra(sel)
    if sel.loss is None:
        return TriageResult(log, (), None, None, None, extra)
    main = sel.loss
    val = sel.val_loss
    role_main = "val" if sel.loss_is_val else "loss"
    cands: list[_Cand] = []

    # magic constants in the total, the components and the validation loss
    magic_series: set[int] = set()
    for s, role in (
        (main, "loss"),
        *((c, "component") for c in sel.components),
        *(((val, "val"),) if val is not None else ()),
        *((c, "component") for c in sel.val_components),
    ):
        found = _magic(s, role, main)
        if found:
            magic_series.add(id(s))
        cands += found
    chance_series: set[int] = set()
    for s, role in (
        (main, "loss"),
        *((c, "component") for c in sel.components if _classifier_like(c)),
        *(((val, "val"),) if val is not None else ()),
    ):
        if id(s) in magic_series or (s is main and sel.loss_is_sum):
            continue
        found = _chance(s, sel, role)
        if found:
            chance_series.add(id(s))
        cands += found
    cands += _mse_half(main, sel)
    cands += _stuck_constant(main, sel, id(main) in magic_series or id(main) in chance_series)
    cands += _lr_zero(sel)
    if (
        not sel.loss_is_val
        and id(main) not in magic_series
        and id(main) not in chance_series
        and np.isfinite(main.values).all()
    ):
        cands += _flat_from_start(_reduced(main))
    cands += _zero(main)
    cands += _negative(main)
    if val is not None:
        cands += [c for c in _negative(val) if c.finding.confidence >= 0.6]
    cands += _nan(main, role_main, sel.components)
    for c in sel.components:
        if np.isfinite(main.values).all():
            cands += _nan(c, "component")
    if val is not None:
        cands += _nan(val, "val")

    # curve shapes on block medians of long series (fast, and per-step noise averaged out)
    main_t = _reduced(main)
    val_t = _reduced(val) if val is not None else None
    sel_t = replace(sel, loss=main_t, val_loss=val_t)
    x, y = _finite(main_t)
    sh = _shape(y, x)
    all_finite = bool(np.isfinite(main.values).all())
    if sh is not None and all_finite:
        cands += _trend_findings(main_t, sh, x, y)
    elif sh is not None and sh.n >= 4:
        cands += [
            c for c in _trend_findings(main_t, sh, x, y) if c.finding.symptom != "still-learning"
        ]
    cands += _relations(sel_t)
    cands += _oscillating(main_t, role_main)
    if val_t is not None:
        cands += _oscillating(val_t, "val")
        cands += _val_plateau(val_t, sel_t)
    cands += _spikes(main)
    cands += _periodic(main)

    periodic = [c for c in cands if c.finding.symptom == "periodic"]
    if (
        periodic
        and not periodic[0].epoch_bound
        and periodic[0].strength < 0.75
        and any(c.finding.symptom == "oscillating" for c in cands)
    ):
        # a loose repetition (not tied to the epoch) in a bouncing loss: the bouncing explains it
        cands = [
            replace(c, rank=_RANK["oscillating"] + 0.1) if c.finding.symptom == "periodic" else c
            for c in cands
        ]
    if any(
        c.finding.symptom == "periodic" and c.finding.confidence >= PRIMARY_MIN_CONFIDENCE
        for c in cands
    ):
        # the jumps are the peaks of a repeating shape: periodic explains them
        cands = [
            replace(c, rank=_RANK["spikes"]) if c.finding.symptom == "spikes" else c for c in cands
        ]
    findings, primary = _choose(cands)
    return TriageResult(log, findings, primary, main, val, extra)


def _classifier_like(s: Series) -> bool:
    tokens = set(re.split(r"[_/ .\-]+", base_name(s.name)))
    return bool(
        tokens
        & {
            "cls",
            "class",
            "classification",
            "softmax",
            "ce",
            "xent",
            "nll",
            "cross",
            "entropy",
            "label",
            "labels",
            "ctc",
            "mlm",
            "lm",
        }
    )
