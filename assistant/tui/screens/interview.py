"""The interview screen, the single coordinator of the TUI.

It holds the interview state, sends every answer to the pure engine
(:class:`~assistant.interview.Interview`), saves the state after each answer, and pushes what
the engine says down into the widgets: the transcript, the answer options, the entry pane,
and, with a log attached, the loss plot and the findings. Widgets report up with messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from assistant.interview import State, Step, render_diagnosis
from assistant.render import entry_markdown
from assistant.safe import plain
from assistant.tui import session
from assistant.tui.commands import EntryRequested
from assistant.tui.screens.attach_log import AttachLogScreen
from assistant.tui.widgets.chat_input import ChatInput
from assistant.tui.widgets.choices import Choices
from assistant.tui.widgets.entry_view import EntryView
from assistant.tui.widgets.finding_list import FindingList
from assistant.tui.widgets.loss_plot import LossPlot
from assistant.tui.widgets.question import Question
from assistant.tui.widgets.transcript import Transcript
from assistant.tui.widgets.triage_status import TriageStatus

if TYPE_CHECKING:
    from assistant.interview import Interview
    from assistant.tui.app import LossDoctorApp

WELCOME = """\
# Welcome to lossdoctor

Answer the questions on the left, or simply **type what your loss does** and press Enter:

- *my loss is stuck at 87.33*
- *验证集loss上升*
- *nan after 2 epochs*

The knowledge-base entry for the symptom or cause being discussed appears here.

**Ctrl+O** attaches a training log, **Ctrl+P** searches the knowledge base, **F1** shows help.
"""

LOADING = "Loading the knowledge base ..."
DONE_HINT = "The causes, checks and fixes are on the right; Ctrl+S saves them, Escape goes back."
DONE_HINT_ZH = "原因、检查和修复方法见右侧；Ctrl+S 保存，Escape 返回上一步。"


class InterviewScreen(Screen[None]):
    """The conversation on the left, the entry on the right, a log's curve and findings on top."""

    AUTO_FOCUS = "#chat-input"

    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Undo the last answer"),
        Binding(
            "ctrl+r",
            "restart",
            "Restart",
            id="restart",
            tooltip="Start the interview over (a log's finding stays the start)",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="save",
            tooltip="Save the conversation and the diagnosis as Markdown",
        ),
        Binding(
            "ctrl+o",
            "attach_log",
            "Attach log",
            id="attach-log",
            tooltip="Read a training log and start from what it shows",
        ),
        Binding(
            "ctrl+l",
            "toggle_log",
            "Log",
            id="toggle-log",
            tooltip="Show or hide the attached log's curve and findings",
        ),
        *[
            Binding(
                str(n),
                f"pick('{n}')",
                "Pick",
                key_display="1-9",
                show=n == 1,
                id=f"pick-{n}",
                tooltip="Pick the answer with this number",
            )
            for n in range(1, 10)
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state: State | None = None
        """The interview so far; None until the knowledge base is loaded."""
        self.step: Step | None = None
        """What the engine says for :attr:`state`."""
        self.log_path: str | None = None
        """The attached log."""
        self.triage: Any = None
        """The attached log's :class:`~assistant.triage.model.TriageResult`, once read."""
        self.saved_path: Path | None = None
        """Where Ctrl+S last saved the transcript."""
        self._pending: list[str] = []
        self._step_entry: str | None = None
        self._restart_on_triage = True
        self._triage_start: tuple[str, str] | None = None

    @property
    def ld_app(self) -> LossDoctorApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    @property
    def interview(self) -> Interview | None:
        """The engine (None while it loads)."""
        return self.ld_app.interview

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Vertical(id="log-pane"):
            yield TriageStatus(id="triage-status")
            with Horizontal(id="log-results"):
                yield LossPlot(id="loss-plot")
                yield FindingList(id="finding-list")
        with Horizontal(id="main"):
            with Vertical(id="conversation"):
                yield Transcript(id="transcript")
                yield Question(id="question")
                yield Choices(id="choices")
                yield ChatInput(id="chat-input", blink=self.ld_app.blink)
            yield EntryView(WELCOME, id="entry-pane")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#log-pane").display = False
        self.query_one("#log-results").display = False
        self.query_one(Choices).display = False
        if self.ld_app.log_path:
            # the log is read while the knowledge base loads
            self.attach_log(self.ld_app.log_path)
        if self.interview is None:
            self.query_one(Question).show(LOADING)
            self._load_interview()
        else:
            self._begin()

    @work(thread=True, exit_on_error=False, group="load")
    def _load_interview(self) -> None:
        from assistant.interview import default_interview

        try:
            interview = default_interview()
        except Exception as error:  # noqa: BLE001 - shown to the user instead of a traceback
            self.app.call_from_thread(
                self.notify,
                f"The knowledge base could not be loaded: {error}",
                severity="error",
                markup=False,
            )
            return
        self.app.call_from_thread(self._loaded, interview)

    def _loaded(self, interview: Interview) -> None:
        self.ld_app.interview = interview
        self._begin()

    def _begin(self) -> None:
        assert self.interview is not None
        app = self.ld_app
        state = None
        if app.resume:
            state = session.load_state(app.state_path)
            if state is not None and not self._valid(state):
                state = None
            if state is None:
                self.notify("No saved interview to resume: starting a new one.", markup=False)
        self.state = state or self.interview.start()
        # a resumed interview with answers keeps them; the log is shown beside it
        self._restart_on_triage = not (app.resume and self.state.answers)
        self._show()
        if self._triage_start is not None and self._restart_on_triage:
            self._start_at(*self._triage_start)
        for text in self._pending:
            self.answer(text)
        self._pending.clear()

    def _valid(self, state: State) -> bool:
        assert self.interview is not None
        try:
            self.interview.step(state)
        except Exception:  # noqa: BLE001 - saved by another version of the knowledge base
            return False
        return True

    # ------------------------------------------------------------------ the interview

    def answer(self, text: str) -> None:
        """Send ``text`` to the engine, save, and show the new step."""
        if self.interview is None or self.state is None:
            self._pending.append(text)
            return
        if (
            self.step is not None
            and self.step.kind == "done"
            and text.strip().lower() not in ("back", "restart")
        ):
            self.notify(
                "The interview is finished: Escape goes back, Ctrl+R restarts, Ctrl+S saves.",
                markup=False,
            )
            return
        self._set_state(self.interview.answer(self.state, text))

    def _set_state(self, state: State) -> None:
        self.state = state
        try:
            session.save_state(self.ld_app.state_path, state)
        except OSError as error:
            self.notify(f"Could not save the interview: {error}", severity="warning", markup=False)
        self._show()

    def _show(self) -> None:
        """Push the engine's current step down into the widgets."""
        assert self.interview is not None and self.state is not None
        step = self.step = self.interview.step(self.state)
        self.query_one(Transcript).show(step.transcript)
        if step.kind == "done":
            self.query_one(Question).show(f"{step.prompt}. {DONE_HINT}", DONE_HINT_ZH)
        else:
            self.query_one(Question).show(step.prompt, step.prompt_zh)
        self.query_one(Choices).show(step.options if step.kind != "done" else ())
        self.query_one(ChatInput).pickable = 0 if step.accepts_number else len(step.options)
        asked, total = step.progress
        if step.kind == "cause":
            self.sub_title = f"question {asked + 1} of {total} about {step.symptom}"
        elif step.kind == "done":
            self.sub_title = "diagnosis"
        else:
            self.sub_title = "interview"
        self.refresh_bindings()
        entry = "diagnosis" if step.kind == "done" else (step.entry or step.symptom)
        if entry != self._step_entry:
            self._step_entry = entry
            self._show_entry(entry, step)

    def _show_entry(self, entry: str | None, step: Step) -> None:
        assert self.interview is not None
        kb = self.interview.kb
        view = self.query_one(EntryView)
        if entry == "diagnosis" and step.diagnosis is not None:
            view.show(
                "diagnosis",
                plain(render_diagnosis(step.diagnosis, kb), keep_newlines=True),
                step.symptom,
            )
        elif entry is not None and entry in kb:
            markdown = entry_markdown(kb, entry)
            if step.symptom and step.symptom != entry and step.symptom in kb:
                # a cause question: say which symptom it is about, then the cause
                symptom = kb.get(step.symptom)
                markdown = f"> Symptom: **{symptom.title}** (`{symptom.id}`)\n\n{markdown}"
            view.show(entry, markdown, step.symptom)
        elif entry is None:
            view.show(None, WELCOME)

    # ------------------------------------------------------------------ input

    @on(Input.Submitted, "#chat-input")
    def _send(self, event: Input.Submitted) -> None:
        text = event.value
        event.input.clear()
        if text.strip():
            self.answer(text)

    def on_chat_input_picked(self, message: ChatInput.Picked) -> None:
        self.answer(message.key)

    def on_choices_picked(self, message: Choices.Picked) -> None:
        self.answer(message.key)
        self.query_one(ChatInput).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Number keys only while there are answers to pick; the log toggle only with a log."""
        if action == "pick":
            return self.step is not None and self.step.kind != "done" and bool(self.step.options)
        if action == "toggle_log":
            return self.log_path is not None
        return True

    def action_toggle_log(self) -> None:
        """Show or hide the log pane (the conversation gets its rows)."""
        pane = self.query_one("#log-pane")
        pane.display = not pane.display

    def action_pick(self, key: str) -> None:
        """Pick option ``key`` (a number key pressed outside the chat box)."""
        if self.step is not None and int(key) <= len(self.step.options):
            self.answer(key)

    def action_back(self) -> None:
        """Undo the last answer."""
        if self.interview is not None and self.state is not None and self.state.answers:
            self._set_state(self.interview.back(self.state))

    def action_restart(self) -> None:
        """Start over (from the log's finding, when one set the start)."""
        if self.interview is not None and self.state is not None:
            self._set_state(self.interview.restart(self.state))
            self.notify("Restarted.", markup=False)

    def action_save(self) -> None:
        """Save the transcript and the diagnosis as Markdown, and say where."""
        if self.interview is None or self.step is None:
            return
        findings = (
            [f"{f.symptom} ({f.confidence:.0%}): {f.summary}" for f in self.triage.findings]
            if self.triage
            else []
        )
        markdown = session.transcript_markdown(
            self.step, self.interview.kb, log=self.log_path, findings=findings
        )
        try:
            path = session.save_transcript(self.ld_app.save_dir, markdown)
        except OSError as error:
            self.notify(f"Could not save: {error}", severity="error", markup=False)
            return
        self.saved_path = path
        self.notify(f"Saved to {plain(str(path))}", title="Saved", markup=False)

    def on_entry_requested(self, message: EntryRequested) -> None:
        if self.interview is not None and message.entry_id in self.interview.kb:
            self.query_one(EntryView).show(
                message.entry_id, entry_markdown(self.interview.kb, message.entry_id)
            )

    # ------------------------------------------------------------------ logs

    def action_attach_log(self) -> None:
        """Ask for a log path, then triage it."""

        def attach(path: str | None) -> None:
            if path:
                self._restart_on_triage = True  # a log chosen now always sets the start
                self.attach_log(path)

        self.app.push_screen(AttachLogScreen(), attach)

    def attach_log(self, path: str) -> None:
        """Triage ``path`` in the background; the interview then starts at its primary
        finding (unless it was resumed with answers)."""
        if path == "-":
            # standard input is the keyboard here; a piped log goes to 'lossdoctor triage -'
            self.notify(
                "A log cannot be read from standard input in the terminal UI: give a file path.",
                severity="warning",
                markup=False,
            )
            return
        self.log_path = path
        self.triage = None
        self.query_one("#log-pane").display = True
        self.query_one("#log-results").display = False
        self.query_one(TriageStatus).start(path)
        self.refresh_bindings()

    def on_triage_status_finished(self, message: TriageStatus.Finished) -> None:
        result = self.triage = message.result
        primary = next((f for f in result.findings if f.symptom == result.primary), None)
        span = None
        if primary is not None and primary.start_step is not None:
            end = primary.end_step if primary.end_step is not None else primary.start_step
            span = (float(primary.start_step), float(end))
        self.query_one("#log-results").display = True
        self.query_one(LossPlot).show(message.curves, span, result.primary or "")
        self.query_one(FindingList).show(result.findings, result.primary)
        if primary is None:
            self.notify("Nothing definite in this log: answer the questions instead.", markup=False)
            return
        if self.interview is None:
            self._triage_start = (primary.symptom, primary.summary)
        elif self._restart_on_triage:
            self._start_at(primary.symptom, primary.summary)

    def on_triage_status_failed(self, message: TriageStatus.Failed) -> None:
        self.notify(
            plain(message.problem), title="Could not read the log", severity="warning", markup=False
        )

    def on_finding_list_chosen(self, message: FindingList.Chosen) -> None:
        self._start_at(message.finding.symptom, message.finding.summary)
        self.query_one(ChatInput).focus()

    def _start_at(self, symptom: str, note: str) -> None:
        if self.interview is None:
            return
        try:
            state = self.interview.start(symptom=symptom, note=note)
        except KeyError:
            self.notify(
                f"The knowledge base has no symptom {symptom!r}.", severity="warning", markup=False
            )
            return
        self._set_state(state)
