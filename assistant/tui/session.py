"""The interview session on disk: the state file that makes every answer survive a crash, and
the Markdown transcript that Ctrl+S saves.

No Textual here: the TUI calls these functions, and tests call them directly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from assistant.interview import State, Step, render_diagnosis
from assistant.safe import plain
from kb.model import KnowledgeBase

#: Environment variable naming the state file (tests, several parallel interviews).
STATE_ENV = "LOSSDOCTOR_STATE"


def default_state_path() -> Path:
    """Where the interview is saved as it goes: ``$LOSSDOCTOR_STATE``, else
    ``interview.json`` in the user state directory."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir("lossdoctor")) / "interview.json"


def save_state(path: Path, state: State) -> None:
    """Write ``state`` to ``path`` atomically: a reader sees the old file or the new one,
    never half of one, so a crash mid-write loses at most the last answer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=".interview-", suffix=".tmp", delete=False
    ) as handle:
        handle.write(state.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, path)


def load_state(path: Path) -> State | None:
    """The state saved at ``path``; None when there is none or it is not a saved interview."""
    try:
        return State.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def transcript_markdown(
    step: Step,
    kb: KnowledgeBase,
    *,
    log: str | None = None,
    findings: Sequence[str] = (),
    now: datetime | None = None,
) -> str:
    """The conversation and the diagnosis (final, or the ranking so far) as Markdown.

    ``log`` is the attached log's path and ``findings`` its findings, one line each; untrusted
    text (answers, file names) has its control characters escaped.
    """
    when = (now or datetime.now()).strftime("%Y-%m-%d %H:%M:%S")
    lines = ["# lossdoctor interview", "", f"Saved {when}.", ""]
    if log:
        lines += [f"Log: `{plain(log)}`", ""]
    if findings:
        lines += ["## Log findings", ""] + [f"- {plain(f)}" for f in findings] + [""]
    lines += ["## Conversation", ""]
    for turn in step.transcript:
        who = "You" if turn.role == "user" else "lossdoctor"
        lines += [f"**{who}:** {plain(turn.text)}", ""]
    if step.kind != "done":
        lines += [f"**lossdoctor:** {step.prompt}", ""]
        lines += [f"{option.key}. {option.label}" for option in step.options] + [""]
    if step.diagnosis is not None:
        heading = "## Diagnosis" if step.kind == "done" else "## Diagnosis so far"
        lines += [heading, "", render_diagnosis(step.diagnosis, kb)]
    else:
        lines += ["## Diagnosis", "", "No symptom yet: answer the questions above to get one."]
    return "\n".join(lines).rstrip() + "\n"


def save_transcript(directory: Path, markdown: str, *, now: datetime | None = None) -> Path:
    """Write ``markdown`` to ``directory/lossdoctor-YYYYmmdd-HHMMSS.md`` (a suffix keeps two
    saves in one second apart) and return the path."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"lossdoctor-{stamp}.md"
    number = 1
    while path.exists():
        number += 1
        path = directory / f"lossdoctor-{stamp}-{number}.md"
    path.write_text(markdown, encoding="utf-8")
    return path
