"""The TUI driven through Textual's Pilot at 100 x 32: what the user types or presses, and what
the screen then shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.interview import State
from assistant.tui import session
from assistant.tui.widgets.chat_input import ChatInput
from assistant.tui.widgets.choices import Choices
from assistant.tui.widgets.entry_view import EntryView
from assistant.tui.widgets.finding_list import FindingList
from assistant.tui.widgets.loss_plot import LossPlot
from assistant.tui.widgets.question import Question
from assistant.tui.widgets.transcript import Transcript
from assistant.tui.widgets.triage_status import TriageStatus
from tests.tui.conftest import SIZE, in_event_loop, screen_text

REPO = Path(__file__).resolve().parents[2]
STUCK_87_LOG = REPO / "tests/data/logs/sample/01-caffe-c3d-stuck87.log"
SOFTMAX_QUESTION = "Do the values entering softmax reach the hundreds"


def triage_available() -> bool:
    try:
        import assistant.triage.detect  # noqa: F401
        import assistant.triage.read  # noqa: F401
    except ImportError:
        return False
    return True


needs_triage = pytest.mark.skipif(
    not triage_available(),
    reason="the log triage modules (assistant.triage.read / detect) are not importable",
)


async def type_text(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type ``text`` into the focused widget, one key per character."""
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])


def shown(app) -> str:  # type: ignore[no-untyped-def]
    """The conversation and the pending question as one string."""
    return "\n".join([*app.screen.query_one(Transcript).lines, app.screen.query_one(Question).text])


@in_event_loop
async def test_the_chat_input_has_focus_when_the_app_starts(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, ChatInput)
        assert "What does the loss do?" in shown(app)
        assert [o.key for o in app.screen.query_one(Choices).choices] == [
            str(n) for n in range(1, 8)
        ]


@in_event_loop
async def test_1_1_and_87_33_reach_the_softmax_question_beside_the_87_3365_entry(
    app_factory,
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")  # the loss stays at one value
        assert "Did it ever go down?" in shown(app)
        await pilot.press("1")  # at one exact value
        assert "What value is it stuck at?" in shown(app)
        await type_text(pilot, "87.33")  # digits are typed: this question asks for a value
        assert app.focused.value == "87.33"
        await pilot.press("enter")
        await pilot.pause()
        assert SOFTMAX_QUESTION in shown(app)
        entry = app.screen.query_one(EntryView)
        assert entry.symptom_id == "stuck-87-3365"
        assert entry.entry_id == "softmax-overflow"
        assert "stuck-87-3365" in screen_text(app)
        assert [o.label for o in app.screen.query_one(Choices).choices] == [
            "Yes",
            "No",
            "I don't know",
        ]


@pytest.mark.parametrize(
    ("text", "symptom"),
    [
        ("my loss is stuck at 87.33", "stuck-87-3365"),
        ("验证集loss上升", "overfitting"),
        ("nan after 2 epochs", "nan-loss"),
    ],
    ids=["stuck-87", "chinese-val-rising", "nan"],
)
@in_event_loop
async def test_free_text_jumps_to_the_matching_symptom(
    app_factory, text: str, symptom: str
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        app.focused.value = text  # typed (IME text included)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.step.symptom == symptom
        assert app.screen.step.kind == "cause"
        assert app.screen.query_one(EntryView).symptom_id == symptom
        assert f"matched “{text}”" in shown(app)


@in_event_loop
async def test_unclear_free_text_offers_the_closest_symptoms_and_a_number_picks_one(
    app_factory,
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "loss weird")
        await pilot.press("enter")
        step = app.screen.step
        assert step.kind == "pick"
        labels = [o.label for o in app.screen.query_one(Choices).choices]
        assert labels[-1] == "None of these" and len(labels) >= 2
        await pilot.press("1")  # the closest candidate
        assert app.screen.step.kind == "cause"
        assert app.screen.step.symptom is not None


@in_event_loop
async def test_number_keys_pick_when_the_chat_box_is_not_focused(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one(Choices).focus()
        await pilot.press("2")  # nan or inf
        assert app.screen.state.answers == ("2",)


@in_event_loop
async def test_a_lone_number_sent_as_a_message_picks_that_option(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "x")
        await pilot.press("backspace", "space", "3")  # not empty: the 3 is typed
        assert app.focused.value == " 3"
        await pilot.press("enter")
        assert app.screen.state.answers == ("3",)  # the engine reads it as option 3
        assert app.screen.step.prompt != "What does the loss do?"


@in_event_loop
async def test_escape_goes_back_one_answer_and_ctrl_r_restarts(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "1")
        await pilot.press("escape")  # undo the second answer
        assert app.screen.state.answers == ("1",)
        assert app.screen.step.prompt == "Did it ever go down?"
        await pilot.press("ctrl+r")  # start over
        assert app.screen.state.answers == ()
        assert app.screen.step.prompt == "What does the loss do?"


@in_event_loop
async def test_every_answer_is_saved_and_resume_shows_the_same_question(
    app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    state_path = tmp_path / "state" / "interview.json"
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "1")
        await type_text(pilot, "87.33")
        await pilot.press("enter")
        question = app.screen.step.prompt
    assert session.load_state(state_path) == State(("1", "1", "87.33"))
    resumed = app_factory(resume=True)
    async with resumed.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert resumed.screen.step.prompt == question == resumed.screen.query_one(Question).text
        assert SOFTMAX_QUESTION in screen_text(resumed)


@in_event_loop
async def test_resume_without_a_saved_interview_starts_a_new_one(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(resume=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.step.prompt == "What does the loss do?"


@in_event_loop
async def test_ctrl_s_saves_the_transcript_and_the_diagnosis(app_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "my loss is stuck at 87.33")
        await pilot.press("enter")
        while app.screen.step.kind == "cause":
            await pilot.press("3")  # I don't know
        assert app.screen.query_one(EntryView).entry_id == "diagnosis"
        await pilot.press("ctrl+s")
        saved = app.screen.saved_path
        assert saved is not None and saved.parent == tmp_path / "saved"
        assert saved.name.startswith("lossdoctor-") and saved.suffix == ".md"
        assert any(str(saved) in str(n.message) for n in app._notifications)
    text = saved.read_text(encoding="utf-8")
    assert "my loss is stuck at 87.33" in text
    assert "Diagnosis: Loss constant at 87.3365" in text
    assert "## Causes, most likely first" in text


@in_event_loop
async def test_markup_and_an_escape_sequence_in_a_typed_message_appear_literally(
    app_factory,
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    message = "[bold red]loud[/bold red] [link=https://example.com]x[/link] \x1b[31mred"
    async with app.run_test(size=SIZE) as pilot:
        app.focused.value = message
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "[bold red]loud[/bold red]" in text
        assert "[link=https://example.com]x[/link]" in text
        assert "\\x1b[31mred" in text
        assert "\x1b" not in shown(app)


@needs_triage
@in_event_loop
async def test_a_log_is_triaged_and_the_interview_starts_at_its_primary_finding(
    app_factory,
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(log=str(STUCK_87_LOG))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert screen.triage.primary == "stuck-87-3365"
        assert screen.step.symptom == "stuck-87-3365"
        assert SOFTMAX_QUESTION in shown(app)
        assert "constant at 87.3365" in shown(app)
        assert [c.role for c in screen.query_one(LossPlot).curves][0] == "train"
        assert screen.query_one(LossPlot).span is not None
        assert screen.query_one(FindingList).findings[0].symptom == "stuck-87-3365"
        assert isinstance(app.focused, ChatInput)


@needs_triage
@in_event_loop
async def test_ctrl_o_attaches_a_log_from_inside_the_app(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")  # the attach dialog
        app.screen.query_one("#log-path").value = str(STUCK_87_LOG)
        await pilot.press("enter")  # attach
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.step.symptom == "stuck-87-3365"
        assert app.screen.log_path == str(STUCK_87_LOG)


@needs_triage
@in_event_loop
async def test_markup_and_an_escape_sequence_in_a_log_file_name_appear_literally(
    app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "[bold]run[red]\x1b[2J.log"
    shutil.copy(STUCK_87_LOG, log)
    app = app_factory(log=str(log))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]run[red]\\x1b[2J.log" in text
        assert app.screen.step.symptom == "stuck-87-3365"


@in_event_loop
async def test_a_missing_log_is_reported_and_the_interview_goes_on(
    app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(log=str(tmp_path / "no-such.log"))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one(TriageStatus).running is False
        assert app._notifications
        await pilot.press("1")
        assert app.screen.state.answers == ("1",)


@in_event_loop
async def test_the_command_palette_searches_the_knowledge_base_and_opens_an_entry(
    app_factory,
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")  # the command palette
        await type_text(pilot, "loss stuck at 87.33")
        await pilot.pause(0.6)
        await pilot.press("enter")  # the best hit
        await pilot.pause()
        assert app.screen.query_one(EntryView).entry_id == "stuck-87-3365"


@in_event_loop
async def test_f1_and_question_mark_open_the_help(app_factory) -> None:  # type: ignore[no-untyped-def]
    from assistant.tui.screens.help import HelpScreen

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")  # help
        assert isinstance(app.screen, HelpScreen)
        assert "narrows it down to a symptom" in screen_text(app)
        await pilot.press("escape")  # close it
        app.screen.query_one(Choices).focus()
        await pilot.press("question_mark")  # ? works outside the chat box
        assert isinstance(app.screen, HelpScreen)


@needs_triage
@in_event_loop
async def test_ctrl_l_hides_and_shows_the_log_pane(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(log=str(STUCK_87_LOG))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane = app.screen.query_one("#log-pane")
        assert pane.display
        await pilot.press("ctrl+l")  # hide the log
        assert not pane.display
        await pilot.press("ctrl+l")  # show it again
        assert pane.display


@in_event_loop
async def test_without_an_engine_the_knowledge_base_loads_after_the_first_frame(
    app_factory,
) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(interview=None)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.focused, ChatInput)  # typing can start at once
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.interview is not None
        assert app.screen.step.prompt == "What does the loss do?"


@needs_triage
@in_event_loop
async def test_a_resumed_interview_keeps_its_answers_when_started_with_a_log(
    app_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    session.save_state(tmp_path / "state" / "interview.json", State(("2",)))
    app = app_factory(resume=True, log=str(STUCK_87_LOG))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.state.answers == ("2",)
        assert app.screen.query_one(FindingList).findings  # the log is shown beside it


@needs_triage
@in_event_loop
async def test_keys_are_answered_and_progress_shown_while_a_log_is_read(
    app_factory, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import threading

    import assistant.triage.read as read_module

    real_read_log = read_module.read_log
    release = threading.Event()

    def slow_read_log(path, *, progress=None, **options):  # type: ignore[no-untyped-def]
        progress(1, 4)  # a quarter read, then wait for the test
        release.wait(10)
        return real_read_log(path, progress=progress, **options)

    monkeypatch.setattr(read_module, "read_log", slow_read_log)
    app = app_factory(log=str(STUCK_87_LOG))
    async with app.run_test(size=SIZE) as pilot:
        status = app.screen.query_one(TriageStatus)
        while status.query_one("#triage-progress").progress < 1:
            await pilot.pause(0.02)
        assert status.running
        await pilot.press("1")  # answered while the log is being read
        assert app.screen.state.answers == ("1",)
        assert "Did it ever go down?" in shown(app)
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not status.running
        assert app.screen.step.symptom == "stuck-87-3365"
