"""The loader and validator on a small fixture knowledge base, whole and broken in each way
an author can break it. Every problem must name the file and the line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.load import ContentError, load
from kb.model import Cause, Check, Fix, Symptom
from kb.validate import validate

FIXTURE = Path(__file__).parents[1] / "data" / "content"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A fresh, writable copy of the fixture content."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(root: Path) -> list[str]:
    return [str(p) for p in validate(root, require_public_ids=False)[1]]


def test_the_fixture_loads_into_typed_entries_with_links_and_both_languages() -> None:
    kb = load(FIXTURE)
    assert len(kb) == 6
    symptom = kb.get("loss-up")
    assert isinstance(symptom, Symptom)
    assert symptom.causes == ("step-too-big", "bad-data")
    assert symptom.values == (87.3365,)
    assert symptom.body.startswith("The loss rises.")
    assert symptom.body_zh == "loss 上升。"
    assert symptom.title_zh == "loss 上升"
    cause = kb.get("step-too-big")
    assert isinstance(cause, Cause) and cause.question == "Did you raise the learning rate?"
    assert isinstance(kb.get("look-at-lr"), Check) and isinstance(kb.get("smaller-step"), Fix)
    assert "```python" in kb.get("look-at-lr").body
    assert [c.id for c in kb.causes_of("loss-up")] == ["step-too-big", "bad-data"]
    assert kb.get("loss-flat").sources[0].section == "§1"
    assert {s.id for s in kb.symptoms_of("smaller-step")} == {"loss-up", "loss-flat"}


def test_the_fixture_validates_without_problems() -> None:
    assert problems_of(FIXTURE) == []


def test_entries_are_frozen() -> None:
    entry = load(FIXTURE).get("loss-up")
    with pytest.raises(AttributeError):
        entry.title = "changed"  # type: ignore[misc]


def test_broken_yaml_is_reported_at_its_line(content: Path) -> None:
    edit(content / "causes" / "bad-data.md", "title: Bad data", "title: [Bad data")
    problems = problems_of(content)
    assert any(
        p.startswith(f"{content}/causes/bad-data.md:") and "not valid YAML" in p for p in problems
    )
    line = int(next(p for p in problems if "YAML" in p).split(":")[1])
    assert line in (4, 5, 6)
    with pytest.raises(ContentError):
        load(content)


def test_a_file_without_front_matter_is_reported(content: Path) -> None:
    (content / "fixes" / "smaller-step.md").write_text("Just text\n", encoding="utf-8")
    assert any("smaller-step.md:1: no front matter" in p for p in problems_of(content))


def test_a_link_to_an_unknown_id_names_the_line_of_the_link(content: Path) -> None:
    edit(
        content / "symptoms" / "loss-up.md",
        "causes: [step-too-big, bad-data]",
        "causes: [step-too-big, bad-dta]",
    )
    problems = problems_of(content)
    assert f"{content}/symptoms/loss-up.md:8: causes links to unknown id 'bad-dta'" in problems


def test_a_body_link_to_an_unknown_id_is_reported(content: Path) -> None:
    edit(content / "symptoms" / "loss-up.md", "(kb:step-too-big)", "(kb:no-such-entry)")
    assert any(
        "loss-up.md:" in p and "body links to unknown id 'no-such-entry'" in p
        for p in problems_of(content)
    )


def test_a_link_to_the_wrong_kind_is_reported(content: Path) -> None:
    edit(content / "causes" / "step-too-big.md", "fixes: [smaller-step]", "fixes: [look-at-lr]")
    assert any(
        "fixes must link fix entries; 'look-at-lr' is a check" in p for p in problems_of(content)
    )


def test_duplicate_ids_are_reported(content: Path) -> None:
    shutil.copy(content / "fixes" / "smaller-step.md", content / "fixes" / "smaller-step-copy.md")
    problems = problems_of(content)
    assert any("smaller-step-copy.md" in p and "differs from the file name" in p for p in problems)
    assert any("duplicate id 'smaller-step'" in p for p in problems)


def test_a_symptom_with_one_cause_is_reported(content: Path) -> None:
    edit(
        content / "symptoms" / "loss-flat.md",
        "causes: [step-too-big, bad-data]",
        "causes: [step-too-big]",
    )
    assert any(
        "loss-flat.md:8: a symptom needs at least 2 causes" in p for p in problems_of(content)
    )


def test_a_cause_without_a_fix_or_question_is_reported(content: Path) -> None:
    edit(content / "causes" / "bad-data.md", "fixes: [smaller-step]\n", "")
    edit(content / "causes" / "bad-data.md", "question: Are there corrupt samples?\n", "")
    problems = problems_of(content)
    assert any("bad-data.md" in p and "has no fix" in p for p in problems)
    assert any("bad-data.md" in p and "has no question" in p for p in problems)


def test_orphans_are_reported(content: Path) -> None:
    edit(
        content / "symptoms" / "loss-up.md",
        "causes: [step-too-big, bad-data]",
        "causes: [step-too-big, step-too-big]",
    )
    edit(
        content / "symptoms" / "loss-flat.md",
        "causes: [step-too-big, bad-data]",
        "causes: [step-too-big, step-too-big]",
    )
    assert any("bad-data.md" in p and "orphan cause 'bad-data'" in p for p in problems_of(content))


def test_missing_required_fields_and_unknown_fields_are_reported(content: Path) -> None:
    edit(content / "checks" / "look-at-lr.md", "title_zh: 查看学习率\n", "colour: blue\n")
    edit(content / "checks" / "look-at-lr.md", "sources: [Test fixture]\n", "")
    problems = problems_of(content)
    assert any("look-at-lr.md" in p and "title_zh is required" in p for p in problems)
    assert any("look-at-lr.md:5: unknown field 'colour'" in p for p in problems)
    assert any(
        "look-at-lr.md" in p and "sources must list at least one reference" in p for p in problems
    )


def test_a_kind_that_does_not_match_its_directory_is_reported(content: Path) -> None:
    edit(content / "fixes" / "smaller-step.md", "kind: fix", "kind: check")
    assert any(
        "smaller-step.md:3: kind 'check' does not match its directory fixes/" in p
        for p in problems_of(content)
    )


def test_a_wrong_magic_number_is_reported_at_its_line(content: Path) -> None:
    edit(content / "magic-numbers.tsv", "87.3365447506", "87.3356000000")
    assert any("magic-numbers.tsv:2: value_exact 87.3356" in p for p in problems_of(content))


def test_missing_public_symptom_ids_are_reported_when_required() -> None:
    problems = [str(p) for p in validate(FIXTURE)[1]]
    assert any("the public symptom id 'stuck-87-3365' is missing" in p for p in problems)
