"""Parse ``content/`` into a :class:`~kb.model.KnowledgeBase`.

Each entry is a Markdown file whose YAML front matter holds the fields and links and whose body
is the text, English first and Chinese after a ``## 中文`` heading. markdown-it-py tokenises the
file (its front-matter plugin finds the YAML block with its lines); problems carry the file and
line so an author can go straight to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from kb.model import ENTRY_TYPES, KINDS, Entry, KnowledgeBase, Source
from kb.paths import content_dir

CHINESE_HEADING = "中文"
KB_LINK_PREFIX = "kb:"


@dataclass(frozen=True, order=True)
class Problem:
    """Something wrong in the content, at a file and line."""

    path: str
    """The file."""
    line: int
    """1-based line, 0 when the problem concerns the whole file."""
    message: str
    """What is wrong, in one line."""

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


@dataclass(frozen=True)
class ParsedFile:
    """An entry with what the validator needs to point back into its file."""

    entry: Entry | None
    """The entry, or None when the file could not be read as one."""
    field_lines: dict[str, int]
    """Line of each front-matter key."""
    body_links: tuple[tuple[str, int], ...]
    """``kb:`` links in the body with their lines."""
    text_lines: tuple[str, ...]
    """The file's lines, to locate a bad link id."""


_md = MarkdownIt("commonmark").use(front_matter_plugin)

_DIR_KIND = {"symptoms": "symptom", "causes": "cause", "checks": "check", "fixes": "fix"}
_LIST_FIELDS = ("aliases", "aliases_zh", "related", "causes", "checks", "fixes")


def entry_files(root: Path) -> list[Path]:
    """The entry files under ``root``: ``<kind>s/*.md``, sorted."""
    return sorted(p for d in _DIR_KIND for p in (root / d).glob("*.md"))


def parse_file(path: Path, problems: list[Problem]) -> ParsedFile:
    """Parse one entry file; appends what is wrong to ``problems``."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(where, 0, f"cannot read: {error}"))
        return ParsedFile(None, {}, (), ())
    lines = tuple(text.splitlines())
    tokens = _md.parse(text)
    if not tokens or tokens[0].type != "front_matter":
        problems.append(
            Problem(where, 1, "no front matter: the file must start with a '---' YAML block")
        )
        return ParsedFile(None, {}, (), lines)
    front = tokens[0]
    fm_first_line = (front.map[0] if front.map else 0) + 2  # the line after the opening ---
    try:
        data = yaml.safe_load(front.content)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = fm_first_line + mark.line if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        problems.append(Problem(where, line, f"front matter is not valid YAML: {problem}"))
        return ParsedFile(None, {}, (), lines)
    if not isinstance(data, dict):
        problems.append(Problem(where, fm_first_line, "front matter must be a mapping of fields"))
        return ParsedFile(None, {}, (), lines)
    field_lines: dict[str, int] = {}
    for offset, line in enumerate(front.content.splitlines()):
        key = re.match(r"([A-Za-z_]+)\s*:", line)
        if key:
            field_lines.setdefault(key.group(1), fm_first_line + offset)
    body_start = front.map[1] if front.map else 0
    body, body_zh = _split_body(tokens[1:], lines, body_start)
    body_links = tuple(_kb_links(tokens[1:]))

    def fail(field: str, message: str) -> None:
        problems.append(Problem(where, field_lines.get(field, fm_first_line), message))

    expected_kind = _DIR_KIND.get(path.parent.name)
    kind = data.get("kind")
    if kind not in KINDS:
        fail("kind", f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        return ParsedFile(None, field_lines, body_links, lines)
    if expected_kind and kind != expected_kind:
        fail("kind", f"kind {kind!r} does not match its directory {path.parent.name}/")
    entry_id = data.get("id")
    if not isinstance(entry_id, str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry_id):
        fail("id", f"id must be kebab-case text, not {entry_id!r}")
        return ParsedFile(None, field_lines, body_links, lines)
    if entry_id != path.stem:
        fail("id", f"id {entry_id!r} differs from the file name {path.name}")
    for field in ("title", "title_zh"):
        if not isinstance(data.get(field), str) or not data[field].strip():
            fail(field, f"{field} is required and must be text")
    lists: dict[str, tuple[str, ...]] = {}
    for field in _LIST_FIELDS:
        value = data.get(field) or []
        if (
            isinstance(value, str)
            or not isinstance(value, list)
            or not all(isinstance(v, (str, int, float)) for v in value)
        ):
            fail(field, f"{field} must be a list of text")
            value = []
        lists[field] = tuple(str(v).strip() for v in value if str(v).strip())
    for field in ("aliases", "aliases_zh"):
        if not lists[field]:
            fail(field, f"{field} must list at least one alias")
    sources = _sources(data.get("sources"), lambda m: fail("sources", m))
    if not body.strip():
        problems.append(Problem(where, body_start + 1, "the English body is empty"))
    common: dict[str, Any] = dict(
        id=entry_id, kind=kind, title=str(data.get("title") or "").strip(),
        title_zh=str(data.get("title_zh") or "").strip(), aliases=lists["aliases"],
        aliases_zh=lists["aliases_zh"], body=body, body_zh=body_zh, sources=sources,
        related=lists["related"], path=where,
    )  # fmt: skip
    extra: dict[str, Any] = {}
    if kind == "symptom":
        extra["causes"] = lists["causes"]
        values = data.get("values") or []
        if not isinstance(values, list) or not all(isinstance(v, (int, float)) for v in values):
            fail("values", "values must be a list of numbers")
            values = []
        extra["values"] = tuple(float(v) for v in values)
    elif kind == "cause":
        extra["checks"] = lists["checks"]
        extra["fixes"] = lists["fixes"]
        for field in ("question", "question_zh"):
            value = data.get(field) or ""
            if not isinstance(value, str):
                fail(field, f"{field} must be text")
                value = ""
            extra[field] = value.strip()
    for field, allowed in (
        ("causes", "symptom"),
        ("values", "symptom"),
        ("checks", "cause"),
        ("fixes", "cause"),
        ("question", "cause"),
    ):
        if field in data and kind != allowed:
            fail(field, f"{field} belongs on a {allowed}, not a {kind}")
    known = {
        "id",
        "kind",
        "title",
        "title_zh",
        "sources",
        "question_zh",
        *_LIST_FIELDS,
        "values",
        "question",
    }
    for field in data:
        if field not in known:
            fail(str(field), f"unknown field {field!r}")
    entry = ENTRY_TYPES[kind](**common, **extra)
    return ParsedFile(entry, field_lines, body_links, lines)


def _sources(value: object, fail: Any) -> tuple[Source, ...]:
    if not isinstance(value, list) or not value:
        fail("sources must list at least one reference")
        return ()
    out = []
    for item in value:
        if isinstance(item, str) and item.strip():
            out.append(Source(item.strip()))
        elif isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip():
            section, url = item.get("section"), item.get("url")
            out.append(
                Source(
                    item["name"].strip(),
                    str(section) if section else None,
                    str(url) if url else None,
                )
            )
        else:
            fail(f"each source needs a name: {item!r}")
    return tuple(out)


def _split_body(tokens: list[Any], lines: tuple[str, ...], body_start: int) -> tuple[str, str]:
    """The English and Chinese bodies, split at the ``## 中文`` heading."""
    zh_line = None
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2" and i + 1 < len(tokens):
            if tokens[i + 1].content.strip() == CHINESE_HEADING and token.map:
                zh_line = token.map[0]
                break
    if zh_line is None:
        return "\n".join(lines[body_start:]).strip(), ""
    english = "\n".join(lines[body_start:zh_line]).strip()
    chinese = "\n".join(lines[zh_line + 1 :]).strip()
    return english, chinese


def _kb_links(tokens: Iterable[Any]) -> Iterable[tuple[str, int]]:
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        line = (token.map[0] + 1) if token.map else 0
        for child in token.children:
            href = child.attrGet("href") if child.type == "link_open" else None
            if isinstance(href, str) and href.startswith(KB_LINK_PREFIX):
                yield href[len(KB_LINK_PREFIX) :], line


def parse_tree(root: Path | None = None) -> tuple[dict[str, ParsedFile], list[Problem]]:
    """Parse every entry file; returns the parsed files by path and the problems found."""
    root = root or content_dir()
    problems: list[Problem] = []
    if not root.is_dir():
        return {}, [Problem(str(root), 0, "content directory not found")]
    parsed = {str(p): parse_file(p, problems) for p in entry_files(root)}
    for path in sorted(root.rglob("*.md")):
        if path.name not in ("README.md", "interview.md") and str(path) not in parsed:
            problems.append(
                Problem(str(path), 0, "not in a symptoms/, causes/, checks/ or fixes/ directory")
            )
    return parsed, problems


def build_kb(parsed: dict[str, ParsedFile]) -> KnowledgeBase:
    """The knowledge base from parsed files (the first entry wins on a duplicate id)."""
    entries: dict[str, Entry] = {}
    for item in parsed.values():
        if item.entry is not None:
            entries.setdefault(item.entry.id, item.entry)
    return KnowledgeBase(entries)


class ContentError(Exception):
    """The content has problems; ``problems`` lists them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the knowledge base; first: {problems[0]}")
        self.problems = problems


def load(root: Path | None = None) -> KnowledgeBase:
    """Load ``content/`` (the shipped one by default); ``ContentError`` when a file is broken."""
    parsed, problems = parse_tree(root)
    if problems:
        raise ContentError(sorted(problems))
    return build_kb(parsed)
