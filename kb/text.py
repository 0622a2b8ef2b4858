"""Text normalisation shared by the index builder and the query path.

Queries and entries go through the same :func:`normalize`: Unicode NFKC (full-width forms),
lower case, traditional and Taiwan-phrased Chinese to simplified (OpenCC ``tw2sp``), the
machine-conversion slips the seed shows (上公升 for 上升, 乙個 for 一個), spaces between Chinese
and Latin runs, and a few English spellings folded together (validation -> val). The analyzer
reproduces scikit-learn's ``char_wb`` n-grams so a query can be scored without scikit-learn.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_RUN_EDGE = re.compile(
    r"(?<=[\u3400-\u9fff\uf900-\ufaff])(?=[^\u3400-\u9fff\uf900-\ufaff\s])|(?<=[^\u3400-\u9fff\uf900-\ufaff\s])(?=[\u3400-\u9fff\uf900-\ufaff])"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s\s*")

#: Slips of machine conversion that OpenCC does not undo (the seed has both).
_SLIPS = (
    ("上公升", "上升"),
    ("乙个", "一个"),
    ("乙個", "一個"),
    ("溢位", "溢出"),
    ("函式", "函数"),
)

#: English spellings folded to one form, on word boundaries.
_FOLDS = tuple(
    (re.compile(rf"\b(?:{pattern})\b"), replacement)
    for pattern, replacement in (
        (r"validation|valid|validate|eval|evaluation|dev|val_loss|test|testing|test_loss", "val"),
        (r"training|trainings|train_loss", "train"),
        (r"accuracy|accuracies|accu", "acc"),
        (r"learning[ -]rate|learning_rate|learningrate", "lr"),
        (r"not a number", "nan"),
        (r"infinity|infinite", "inf"),
        (r"iterations|iteration|iters", "iter"),
        (r"epochs", "epoch"),
        (
            r"doesn't|does not|doesnt|dont|don't|do not|didn't|did not|won't|will not|isn't|is not|isnt|not going",
            "not",
        ),
    )
)


def has_cjk(text: str) -> bool:
    """True when ``text`` holds Chinese characters."""
    return _CJK.search(text) is not None


@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("tw2sp")


def to_simplified(text: str) -> str:
    """Traditional (and Taiwan-phrased) Chinese to simplified; other text unchanged."""
    if not has_cjk(text):
        return text
    text = _converter().convert(text)
    for slip, fix in _SLIPS:
        text = text.replace(slip, fix)
    return text


def normalize(text: str) -> str:
    """The canonical form entries and queries are compared in."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text).lower()
    text = to_simplified(text)
    text = _CJK_RUN_EDGE.sub(" ", text)
    for pattern, replacement in _FOLDS:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text).strip()


def char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """Character n-grams inside word boundaries, exactly as scikit-learn's ``char_wb``
    analyzer makes them from already-normalised text."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(min_n, max_n + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < length:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # the word is shorter than n
                break
    return grams


#: Words too common in this domain to count in a fuzzy match ("loss 爆炸" must not match every
#: query that says "loss" by its shared token).
FUZZY_STOPWORDS = frozenset(
    "loss losses my the a an is it its of to in at on and i why does do how what with when "
    "keeps keep still very after".split()
)


def content_words(text: str) -> str:
    """Normalised text without :data:`FUZZY_STOPWORDS`, for fuzzy matching."""
    return " ".join(w for w in text.split() if w not in FUZZY_STOPWORDS)
