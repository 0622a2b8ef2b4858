"""The number explainer: every value of the magic-number table, as users quote it."""

from __future__ import annotations

import math

import pytest

from kb.numbers import evaluate, explain, parse_quoted, table


@pytest.mark.parametrize(
    ("quoted", "symptom", "formula_part"),
    [
        ("87.3365", "stuck-87-3365", "FLT_MIN"),
        ("87.33", "stuck-87-3365", "FLT_MIN"),
        ("87.336", "stuck-87-3365", "FLT_MIN"),
        ("87.3356", "stuck-87-3365", "FLT_MIN"),  # the seed's own digit swap
        ("1.17549435e-38", "stuck-87-3365", "FLT_MIN"),  # the floor itself
        ("43.67", "stuck-87-3365", "1/2"),
        ("708.3964", "stuck-at-clamp", "DBL_MIN"),
        ("9.704", "stuck-at-clamp", "6.104e-5"),
        ("16.6355", "stuck-at-clamp", "5.96e-8"),
        ("16.118", "stuck-at-clamp", "1e-7"),
        ("18.42", "stuck-at-clamp", "1e-8"),
        ("27.631", "stuck-at-clamp", "1e-12"),
        ("34.5388", "stuck-at-clamp", "1e-15"),
        ("100", "stuck-at-clamp", "BCELoss"),
        ("0.693", "stuck-at-chance", "ln(2)"),
        ("0.693147", "stuck-at-chance", "ln(2)"),
        ("1.0986", "stuck-at-chance", "ln(3)"),
        ("1.386", "stuck-at-chance", "ln(4)"),
        ("1.609", "stuck-at-chance", "ln(5)"),
        ("2.30", "stuck-at-chance", "ln(10)"),
        ("2.302585", "stuck-at-chance", "ln(10)"),
        ("2.9957", "stuck-at-chance", "ln(20)"),
        ("4.6", "stuck-at-chance", "ln(100)"),
        ("5.298", "stuck-at-chance", "ln(200)"),
        ("6.907755", "stuck-at-chance", "ln(1000)"),
        ("11.09", "stuck-at-chance", "ln(65536)"),
        ("10.8249", "stuck-at-chance", "ln(50257)"),
    ],
)
def test_a_quoted_value_is_named_as_its_formula(
    quoted: str, symptom: str, formula_part: str
) -> None:
    best = explain(quoted)[0]
    assert best.symptom == symptom
    assert formula_part in best.formula


def test_ln_c_infers_the_class_count() -> None:
    best = explain(2.302585)[0]
    assert best.kind == "ln-c" and best.classes == 10
    assert explain("6.9078")[0].classes == 1000


def test_a_value_with_no_meaning_has_no_explanation() -> None:
    assert explain("0.4213") == []
    assert explain("57.2") == []


def test_every_table_row_computes_its_value_and_is_explained_as_itself() -> None:
    for row in table():
        assert math.isclose(evaluate(row.expr), row.value, rel_tol=1e-9)
        assert any(e.symptom == row.symptom for e in explain(row.value)), row


@pytest.mark.parametrize("text", ["abc", "", "1.2.3", "nan", "inf", "--1", "0x10"])
def test_parse_quoted_rejects_what_is_not_a_plain_number(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quoted(text)


def test_parse_quoted_keeps_the_precision() -> None:
    assert parse_quoted("87.33") == (87.33, 2)
    assert parse_quoted("100") == (100.0, 0)
    assert parse_quoted("1e-7") == (1e-7, None)


def test_the_expression_evaluator_refuses_anything_but_arithmetic() -> None:
    with pytest.raises(ValueError):
        evaluate("__import__('os').system('true')")
