"""Snapshots of the main screens at 100 x 32 (pytest-textual-snapshot).

Deterministic: a fixed size, no cursor blink, the state file and save directory under tmp,
the shipped knowledge base. ``pytest tests/tui --snapshot-update`` rewrites them after an
intended change; look at the report before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.conftest import SIZE
from tests.tui.test_interview_screen import needs_triage

REPO = Path(__file__).resolve().parents[2]


def test_the_first_screen_asks_what_the_loss_does(snap_compare, app_factory) -> None:  # type: ignore[no-untyped-def]
    """The opening question with its seven answers, the welcome text in the entry pane and
    the chat box focused."""
    assert snap_compare(app_factory(), terminal_size=SIZE)


def test_the_87_3365_path_ends_at_the_softmax_question(snap_compare, app_factory) -> None:  # type: ignore[no-untyped-def]
    """After "stays at one value", "one exact value" and 87.33, the first cause question,
    with the softmax-overflow entry (under its symptom) beside it."""
    press = [
        "1",  # the loss stays at one value
        "1",  # at one exact value
        "8", "7", ".", "3", "3",  # the value, typed into the chat box
        "enter",  # send it
    ]  # fmt: skip
    assert snap_compare(app_factory(), terminal_size=SIZE, press=press)


def test_the_diagnosis_after_answering_every_cause_question(snap_compare, app_factory) -> None:  # type: ignore[no-untyped-def]
    """Free text jumps to the 87.3365 symptom; five "I don't know" answers end in the
    ranked diagnosis, shown in the entry pane."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        pilot.app.screen.query_one(
            "#chat-input"
        ).value = "my loss is stuck at 87.33"  # typed into the chat box
        await pilot.press("enter")  # send it: the symptom is found
        for _ in range(5):
            await pilot.press("3")  # I don't know

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=run_before)


def test_the_help_screen(snap_compare, app_factory) -> None:  # type: ignore[no-untyped-def]
    """F1 opens the help over the interview."""
    assert snap_compare(app_factory(), terminal_size=SIZE, press=["f1"])  # open the help


@needs_triage
def test_an_attached_log_shows_its_curve_and_findings(
    snap_compare, app_factory, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The Caffe log stuck at 87.3365: its loss curve with the finding's range shaded, the
    findings with the primary starred, and the interview started at that finding."""
    monkeypatch.chdir(REPO)  # the path shown is relative, the same on every machine

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.app.workers.wait_for_complete()  # triage done
        await pilot.pause()

    app = app_factory(log="tests/data/logs/sample/01-caffe-c3d-stuck87.log")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
