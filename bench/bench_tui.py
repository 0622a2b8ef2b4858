"""TUI responsiveness: time to first paint, and key presses answered while a 1 GB log is
being triaged in the background.

    python bench/bench_tui.py [--runs 5] [--size-gb 1.0] [--presses 20] [--python-api]

Both are measured the honest way: the app runs in its own process on a pseudo-terminal
(100 x 32) and the clock stops when the bytes of a frame reach the terminal. The app is the
installed ``lossdoctor`` command (``lossdoctor interview --log PATH`` with the log), or
``assistant.tui.run()`` through ``python -c`` with ``--python-api``.

* First paint: from spawning the process to the first frame holding the app's title, and to
  the frame holding the first question (the knowledge base loads after the first frame).
  Median of ``--runs`` runs. Target: within 1 s.
* Keys: ``1`` (answer) and Escape (back) are pressed in turn and each is timed until the
  frame showing its effect arrives; first with no log, then while a Caffe log of
  ``--size-gb`` GB (written under /tmp once, then reused) is being triaged. Escape is sent
  both as a lone ESC byte, which Textual can only tell from the start of a key sequence at
  its input thread's next 100 ms poll, and as CSI 27 u, as terminals with the kitty keyboard
  protocol send it. Target: each within 100 ms.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIG_LOG = Path(tempfile.gettempdir()) / "lossdoctor-bench" / "big-caffe.log"
ANSI = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|P[^\x1b]*\x1b\\|[@-Z\\-_])"
)
COLUMNS, ROWS = 100, 32
RUN_APP = "import sys; from assistant.tui import run; sys.exit(run(sys.argv[1] if len(sys.argv) > 1 else None, False))"


class Terminal:
    """A process on a pseudo-terminal, with everything it wrote so far (escapes stripped)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the app
            os.chdir(env.get("BENCH_CWD", "/"))
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.text = b""

    def read(self, timeout: float) -> bool:
        """Read what is ready within ``timeout`` seconds; False at end of output."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 1 << 20)
        except OSError:
            return False
        if not data:
            return False
        self.text += ANSI.sub(b"", data)
        return True

    def wait_for(self, needle: str, timeout: float = 30.0, since: int = 0) -> float | None:
        """Seconds (perf_counter) at which ``needle`` appeared after offset ``since``, or None."""
        wanted = needle.encode()
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if wanted in self.text[since:]:
                return time.perf_counter()
            if not self.read(0.002):
                return None
        return None

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        try:
            self.send(b"\x11")  # ctrl+q
            deadline = time.perf_counter() + 3
            while time.perf_counter() < deadline and self.read(0.05):
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    return
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except (OSError, ChildProcessError):
            pass
        finally:
            os.close(self.fd)


def environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TERM="xterm-256color",
        COLUMNS=str(COLUMNS),
        LINES=str(ROWS),
        LOSSDOCTOR_STATE=str(tmp / "state.json"),
        BENCH_CWD=str(tmp),
    )
    env.setdefault("LOSSDOCTOR_CACHE", str(Path(tempfile.gettempdir()) / "ldcache-bench"))
    env.pop("TEXTUAL", None)
    return env


def first_paint(command: list[str], runs: int) -> None:
    frame, question = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = environment(Path(tmp))
        for _ in range(runs + 1):  # the first run warms the index cache and the OS file cache
            term = Terminal(command, env)
            shown = term.wait_for("lossdoctor", 20)
            asked = term.wait_for("What does the loss do?", 20)
            term.close()
            if shown is None or asked is None:
                raise SystemExit("the app did not paint within 20 s")
            frame.append(shown - term.started)
            question.append(asked - term.started)
    frame, question = frame[1:], question[1:]
    print(
        f"first paint (title frame):  median {statistics.median(frame) * 1000:.0f} ms  (min {min(frame) * 1000:.0f}, max {max(frame) * 1000:.0f}, {runs} runs)"
    )
    print(
        f"first question on screen:   median {statistics.median(question) * 1000:.0f} ms  (min {min(question) * 1000:.0f}, max {max(question) * 1000:.0f})"
    )


def make_big_log(size: int) -> Path:
    """A Caffe log of about ``size`` bytes: the loss falls, then sticks at 87.3365."""
    if BIG_LOG.exists() and BIG_LOG.stat().st_size >= size:
        return BIG_LOG
    BIG_LOG.parent.mkdir(parents=True, exist_ok=True)
    head = (REPO / "tests/data/logs/sample/01-caffe-c3d-stuck87.log").read_text().splitlines()[:7]
    partial = BIG_LOG.with_suffix(".partial")
    with partial.open("w") as out:
        out.write("\n".join(head) + "\n")
        iteration, written = 0, 0
        while written < size:
            block = []
            for _ in range(10000):
                loss = 87.3365 if iteration >= 1200 else 6.07 - iteration / 400
                block.append(
                    f"I0525 14:53:44.757114 28821 solver.cpp:219] Iteration {iteration} (0.6 iter/s, 33.1s/20 iters), loss = {loss:.6g}\n"
                    f"I0525 14:53:44.757179 28821 solver.cpp:238]     Train net output #0: loss = {loss:.6g} (* 1 = {loss:.6g} loss)\n"
                    f"I0525 14:53:44.757207 28821 sgd_solver.cpp:105] Iteration {iteration}, lr = 0.01\n"
                )
                iteration += 20
            chunk = "".join(block)
            out.write(chunk)
            written += len(chunk)
    partial.replace(BIG_LOG)
    return BIG_LOG


def press_keys(term: Terminal, presses: int) -> list[float]:
    """Press ``1`` and Escape in turn; seconds from each press to the frame showing it.
    Stops early when the findings appear (triage over)."""
    latencies: list[float] = []
    expected = [
        ("1", "Did it ever go down?"),
        ("\x1b", "What does the loss do?"),
        ("1", "Did it ever go down?"),
        ("\x1b[27u", "What does the loss do?"),
    ]
    for number in range(presses):
        if "\u2605".encode() in term.text:  # the findings' star: triage is over
            break
        key, needle = expected[number % 4]
        since = len(term.text)
        sent = time.perf_counter()
        term.send(key.encode())
        seen = term.wait_for(needle, 10, since)
        if seen is None:
            break
        latencies.append(seen - sent)
        time.sleep(0.15)
        term.read(0)
    return latencies


def describe(latencies: list[float]) -> str:
    """Median and max of the ``1`` presses, of Escape sent as a lone ESC byte (Textual waits
    for its input thread's 100 ms poll to tell it from the start of a sequence) and of Escape
    sent as CSI 27 u (the kitty keyboard protocol, unambiguous)."""

    def stats(values: list[float]) -> str:
        return (
            f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"
            if values
            else "-"
        )

    return (
        f"'1': {stats(latencies[0::2])}; Escape as ESC: {stats(latencies[1::4])}; "
        f"Escape as CSI 27 u: {stats(latencies[3::4])} ({len(latencies)} presses)"
    )


def keys_idle(command: list[str], presses: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        term = Terminal(command, environment(Path(tmp)))
        if term.wait_for("What does the loss do?", 30) is None:
            term.close()
            raise SystemExit("the app did not start")
        time.sleep(0.3)
        latencies = press_keys(term, presses)
        term.close()
    print(f"key press to frame, no log:        {describe(latencies)}")


def keys_during_triage(command: list[str], size: int, presses: int) -> None:
    log = make_big_log(size)
    with tempfile.TemporaryDirectory() as tmp:
        term = Terminal([*command, str(log)], environment(Path(tmp)))
        if (
            term.wait_for("What does the loss do?", 30) is None
            or term.wait_for("Reading", 30) is None
        ):
            term.close()
            raise SystemExit("the app did not start reading the log")
        started = time.perf_counter()
        latencies = press_keys(term, presses)
        finished = term.wait_for("\u2605", 600)
        term.close()
    if not latencies:
        raise SystemExit("no key press was answered while the log was read")
    print(f"key press to frame, during triage: {describe(latencies)}")
    print(f"  log: {log} ({log.stat().st_size / 1e9:.2f} GB)", end="")
    print(
        f"; triage done {finished - started:.1f} s after the first press"
        if finished is not None
        else ""
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="first-paint runs (default 5)")
    parser.add_argument(
        "--size-gb", type=float, default=1.0, help="size of the generated log (default 1.0)"
    )
    parser.add_argument(
        "--presses", type=int, default=20, help="key presses during triage (default 20)"
    )
    parser.add_argument(
        "--python-api",
        action="store_true",
        help="run assistant.tui.run() through python -c instead of the lossdoctor command",
    )
    parser.add_argument("--skip-log", action="store_true", help="measure the first paint only")
    args = parser.parse_args()
    lossdoctor = Path(sys.executable).with_name("lossdoctor")
    if args.python_api or not lossdoctor.exists():
        command, log_command = [sys.executable, "-c", RUN_APP], [sys.executable, "-c", RUN_APP]
    else:
        command, log_command = [str(lossdoctor)], [str(lossdoctor), "interview", "--log"]
    print(f"app: {' '.join(command)}")
    first_paint(command, args.runs)
    keys_idle(command, args.presses)
    if not args.skip_log:
        keys_during_triage(log_command, int(args.size_gb * 1e9), args.presses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
