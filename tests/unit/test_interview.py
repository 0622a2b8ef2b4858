"""The interview engine with scripted answers: every symptom reachable, numbers, free text,
"I don't know", back, restart, save and restore, and the cause ranking."""

from __future__ import annotations

import shutil
from collections import deque
from pathlib import Path

import pytest

from assistant.interview import Interview, State, default_interview, render_diagnosis
from kb.model import SYMPTOM_IDS
from kb.paths import content_dir
from kb.tree import load_tree, validate_tree
from kb.validate import validate


@pytest.fixture(scope="module")
def interview() -> Interview:
    return default_interview()


def _paths_to_symptoms(interview: Interview) -> dict[str, list[str]]:
    """Breadth-first over the tree's choices: the shortest list of option numbers per symptom."""
    tree = interview.tree
    found: dict[str, list[str]] = {}
    queue = deque([(tree.root, [])])
    while queue:
        node_id, path = queue.popleft()
        node = tree.nodes[node_id]
        for number, answer in enumerate(node.answers, start=1):
            step = [*path, str(number)]
            if answer.target in tree.nodes:
                queue.append((answer.target, step))
            else:
                found.setdefault(answer.target, step)
    return found


NUMBER_ANSWERS = {"stuck-87-3365": "87.33", "stuck-at-chance": "2.30", "stuck-at-clamp": "100"}


@pytest.mark.parametrize("symptom", SYMPTOM_IDS)
def test_every_symptom_is_reached_by_scripted_answers(interview: Interview, symptom: str) -> None:
    paths = _paths_to_symptoms(interview)
    if symptom in paths:
        answers = paths[symptom]
    else:
        # reached through the value question: start -> stuck -> value -> a number
        answers = ["1", "1", NUMBER_ANSWERS[symptom]]
    state = interview.start()
    for said in answers:
        state = interview.answer(state, said)
    step = interview.step(state)
    assert step.symptom == symptom
    assert step.kind in ("cause", "done")


def test_the_value_question_maps_87_33_and_2_30(interview: Interview) -> None:
    state = interview.start()
    for said in ["1", "1", "87.33"]:
        state = interview.answer(state, said)
    step = interview.step(state)
    assert step.symptom == "stuck-87-3365" and step.kind == "cause"
    state = interview.back(state)
    assert interview.step(state).accepts_number
    step = interview.step(interview.answer(state, "2.30"))
    assert step.symptom == "stuck-at-chance"
    assert step.diagnosis is not None and "ln(10)" in step.diagnosis.note
    step = interview.step(interview.answer(state, "0.4213"))
    assert step.symptom == "stuck-constant"


def test_the_87_3365_cause_questions_tell_the_seed_causes_apart(interview: Interview) -> None:
    state = interview.start("stuck-87-3365", "loss constant at 87.3365")
    asked = []
    while (step := interview.step(state)).kind == "cause":
        asked.append(step.entry)
        state = interview.answer(state, "3")  # I don't know
    assert {
        "frozen-batchnorm-finetune",
        "lr-too-high",
        "bad-samples-or-labels",
        "softmax-overflow",
    } <= set(asked)
    assert step.kind == "done"


def test_answers_re_rank_the_causes(interview: Interview) -> None:
    state = interview.start("stuck-87-3365")
    prior = [r.cause.id for r in interview.step(state).diagnosis.causes]
    last = prior[-1]
    while (step := interview.step(state)).kind == "cause":
        state = interview.answer(state, "yes" if step.entry == last else "no")
    ranked = interview.step(state).diagnosis.causes
    assert ranked[0].cause.id == last
    assert ranked[0].why[0].startswith("you said yes")
    assert abs(sum(r.probability for r in ranked) - 1.0) < 1e-9


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("my loss is stuck at 87.33", "stuck-87-3365"),
        ("nan after 2 epochs", "nan-loss"),
        ("验证集loss上升", "overfitting"),
    ],
)
def test_free_text_jumps_to_the_matching_branch(
    interview: Interview, text: str, symptom: str
) -> None:
    step = interview.step(interview.answer(interview.start(), text))
    assert step.symptom == symptom


def test_unsure_free_text_offers_candidates_to_pick(interview: Interview) -> None:
    state = interview.answer(interview.start(), "loss weird")
    step = interview.step(state)
    assert step.kind == "pick"
    assert len(step.options) == 4 and step.options[-1].label == "None of these"
    picked = interview.step(interview.answer(state, "1"))
    assert picked.symptom is not None
    none = interview.step(interview.answer(state, "4"))
    assert none.kind == "question" and none.symptom is None


def test_i_dont_know_works_at_every_question(interview: Interview) -> None:
    state = interview.answer(interview.start(), "I don't know")
    assert interview.step(state).symptom == "loss-not-decreasing"
    state = interview.answer(interview.answer(interview.start(), "1"), "不知道")
    assert interview.step(state).symptom == "loss-not-decreasing"


def test_back_and_restart(interview: Interview) -> None:
    state = interview.start()
    for said in ["1", "1"]:
        state = interview.answer(state, said)
    assert interview.step(state).prompt.startswith("What value")
    assert interview.step(interview.answer(state, "back")).prompt == "Did it ever go down?"
    assert interview.answer(state, "restart").answers == ()
    assert interview.back(interview.start()).answers == ()


def test_the_state_round_trips_through_json(interview: Interview) -> None:
    state = interview.start("nan-loss", "loss is nan from step 1,200")
    state = interview.answer(state, "1")
    again = State.from_json(state.to_json())
    assert again == state
    assert interview.step(again).transcript == interview.step(state).transcript
    with pytest.raises(ValueError):
        State.from_json("not json")


def test_a_log_finding_starts_at_the_symptom_with_the_evidence(interview: Interview) -> None:
    step = interview.step(
        interview.start("stuck-87-3365", "loss constant at 87.3365 from iteration 1,200")
    )
    assert step.kind == "cause"
    assert "from iteration 1,200" in step.transcript[0].text


def test_the_diagnosis_names_symptom_causes_checks_fixes_and_sources(interview: Interview) -> None:
    state = interview.start("nan-loss")
    while interview.step(state).kind == "cause":
        state = interview.answer(state, "no")
    step = interview.step(state)
    text = render_diagnosis(step.diagnosis, interview.kb)
    assert text.startswith("Diagnosis: ") and "(nan-loss)" in text.splitlines()[0]
    for heading in ("## Causes, most likely first", "## Checks to run", "## Fixes", "## Sources"):
        assert heading in text
    # answering after the end changes nothing
    assert interview.answer(state, "1") == state


def _tree_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(content_dir(), target)
    return target


def test_the_shipped_tree_validates() -> None:
    kb, problems = validate()
    assert [p for p in problems if "interview" in p.path] == []
    assert load_tree().root == "start"


def test_a_cycle_a_dead_end_and_an_unreachable_symptom_are_reported(tmp_path: Path) -> None:
    root = _tree_copy(tmp_path)
    path = root / "interview.md"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "- It is below zero / 小于 0 → negative-loss", "- It is below zero / 小于 0 → start"
    )
    text = text.replace(
        "- Only the validation loss rises; training keeps falling / 只有验证 loss 上升，训练 loss 仍在下降 → overfitting\n",
        "",
    )
    text += "\n## orphan\n\n> Never asked?\n> 从未问到？\n\nUnknown: plateau\n"
    path.write_text(text, encoding="utf-8")
    kb, _ = validate(root)
    messages = [str(p) for p in validate_tree(root, kb)]
    assert any("cycle: start → zero-or-negative → start" in m for m in messages)
    assert any("dead end: node 'orphan'" in m for m in messages)
    assert any("node 'orphan' cannot be reached" in m for m in messages)
    assert any("symptom 'negative-loss' cannot be reached" in m for m in messages)
    assert all(m.startswith(str(path)) for m in messages)


def test_at_most_five_cause_questions_are_asked_best_ranked_first(interview: Interview) -> None:
    from assistant.interview import MAX_CAUSE_QUESTIONS

    assert len(interview.kb.symptom("nan-loss").causes) > MAX_CAUSE_QUESTIONS
    state = interview.start("nan-loss")
    asked = 0
    while (step := interview.step(state)).kind == "cause":
        assert step.progress == (asked, MAX_CAUSE_QUESTIONS)
        state = interview.answer(state, "no")
        asked += 1
    assert asked == MAX_CAUSE_QUESTIONS and step.kind == "done"
    # every cause is still ranked, asked or not
    assert step.diagnosis is not None
    assert len(step.diagnosis.causes) == len(interview.kb.symptom("nan-loss").causes)
    assert abs(sum(r.probability for r in step.diagnosis.causes) - 1.0) < 1e-9
