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
from array import array
from dataclasses import dataclass
from pathlib import Path

from kb.model import KnowledgeBase, Symptom
from kb.paths import cache_dir, content_dir

#: Character n-gram sizes of both TF-IDF models.
NGRAM_RANGE = (2, 4)
#: Bump when the index's shape changes in a way the fingerprint of the code cannot see.
INDEX_VERSION = 4
_CODE_FILES = ("index.py", "text.py", "load.py", "model.py", "search.py")


@dataclass(frozen=True)
class TfidfModel:
    """A fitted TF-IDF model in plain data: per n-gram its idf and its postings (the documents
    holding it with their weights in the l2-normalised document vectors).

    A posting list is packed into one ``bytes`` (float32 idf, then uint16 document numbers,
    then float32 weights), so loading the index creates one object per n-gram, not one per
    posting: that is most of a cold start.
    """

    grams: dict[str, bytes]
    """n-gram -> packed ``idf, documents, weights``."""

    def lookup(self, gram: str) -> tuple[float, array[int], array[float]] | None:
        """The idf, documents and weights of ``gram``; None when it is not in the vocabulary."""
        packed = self.grams.get(gram)
        if packed is None:
            return None
        count = (len(packed) - 4) // 6
        idf = array("f", packed[:4])[0]
        return idf, array("H", packed[4 : 4 + 2 * count]), array("f", packed[4 + 2 * count :])

    def __len__(self) -> int:
        return len(self.grams)


def _pack(idf: float, docs: list[int], weights: list[float]) -> bytes:
    return array("f", [idf]).tobytes() + array("H", docs).tobytes() + array("f", weights).tobytes()


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
    phrases_by_doc: tuple[tuple[tuple[str, str], ...], ...]
    """For each document, its normalised titles and aliases with their content words
    (:func:`kb.text.content_words`), for fuzzy matching."""
    symptoms_of: tuple[tuple[int, ...], ...]
    """For each document, the symptom documents it belongs to."""


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
    idf = vectorizer.idf_
    grams = {}
    for gram, column in vectorizer.vocabulary_.items():
        start, end = matrix.indptr[column], matrix.indptr[column + 1]
        grams[gram] = _pack(
            float(idf[column]), matrix.indices[start:end].tolist(), matrix.data[start:end].tolist()
        )
    return TfidfModel(grams)


def build(kb: KnowledgeBase, stamp: str = "") -> SearchIndex:
    """Fit the index for ``kb`` (imports scikit-learn)."""
    from kb.text import content_words, normalize

    entries = sorted(kb.entries.values(), key=lambda e: (e.kind != "symptom", e.id))
    number = {e.id: i for i, e in enumerate(entries)}
    name_texts, body_texts, phrases = [], [], []  # type: ignore[var-annotated]
    for entry in entries:
        labels = [
            entry.title,
            entry.title_zh,
            *entry.aliases,
            *entry.aliases_zh,
            entry.id.replace("-", " "),
        ]
        normalised = [normalize(label) for label in labels if label]
        name_texts.append(" ".join(normalised))
        body_texts.append(normalize(f"{entry.body}\n{entry.body_zh}"))
        phrases.append(
            tuple((text, content_words(text)) for text in dict.fromkeys(normalised) if text)
        )
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
        phrases_by_doc=tuple(phrases),
        symptoms_of=symptoms_of,
    )


def load_index(
    root: Path | None = None, *, rebuild: bool = False, announce: bool = True
) -> SearchIndex:
    """The search index for ``root``: from the cache when the content is unchanged, else built
    (and cached when the cache directory is writable). ``ContentError`` when content is broken."""
    index, _ = _cached(root, rebuild=rebuild, announce=announce, want_kb=False)
    assert index is not None
    return index


def load_kb(root: Path | None = None) -> KnowledgeBase:
    """The knowledge base for ``root``, from the same cache as the index (no Markdown parsing
    when the content is unchanged)."""
    _, kb = _cached(root, rebuild=False, announce=True, want_kb=True)
    assert kb is not None
    return kb


def _cached(
    root: Path | None, *, rebuild: bool, announce: bool, want_kb: bool
) -> tuple[SearchIndex | None, KnowledgeBase | None]:
    root = root or content_dir()
    stamp = fingerprint(root)
    paths = {name: cache_dir() / f"{name}-{stamp}.pickle" for name in ("index", "kb")}
    if not rebuild:
        cached = _read(paths["kb" if want_kb else "index"])
        if want_kb and isinstance(cached, KnowledgeBase):
            return None, cached
        if not want_kb and isinstance(cached, SearchIndex) and cached.fingerprint == stamp:
            return cached, None
    from kb.load import load

    if announce:
        print("lossdoctor: building the search index (once per content change)...", file=sys.stderr)
    kb = load(root)
    index = build(kb, stamp)
    _save(paths["index"], index)
    _save(paths["kb"], kb)
    return index, kb


def _read(path: Path) -> object:
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None


def _save(path: Path, value: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        prefix = path.name.split("-")[0]
        for old in path.parent.glob(f"{prefix}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
    except OSError:
        pass  # a read-only cache only costs a rebuild next time
