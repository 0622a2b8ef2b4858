"""Robust statistics for loss curves: trends, noise levels, block summaries and formatting.

Everything here is a pure function of numpy arrays. The functions are written to stay
fast on very long series (a million readings): the pairwise statistics (Theil-Sen slope,
Mann-Kendall score) run on block medians of at most a few hundred points, and the
moving averages use cumulative sums.
"""

from __future__ import annotations

import math

import numpy as np

MAX_PAIRWISE_POINTS = 240
"""Series longer than this are reduced to block medians before pairwise statistics."""


def block_reduce(
    values: np.ndarray, max_points: int, how: str = "median"
) -> tuple[np.ndarray, np.ndarray]:
    """Reduce ``values`` to at most ``max_points`` block statistics.

    Returns ``(centres, stats)``: the mean index of each block and its statistic
    (``median``, ``max`` or ``min``). Series already short enough are returned as they are.
    """
    n = int(values.shape[0])
    idx = np.arange(n, dtype=float)
    if n <= max_points:
        return idx, values.astype(float)
    size = int(math.ceil(n / max_points))
    full = n // size
    head = values[: full * size].astype(float).reshape(full, size)
    ihead = idx[: full * size].reshape(full, size)
    if how == "max":
        stat = head.max(axis=1)
    elif how == "min":
        stat = head.min(axis=1)
    else:
        stat = np.median(head, axis=1)
    centres = ihead.mean(axis=1)
    if full * size < n:
        rest = values[full * size :].astype(float)
        last = rest.max() if how == "max" else (rest.min() if how == "min" else np.median(rest))
        stat = np.concatenate([stat, [last]])
        centres = np.concatenate([centres, [idx[full * size :].mean()]])
    return centres, stat


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Theil-Sen line through ``(x, y)``: the median of pairwise slopes and a median intercept.

    Long inputs are first reduced to block medians. Returns ``(slope, intercept)``; a series
    with fewer than two distinct x values has slope 0.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape[0] > MAX_PAIRWISE_POINTS:
        x = block_reduce(x, MAX_PAIRWISE_POINTS)[1]
        y = block_reduce(y, MAX_PAIRWISE_POINTS)[1]
    n = x.shape[0]
    if n < 2:
        return 0.0, float(y[0]) if n else 0.0
    i, j = np.triu_indices(n, k=1)
    dx = x[j] - x[i]
    ok = dx != 0
    if not ok.any():
        return 0.0, float(np.median(y))
    slope = float(np.median((y[j] - y[i])[ok] / dx[ok]))
    intercept = float(np.median(y - slope * x))
    return slope, intercept


def mann_kendall_z(y: np.ndarray) -> float:
    """Mann-Kendall trend score of ``y`` in standard units (negative: falling).

    Long inputs are reduced to block medians first; ties count as zero. About +-2 means a
    trend unlikely to be noise (for independent readings).
    """
    y = np.asarray(y, dtype=float)
    if y.shape[0] > MAX_PAIRWISE_POINTS:
        y = block_reduce(y, MAX_PAIRWISE_POINTS)[1]
    n = y.shape[0]
    if n < 2:
        return 0.0
    i, j = np.triu_indices(n, k=1)
    s = float(np.sign(y[j] - y[i]).sum())
    var = n * (n - 1) * (2 * n + 5) / 18.0
    if s > 0:
        s -= 1.0
    elif s < 0:
        s += 1.0
    return s / math.sqrt(var)


def mad_sigma(values: np.ndarray) -> float:
    """Robust standard deviation (1.4826 x median absolute deviation); 0 for fewer than 2."""
    v = np.asarray(values, dtype=float)
    if v.shape[0] < 2:
        return 0.0
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def noise_level(values: np.ndarray) -> float:
    """Reading-to-reading noise: robust sigma of first differences divided by sqrt(2).

    A smooth trend contributes little to first differences, so this measures the scatter of
    single readings around the curve.
    """
    v = np.asarray(values, dtype=float)
    if v.shape[0] < 3:
        return 0.0
    return mad_sigma(np.diff(v)) / math.sqrt(2.0)


def moving_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving mean with a shrinking window at the edges (cumulative sums, O(n))."""
    v = np.asarray(values, dtype=float)
    n = v.shape[0]
    window = max(1, min(int(window), n))
    half = window // 2
    c = np.concatenate([[0.0], np.cumsum(v)])
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + (window - half), 0, n)
    return (c[hi] - c[lo]) / np.maximum(hi - lo, 1)


def rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling median with shrinking edges, nan and inf readings skipped (what pandas'
    ``rolling(window, center=True, min_periods=1).median()`` gives, without importing pandas:
    the window of reading i is ``[i - window // 2, i + window - window // 2 - 1]``, an even
    count takes the mean of the two middle readings, a window of only NaN gives NaN)."""
    v = np.asarray(values, dtype=float)
    n = v.shape[0]
    if n == 0 or window <= 1:
        return v.copy()
    window = int(window)
    before, after = window // 2, window - window // 2 - 1
    finite = np.where(np.isinf(v), np.nan, v)
    padded = np.concatenate([np.full(before, np.nan), finite, np.full(after, np.nan)])
    rows = np.sort(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)  # NaN last
    count = window - np.isnan(rows).sum(axis=1)
    mid = count // 2
    idx = np.arange(n)
    upper = rows[idx, np.minimum(mid, window - 1)]
    lower = rows[idx, np.maximum(mid - 1, 0)]
    with np.errstate(over="ignore", invalid="ignore"):  # inf from huge readings, as pandas
        out = np.where(count % 2 == 1, upper, (upper + lower) / 2)
    out[count == 0] = np.nan
    return out


def autocorrelation(values: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation of ``values`` (mean removed) for lags 0..max_lag, via FFT."""
    v = np.asarray(values, dtype=float)
    v = v - v.mean()
    n = v.shape[0]
    size = 1 << int(math.ceil(math.log2(max(2 * n, 2))))
    f = np.fft.rfft(v, size)
    ac = np.fft.irfft(f * np.conj(f), size)[: max_lag + 1]
    if ac[0] <= 0:
        return np.zeros(max_lag + 1)
    return ac / ac[0]


def edge_level(values: np.ndarray, fraction: float, at_end: bool, minimum: int = 1) -> float:
    """Median of the first (or last) ``fraction`` of the readings, at least ``minimum`` of them."""
    n = values.shape[0]
    k = max(minimum, int(round(n * fraction)))
    k = min(k, n)
    part = values[-k:] if at_end else values[:k]
    return float(np.median(part))


def fmt_step(step: float | None) -> str:
    """A step with thousands separators: ``1,200``; fractional epochs keep two decimals."""
    if step is None or not np.isfinite(step):
        return "?"
    if abs(step - round(step)) < 1e-9:
        return f"{int(round(step)):,}"
    return f"{step:,.2f}".rstrip("0").rstrip(".")


def fmt_value(value: float, digits: int = 4) -> str:
    """A loss value in plain form: ``0.7170``, ``87.3365``, ``1.9e4``, ``4.2e-04``-style exponents as ``4.2e-4``."""
    if value is None:
        return "?"
    if not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    a = abs(value)
    if a == 0:
        return "0"
    if a < 1e5 and value == round(value):
        return f"{int(round(value)):,}"
    if a >= 1e5 or a < 1e-3:
        mant, exp = f"{value:.{max(digits - 2, 1)}e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        return f"{mant}e{int(exp)}"
    if a >= 1000:
        return f"{value:,.0f}" if a >= 10000 else f"{value:.1f}"
    decimals = max(digits - 1 - int(math.floor(math.log10(a))), 0)
    decimals = min(decimals, 6)
    return f"{value:.{decimals}f}"


def printed_decimals(value: float) -> int:
    """How many decimals the value seems to have been printed with (from its shortest repr)."""
    r = repr(float(value))
    if "e" in r or "E" in r:
        mant, exp = r.lower().split("e")
        d = len(mant.split(".")[1]) if "." in mant else 0
        return max(d - int(exp), 0)
    if "." not in r:
        return 0
    frac = r.split(".")[1]
    return 0 if frac == "0" else len(frac)


def print_tolerance(value: float) -> float:
    """Half a unit in the last printed place of ``value`` (with a little slack)."""
    d = printed_decimals(value)
    return 0.6 * 10.0 ** (-d)
