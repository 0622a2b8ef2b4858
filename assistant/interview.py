"""The interview: a walk down the decision tree to a symptom, then questions that tell the
symptom's causes apart, ending in a ranked diagnosis.

Pure logic, no Textual. The state is a plain value (:class:`State`): the answers given so far
and where the interview started. Everything else (the current question, the transcript, the
cause ranking) is derived by replaying those answers, so back is "drop the last answer",
restart is "drop them all", and saving is writing the state as JSON.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from kb.model import Cause, KnowledgeBase, Symptom
from kb.numbers import explain, parse_quoted
from kb.search import Searcher
from kb.tree import Tree

#: What counts as "I don't know" in either language.
UNKNOWN_WORDS = frozenset(
    ["?", "idk", "dont know", "don't know", "i don't know", "i dont know", "not sure", "unknown",
     "skip", "不知道", "不清楚", "不确定", "不確定", "跳过", "跳過"]
)  # fmt: skip
YES_WORDS = frozenset(
    ["y", "yes", "yeah", "yep", "true", "是", "是的", "对", "對", "有", "会", "會"]
)
NO_WORDS = frozenset(
    ["n", "no", "nope", "false", "否", "不是", "没有", "沒有", "不", "不会", "不會"]
)

#: How much a yes / no answer to a cause's question multiplies its weight.
YES_FACTOR, NO_FACTOR = 4.0, 0.25
#: At most this many cause questions: the best-ranked unanswered cause is asked each time, so
#: the rest are the least likely ones.
MAX_CAUSE_QUESTIONS = 5
#: Free text jumps straight to a symptom when the best hit is a symptom this far ahead.
JUMP_MARGIN = 0.2


@dataclass(frozen=True)
class State:
    """Everything needed to resume an interview; JSON-serialisable."""

    answers: tuple[str, ...] = ()
    """What the user typed or picked, in order."""
    start_symptom: str | None = None
    """A symptom known before the first question (from a log's primary finding)."""
    start_note: str = ""
    """Why the interview starts there (the finding's summary), shown as the first reply."""

    def to_json(self) -> str:
        """The state as a JSON string."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> State:
        """The state from :meth:`to_json`; ``ValueError`` when it is not one."""
        try:
            data = json.loads(text)
            return cls(
                tuple(str(a) for a in data.get("answers", ())),
                data.get("start_symptom"),
                str(data.get("start_note", "")),
            )
        except (json.JSONDecodeError, AttributeError, TypeError) as error:
            raise ValueError(f"not a saved interview: {error}") from None


@dataclass(frozen=True)
class Option:
    """One choice offered with a question."""

    key: str
    """What selects it: ``1``, ``2``, ..."""
    label: str
    """English label."""
    label_zh: str = ""
    """Chinese label."""


@dataclass(frozen=True)
class Turn:
    """One line of the conversation."""

    role: str
    """``assistant`` or ``user``."""
    text: str
    """What was said."""


@dataclass(frozen=True)
class RankedCause:
    """A cause with its share of the belief and the reasons."""

    cause: Cause
    """The cause entry."""
    probability: float
    """Share of the belief, 0 to 1, over the symptom's causes."""
    why: tuple[str, ...]
    """Why it ranks where it does."""


@dataclass(frozen=True)
class Diagnosis:
    """The end of the interview."""

    symptom: Symptom
    """The symptom the interview settled on."""
    causes: tuple[RankedCause, ...]
    """Ranked, most likely first."""
    note: str = ""
    """How the symptom was established (a log finding, a value's formula, ...)."""

    @property
    def headline(self) -> str:
        """``Diagnosis: loss stuck at 87.3365 (stuck-87-3365)``."""
        return f"Diagnosis: {self.symptom.title} ({self.symptom.id})"


@dataclass(frozen=True)
class Step:
    """Where the interview is: the question to show, or the diagnosis."""

    kind: str
    """``question`` (choose, or type), ``cause`` (a yes/no question about a cause),
    ``pick`` (choose among search candidates) or ``done``."""
    prompt: str
    """The question, English."""
    prompt_zh: str = ""
    """The question, Chinese."""
    options: tuple[Option, ...] = ()
    """Numbered choices."""
    accepts_number: bool = False
    """True when a loss value is a valid answer."""
    symptom: str | None = None
    """The symptom once known."""
    entry: str | None = None
    """The entry to show beside the question (symptom or the cause being asked about)."""
    transcript: tuple[Turn, ...] = ()
    """The conversation so far."""
    diagnosis: Diagnosis | None = None
    """Set when ``kind == "done"``; also the current ranking during cause questions."""
    progress: tuple[int, int] = (0, 0)
    """Cause questions asked and in all, during the cause phase."""


@dataclass
class _Walk:
    """Mutable scratch of one replay."""

    node: str
    symptom: str | None = None
    note: str = ""
    cause_answers: dict[str, str] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()
    transcript: list[Turn] = field(default_factory=list)


class Interview:
    """Walks the tree for one knowledge base; every method is pure (state in, value out)."""

    def __init__(self, kb: KnowledgeBase, tree: Tree, searcher: Searcher) -> None:
        self.kb = kb
        self.tree = tree
        self.searcher = searcher

    # ------------------------------------------------------------------ state changes

    def start(self, symptom: str | None = None, note: str = "") -> State:
        """A new interview, at the root or at a known symptom."""
        if symptom is not None and not isinstance(self.kb.entries.get(symptom), Symptom):
            raise KeyError(symptom)
        return State((), symptom, note)

    def answer(self, state: State, text: str) -> State:
        """The state after the user says ``text`` (a choice number, a label, a value, free
        text, "back", "restart" or "I don't know")."""
        said = text.strip()
        if not said:
            return state
        lowered = said.lower()
        if lowered in ("back", "返回", "上一步"):
            return self.back(state)
        if lowered in ("restart", "start over", "重新开始", "重新開始"):
            return self.restart(state)
        if self.step(state).kind == "done":
            return state
        return replace(state, answers=(*state.answers, said))

    def back(self, state: State) -> State:
        """Undo the last answer."""
        return replace(state, answers=state.answers[:-1])

    def restart(self, state: State) -> State:
        """Start over, keeping where a log put the start."""
        return replace(state, answers=())

    # ------------------------------------------------------------------ views

    def step(self, state: State) -> Step:
        """What to show for ``state``: replays every answer."""
        walk = _Walk(node=self.tree.root)
        if state.start_symptom:
            walk.symptom = state.start_symptom
            walk.note = state.start_note
            symptom = self.kb.symptom(state.start_symptom)
            walk.transcript.append(
                Turn(
                    "assistant",
                    f"{state.start_note or 'Starting from'}: {symptom.title} ({symptom.id}).",
                )
            )
        for said in state.answers:
            view = self._view(walk)
            walk.transcript.append(Turn("assistant", view.prompt))
            walk.transcript.append(Turn("user", said))
            reply = self._apply(walk, view, said)
            if reply:
                walk.transcript.append(Turn("assistant", reply))
        view = self._view(walk)
        return replace(view, transcript=tuple(walk.transcript))

    def diagnosis(self, state: State) -> Diagnosis | None:
        """The current ranking once a symptom is known (final once every question is
        answered), else None."""
        return self.step(state).diagnosis

    def _view(self, walk: _Walk) -> Step:
        if walk.candidates:
            options = tuple(
                Option(str(i), self.kb.get(c).title, self.kb.get(c).title_zh)
                for i, c in enumerate(walk.candidates, start=1)
            ) + (Option(str(len(walk.candidates) + 1), "None of these", "都不是"),)
            return Step("pick", "Which of these matches best?", "哪一个最符合？", options)
        if walk.symptom is None:
            node = self.tree.nodes[walk.node]
            options = tuple(
                Option(str(i), a.label, a.label_zh) for i, a in enumerate(node.answers, start=1)
            )
            return Step(
                "question",
                node.question,
                node.question_zh,
                options,
                accepts_number=node.number_target is not None,
            )
        ranking = self._rank(walk)
        pending = self._next_cause(walk)
        asked = len([c for c in walk.cause_answers if c in {r.cause.id for r in ranking.causes}])
        total = min(MAX_CAUSE_QUESTIONS, asked + len(self._unasked(walk)))
        if pending is None:
            return Step(
                "done",
                ranking.headline,
                "",
                symptom=walk.symptom,
                entry=walk.symptom,
                diagnosis=ranking,
                progress=(asked, total),
            )
        options = (
            Option("1", "Yes", "是"),
            Option("2", "No", "否"),
            Option("3", "I don't know", "不知道"),
        )
        return Step(
            "cause", pending.question, pending.question_zh, options, symptom=walk.symptom, entry=pending.id,
            diagnosis=ranking, progress=(asked, total),
        )  # fmt: skip

    # ------------------------------------------------------------------ answering

    def _apply(self, walk: _Walk, view: Step, said: str) -> str:
        lowered = said.lower().strip(" .!。！")
        if view.kind == "pick":
            choice = _option_index(said, view.options)
            candidates, walk.candidates = walk.candidates, ()
            if choice is not None and choice < len(candidates):
                return self._settle(walk, candidates[choice], "you picked it")
            if choice is not None or lowered in UNKNOWN_WORDS:
                return "Then let us go step by step."
            return self._free_text(walk, said)
        if view.kind == "cause":
            cause_id = view.entry or ""
            choice = _option_index(said, view.options)
            if choice == 0 or lowered in YES_WORDS:
                walk.cause_answers[cause_id] = "yes"
            elif choice == 1 or lowered in NO_WORDS:
                walk.cause_answers[cause_id] = "no"
            elif choice == 2 or lowered in UNKNOWN_WORDS:
                walk.cause_answers[cause_id] = "unknown"
            else:
                return self._free_text(walk, said, reask=True)
            return ""
        node = self.tree.nodes[walk.node]
        if lowered in UNKNOWN_WORDS:
            return self._go(walk, node.unknown_target, "not knowing is fine")
        choice = _option_index(said, view.options)
        if choice is not None:
            return self._go(walk, node.answers[choice].target, "")
        if node.number_target is not None and _looks_like_number(said):
            return self._number(walk, said, node.number_target)
        label = _match_label(said, node.answers)
        if label is not None:
            return self._go(walk, label.target, "")
        return self._free_text(walk, said)

    def _go(self, walk: _Walk, target: str, reason: str) -> str:
        if target in self.tree.nodes:
            walk.node = target
            return ""
        return self._settle(walk, target, reason)

    def _settle(self, walk: _Walk, symptom_id: str, reason: str) -> str:
        walk.symptom = symptom_id
        walk.note = reason
        symptom = self.kb.symptom(symptom_id)
        count = min(
            MAX_CAUSE_QUESTIONS, len([c for c in self.kb.causes_of(symptom_id) if c.question])
        )
        tail = f" Now {count} questions to tell its causes apart." if count else ""
        because = f" ({reason})" if reason else ""
        return f"That is: {symptom.title} ({symptom.id}){because}.{tail}"

    def _number(self, walk: _Walk, said: str, fallback: str) -> str:
        value = said.strip().split()[0].rstrip("%")
        explanations = explain(value)
        if explanations:
            best = explanations[0]
            return self._settle(walk, best.symptom, best.label)
        return self._settle(walk, fallback, f"{value} has no known meaning by itself")

    def _free_text(self, walk: _Walk, said: str, reask: bool = False) -> str:
        try:
            hits = self.searcher.search(said, 8)
        except ValueError:
            return "I did not understand that; pick a number or describe the problem in words."
        symptoms = [h for h in hits if h.kind == "symptom"]
        if not symptoms:
            return "I found nothing about that; pick one of the answers."
        if walk.symptom is not None and reask:
            return f"Please answer yes, no or I don't know (closest entry for what you wrote: {hits[0].id})."
        best = symptoms[0]
        runner_up = symptoms[1].score if len(symptoms) > 1 else 0.0
        if hits[0].id == best.id and best.score - runner_up >= JUMP_MARGIN:
            why = f"matched “{said}”"
            return self._settle(walk, best.id, why)
        walk.candidates = tuple(h.id for h in symptoms[:3])
        return "I am not sure which it is; pick the closest."

    # ------------------------------------------------------------------ ranking

    def _causes(self, walk: _Walk) -> list[Cause]:
        return self.kb.causes_of(walk.symptom) if walk.symptom else []

    def _unasked(self, walk: _Walk) -> list[Cause]:
        return [c for c in self._causes(walk) if c.id not in walk.cause_answers and c.question]

    def _next_cause(self, walk: _Walk) -> Cause | None:
        """The unanswered cause ranked highest: asking it settles the most."""
        if len(walk.cause_answers) >= MAX_CAUSE_QUESTIONS:
            return None
        unasked = {c.id for c in self._unasked(walk)}
        for ranked in self._rank(walk).causes:
            if ranked.cause.id in unasked:
                return ranked.cause
        return None

    def _rank(self, walk: _Walk) -> Diagnosis:
        symptom = self.kb.symptom(walk.symptom or "")
        weights = []
        for rank, cause in enumerate(self._causes(walk)):
            weight = 1.0 / (rank + 1)
            why = [f"listed #{rank + 1} of {len(symptom.causes)} for this symptom"]
            said = walk.cause_answers.get(cause.id)
            if said == "yes":
                weight *= YES_FACTOR
                why.insert(0, f"you said yes: {cause.question}")
            elif said == "no":
                weight *= NO_FACTOR
                why.insert(0, f"you said no: {cause.question}")
            weights.append((cause, weight, tuple(why)))
        total = math.fsum(w for _, w, _ in weights) or 1.0
        ranked = sorted(
            (RankedCause(c, w / total, why) for c, w, why in weights), key=lambda r: -r.probability
        )
        return Diagnosis(symptom, tuple(ranked), walk.note)


def _option_index(said: str, options: tuple[Option, ...]) -> int | None:
    """The 0-based option a lone number picks, or None."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*[.)]?\s*", said)
    if match:
        number = int(match.group(1))
        if 1 <= number <= len(options):
            return number - 1
    return None


def _looks_like_number(said: str) -> bool:
    token = said.strip().split()[0].rstrip("%") if said.strip() else ""
    try:
        parse_quoted(token)
        return True
    except ValueError:
        return False


def _match_label(said: str, answers: Any) -> Any:
    from rapidfuzz import fuzz

    lowered = said.lower()
    best, best_score = None, 0.0
    for answer in answers:
        score = max(fuzz.ratio(lowered, answer.label.lower()), fuzz.ratio(said, answer.label_zh))
        if score > best_score:
            best, best_score = answer, score
    return best if best_score >= 85 else None


def render_diagnosis(diagnosis: Diagnosis, kb: KnowledgeBase, *, limit: int = 3) -> str:
    """The diagnosis as Markdown: headline, ranked causes with why, checks, fixes, sources."""
    symptom = diagnosis.symptom
    lines = [diagnosis.headline, ""]
    if diagnosis.note:
        lines += [f"How we got here: {diagnosis.note}", ""]
    lines.append("## Causes, most likely first")
    for number, ranked in enumerate(diagnosis.causes, start=1):
        cause = ranked.cause
        lines.append(f"{number}. **{cause.title}** (`{cause.id}`), {ranked.probability:.0%}")
        for reason in ranked.why[:2]:
            lines.append(f"   - {reason}")
    top = [r.cause for r in diagnosis.causes[:limit]]
    checks = list(dict.fromkeys(c for cause in top for c in kb.checks_of(cause)))
    fixes = list(dict.fromkeys(f for cause in top for f in kb.fixes_of(cause)))
    lines += ["", "## Checks to run"] + [f"- **{c.title}** (`{c.id}`)" for c in checks]
    lines += ["", "## Fixes"] + [f"- **{f.title}** (`{f.id}`)" for f in fixes]
    sources = list(
        dict.fromkeys(str(s) for e in [symptom, *top, *checks, *fixes] for s in e.sources)
    )
    lines += ["", "## Sources"] + [f"- {s}" for s in sources]
    return "\n".join(lines)


def default_interview() -> Interview:
    """The interview over the shipped knowledge base (indexes loaded from the cache)."""
    from kb.index import load_kb
    from kb.search import searcher
    from kb.tree import load_tree

    return Interview(load_kb(), load_tree(), searcher())
