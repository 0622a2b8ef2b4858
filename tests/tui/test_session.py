"""The session on disk without Textual: the state file and the saved transcript."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from assistant.interview import State
from assistant.tui import session


def test_the_state_file_round_trips_and_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "interview.json"
    session.save_state(path, State(("1", "87.33"), "stuck-87-3365", "from a log"))
    session.save_state(path, State(("1",)))
    assert session.load_state(path) == State(("1",))
    assert [p.name for p in path.parent.iterdir()] == ["interview.json"]


@pytest.mark.parametrize("content", ["", "not json", "[1, 2]"], ids=["empty", "garbage", "a-list"])
def test_a_damaged_state_file_reads_as_no_state(tmp_path: Path, content: str) -> None:
    path = tmp_path / "interview.json"
    path.write_text(content)
    assert session.load_state(path) is None
    assert session.load_state(tmp_path / "missing.json") is None


def test_the_state_path_follows_lossdoctor_state(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LOSSDOCTOR_STATE", str(tmp_path / "x.json"))
    assert session.default_state_path() == tmp_path / "x.json"
    monkeypatch.delenv("LOSSDOCTOR_STATE")
    assert session.default_state_path().name == "interview.json"


def test_the_transcript_holds_the_answers_and_the_diagnosis(interview, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = interview.start()
    for said in ["my loss is stuck at 87.33", "\x1b[31m3", "3", "3", "3", "3"]:
        state = interview.answer(state, said)
    step = interview.step(state)
    when = datetime(2026, 1, 2, 3, 4, 5)
    markdown = session.transcript_markdown(
        step, interview.kb, log="run.log", findings=["stuck-87-3365 (95%): constant"], now=when
    )
    assert "**You:** my loss is stuck at 87.33" in markdown
    assert "\\x1b[31m3" in markdown and "\x1b" not in markdown
    assert "Log: `run.log`" in markdown and "## Log findings" in markdown
    first = session.save_transcript(tmp_path, markdown, now=when)
    second = session.save_transcript(tmp_path, markdown, now=when)
    assert first.name == "lossdoctor-20260102-030405.md"
    assert second.name == "lossdoctor-20260102-030405-2.md"
    assert "Diagnosis" in first.read_text(encoding="utf-8")
