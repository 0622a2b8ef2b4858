"""Rank knowledge-base entries for a free-text description of a training problem.

The one search behind the CLI, the interview's chat box and the TUI's command palette. Four
signals are combined:

* TF-IDF over character n-grams (titles and aliases, and bodies), which needs no tokenizer for
  Chinese and tolerates inflections and small typos;
* fuzzy matching (rapidfuzz) of the query against every title and alias;
* numbers: a value in the query is explained by :mod:`kb.numbers` (87.33 is -ln(FLT_MIN),
  4.6 is ln 100, an accuracy of 10 % is 1/10), pointing straight at a symptom;
* the shape of the sentence: which split (train or val) goes up, down or stays flat, as in the
  seed's five cases ("val loss going up while train loss goes down").
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from kb.index import NGRAM_RANGE, SearchIndex, TfidfModel, load_index
from kb.numbers import explain, parse_quoted
from kb.text import char_wb_ngrams, content_words, normalize

#: How many entries (the best by TF-IDF) are fuzzy-matched; TF-IDF already tolerates typos.
FUZZY_CANDIDATES = 40

#: Longest query considered; the rest is ignored (a pasted log belongs in ``triage``).
MAX_QUERY_CHARS = 2000


@dataclass(frozen=True)
class Hit:
    """One ranked entry."""

    id: str
    """The entry id."""
    kind: str
    """``symptom``, ``cause``, ``check`` or ``fix``."""
    title: str
    """The English title."""
    score: float
    """Relevance, 0 to 1 (comparable within one query)."""
    why: tuple[str, ...] = ()
    """What matched: a phrase, a number's formula, a sentence shape."""


class QueryError(ValueError):
    """A query that cannot be searched (empty, or no text at all)."""


_UNIT_AFTER = re.compile(
    r"\s*(?:epoch|epochs|iter|iters|step|steps|batch|batches|layers?|class|classes|gb|mb|kb|k\b|m\b|"
    r"images?|samples?|hours?|mins?|minutes?|seconds?|s\b|times|x\b|gpus?|cores?|个|轮|次|层|类|张|分钟|小时|步)"
)
_NUMBER = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)(%?)(?![\w.])")
_ACC_WORDS = re.compile(r"\bacc\b|top-?1|准确率|正确率|精度|精确度|准确度")
_NAN_WORDS = re.compile(r"(?<![a-z])(?:-?nan|1\.#qnan|1\.#ind|nans)(?![a-z])")
_INF_WORDS = re.compile(r"(?<![a-z])(?:-?inf|1\.#inf|explod\w*|blow\w* up|无穷)(?![a-z])")

_SUBJECT = re.compile(
    r"(?P<train>\btrain\b|训练集?|train set)|(?P<val>\bval\b|验证集?|测试集?)|(?P<both>\bboth\b|两者|都)"
)
_FLAT = r"(?:flat\w*|stuck|same|constant|plateau\w*|stagnat\w*|not (?:chang|improv|decreas|declin|drop|mov|go(?:ing)? down|fall|reduc)\w*|unchang\w*|steady|stable|stops? (?:decreas|improv|falling|dropping)\w*|不变|趋于不变|不动|不下降|不降|停滞|不再下降|持平|没有变化|没变化|稳定|卡住|卡在)"
_UP = r"(?:increas\w*|ris\w*|rose|go(?:es|ing)? up|went up|up\b|climb\w*|grow\w*|higher|larger|bigger|worse|上升|升高|增加|增大|变大|越来越大|上涨|变高|提高|增长|反升)"
_DOWN = r"(?:decreas\w*|fall\w*|fell|go(?:es|ing)? down|went down|down\b|drop\w*|declin\w*|reduc\w*|lower\w*|improv\w*|下降|降低|减少|减小|变小|越来越小|变低|降)"
_DIRECTION = re.compile(rf"(?P<flat>{_FLAT})|(?P<up>{_UP})|(?P<down>{_DOWN})")
_VAL_BELOW = re.compile(
    r"\bval\b[^,.;，。]{0,30}(?:lower|less|smaller|below|better)\s+than[^,.;，。]{0,20}\btrain\b|"
    r"\btrain\b[^,.;，。]{0,30}(?:higher|greater|bigger|larger|above)\s+than[^,.;，。]{0,20}\bval\b|"
    r"\bval\b[^,.;，。]{0,20}<[^,.;，。]{0,20}\btrain\b|"
    r"验证集?[^,.;，。]{0,12}(?:比|低于|小于)[^,.;，。]{0,12}训练集?[^,.;，。]{0,8}(?:低|小|还低|还小)?|"
    r"训练集?[^,.;，。]{0,12}(?:比|高于|大于)[^,.;，。]{0,12}验证集?[^,.;，。]{0,8}(?:高|大)"
)


def _tfidf_scores(model: TfidfModel, text: str) -> dict[int, float]:
    counts: dict[str, int] = defaultdict(int)
    for gram in char_wb_ngrams(text, *NGRAM_RANGE):
        counts[gram] += 1
    found = []
    for gram, count in counts.items():
        entry = model.lookup(gram)
        if entry is not None:
            idf, docs, weights = entry
            found.append(((1.0 + math.log(count)) * idf, docs, weights))
    norm = math.sqrt(sum(w * w for w, _, _ in found))
    scores: dict[int, float] = defaultdict(float)
    if not norm:
        return scores
    for weight, docs, doc_weights in found:
        q = weight / norm
        for doc, d in zip(docs, doc_weights, strict=True):
            scores[doc] += q * d
    return scores


def _fuzzy_scores(
    index: SearchIndex, text: str, candidates: list[int]
) -> tuple[dict[int, float], dict[int, str]]:
    """Best fuzzy match of ``text`` against the titles and aliases of ``candidates``."""
    best: dict[int, float] = defaultdict(float)
    phrase_of: dict[int, str] = {}
    by_doc = index.phrases_by_doc
    text = content_words(text)
    if not text:
        return best, phrase_of
    short_query = len(text) <= 3
    for doc in candidates:
        for full_phrase, phrase in by_doc[doc]:
            if not phrase:
                continue
            score = fuzz.token_set_ratio(text, phrase, score_cutoff=55)
            if len(phrase) <= len(text) + 2:
                score = max(score, fuzz.partial_ratio(phrase, text, score_cutoff=70))
            if not score:
                continue
            if short_query and len(phrase) > 3 * max(1, len(text)):
                score *= 0.6  # "nan" alone should not match every long phrase containing it
            elif len(phrase) > 2 * len(text):
                # a few words found inside a long alias say less than the whole alias matched
                score *= 0.8 + 0.2 * 2 * len(text) / len(phrase)
            if len(phrase) < 0.5 * len(text):
                # a short phrase matched inside a long query counts less than a full match
                score *= 0.75 + 0.25 * len(phrase) / max(1, 0.5 * len(text))
            value = (score / 100.0) ** 2
            if value > best[doc]:
                best[doc], phrase_of[doc] = value, full_phrase
    return best, phrase_of


def number_signals(text: str) -> list[tuple[str, float, str]]:
    """``(symptom id, strength, why)`` for every number in a normalised query that means
    something: a loss value (87.33, 4.6) or an accuracy at chance (acc 10 %)."""
    out: list[tuple[str, float, str]] = []
    about_accuracy = _ACC_WORDS.search(text) is not None
    for match in _NUMBER.finditer(text):
        literal, percent = match.group(1), match.group(2)
        if _UNIT_AFTER.match(text, match.end()):
            continue
        try:
            value, decimals = parse_quoted(literal)
        except ValueError:
            continue
        before = text[max(0, match.start() - 24) : match.start()]
        near_accuracy = about_accuracy and (
            percent or _ACC_WORDS.search(before) or "loss" not in before
        )
        if near_accuracy and 0 < value <= 100:
            share = value / 100 if (percent or value > 1) else value
            classes = round(1 / share) if share > 0 else 0
            if 2 <= classes <= 1000 and abs(1 / classes - share) <= max(0.006, 0.02 * share):
                out.append(
                    (
                        "stuck-at-chance",
                        0.85,
                        f"accuracy {literal}{percent} = 1/{classes}: chance level",
                    )
                )
            elif share in (0.0, 1.0):
                out.append(("stuck-constant", 0.3, f"accuracy {literal}{percent} frozen"))
            continue
        if percent:
            continue
        if value < 0:
            out.append(("negative-loss", 0.7, f"{literal} is below zero"))
            continue
        if value == 0:
            out.append(
                ("zero-loss", 0.6 if decimals else 0.45, f"{literal}: the loss reached zero")
            )
            continue
        if decimals == 0 and value not in (100.0, 87.0, 708.0):
            continue  # integers are counts far more often than loss values
        for explanation in explain(literal)[:2]:
            out.append(
                (explanation.symptom, explanation.confidence, f"{literal} ≈ {explanation.formula}")
            )
    if _NAN_WORDS.search(text):
        out.append(("nan-loss", 0.7, "nan"))
    if _INF_WORDS.search(text):
        out.append(("diverging", 0.45, "inf / exploding"))
        out.append(("nan-loss", 0.35, "inf / exploding"))
    return out


def shape_signals(text: str) -> list[tuple[str, float, str]]:
    """``(symptom id, strength, why)`` from how the query says each split moves."""
    moves: dict[str, str] = {}
    group: list[str] = []  # the splits named since the last direction: "train and val loss rise"
    pending: str | None = None  # a direction said before any split: "increasing val loss"
    last = "move"
    events = sorted(
        [(m.start(), "subject", m.lastgroup or "") for m in _SUBJECT.finditer(text)]
        + [(m.start(), "move", m.lastgroup or "") for m in _DIRECTION.finditer(text)]
    )
    for _, what, value in events:
        if what == "subject":
            if last == "move":
                group = []
            group.append(value)
            if pending:
                _assign(moves, value, pending)
                pending = None
        elif not group:
            pending = value
        else:
            for subject in group:
                if (
                    subject == "both" or subject not in moves
                ):  # the first direction said of a split counts
                    _assign(moves, subject, value)
        last = what
    out: list[tuple[str, float, str]] = []
    if _VAL_BELOW.search(text):
        out.append(("val-below-train", 0.9, "val below train"))
    train, val = moves.get("train"), moves.get("val")
    table = {
        ("down", "up"): ("overfitting", 0.95), ("down", "flat"): ("overfitting", 0.8),
        ("flat", "down"): ("train-flat-val-falling", 0.95), ("up", "up"): ("both-rising", 0.95),
        ("flat", "flat"): ("plateau", 0.8), ("down", "down"): ("still-learning", 0.8),
        (None, "up"): ("overfitting", 0.6), ("up", None): ("diverging", 0.35),
        ("up", "down"): ("diverging", 0.3),
    }  # fmt: skip
    if (train, val) in table:
        symptom, strength = table[(train, val)]
        out.append((symptom, strength, f"train {train or '?'}, val {val or '?'}"))
    elif not moves and pending == "up":
        out.append(("diverging", 0.35, "the loss rises"))
    elif not moves and pending == "flat":
        out.append(("stuck-constant", 0.3, "the loss does not move"))
    elif train == "flat" and val is None:
        out.append(("loss-not-decreasing", 0.3, "the training loss does not move"))
        out.append(("plateau", 0.25, "the training loss does not move"))
    return out


def _assign(moves: dict[str, str], subject: str, value: str) -> None:
    if subject == "both":
        moves.setdefault("train", value)
        moves.setdefault("val", value)
    else:
        moves[subject] = value


class Searcher:
    """Scores queries against one :class:`SearchIndex`."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self._doc = {entry_id: i for i, entry_id in enumerate(index.ids)}

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The ``k`` best entries for ``query``; ``QueryError`` for an empty query."""
        if not isinstance(query, str) or not query.strip():
            raise QueryError("the query is empty")
        text = normalize(query[:MAX_QUERY_CHARS])
        if not re.search(r"\w", text):
            raise QueryError("the query has no words or numbers")
        index = self.index
        names = _tfidf_scores(index.names, text)
        bodies = _tfidf_scores(index.bodies, text)
        lexical_rank = sorted(
            set(names) | set(bodies), key=lambda d: -(names.get(d, 0.0) + 0.5 * bodies.get(d, 0.0))
        )
        fuzzy, phrase_of = _fuzzy_scores(index, text, lexical_rank[:FUZZY_CANDIDATES])
        boost: dict[int, float] = defaultdict(float)
        why: dict[int, list[str]] = defaultdict(list)
        for symptom, strength, reason in number_signals(text) + shape_signals(text):
            doc = self._doc.get(symptom)
            if doc is not None:
                boost[doc] = max(boost[doc], strength)
                why[doc].append(reason)
        scores: dict[int, float] = {}
        for doc in set(names) | set(bodies) | set(fuzzy) | set(boost):
            lexical = (
                0.45 * names.get(doc, 0.0) + 0.2 * bodies.get(doc, 0.0) + 0.35 * fuzzy.get(doc, 0.0)
            )
            score = lexical + 0.45 * boost.get(doc, 0.0)
            if index.kinds[doc] == "symptom":
                score *= 1.15
            scores[doc] = score
        # a symptom shares in the evidence for its causes: "nan" in a cause's alias is evidence
        for doc, score in list(scores.items()):
            for symptom_doc in index.symptoms_of[doc]:
                if symptom_doc != doc:
                    scores[symptom_doc] = scores.get(symptom_doc, 0.0) + 0.15 * score
        ranked = sorted(scores.items(), key=lambda item: (-item[1], index.ids[item[0]]))[
            : max(0, k)
        ]
        top = ranked[0][1] if ranked else 1.0  # scores are scaled into 0..1 by the best one
        hits = []
        for doc, score in ranked:
            reasons = list(why.get(doc, ()))
            if doc in phrase_of:
                reasons.append(f'matches "{phrase_of[doc]}"')
            hits.append(
                Hit(
                    index.ids[doc],
                    index.kinds[doc],
                    index.titles[doc],
                    round(score / max(1.0, top), 4),
                    tuple(reasons),
                )
            )
        return hits


_default: Searcher | None = None


def searcher(root: Path | None = None) -> Searcher:
    """The searcher for the shipped knowledge base (built or loaded once per process)."""
    global _default
    if root is not None:
        return Searcher(load_index(root))
    if _default is None:
        _default = Searcher(load_index())
    return _default


def search(query: str, k: int = 5) -> list[Hit]:
    """Rank the shipped knowledge base for ``query``."""
    return searcher().search(query, k)
