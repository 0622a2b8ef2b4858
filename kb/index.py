"""Build the search index from the knowledge base, once per content change, and cache it.

The index is plain Python data (dicts, lists, floats): a query reads it without importing
scikit-learn. scikit-learn's ``TfidfVectorizer`` fits the character n-gram model here, at build
time; :mod:`kb.search` reproduces its query transform. The cache file is named by a fingerprint
of the content files and of the code that shapes the index, so editing an entry (or this code)
rebuilds it on the next command and nothing else does.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kb.model import KnowledgeBase, Symptom
from kb.paths import cache_dir, content_dir

#: Character n-gram sizes of both TF-IDF models.
NGRAM_RANGE = (2, 4)
#: Bump when the index's shape changes in a way the fingerprint of the code cannot see.
INDEX_VERSION = 3
_CODE_FILES = ("index.py", "text.py", "load.py", "model.py")


@dataclass(frozen=True)
class TfidfModel:
    """A fitted TF-IDF model in plain data: idf per n-gram and the l2-normalised document
    vectors as postings lists."""

    idf: dict[str, float]
    """Inverse document frequency of every n-gram in the vocabulary."""
    postings: dict[str, list[tuple[int, float]]]
    """n-gram -> ``(document, weight)`` of the normalised document vectors."""


@dataclass(frozen=True)
class SearchIndex:
    """Everything a query needs, and the knowledge base it was built from."""

    fingerprint: str
    """Hash of the content and index code this was built from."""
    ids: tuple[str, ...]
    """Entry ids, by document number."""
    kinds: tuple[str, ...]
    """Entry kinds, by document number."""
    titles: tuple[str, ...]
    """English titles, by document number."""
    names: TfidfModel
    """TF-IDF over titles and aliases."""
    bodies: TfidfModel
    """TF-IDF over the bodies."""
    phrases: tuple[tuple[int, str], ...]
    """``(document, normalised title or alias)`` for fuzzy matching."""
    symptoms_of: tuple[tuple[int, ...], ...]
    """For each document, the symptom documents it belongs to."""
    kb: KnowledgeBase
    """The knowledge base, so ``show`` and the front ends need not parse Markdown again."""


def fingerprint(root: Path | None = None) -> str:
    """A hash of every content file and of the code that builds the index."""
    root = root or content_dir()
    digest = hashlib.sha256(f"v{INDEX_VERSION}".encode())
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".md", ".tsv"))
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    here = Path(__file__).resolve().parent
    for name in _CODE_FILES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:20]


def _fit(texts: list[str]) -> TfidfModel:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=NGRAM_RANGE, lowercase=False, sublinear_tf=True
    )
    matrix = vectorizer.fit_transform(texts).tocsc()
    vocabulary = vectorizer.vocabulary_
    idf = vectorizer.idf_
    postings: dict[str, list[tuple[int, float]]] = {}
    for gram, column in vocabulary.items():
        start, end = matrix.indptr[column], matrix.indptr[column + 1]
        postings[gram] = [
            (int(row), float(weight))
            for row, weight in zip(matrix.indices[start:end], matrix.data[start:end], strict=True)
        ]
    return TfidfModel({g: float(idf[c]) for g, c in vocabulary.items()}, postings)


def build(kb: KnowledgeBase, stamp: str = "") -> SearchIndex:
    """Fit the index for ``kb`` (imports scikit-learn)."""
    from kb.text import normalize

    entries = sorted(kb.entries.values(), key=lambda e: (e.kind != "symptom", e.id))
    number = {e.id: i for i, e in enumerate(entries)}
    name_texts, body_texts, phrases = [], [], []
    for i, entry in enumerate(entries):
        labels = [entry.title, entry.title_zh, *entry.aliases, *entry.aliases_zh, entry.id.replace("-", " ")]
        normalised = [normalize(label) for label in labels if label]
        name_texts.append(" ".join(normalised))
        body_texts.append(normalize(f"{entry.body}\n{entry.body_zh}"))
        phrases.extend((i, text) for text in dict.fromkeys(normalised) if text)
    symptoms_of = tuple(
        tuple(number[s.id] for s in kb.symptoms_of(e.id) if isinstance(s, Symptom)) for e in entries
    )
    return SearchIndex(
        fingerprint=stamp,
        ids=tuple(e.id for e in entries),
        kinds=tuple(e.kind for e in entries),
        titles=tuple(e.title for e in entries),
        names=_fit(name_texts),
        bodies=_fit(body_texts),
        phrases=tuple(phrases),
        symptoms_of=symptoms_of,
        kb=kb,
    )


def load_index(root: Path | None = None, *, rebuild: bool = False, announce: bool = True) -> SearchIndex:
    """The index for ``root``: from the cache when the content is unchanged, else built (and
    cached when the cache directory is writable). ``ContentError`` when the content is broken."""
    root = root or content_dir()
    stamp = fingerprint(root)
    path = cache_dir() / f"index-{stamp}.pickle"
    if not rebuild:
        try:
            with path.open("rb") as handle:
                index = pickle.load(handle)
            if isinstance(index, SearchIndex) and index.fingerprint == stamp:
                return index
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass
    from kb.load import load

    if announce:
        print("lossdoctor: building the search index (once per content change)...", file=sys.stderr)
    index = build(load(root), stamp)
    _save(path, index)
    return index


def _save(path: Path, index: SearchIndex) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("index-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as handle:
            pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
    except OSError:
        pass  # a read-only cache only costs a rebuild next time
