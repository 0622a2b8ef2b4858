"""The help screen (F1 or ?): the keys, and how the interview works."""

from __future__ import annotations

from rich.markdown import Markdown
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
# lossdoctor

lossdoctor asks what your loss does, narrows it down to a **symptom** (for example
*loss constant at 87.3365*), then asks yes/no questions that tell the symptom's **causes**
apart, and ends with the causes ranked, the checks to run and the fixes to try.

## Answering

- **Type** what you see in the box at the bottom and press **Enter**: "my loss is stuck at
  87.33", "验证集loss上升", "nan after 2 epochs". Free text jumps straight to the matching
  symptom; when it is not clear which, you are offered the closest few to pick from.
- **Pick** an answer with its number key (1-9) while the box is empty, by clicking it, or by
  sending the number. When a question asks for a value, digits are typed into the box (to
  start any other message with a digit, type a space first).
- Answer "I don't know" (or "idk") whenever you are not sure: it never blocks you.

## With a log

Attach a training log (**Ctrl+O**, or `lossdoctor interview --log PATH`). It is read in the
background, its loss curve and findings are shown above, and the interview starts at the
primary finding. Choose another finding in the list to start there instead.

## Keys

| key | what it does |
|---|---|
| Enter | send what is typed |
| 1-9 | pick an answer (when the box is empty or not focused) |
| Escape | back: undo the last answer |
| Ctrl+R | restart the interview |
| Ctrl+S | save the conversation and the diagnosis as Markdown |
| Ctrl+O | attach a log file |
| Ctrl+L | show or hide the log's curve and findings |
| Ctrl+P | search the knowledge base (command palette) |
| Tab | move between the chat box, the answers and the findings |
| F1, ? | this help |
| Ctrl+Q | quit |

Every answer is saved as you go: `lossdoctor interview --resume` continues where you left off.
"""


class HelpScreen(ModalScreen[None]):
    """Lists the keys and explains the interview; any of Escape, F1 or q closes it."""

    BINDINGS = [
        Binding(
            "escape,f1,q,question_mark",
            "dismiss",
            "Close help",
            id="close-help",
            tooltip="Back to the interview",
        ),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Markdown(HELP), id="help-text")
