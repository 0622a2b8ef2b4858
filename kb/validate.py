"""The checks behind ``lossdoctor kb check``: the content is well formed and its graph whole.

Ids are unique, every link resolves to an entry of the right kind, every symptom has causes,
every cause a check and a fix, nothing is an orphan, the public symptom ids all exist, and the
magic-number table computes what it claims.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kb.load import ParsedFile, Problem, build_kb, parse_tree
from kb.model import SYMPTOM_IDS, Cause, Entry, KnowledgeBase, Symptom
from kb.numbers import evaluate, load_table
from kb.paths import content_dir

#: Which kind a link field must point to.
LINK_TARGET_KIND = {"causes": "cause", "checks": "check", "fixes": "fix"}

#: Extra checks run after the built-in ones.
EXTRA_CHECKS: list[Callable[[Path, KnowledgeBase], list[Problem]]] = []


def validate(
    root: Path | None = None, *, require_public_ids: bool = True
) -> tuple[KnowledgeBase, list[Problem]]:
    """Load and check ``root``; returns the knowledge base (what could be loaded) and every
    problem, sorted by file and line."""
    root = root or content_dir()
    parsed, problems = parse_tree(root)
    problems += _unique_ids(parsed)
    kb = build_kb(parsed)
    by_id = {p.entry.id: p for p in parsed.values() if p.entry is not None}
    problems += _links(kb, by_id)
    problems += _graph(kb, by_id, require_public_ids, root)
    problems += _magic_numbers(root, kb)
    from kb.tree import validate_tree

    if require_public_ids or (root / "interview.md").exists():
        problems += validate_tree(root, kb)
    for check in EXTRA_CHECKS:
        problems += check(root, kb)
    return kb, sorted(set(problems))


def _unique_ids(parsed: dict[str, ParsedFile]) -> list[Problem]:
    first: dict[str, str] = {}
    out = []
    for path, item in parsed.items():
        if item.entry is None:
            continue
        if item.entry.id in first:
            out.append(
                Problem(
                    path,
                    item.field_lines.get("id", 1),
                    f"duplicate id {item.entry.id!r}, also in {first[item.entry.id]}",
                )
            )
        else:
            first[item.entry.id] = path
    return out


def _line_of(item: ParsedFile, field: str, target: str) -> int:
    start = item.field_lines.get(field, 1)
    for number in range(start, len(item.text_lines) + 1):
        if target in item.text_lines[number - 1]:
            return number
    return start


def _links(kb: KnowledgeBase, by_id: dict[str, ParsedFile]) -> list[Problem]:
    out = []
    for entry in kb.entries.values():
        item = by_id[entry.id]
        for field, target in entry.links():
            if target not in kb:
                out.append(
                    Problem(
                        entry.path,
                        _line_of(item, field, target),
                        f"{field} links to unknown id {target!r}",
                    )
                )
                continue
            want = LINK_TARGET_KIND.get(field)
            if want and kb.get(target).kind != want:
                out.append(
                    Problem(
                        entry.path,
                        _line_of(item, field, target),
                        f"{field} must link {want} entries; {target!r} is a {kb.get(target).kind}",
                    )
                )
            if target == entry.id:
                out.append(
                    Problem(
                        entry.path,
                        _line_of(item, field, target),
                        f"{field} links the entry to itself",
                    )
                )
        for target, line in item.body_links:
            if target not in kb:
                out.append(Problem(entry.path, line, f"body links to unknown id {target!r}"))
    return out


def _graph(
    kb: KnowledgeBase, by_id: dict[str, ParsedFile], require_public_ids: bool, root: Path
) -> list[Problem]:
    out = []

    def at(entry: Entry, field: str, message: str) -> None:
        out.append(Problem(entry.path, by_id[entry.id].field_lines.get(field, 1), message))

    for entry in kb.entries.values():
        if isinstance(entry, Symptom):
            minimum = 0 if entry.id == "still-learning" else 2
            if len(entry.causes) < minimum:
                at(
                    entry,
                    "causes",
                    f"a symptom needs at least {minimum} causes; {entry.id!r} has {len(entry.causes)}",
                )
        elif isinstance(entry, Cause):
            if not entry.checks:
                at(entry, "checks", f"cause {entry.id!r} has no check")
            if not entry.fixes:
                at(entry, "fixes", f"cause {entry.id!r} has no fix")
            if not entry.question:
                at(entry, "question", f"cause {entry.id!r} has no question for the interview")
        linked_by_structure = [b for b in kb.linked_from(entry.id) if _structural(kb, b, entry.id)]
        if entry.kind != "symptom" and not linked_by_structure:
            parent = {"cause": "symptom", "check": "cause", "fix": "cause"}[entry.kind]
            at(entry, "id", f"orphan {entry.kind} {entry.id!r}: no {parent} links to it")
    if require_public_ids:
        for symptom_id in SYMPTOM_IDS:
            if symptom_id not in kb or kb.get(symptom_id).kind != "symptom":
                out.append(
                    Problem(
                        str(root / "symptoms"),
                        0,
                        f"the public symptom id {symptom_id!r} is missing",
                    )
                )
    return out


def _structural(kb: KnowledgeBase, source_id: str, target_id: str) -> bool:
    source = kb.get(source_id)
    return any(t == target_id and field != "related" for field, t in source.links())


def _magic_numbers(root: Path, kb: KnowledgeBase) -> list[Problem]:
    path = root / "magic-numbers.tsv"
    if not path.exists():
        return [Problem(str(path), 0, "the magic-number table is missing")]
    try:
        rows = load_table(path)
    except ValueError as error:
        return [Problem(str(path), 0, str(error))]
    out = []
    for row in rows:
        try:
            computed = evaluate(row.expr)
        except (ValueError, SyntaxError, ArithmeticError) as error:
            out.append(Problem(str(path), row.line, f"expr {row.expr!r}: {error}"))
            continue
        if abs(computed - row.value) > 1e-9 * max(1.0, abs(row.value)):
            out.append(
                Problem(
                    str(path), row.line, f"value_exact {row.value} but {row.expr} = {computed:.10f}"
                )
            )
        if row.symptom not in kb:
            out.append(Problem(str(path), row.line, f"symptom {row.symptom!r} is not an entry"))
    return out
