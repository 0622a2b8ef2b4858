"""The ``lossdoctor watch`` command: argument parsing and rendering around
:class:`assistant.watch.LogWatch` (which holds the logic)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from assistant.safe import plain
from assistant.triage.model import Finding, TriageInputError
from kb.model import KnowledgeBase

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_FOUND = 3
"""``--exit-on`` matched a finding."""
NOTIFY_TIMEOUT = 30.0
"""Seconds a ``--notify`` command may run."""

DESCRIPTION = """\
Follow a training log while the job writes it (like tail -F: it waits for the file to
appear and survives truncation and rotation) and print each symptom as soon as the
detectors are sure of it: the first nan, the loss entering 87.3365, validation turning up.
Each finding comes with the step and the top fix. Status lines go to standard error,
findings to standard output.

PATH is a log file in any format 'lossdoctor triage' reads, or a TensorBoard run
directory. Whole-document formats (trainer_state.json) and TensorBoard runs are read again
when they change; text logs are read incrementally.

Exit codes: 0 when stopped (Ctrl-C, --idle-exit, --once), 3 when a finding named by
--exit-on was printed, 2 when PATH cannot be read.

examples:
  lossdoctor watch runs/exp1/train.log
  lossdoctor watch train.log --exit-on nan-loss,stuck-87-3365 && echo healthy
  lossdoctor watch train.log --json --notify 'curl -s -d @- https://hooks.example/x'
  python train.py 2>&1 | tee train.log &  lossdoctor watch train.log --idle-exit 600"""


def configure(parser: argparse.ArgumentParser) -> None:
    """The options of ``lossdoctor watch``."""
    parser.add_argument("path", metavar="PATH", help="the log file (or TensorBoard run) to follow")
    parser.add_argument(
        "--metric", metavar="NAME", help="watch this series instead of the training loss"
    )
    parser.add_argument(
        "--exit-on",
        metavar="SYMPTOM[,..]",
        help="exit with code 3 after printing one of these symptoms ('any' for every one)",
    )
    parser.add_argument(
        "--notify",
        metavar="CMD",
        help="run CMD (through the shell) for each finding, with the finding as JSON on its stdin",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='one object per line: {"event": "finding", "symptom", "confidence", "summary", '
        '"start_step", "end_step", "fix", ...}, and an "end" event',
    )
    parser.add_argument(
        "--idle-exit",
        type=float,
        metavar="SECONDS",
        help="stop when the log has not grown for this long (the job has ended)",
    )
    parser.add_argument(
        "--once", action="store_true", help="read what the file holds now, report, and stop"
    )


def _symptoms(text: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    wanted = frozenset(s.strip() for s in text.split(",") if s.strip())
    if "any" in wanted:
        return frozenset({"any"})
    from kb.model import SYMPTOM_IDS

    unknown = sorted(wanted - set(SYMPTOM_IDS))
    if unknown or not wanted:
        raise ValueError(
            f"--exit-on: unknown symptom {', '.join(unknown) or '(none)'}; "
            f"known: {', '.join(SYMPTOM_IDS)}, or any"
        )
    return wanted


def finding_json(path: str, fmt: str, finding: Finding, kb: KnowledgeBase) -> dict[str, Any]:
    """The JSON object of one finding (also what ``--notify`` commands read)."""
    from assistant.triage.monitor import top_fix

    fix = top_fix(kb, finding.symptom)
    title = kb.get(finding.symptom).title if finding.symptom in kb else finding.symptom
    return {
        "event": "finding",
        "path": path,
        "format": fmt,
        "symptom": finding.symptom,
        "title": title,
        "confidence": round(finding.confidence, 3),
        "summary": finding.summary,
        "start_step": finding.start_step,
        "end_step": finding.end_step,
        "fix": {"id": fix[0], "title": fix[1]} if fix else None,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _finding_text(obj: dict[str, Any]) -> str:
    step = obj["start_step"]
    where = f" from step {step:,.0f}" if isinstance(step, float) and step == step else ""
    lines = [
        f"[{time.strftime('%H:%M:%S')}] {obj['symptom']}{where}: {obj['title']} "
        f"(confidence {obj['confidence']:.2f})",
        f"  {obj['summary']}",
    ]
    if obj["fix"]:
        lines.append(f"  top fix: {obj['fix']['title']} ({obj['fix']['id']})")
    lines.append(f"  more: lossdoctor show {obj['symptom']}")
    return "\n".join(plain(line) for line in lines)


class _Notifier:
    """Runs ``--notify`` commands in the background, one at a time, in order."""

    def __init__(self, command: str) -> None:
        self.command = command
        self._threads: list[threading.Thread] = []

    def send(self, payload: str) -> None:
        previous = self._threads[-1] if self._threads else None
        thread = threading.Thread(target=self._run, args=(payload, previous), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _run(self, payload: str, previous: threading.Thread | None) -> None:
        if previous is not None:
            previous.join()
        try:
            done = subprocess.run(
                self.command,
                shell=True,
                input=payload.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                timeout=NOTIFY_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            _warn(f"--notify command timed out after {NOTIFY_TIMEOUT:.0f} s")
            return
        except OSError as error:
            _warn(f"--notify command could not run ({error.strerror})")
            return
        if done.returncode != 0:
            _warn(f"--notify command failed (exit {done.returncode})")

    def wait(self) -> None:
        for thread in self._threads:
            thread.join(NOTIFY_TIMEOUT)


def _warn(message: str) -> None:
    print(f"lossdoctor: {plain(message)}", file=sys.stderr, flush=True)


def cmd_watch(args: argparse.Namespace) -> int:
    """Run ``lossdoctor watch``."""
    from assistant.watch import LogWatch
    from kb.index import load_kb

    kb = load_kb()
    try:
        exit_on = _symptoms(args.exit_on)
    except ValueError as error:
        from assistant.cli import UsageError

        raise UsageError(str(error)) from None
    if args.idle_exit is not None and args.idle_exit <= 0:
        from assistant.cli import UsageError

        raise UsageError("--idle-exit needs a positive number of seconds")
    if args.once and not os.path.exists(args.path):
        _warn(f"{args.path}: no such file or directory")
        return EXIT_BAD_INPUT
    notifier = _Notifier(args.notify) if args.notify else None
    watch = LogWatch(
        args.path,
        metric=args.metric.lower() if args.metric else None,
        idle_exit=args.idle_exit,
        follow=not args.once,
    )
    status = EXIT_OK
    if not args.once:
        _warn(f"watching {args.path} (Ctrl-C to stop)")
    try:
        for event in watch.events():
            if event.kind != "finding" or event.finding is None:
                _warn(event.message)
                continue
            obj = finding_json(args.path, watch.feed.format or "unknown", event.finding, kb)
            if args.json:
                print(json.dumps(obj, ensure_ascii=False), flush=True)
            else:
                print(_finding_text(obj), flush=True)
            if notifier is not None:
                notifier.send(json.dumps(obj, ensure_ascii=False))
            if exit_on is not None and ("any" in exit_on or event.finding.symptom in exit_on):
                status = EXIT_FOUND
                break
    except TriageInputError as error:
        _warn(str(error))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        pass
    finally:
        if notifier is not None:
            notifier.wait()
    _end(args, watch, kb)
    if args.once and not watch.monitor.readings:
        return EXIT_BAD_INPUT  # like triage: a log with no recognisable loss is bad input
    return status


def _end(args: argparse.Namespace, watch: Any, kb: KnowledgeBase) -> None:
    """The diagnosis so far, when the watch stops."""
    monitor = watch.monitor
    if not monitor.readings:
        _warn(f"{args.path}: no readings yet")
        if args.json:
            print(json.dumps({"event": "end", "path": args.path, "readings": 0, "primary": None}))
        return
    result = monitor.result()
    primary = result.primary
    title = kb.get(primary).title if primary and primary in kb else "nothing to say"
    if args.json:
        end = {
            "event": "end",
            "path": args.path,
            "format": watch.feed.format,
            "readings": monitor.readings,
            "primary": primary,
            "reported": [f.symptom for f in monitor.reported],
        }
        print(json.dumps(end, ensure_ascii=False), flush=True)
    else:
        _warn(
            f"stopped after {monitor.readings:,} readings of {args.path}: "
            f"{title} ({primary}); run 'lossdoctor triage {args.path}' for the full report"
        )
