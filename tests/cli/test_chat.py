"""``lossdoctor chat``: the interview in plain lines, driven through a pipe."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, Run


def _diagnosis_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("Diagnosis: "))


def test_piped_answers_reach_87_3365_and_print_the_diagnosis(run: Run) -> None:
    done = run("chat", stdin="1\n1\n87.33\nyes\nno\n")
    assert done.returncode == 0, done.stderr
    assert "Question: What does the loss do?" in done.stdout
    assert "Question about a cause (1 of" in done.stdout
    assert (
        _diagnosis_line(done.stdout)
        == "Diagnosis: Loss constant at 87.3365 (87.33) (stuck-87-3365)"
    )
    assert "## Fixes" in done.stdout and "## Sources" in done.stdout


def test_a_value_of_2_30_is_chance_with_ten_classes(run: Run) -> None:
    done = run("chat", stdin="1\n1\n2.30\n")
    assert "(stuck-at-chance)" in _diagnosis_line(done.stdout)
    assert "ln(10)" in done.stdout


def test_free_text_back_and_restart_work_in_line_mode(run: Run) -> None:
    done = run("chat", stdin="restart\nmy loss is nan after 2 epochs\nback\n验证集loss上升\n")
    assert done.returncode == 0
    assert "(overfitting)" in _diagnosis_line(done.stdout)


def test_empty_input_still_prints_a_diagnosis(run: Run) -> None:
    done = run("chat", stdin="")
    assert done.returncode == 0
    assert "(loss-not-decreasing)" in _diagnosis_line(done.stdout)


def test_markup_and_escape_sequences_typed_by_the_user_are_shown_literally(run: Run) -> None:
    done = run("chat", stdin="[bold]my loss[/bold] is \x1b[31mnan after 2 epochs\n")
    assert "(nan-loss)" in _diagnosis_line(done.stdout)
    assert "\x1b" not in done.stdout  # no raw escape reaches the terminal
    assert "[bold]my loss[/bold] is \\x1b[31mnan" in done.stdout  # shown literally, escaped


@pytest.mark.parametrize("log", ["tests/data/logs/sample/01-caffe-c3d-stuck87.log"])
def test_chat_with_a_log_starts_from_its_finding(run: Run, log: str) -> None:
    done = run("chat", "--log", str(REPO / log), stdin="")
    assert done.returncode == 0, done.stderr
    assert "87.3365" in done.stdout.splitlines()[0]
    assert "(stuck-87-3365)" in _diagnosis_line(done.stdout)


def test_without_a_terminal_lossdoctor_prints_help_and_interview_points_to_chat(run: Run) -> None:
    bare = run(stdin="")
    assert bare.returncode == 0 and "usage: lossdoctor" in bare.stdout
    done = run("interview", stdin="")
    assert done.returncode == 2
    assert "lossdoctor chat" in done.stderr and len(done.stderr.strip().splitlines()) == 1
