"""The knowledge base as typed, immutable data: entries of four kinds and the links between them.

A *symptom* is what the user sees, a *cause* explains it, a *check* confirms a cause and a *fix*
removes it. Symptoms link causes (most likely first); causes link checks and fixes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["symptom", "cause", "check", "fix"]
KINDS: tuple[Kind, ...] = ("symptom", "cause", "check", "fix")

#: The symptom ids every front end and the JSON output rely on.
SYMPTOM_IDS: tuple[str, ...] = (
    "loss-not-decreasing", "still-learning", "overfitting", "train-flat-val-falling", "plateau",
    "both-rising", "stuck-87-3365", "stuck-at-chance", "stuck-at-clamp", "stuck-constant",
    "nan-loss", "diverging", "oscillating", "spikes", "slow-decrease", "val-below-train",
    "zero-loss", "negative-loss", "periodic",
)  # fmt: skip

ROOT_SYMPTOM = "loss-not-decreasing"


@dataclass(frozen=True)
class Source:
    """A reference an entry's facts come from."""

    name: str
    """The reference's name, e.g. ``CS231n notes: Neural Networks Part 3``."""
    section: str | None = None
    """The part of it, e.g. ``§2 Loss constant at 87.33``."""
    url: str | None = None
    """Where to read it, when it is online."""

    def __str__(self) -> str:
        text = self.name + (f", {self.section}" if self.section else "")
        return text + (f" <{self.url}>" if self.url else "")


@dataclass(frozen=True)
class Entry:
    """Fields every kind of entry has."""

    id: str
    """Kebab-case id, unique across kinds, equal to the file name."""
    kind: Kind
    """Which of the four kinds."""
    title: str
    """English title."""
    title_zh: str
    """Chinese title."""
    aliases: tuple[str, ...]
    """How people write it in English."""
    aliases_zh: tuple[str, ...]
    """How people write it in Chinese (simplified, traditional or mixed)."""
    body: str
    """The English body, Markdown."""
    body_zh: str
    """The Chinese body, Markdown (may be empty)."""
    sources: tuple[Source, ...]
    """References, at least one."""
    related: tuple[str, ...] = ()
    """Ids of other entries worth a look."""
    path: str = ""
    """The file it was loaded from."""

    def links(self) -> Iterator[tuple[str, str]]:
        """``(field, id)`` for every outgoing link."""
        for target in self.related:
            yield "related", target


@dataclass(frozen=True)
class Symptom(Entry):
    """What the user sees in the loss curve or the log."""

    causes: tuple[str, ...] = ()
    """Cause ids, most likely first."""
    values: tuple[float, ...] = ()
    """Loss values that identify this symptom by themselves."""

    def links(self) -> Iterator[tuple[str, str]]:
        yield from super().links()
        for target in self.causes:
            yield "causes", target


@dataclass(frozen=True)
class Cause(Entry):
    """Why a symptom happens."""

    checks: tuple[str, ...] = ()
    """Check ids that confirm this cause."""
    fixes: tuple[str, ...] = ()
    """Fix ids that remove it."""
    question: str = ""
    """A yes/no question whose "yes" makes this cause more likely."""
    question_zh: str = ""
    """The question in Chinese."""

    def links(self) -> Iterator[tuple[str, str]]:
        yield from super().links()
        for target in self.checks:
            yield "checks", target
        for target in self.fixes:
            yield "fixes", target


@dataclass(frozen=True)
class Check(Entry):
    """How to confirm a cause: what to run or look at."""


@dataclass(frozen=True)
class Fix(Entry):
    """What to change."""


ENTRY_TYPES: Mapping[Kind, type[Entry]] = {
    "symptom": Symptom,
    "cause": Cause,
    "check": Check,
    "fix": Fix,
}


@dataclass(frozen=True)
class KnowledgeBase:
    """All entries, by id, with the lookups the front ends need."""

    entries: Mapping[str, Entry]
    """Every entry by id."""
    root: str = ROOT_SYMPTOM
    """Where the interview starts."""
    _back: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        back: dict[str, list[str]] = {}
        for entry in self.entries.values():
            for _, target in entry.links():
                back.setdefault(target, []).append(entry.id)
        object.__setattr__(self, "_back", {k: tuple(v) for k, v in back.items()})

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry:
        """The entry with this id; ``KeyError`` when there is none."""
        return self.entries[entry_id]

    def of_kind(self, kind: Kind) -> list[Entry]:
        """Entries of one kind, sorted by id."""
        return sorted((e for e in self.entries.values() if e.kind == kind), key=lambda e: e.id)

    def symptom(self, entry_id: str) -> Symptom:
        """The symptom with this id."""
        entry = self.entries[entry_id]
        if not isinstance(entry, Symptom):
            raise KeyError(entry_id)
        return entry

    def causes_of(self, symptom_id: str) -> list[Cause]:
        """The symptom's causes, most likely first."""
        return [
            c
            for c in (self.entries.get(i) for i in self.symptom(symptom_id).causes)
            if isinstance(c, Cause)
        ]

    def checks_of(self, cause: Cause) -> list[Check]:
        """The cause's checks."""
        return [c for c in (self.entries.get(i) for i in cause.checks) if isinstance(c, Check)]

    def fixes_of(self, cause: Cause) -> list[Fix]:
        """The cause's fixes."""
        return [f for f in (self.entries.get(i) for i in cause.fixes) if isinstance(f, Fix)]

    def linked_from(self, entry_id: str) -> tuple[str, ...]:
        """Ids of the entries that link to this one."""
        return self._back.get(entry_id, ())

    def symptoms_of(self, entry_id: str) -> list[Symptom]:
        """The symptoms an entry belongs to: itself, the symptoms of a cause, or of the causes
        of a check or fix."""
        entry = self.entries[entry_id]
        if isinstance(entry, Symptom):
            return [entry]
        ids: list[str] = []
        frontier = [entry_id]
        for _ in range(2):
            frontier = [b for f in frontier for b in self.linked_from(f)]
            ids += [i for i in frontier if isinstance(self.entries.get(i), Symptom)]
        seen: dict[str, Symptom] = {}
        for i in ids:
            seen.setdefault(i, self.symptom(i))
        return list(seen.values())
