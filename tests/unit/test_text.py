"""Normalisation and the n-gram analyzer the query path shares with the index builder."""

from __future__ import annotations

import pytest

from kb.index import NGRAM_RANGE
from kb.text import char_wb_ngrams, normalize, to_simplified


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("訓練loss不斷上公升", "训练 loss 不断上升"),
        ("乙個引數", "一个参数"),
        ("指數函式溢位", "指数函数溢出"),
        ("資料集有問題", "数据集有问题"),
        ("ＬＯＳＳ　ＮａＮ", "loss nan"),
        ("Validation accuracy doesn't improve", "val acc not improve"),
        ("learning rate too high", "lr too high"),
    ],
)
def test_normalize_folds_scripts_widths_and_spellings(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_simplified_and_ascii_text_is_unchanged_by_conversion() -> None:
    assert to_simplified("验证集loss上升") == "验证集loss上升"
    assert to_simplified("plain text") == "plain text"


@pytest.mark.parametrize(
    "text",
    [
        "loss stuck at 87.33",
        "训练 loss 不下降",
        "a",
        "val loss going up while train loss goes down",
        "x  y",
    ],
)
def test_the_analyzer_matches_scikit_learn_char_wb(text: str) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=NGRAM_RANGE, lowercase=False
    ).build_analyzer()
    assert char_wb_ngrams(text, *NGRAM_RANGE) == analyzer(text)
