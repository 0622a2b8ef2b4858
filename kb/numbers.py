"""What a loss value means by itself: the magic numbers of ``content/magic-numbers.tsv``.

A loss that sits at one value is often a formula in disguise: ``-ln(FLT_MIN) = 87.3365`` when a
probability underflowed to zero and was clamped, ``ln C`` when a C-class softmax predicts the
uniform distribution, a clamp of some other epsilon, or a simple fraction of a clamp when only part
of the batch hit it. :func:`explain` names the formula for a value, written as a user quotes it
("87.33", "0.693", "4.6", the seed's own digit swap "87.3356") or as a log prints it.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from kb.paths import content_dir

#: Class counts (and vocabulary sizes) people train with; ln C of these is named with more
#: confidence than an arbitrary C when a quoted value admits several.
COMMON_CLASS_COUNTS: tuple[int, ...] = (
    2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 20, 21, 26, 32, 37, 43, 47, 50, 64, 80, 91,
    100, 101, 102, 128, 200, 256, 365, 397, 512, 1000, 1001, 1024, 4096, 8192, 10000, 10575,
    16384, 21843, 30000, 30522, 32000, 32128, 32768, 50000, 50257, 50265, 65536, 100000,
    100277, 128000, 128256, 151936, 250002, 256000,
)  # fmt: skip

_NUMBER_TEXT = re.compile(r"^\s*([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?\s*$")


@dataclass(frozen=True)
class MagicNumber:
    """One row of ``magic-numbers.tsv``: a loss value that means something by itself."""

    value: float
    """The exact value."""
    expr: str
    """A Python expression over ``log`` that computes it; the validator re-evaluates it."""
    formula: str
    """The formula as people write it, e.g. ``-ln(FLT_MIN)``."""
    symptom: str
    """The symptom id a loss constant at this value points to."""
    meaning: str
    """What a loss constant at this value usually means."""
    line: int
    """Line in the TSV file, for error messages."""

    @property
    def is_clamp(self) -> bool:
        """True for a clamp constant (a floor on a probability), False for ln C and others."""
        return self.symptom in ("stuck-87-3365", "stuck-at-clamp")


@dataclass(frozen=True)
class Explanation:
    """One reading of a value as a known formula."""

    value: float
    """The value explained, as given."""
    kind: str
    """``clamp``, ``clamp-fraction``, ``clamp-floor`` (the floor itself, e.g. FLT_MIN), ``ln-c``
    or ``table`` (another row of the table)."""
    symptom: str
    """The symptom id it points to."""
    constant: float
    """The exact value of the formula."""
    formula: str
    """The formula, e.g. ``ln(10)`` or ``1/2 × -ln(FLT_MIN)``."""
    meaning: str
    """What a loss constant at this value means."""
    confidence: float
    """0 to 1: how surely the value is this formula rather than a coincidence."""
    classes: int | None = None
    """C, for ``ln-c``."""
    fraction: str | None = None
    """The share of the batch at the clamp, for ``clamp-fraction`` (e.g. ``1/2``)."""

    @property
    def label(self) -> str:
        """One line: ``2.3026 = ln(10): uniform prediction over 10 classes ...``."""
        return f"{_fmt(self.constant)} = {self.formula}: {self.meaning}"


def _fmt(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.6g}"


def load_table(path: Path | None = None) -> tuple[MagicNumber, ...]:
    """Parse ``magic-numbers.tsv``; raises ``ValueError`` naming the file and line."""
    path = path or content_dir() / "magic-numbers.tsv"
    rows: list[MagicNumber] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t") if lines else []
    want = ["value_4dp", "value_exact", "expr", "formula", "symptom", "meaning"]
    if header != want:
        raise ValueError(f"{path}:1: header must be {' '.join(want)}")
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(want):
            raise ValueError(f"{path}:{number}: expected {len(want)} tab-separated cells")
        try:
            value = float(cells[1])
        except ValueError:
            raise ValueError(f"{path}:{number}: value_exact {cells[1]!r} is not a number") from None
        rows.append(MagicNumber(value, cells[2], cells[3], cells[4], cells[5], number))
    return tuple(rows)


@lru_cache(maxsize=1)
def table() -> tuple[MagicNumber, ...]:
    """The shipped table, parsed once."""
    return load_table()


def evaluate(expr: str) -> float:
    """Evaluate a table expression: numbers, ``log``, ``+ - * / **`` and parentheses only."""
    tree = ast.parse(expr, mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Call, ast.Name,
               ast.Load, ast.operator, ast.unaryop)  # fmt: skip
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Name) and node.id != "log"):
            raise ValueError(f"unsupported expression {expr!r}")
    return float(
        eval(compile(tree, "<magic-numbers>", "eval"), {"__builtins__": {}}, {"log": math.log})
    )


def parse_quoted(text: str) -> tuple[float, int | None]:
    """``"87.33"`` -> ``(87.33, 2)``: the value and how many decimals were quoted.

    The decimals are None for exponent notation. Raises ``ValueError`` for anything that is not
    a plain number.
    """
    match = _NUMBER_TEXT.match(text)
    if not match or not (match.group(2) or match.group(3)):
        raise ValueError(f"not a number: {text!r}")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    decimals = None if match.group(4) else len(match.group(3) or "")
    return value, decimals


def _tolerance(value: float, decimals: int | None) -> float:
    # Users truncate as often as they round ("87.33" for 87.3365), so one unit of the last
    # quoted digit is the window; exact readings from a log get a small fixed window.
    if decimals is None:
        return max(6e-4, abs(value) * 1e-6)
    if decimals == 0:
        return 0.5
    return 10.0**-decimals


def _is_digit_swap(text: str, constant: float) -> bool:
    """True when ``text`` is ``constant`` with two adjacent digits swapped (87.3356 / 87.3365)."""
    digits = text.strip().lstrip("+-")
    if "." not in digits or "e" in digits.lower():
        return False
    decimals = len(digits.split(".")[1])
    target = f"{constant:.{decimals}f}"
    if len(target) != len(digits) or target == digits:
        return False
    diffs = [i for i, (a, b) in enumerate(zip(digits, target, strict=True)) if a != b]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and digits[diffs[0]] == target[diffs[1]]
        and digits[diffs[1]] == target[diffs[0]]
    )


def _ln_c(value: float, tolerance: float) -> list[Explanation]:
    if not 0.5 < value < 13.5:
        return []
    low = max(2, math.floor(math.exp(value - tolerance)))
    high = math.ceil(math.exp(value + tolerance))
    candidates = [c for c in range(low, high + 1) if abs(math.log(c) - value) <= tolerance]
    if not candidates:
        return []
    known = [c for c in candidates if c in COMMON_CLASS_COUNTS]
    if known:
        classes = min(known, key=lambda c: abs(math.log(c) - value))
        confidence = 0.9 if len(candidates) <= 3 else 0.75
    else:
        classes = min(candidates, key=lambda c: abs(math.log(c) - value))
        confidence = 0.8 if len(candidates) == 1 else 0.45
    meaning = f"uniform prediction over {classes:,} classes (softmax cross-entropy at chance)"
    if classes == 2:
        meaning += "; also binary cross-entropy with p = 0.5"
    return [
        Explanation(
            value, "ln-c", "stuck-at-chance", math.log(classes), f"ln({classes})", meaning,
            confidence, classes=classes,
        )
    ]  # fmt: skip


def explain(value: float | str, *, tolerance: float | None = None) -> list[Explanation]:
    """Every known formula ``value`` may be, most likely first; empty when it means nothing.

    A string keeps the quoted precision ("87.33" matches 87.3365, "87.3" does not tell ln C from
    noise); a float is taken as printed by a log (4 to 6 digits).
    """
    if isinstance(value, str):
        number, decimals = parse_quoted(value)
        text: str | None = value
    else:
        number, decimals, text = float(value), None, None
    if not math.isfinite(number):
        return []
    window = tolerance if tolerance is not None else _tolerance(number, decimals)
    found: list[Explanation] = []
    for row in table():
        if row.symptom == "stuck-at-chance" and row.expr.startswith("log("):
            continue  # ln C is explained by the general formula below
        # a clamp is far from everyday loss values; another table row (0.25) is not, so it
        # needs the value quoted closely
        hit = abs(number - row.value) <= (window if row.is_clamp else min(window, 0.002))
        if not hit and decimals == 0 and not row.is_clamp:
            continue
        if hit:
            confidence = 0.95 if row.is_clamp else 0.5
            if decimals == 0 and number != row.value:
                confidence = 0.6  # "87" is probably 87.3365, but says less than "87.33"
        elif text is not None and _is_digit_swap(text, row.value):
            confidence = 0.85
        else:
            continue
        kind = "clamp" if row.is_clamp else "table"
        found.append(
            Explanation(number, kind, row.symptom, row.value, row.formula, row.meaning, confidence)
        )
    if decimals != 0:
        found.extend(_ln_c(number, window))
    if 0 < number < 1e-4:
        found.extend(_clamp_floors(number))
    if not any(e.kind == "clamp" for e in found) and number > 0:
        # a fraction is a coincidence unless the value is quoted to two decimals or more
        found.extend(_clamp_fractions(number, min(window, 0.01)))
    found.sort(key=lambda e: -e.confidence)
    return _dedupe(found)


def _clamp_fractions(value: float, tolerance: float) -> list[Explanation]:
    out: list[Explanation] = []
    for row in table():
        if not row.is_clamp or row.value < 80:
            continue
        for q in range(2, 9):
            for p in range(1, q):
                share = Fraction(p, q)
                if share.denominator != q:
                    continue
                constant = row.value * p / q
                if abs(value - constant) <= tolerance:
                    out.append(
                        Explanation(
                            value, "clamp-fraction", row.symptom, constant,
                            f"{p}/{q} × {row.formula.split(',')[0]}",
                            f"{p}/{q} of the batch at the clamp ({row.meaning}), the rest near 0",
                            0.65 if q == 2 else 0.5, fraction=f"{p}/{q}",
                        )
                    )  # fmt: skip
    return out


def _clamp_floors(value: float) -> list[Explanation]:
    # The floor itself quoted (FLT_MIN = 1.17549435e-38): its -ln is a clamp constant.
    out = []
    for row in table():
        if row.is_clamp and abs(-math.log(value) - row.value) <= 1e-3 * row.value:
            out.append(
                Explanation(
                    value, "clamp-floor", row.symptom, row.value, row.formula,
                    f"the floor whose -ln is the clamp: {row.meaning}", 0.8,
                )
            )  # fmt: skip
    return out


def _dedupe(found: list[Explanation]) -> list[Explanation]:
    seen: set[tuple[str, str]] = set()
    out = []
    for item in found:
        key = (item.symptom, f"{item.constant:.6f}")
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
