"""The interview's decision tree, authored in ``content/interview.md``, and its checks.

Each ``##`` heading is a question node; its blockquote holds the question (English line, then
Chinese); each list item ``English / 中文 → target`` is an answer leading to another node or to a
symptom; ``Number: TARGET`` makes the node accept a loss value (explained by :mod:`kb.numbers`,
with TARGET for a value of no known meaning); ``Unknown: TARGET`` is where "I don't know" leads.
The validator proves every symptom reachable, no dead ends and no cycles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from kb.load import Problem
from kb.model import ROOT_SYMPTOM, SYMPTOM_IDS, KnowledgeBase
from kb.numbers import table
from kb.paths import content_dir

TREE_FILE = "interview.md"
_ANSWER = re.compile(r"^(?P<en>.+?)\s*/\s*(?P<zh>.+?)\s*(?:→|->)\s*(?P<target>[a-z0-9-]+)\s*$")
_DIRECTIVE = re.compile(r"^(?P<key>Number|Unknown):\s*(?P<target>[a-z0-9-]+)\s*$")


@dataclass(frozen=True)
class Answer:
    """One answer a question offers."""

    label: str
    """English label."""
    label_zh: str
    """Chinese label."""
    target: str
    """A node id or a symptom id."""
    line: int
    """Line in the tree file."""


@dataclass(frozen=True)
class Node:
    """One question of the tree."""

    id: str
    """Kebab-case id (the heading)."""
    question: str
    """English question."""
    question_zh: str
    """Chinese question."""
    answers: tuple[Answer, ...]
    """The choices, in the order shown."""
    number_target: str | None
    """When set, the node accepts a loss value; a value with no known meaning goes here."""
    unknown_target: str
    """Where "I don't know" leads."""
    line: int
    """Line of the heading."""


@dataclass(frozen=True)
class Tree:
    """The whole decision tree."""

    root: str
    """The first node."""
    nodes: dict[str, Node]
    """Every node by id."""
    path: str
    """The file it came from."""

    def number_targets(self) -> tuple[str, ...]:
        """Symptoms a number answer can lead to (from the magic-number table)."""
        return tuple(dict.fromkeys(row.symptom for row in table()))


@dataclass
class _Draft:
    """A node while its lines are being read."""

    id: str
    line: int
    question: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    number: str | None = None
    unknown: str | None = None


def parse_tree_file(path: Path | None = None) -> tuple[Tree | None, list[Problem]]:
    """Parse the tree file; returns the tree (None if unusable) and the problems found."""
    path = path or content_dir() / TREE_FILE
    where = str(path)
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        return None, [Problem(where, 0, f"cannot read the interview tree: {error}")]
    tokens = MarkdownIt("commonmark").use(front_matter_plugin).parse(text)
    root = "start"
    if tokens and tokens[0].type == "front_matter":
        try:
            front = yaml.safe_load(tokens[0].content) or {}
            root = str(front.get("root", root))
        except yaml.YAMLError as error:
            problems.append(Problem(where, 1, f"front matter is not valid YAML: {error}"))
    nodes: dict[str, Node] = {}
    current: _Draft | None = None

    def close() -> None:
        if current is None:
            return
        question = list(current.question)
        if len(question) < 2:
            problems.append(
                Problem(
                    where,
                    current.line,
                    f"node {current.id!r} needs a question in English and Chinese (a two-line blockquote)",
                )
            )
            question += ["", ""]
        if current.id in nodes:
            problems.append(Problem(where, current.line, f"duplicate node {current.id!r}"))
        nodes[current.id] = Node(
            current.id, question[0], question[1], tuple(current.answers), current.number,
            current.unknown or ROOT_SYMPTOM, current.line,
        )  # fmt: skip

    in_quote = False
    for i, token in enumerate(tokens):
        line = (token.map[0] + 1) if token.map else 0
        if token.type == "heading_open" and token.tag == "h2":
            close()
            node_id = tokens[i + 1].content.strip()
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", node_id):
                problems.append(
                    Problem(where, line, f"node id must be kebab-case, not {node_id!r}")
                )
            current = _Draft(node_id, line)
        elif current is None:
            continue
        elif token.type == "blockquote_open":
            in_quote = True
        elif token.type == "blockquote_close":
            in_quote = False
        elif token.type == "inline" and in_quote:
            current.question = [s.strip() for s in token.content.splitlines() if s.strip()]
        elif (
            token.type == "inline"
            and tokens[i - 1].type == "paragraph_open"
            and i >= 2
            and tokens[i - 2].type == "list_item_open"
        ):
            match = _ANSWER.match(token.content.strip())
            if match:
                current.answers.append(Answer(match["en"], match["zh"], match["target"], line))
            else:
                problems.append(
                    Problem(
                        where,
                        line,
                        f"an answer must read 'English / 中文 → target': {token.content.strip()!r}",
                    )
                )
        elif token.type == "inline":
            match = _DIRECTIVE.match(token.content.strip())
            if match and match["key"] == "Number":
                current.number = match["target"]
            elif match:
                current.unknown = match["target"]
    close()
    if not nodes:
        problems.append(Problem(where, 0, "the interview tree has no question nodes"))
        return None, problems
    return Tree(root, nodes, where), problems


def validate_tree(root_dir: Path, kb: KnowledgeBase) -> list[Problem]:
    """Targets resolve, every node is reachable, every symptom is reachable, no dead ends, no
    cycles. Registered with :mod:`kb.validate` so ``lossdoctor kb check`` runs it."""
    tree, problems = parse_tree_file(root_dir / TREE_FILE)
    if tree is None:
        return problems
    where = tree.path
    if tree.root not in tree.nodes:
        problems.append(Problem(where, 1, f"root {tree.root!r} is not a node"))
        return problems
    symptoms = {e.id for e in kb.of_kind("symptom")}
    for node in tree.nodes.values():
        if node.id in kb:
            problems.append(Problem(where, node.line, f"node id {node.id!r} is also an entry id"))
        if not node.answers and node.number_target is None:
            problems.append(
                Problem(where, node.line, f"dead end: node {node.id!r} offers no answer")
            )
        for answer in node.answers:
            if answer.target not in tree.nodes and answer.target not in symptoms:
                problems.append(
                    Problem(
                        where,
                        answer.line,
                        f"answer leads to {answer.target!r}, which is neither a node nor a symptom",
                    )
                )
        for target in (node.number_target, node.unknown_target):
            if target is not None and target not in symptoms and target not in tree.nodes:
                problems.append(
                    Problem(where, node.line, f"node {node.id!r} leads to unknown {target!r}")
                )
    reached_nodes: set[str] = set()
    reached_symptoms: set[str] = set()
    visiting: list[str] = []

    def walk(node_id: str) -> None:
        if node_id in visiting:
            cycle = " → ".join([*visiting[visiting.index(node_id) :], node_id])
            problems.append(Problem(where, tree.nodes[node_id].line, f"cycle: {cycle}"))
            return
        if node_id in reached_nodes:
            return
        reached_nodes.add(node_id)
        visiting.append(node_id)
        node = tree.nodes[node_id]
        targets = [a.target for a in node.answers] + [node.unknown_target]
        if node.number_target is not None:
            targets += [node.number_target, *tree.number_targets()]
        for target in targets:
            if target in tree.nodes:
                walk(target)
            elif target in symptoms:
                reached_symptoms.add(target)
        visiting.pop()

    walk(tree.root)
    for node_id, node in tree.nodes.items():
        if node_id not in reached_nodes:
            problems.append(
                Problem(where, node.line, f"node {node_id!r} cannot be reached from {tree.root!r}")
            )
    for symptom_id in sorted(set(SYMPTOM_IDS) & symptoms):
        if symptom_id not in reached_symptoms:
            problems.append(
                Problem(where, 0, f"symptom {symptom_id!r} cannot be reached in the interview")
            )
    return problems


def load_tree(path: Path | None = None) -> Tree:
    """The shipped tree; ``ValueError`` when it cannot be parsed."""
    tree, problems = parse_tree_file(path)
    if tree is None or problems:
        raise ValueError(str(problems[0]) if problems else "no interview tree")
    return tree
