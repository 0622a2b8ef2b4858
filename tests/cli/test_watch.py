"""``lossdoctor watch`` through the real entry point: a log written line by line while the
command runs (a file that does not exist yet, is truncated, rotated), ``--once``,
``--exit-on``, ``--notify``, ``--json`` and bad input. Waits are generous deadlines for a
process to say something, never timing assertions (latency is measured by
``bench/bench_watch.py``)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Run, lossdoctor_command

SAMPLE = REPO / "tests" / "data" / "logs" / "sample"
GENERATED = REPO / "tests" / "data" / "logs" / "generated"
DEADLINE = 30.0


def _healthy_lines(start: int, n: int) -> list[str]:
    return [
        f"epoch 1 iter {i} loss {2.3 / (1 + i / 50):.4f} lr 0.01\n" for i in range(start, start + n)
    ]


class Watching:
    """A ``lossdoctor watch`` process whose output lines arrive on queues."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [*lossdoctor_command(), "watch", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO,
        )  # fmt: skip
        self.out: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.err: queue.SimpleQueue[str] = queue.SimpleQueue()
        for stream, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()
        self.stderr_seen: list[str] = []

    @staticmethod
    def _pump(stream: object, q: queue.SimpleQueue[str]) -> None:
        for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
            q.put(raw.decode("utf-8", "replace"))

    def next_json(self, timeout: float = DEADLINE) -> dict[str, object]:
        line = self.out.get(timeout=timeout)
        return json.loads(line)  # type: ignore[no-any-return]

    def wait_stderr(self, needle: str, timeout: float = DEADLINE) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.err.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            self.stderr_seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"no {needle!r} on stderr; saw {self.stderr_seen}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=DEADLINE)


@pytest.fixture
def watching(cli_env: dict[str, str]) -> Iterator[list[Watching]]:
    started: list[Watching] = []
    yield started
    for w in started:
        w.stop()


def _append(path: Path, lines: list[str], pause: float = 0.0) -> None:
    with path.open("a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line)
            fh.flush()
            if pause:
                time.sleep(pause)


def test_a_nan_is_reported_while_the_job_is_still_writing(
    tmp_path: Path, cli_env: dict[str, str], watching: list[Watching]
) -> None:
    """The file does not exist when the watch starts; the nan finding arrives before the
    writer has finished, with its step and the top fix."""
    log = tmp_path / "train.log"
    w = Watching(cli_env, str(log), "--json")
    watching.append(w)
    w.wait_stderr("waiting for")
    _append(log, _healthy_lines(0, 40), pause=0.005)
    w.wait_stderr("as plain-print")
    _append(log, ["epoch 1 iter 40 loss nan lr 0.01\n"])
    finding = w.next_json()
    assert finding["symptom"] == "nan-loss"
    assert finding["start_step"] == 40
    assert finding["fix"] and finding["fix"]["id"]  # type: ignore[index]
    assert w.proc.poll() is None, "watch must keep following after a finding"
    _append(log, _healthy_lines(41, 5))
    assert w.stop() in (0, -15)


def test_truncation_starts_over_and_rotation_goes_on(
    tmp_path: Path, cli_env: dict[str, str], watching: list[Watching]
) -> None:
    log = tmp_path / "train.log"
    _append(log, _healthy_lines(0, 60))
    w = Watching(cli_env, str(log), "--json", "--exit-on", "stuck-87-3365")
    watching.append(w)
    w.wait_stderr("as plain-print")
    log.write_text("".join(_healthy_lines(0, 5)), encoding="utf-8")  # a new run over the file
    w.wait_stderr("was truncated")
    os.rename(log, tmp_path / "train.log.1")  # logrotate
    _append(log, [f"epoch 2 iter {i} loss 87.3365 lr 0.01\n" for i in range(100, 110)])
    w.wait_stderr("was rotated")
    finding = w.next_json()
    assert finding["symptom"] == "stuck-87-3365"
    assert w.proc.wait(timeout=DEADLINE) == 3  # --exit-on matched


def test_once_reads_what_is_there_and_reports(run: Run) -> None:
    done = run("watch", str(SAMPLE / "05-caffe-cifar10-nan.log"), "--once")
    assert done.returncode == 0, done.stderr
    assert "nan-loss from step 200" in done.stdout
    assert "top fix:" in done.stdout and "lossdoctor show nan-loss" in done.stdout
    assert "stopped after 10 readings" in done.stderr


def test_exit_on_and_json(run: Run) -> None:
    path = str(SAMPLE / "02-caffe-mtcnn-87-nan.log")
    done = run("watch", path, "--once", "--json", "--exit-on", "stuck-87-3365")
    assert done.returncode == 3
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["symptom"] for e in events if e["event"] == "finding"] == [
        "nan-loss",
        "stuck-87-3365",
    ]
    assert events[-1]["event"] == "end" and events[-1]["primary"] == "stuck-87-3365"
    quiet = run("watch", path, "--once", "--exit-on", "zero-loss")
    assert quiet.returncode == 0


def test_notify_gets_the_finding_as_json(run: Run, tmp_path: Path) -> None:
    sink = tmp_path / "notified.jsonl"
    done = run(
        "watch", str(SAMPLE / "25-print-tf-frcnn-nan.log"), "--once",
        "--notify", f"cat >> {sink}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sent = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
    assert [s["symptom"] for s in sent] == ["nan-loss"]
    failing = run(
        "watch", str(SAMPLE / "25-print-tf-frcnn-nan.log"), "--once", "--notify", "exit 7"
    )
    assert "--notify command failed (exit 7)" in failing.stderr
    assert "Traceback" not in failing.stderr


def test_untrusted_text_is_shown_literally(run: Run, tmp_path: Path) -> None:
    log = tmp_path / "evil.log"
    lines = [
        f"step {i} \x1b[31m[bold]loss\x1b[0m: {v}\n" for i, v in enumerate([1.0, 0.9, float("nan")])
    ]
    log.write_text("".join(lines), encoding="utf-8")
    done = run("watch", str(log), "--once")
    assert "\x1b" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p.write_bytes(bytes(range(256)) * 64), "binary"),
        (lambda p: None, "no such file"),
        (lambda p: p.write_text("hello world\nnothing here\n", encoding="utf-8"), "no readings"),
    ],
    ids=["binary", "missing", "no-loss"],
)
def test_bad_input_is_one_line_and_exit_2(run: Run, tmp_path: Path, make, problem: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.log"
    make(path)
    done = run("watch", str(path), "--once")
    assert done.returncode == 2
    assert problem in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_exit_on_symptom_is_a_usage_error(run: Run) -> None:
    done = run("watch", "x.log", "--exit-on", "nan-loss,bogus")
    assert done.returncode == 2
    assert "unknown symptom bogus" in done.stderr
