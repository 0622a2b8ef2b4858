"""Results as text for the terminal or as JSON for scripts; one function per result type.

Text fits the terminal's width. Anything that came from the user or a log passes through
:func:`assistant.safe.plain` before it is printed.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence
from typing import Any

from assistant.safe import plain
from kb.model import Cause, Entry, KnowledgeBase, Symptom
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


def entry_line(entry: Entry) -> str:
    """``id  title`` for lists."""
    return f"{entry.id}  {entry.title}"
