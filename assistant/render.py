"""Results as text for the terminal or as JSON for scripts; one function per result type.

Text fits the terminal's width. Anything that came from the user or a log passes through
:func:`assistant.safe.plain` before it is printed.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.safe import plain
from kb.model import Cause, Check, Fix, KnowledgeBase, Symptom
from kb.numbers import Explanation
from kb.search import Hit


def width() -> int:
    """Columns to render into: the terminal's, between 60 and 120."""
    return max(60, min(120, shutil.get_terminal_size((100, 24)).columns))


def _clip(text: str, columns: int) -> str:
    return text if len(text) <= columns else text[: max(1, columns - 1)] + "…"


# --------------------------------------------------------------------------- search


def search_json(query: str, hits: Sequence[Hit]) -> dict[str, Any]:
    """The ``--json`` object of ``lossdoctor search``."""
    return {
        "query": query,
        "hits": [{"id": h.id, "kind": h.kind, "title": h.title, "score": h.score} for h in hits],
    }


def search_text(query: str, hits: Sequence[Hit]) -> str:
    """Ranked hits, one per line, with what matched underneath."""
    columns = width()
    lines = [_clip(f'Best matches for "{plain(query)}":', columns), ""]
    id_width = max((len(h.id) for h in hits), default=10)
    for rank, hit in enumerate(hits, start=1):
        head = f"{rank:>2}. {hit.id:<{id_width}}  {hit.kind:<7}  {hit.score:.2f}  "
        lines.append(head + _clip(hit.title, columns - len(head)))
        if hit.why:
            lines.append(_clip(" " * 4 + "· " + "; ".join(plain(w) for w in hit.why[:2]), columns))
    if not hits:
        lines.append(
            "  nothing matched; try other words, or 'lossdoctor triage LOG' on the log itself"
        )
    else:
        lines += [
            "",
            f"'lossdoctor show {hits[0].id}' prints an entry with its causes, checks and fixes.",
        ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- explain


def explain_json(
    value: str, explanations: Sequence[Explanation], hits: Sequence[Hit]
) -> dict[str, Any]:
    """The ``--json`` object of ``lossdoctor explain``."""
    return {
        "value": value,
        "explanations": [
            {
                "kind": e.kind,
                "symptom": e.symptom,
                "constant": e.constant,
                "formula": e.formula,
                "meaning": e.meaning,
                "confidence": e.confidence,
                "classes": e.classes,
                "fraction": e.fraction,
            }
            for e in explanations
        ],  # fmt: skip
        "hits": search_json(value, hits)["hits"],
    }


def explain_text(value: str, explanations: Sequence[Explanation], hits: Sequence[Hit]) -> str:
    """What a constant loss value means, then the closest entries."""
    columns = width()
    lines = []
    if not explanations:
        lines.append(f"A loss constant at {value} has no known meaning by itself.")
        lines.append(
            _wrap(
                "If it is exactly constant, the parameters are probably not being updated "
                "(see 'lossdoctor show stuck-constant').",
                columns,
            )
        )
    else:
        lines.append(f"A loss constant at {value}:")
        for e in explanations:
            lines.append(
                _wrap(
                    f"  - {e.label}  [{e.symptom}, confidence {e.confidence:.2f}]",
                    columns,
                    indent="    ",
                )
            )
    if hits:
        lines += ["", "Closest entries:"]
        for hit in hits:
            lines.append(_clip(f"  {hit.id:<26} {hit.kind:<7} {hit.title}", columns))
    return "\n".join(lines)


def _wrap(text: str, columns: int, indent: str = "") -> str:
    return (
        "\n".join(textwrap.wrap(text, columns, subsequent_indent=indent, break_on_hyphens=False))
        or text
    )


# --------------------------------------------------------------------------- show


def entry_json(kb: KnowledgeBase, entry_id: str) -> dict[str, Any]:
    """One entry and its links as JSON."""
    entry = kb.get(entry_id)
    data: dict[str, Any] = {
        "id": entry.id, "kind": entry.kind, "title": entry.title, "title_zh": entry.title_zh,
        "aliases": list(entry.aliases), "aliases_zh": list(entry.aliases_zh), "body": entry.body,
        "body_zh": entry.body_zh, "related": list(entry.related),
        "sources": [{"name": s.name, "section": s.section, "url": s.url} for s in entry.sources],
    }  # fmt: skip
    if isinstance(entry, Symptom):
        data["causes"] = list(entry.causes)
        data["values"] = list(entry.values)
    if isinstance(entry, Cause):
        data.update(
            checks=list(entry.checks),
            fixes=list(entry.fixes),
            question=entry.question,
            question_zh=entry.question_zh,
        )
    data["linked_from"] = list(kb.linked_from(entry.id))
    return data


def entry_markdown(kb: KnowledgeBase, entry_id: str, *, chinese: bool = False) -> str:
    """One entry as Markdown: title, body, links and sources (the TUI renders the same)."""
    entry = kb.get(entry_id)
    parts = [f"# {entry.title}", f"*{entry.kind} `{entry.id}` · {entry.title_zh}*", "", entry.body]
    if chinese and entry.body_zh:
        parts += ["", "## 中文", "", entry.body_zh]
    if isinstance(entry, Symptom) and entry.causes:
        parts += ["", "## Causes, most likely first", ""]
        for number, cause in enumerate(kb.causes_of(entry.id), start=1):
            checks = ", ".join(f"`{c.id}`" for c in kb.checks_of(cause))
            fixes = ", ".join(f"`{f.id}`" for f in kb.fixes_of(cause))
            parts.append(
                f"{number}. **{cause.title}** (`{cause.id}`) — check: {checks}; fix: {fixes}"
            )
    if isinstance(entry, Cause):
        if entry.question:
            parts += ["", f"> Ask: {entry.question}"]
        parts += ["", "## Checks", ""] + [
            f"- **{c.title}** (`{c.id}`)" for c in kb.checks_of(entry)
        ]
        parts += ["", "## Fixes", ""] + [f"- **{f.title}** (`{f.id}`)" for f in kb.fixes_of(entry)]
    back = [kb.get(i) for i in kb.linked_from(entry.id)]
    if back:
        parts += ["", "## Linked from", ""] + [f"- {b.kind} `{b.id}`: {b.title}" for b in back]
    if entry.related:
        parts += ["", "## See also", ""] + [
            f"- `{r}`: {kb.get(r).title}" for r in entry.related if r in kb
        ]
    parts += ["", "## Sources", ""] + [f"- {s}" for s in entry.sources]
    return "\n".join(parts)


def print_entry(kb: KnowledgeBase, entry_id: str, *, chinese: bool = False) -> None:
    """Render one entry's Markdown to the terminal with Rich."""
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(width=width())
    with console.capture() as capture:
        console.print(
            Markdown(entry_markdown(kb, entry_id, chinese=chinese), code_theme="ansi_dark")
        )
    # Rich pads every line to the full width; trailing blanks only get in the way of a pipe.
    print("\n".join(line.rstrip() for line in capture.get().splitlines()))


# --------------------------------------------------------------------------- triage


@dataclass(frozen=True)
class CauseAdvice:
    """One cause of a symptom with the checks that confirm it and the fixes that remove it."""

    cause: Cause
    """The cause entry."""
    checks: tuple[Check, ...]
    """Its checks, in the knowledge base's order."""
    fixes: tuple[Fix, ...]
    """Its fixes, in the knowledge base's order."""


@dataclass(frozen=True)
class Advice:
    """What the knowledge base says about a diagnosed symptom: its causes, most likely first."""

    symptom: Symptom
    """The symptom entry."""
    causes: tuple[CauseAdvice, ...]
    """Its causes, most likely first, each with its checks and fixes."""


def advice_for(
    kb: KnowledgeBase,
    symptom_id: str | None,
    *,
    causes: int | None = None,
    checks: int | None = None,
    fixes: int | None = None,
) -> Advice | None:
    """The ranked causes, checks and fixes for a symptom, cut to the given numbers (None keeps
    all); None when the id is not a symptom of the knowledge base."""
    if not symptom_id or symptom_id not in kb:
        return None
    try:
        symptom = kb.symptom(symptom_id)
    except KeyError:
        return None
    return Advice(
        symptom,
        tuple(
            CauseAdvice(
                cause, tuple(kb.checks_of(cause)[:checks]), tuple(kb.fixes_of(cause)[:fixes])
            )
            for cause in kb.causes_of(symptom.id)[:causes]
        ),
    )


def _step(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def triage_json(result: Any) -> dict[str, Any]:
    """The ``--json`` object of one analysed input."""
    return {
        "path": result.log.path,
        "format": result.log.format,
        "series": [
            {
                "name": s.name,
                "split": s.split,
                "points": s.total,
                "first_step": s.first_step,
                "last_step": s.last_step,
            }
            for s in result.log.series
        ],
        "findings": [
            {
                "symptom": f.symptom,
                "confidence": round(float(f.confidence), 3),
                "summary": f.summary,
                "start_step": f.start_step,
                "end_step": f.end_step,
            }
            for f in result.findings
        ],  # fmt: skip
        "primary": result.primary,
    }


def triage_error_json(path: str, problem: str) -> dict[str, Any]:
    """The ``--json`` object of an input that could not be read."""
    return {
        "path": path,
        "format": None,
        "series": [],
        "findings": [],
        "primary": None,
        "error": problem,
    }


def sparkline(values: Sequence[float], columns: int) -> str:
    """The values as one line of block characters, resampled to ``columns`` cells; a cell with a
    nan or inf shows ``!``."""
    import math

    if not values:
        return ""
    cells = []
    n = len(values)
    count = min(columns, n)
    for i in range(count):
        chunk = values[i * n // count : max(i * n // count + 1, (i + 1) * n // count)]
        cells.append(
            float("nan") if any(not math.isfinite(v) for v in chunk) else sum(chunk) / len(chunk)
        )
    finite = [c for c in cells if math.isfinite(c)]
    if not finite:
        return "!" * len(cells)
    low, high = min(finite), max(finite)
    blocks = "▁▂▃▄▅▆▇█"
    out = []
    for c in cells:
        if not math.isfinite(c):
            out.append("!")
        elif high == low:
            out.append(blocks[3])
        else:
            out.append(blocks[min(7, int((c - low) / (high - low) * 7.999))])
    return "".join(out)


def loss_plot(result: Any, columns: int, rows: int = 12) -> str:
    """A small plot of the training and validation loss, with the primary finding's step range
    marked by vertical lines; empty when there is nothing to draw."""
    import math

    import plotext as plt

    curves = [
        (s, label)
        for s, label in ((result.loss, "train"), (result.val_loss, "val"))
        if s is not None and s.points > 1
    ]
    if not curves:
        return ""
    plt.clear_figure()
    plt.theme("clear")
    plt.plotsize(columns, rows)
    spread: list[float] = []
    for series, label in curves:
        points = [
            (float(x), float(y))
            for x, y in zip(series.steps, series.values, strict=True)
            if math.isfinite(y)
        ]
        if len(points) < 2:
            continue
        step = max(1, len(points) // 2000)  # plotting a million points draws nothing more
        xs, ys = zip(*points[::step], strict=True)
        spread += ys
        plt.plot(list(xs), list(ys), label=label, marker="braille")
    if not spread:
        return ""
    positive = [y for y in spread if y > 0]
    if len(positive) == len(spread) and max(positive) / min(positive) > 1e3:
        plt.yscale("log")
    primary = next((f for f in result.findings if f.symptom == result.primary), None)
    if (
        primary is not None
        and primary.start_step is not None
        and primary.end_step is not None
        and primary.start_step != primary.end_step
    ):
        plt.vline(primary.start_step)
        plt.vline(primary.end_step)
    plt.xlabel(result.loss.step_unit if result.loss is not None else "step")
    return plt.uncolorize(plt.build())


def triage_text(result: Any, kb: KnowledgeBase, *, plot: bool = True) -> str:
    """The report of one analysed input: format, series, findings, the knowledge base's causes,
    checks and fixes for the primary finding, and a plot of the loss."""
    columns = width()
    log = result.log
    lines = [_clip(f"== {plain(log.path)} ==", columns), f"format: {log.format}", "series:"]
    name_width = min(28, max((len(plain(s.name)) for s in log.series), default=4))
    shown = sorted(
        log.series,
        key=lambda s: (
            s is not result.loss and s is not result.val_loss,
            "loss" not in s.name,
            s.name,
        ),
    )
    for series in shown[:12]:
        mark = (
            " <- training loss"
            if series is result.loss
            else " <- validation loss"
            if series is result.val_loss
            else ""
        )
        lines.append(
            _clip(
                f"  {plain(series.name):<{name_width}} {series.split:<5} {series.total:>8,} points  "
                f"{series.step_unit} {_step(series.first_step)} .. {_step(series.last_step)}{mark}",
                columns,
            )
        )
    if len(shown) > 12:
        lines.append(f"  ... and {len(shown) - 12} more series")
    for note in log.notes[:5]:
        lines.append(_clip(f"  note: {plain(note)}", columns))
    lines.append("findings:")
    if not result.findings:
        lines.append("  none: no usable loss series")
    for rank, finding in enumerate(result.findings, start=1):
        star = "*" if finding.symptom == result.primary else " "
        lines.append(
            _wrap(
                f" {star}{rank}. {finding.symptom} ({finding.confidence:.2f}): {plain(finding.summary)}",
                columns,
                indent="      ",
            )
        )
    for series, label in ((result.loss, "train"), (result.val_loss, "val")):
        if series is not None and series.points > 1:
            values = [float(v) for v in series.values]
            lines.append(
                f"  {label:<5} {sparkline(values, columns - 30)}  {values[0]:.4g} -> {values[-1]:.4g}"
            )
    if plot:
        drawn = loss_plot(result, columns - 2)
        if drawn:
            lines += ["", drawn.rstrip()]
    advice = advice_for(kb, result.primary, causes=3, checks=2, fixes=2)
    if advice is not None:
        symptom = advice.symptom
        lines += ["", _clip(f"Diagnosis: {symptom.title} ({symptom.id})", columns)]
        if advice.causes:
            lines.append("Most likely causes, with how to check and what to do:")
        for number, item in enumerate(advice.causes, start=1):
            lines.append(_clip(f"  {number}. {item.cause.title} ({item.cause.id})", columns))
            for check in item.checks:
                lines.append(_clip(f"     check: {check.title} ({check.id})", columns))
            for fix in item.fixes:
                lines.append(_clip(f"     fix:   {fix.title} ({fix.id})", columns))
        lines.append("Sources:")
        lines += [_clip(f"  {source}", columns) for source in symptom.sources[:3]]
        lines.append(_clip(f"More: lossdoctor show {symptom.id}", columns))
        lines.append(
            _clip(f"Tell the causes apart: lossdoctor chat --log {plain(log.path)}", columns)
        )
    return "\n".join(lines)
