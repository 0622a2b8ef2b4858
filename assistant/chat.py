"""``lossdoctor chat``: the interview in plain lines, for pipes and terminals without full-screen
support. Questions go to standard output, answers come from standard input, one per line; at
the end of input the diagnosis is printed (its first line names the symptom and its id).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from assistant.interview import Interview, State, Step, render_diagnosis
from assistant.safe import plain


def _show(step: Step, out: TextIO) -> None:
    if step.kind == "done":
        return
    heading = (
        "Question"
        if step.kind != "cause"
        else f"Question about a cause ({step.progress[0] + 1} of {step.progress[1]})"
    )
    print(f"\n{heading}: {step.prompt}", file=out)
    if step.prompt_zh:
        print(f"  {step.prompt_zh}", file=out)
    for option in step.options:
        zh = f" / {option.label_zh}" if option.label_zh else ""
        print(f"  {option.key}. {option.label}{zh}", file=out)
    hint = "a number, a loss value, " if step.accepts_number else "a number, "
    print(f"(answer with {hint}words, 'back', 'restart' or 'I don't know')", file=out)
    out.flush()


def run_chat(interview: Interview, state: State, lines: Iterable[str], out: TextIO) -> State:
    """Ask, read an answer, repeat until the input ends or the interview is done; then print
    the diagnosis. Returns the final state."""
    step = interview.step(state)
    for turn in step.transcript:  # a log's finding, shown before the first question
        print(f"lossdoctor: {plain(turn.text)}", file=out)
    _show(step, out)
    seen = len(step.transcript)
    for raw in lines:
        said = raw.rstrip("\r\n")
        if not said.strip():
            continue
        state = interview.answer(state, said)
        step = interview.step(state)
        # the new turns are the question just answered, the answer, then any reply to it
        for turn in step.transcript[seen + 2 :]:
            print(f"lossdoctor: {plain(turn.text)}", file=out)
        seen = len(step.transcript)
        if step.kind == "done":
            break
        _show(step, out)
    diagnosis = step.diagnosis
    if diagnosis is None:
        diagnosis = interview.step(interview.start(interview.kb.root)).diagnosis
    assert diagnosis is not None
    print("", file=out)
    print(plain(render_diagnosis(diagnosis, interview.kb), keep_newlines=True), file=out)
    return state
