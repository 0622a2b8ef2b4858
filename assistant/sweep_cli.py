"""``lossdoctor triage DIR --recursive``: find the runs, triage them in parallel (locally or on a
Dask cluster), print one row per run as a table, CSV or JSON lines.

:mod:`assistant.cli` hands over the parsed arguments; the work is :mod:`assistant.sweep` and
the rendering :mod:`assistant.sweep_render`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from assistant.safe import plain
from assistant.sweep import Run, RunRow

EXIT_OK, EXIT_BAD_INPUT = 0, 2

SWEEP_ONLY = ("csv", "sort", "jobs", "scheduler")
"""Options that only mean something for a sweep (``--recursive``)."""


def _usage(message: str) -> Exception:
    from assistant.cli import UsageError

    return UsageError(message)


def _fail(message: str) -> int:
    print(f"lossdoctor: {plain(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


def check_not_sweep_options(args: argparse.Namespace) -> None:
    """Without ``--recursive``, reject the options that belong to a sweep."""
    for name in SWEEP_ONLY:
        if getattr(args, name, None) not in (None, False):
            flag = "--" + name
            raise _usage(
                f"{flag} is for a sweep: add --recursive (-r), e.g. triage runs/ -r {flag}"
            )


def many_runs_problem(path: str) -> str | None:
    """Why a directory given without ``--recursive`` is not one run, or None when it is.

    A directory is one run when it holds one TensorBoard run (Keras' ``train`` / ``validation``
    split directories included), or a log whose name a framework gives it (``metrics.csv``,
    ``trainer_state.json``, ``train.log``) at its top, or log files in one directory only.
    """
    from assistant.sweep import discover

    try:
        runs = discover(path)
    except OSError:
        return None  # reading it will say what is wrong
    boards = [r for r in runs if r.kind == "tensorboard"]
    if len(boards) > 1:
        shown = ", ".join(r.name for r in boards[:2])
        return f"holds {len(boards)} TensorBoard runs ({shown}, ...): add --recursive (-r) to triage each"
    if boards:
        return None
    files = [r for r in runs if r.kind == "file"]
    top = os.path.abspath(path)
    if any(r.named and os.path.dirname(r.path) == top for r in files):
        return None
    places = {os.path.dirname(r.path) for r in files}
    at_top = [r for r in files if os.path.dirname(r.path) == top]
    if len(places) > 1 or len(at_top) > 1:
        return f"holds {len(files)} log files: add --recursive (-r) to triage each as a run"
    return None


def _runs(paths: list[str]) -> tuple[list[Run], list[RunRow]]:
    """The runs under each path (named relative to it; prefixed by it when there are several
    paths) and a row for each path that cannot be read at all."""
    from assistant.sweep import discover

    runs: list[Run] = []
    missing: list[RunRow] = []
    for path in paths:
        try:
            found = discover(path)
        except OSError as error:
            problem = "no such file or directory" if isinstance(error, FileNotFoundError) else (
                f"cannot read ({error.strerror or error})"
            )  # fmt: skip
            missing.append(RunRow(path, error=problem))
            continue
        base = path.rstrip("/") or "/"
        for found_run in found:
            if not os.path.isdir(path):
                name = path
            elif found_run.name == "./":  # the directory itself is a TensorBoard run
                name = base + "/"
            elif len(paths) > 1:
                name = f"{base}/{found_run.name}"
            else:
                name = found_run.name
            runs.append(replace(found_run, name=name))
    return runs, missing


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on standard error when it is a terminal (nothing otherwise). Redrawn by
    the callback, at most ten times a second, without a thread of its own (the workers are
    forked while it shows)."""
    if not sys.stderr.isatty() or total < 2:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "triaging",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        auto_refresh=False,
        transient=True,
    )
    task = bar.add_task("runs", total=total)
    last = [0.0]

    def show(done: int, all_runs: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or done == all_runs:
            last[0] = now
            bar.update(task, completed=done)
            bar.refresh()

    with bar:
        yield show


def run_sweep(args: argparse.Namespace) -> int:
    """``lossdoctor triage PATH... --recursive``; returns the exit code."""
    from assistant import sweep, sweep_render

    if "-" in args.paths:
        raise _usage("standard input (-) cannot be part of a sweep: name files or directories")
    if args.csv and args.json:
        raise _usage("--csv and --json: choose one")
    if args.jobs is not None and args.jobs < 1:
        raise _usage("--jobs must be at least 1")
    if args.jobs is not None and args.scheduler:
        raise _usage("--jobs is for this machine; with --scheduler the Dask cluster decides")
    runs, rows = _runs(args.paths)
    metric = args.metric
    with _progress_bar(len(runs)) as progress:
        if args.scheduler:
            try:
                rows.extend(sweep.sweep_dask(runs, args.scheduler, progress, metric))
            except sweep.DaskMissing:
                return _fail("--scheduler needs the dask extra: pip install 'lossdoctor[dask]'")
            except sweep.SchedulerError as error:
                return _fail(f"--scheduler {args.scheduler}: {error}")
        else:
            rows.extend(sweep.sweep(runs, args.jobs, progress, metric))
    skipped = sum(1 for r in rows if r.skipped)
    rows = sweep.sort_rows([r for r in rows if not r.skipped], args.sort or "path")
    unreadable = [r for r in rows if r.error]
    for row in unreadable:
        print(f"lossdoctor: {plain(row.path)}: {plain(row.error or '')}", file=sys.stderr)
    if args.json:
        for row in rows:
            print(json.dumps(sweep_render.row_json(row), ensure_ascii=False))
    elif args.csv:
        sys.stdout.write(sweep_render.rows_csv(rows))
    elif rows:
        columns = max(60, shutil.get_terminal_size((100, 24)).columns)
        print(sweep_render.rows_table(rows, columns))
        print()
        print(sweep_render.summary(rows, columns))
    sys.stdout.flush()
    if skipped:
        noun = "file" if skipped == 1 else "files"
        print(f"skipped {skipped} {noun} with no training log", file=sys.stderr)
    if not rows:
        where = ", ".join(args.paths)
        return _fail(f"{where}: no training runs found (logs, metrics files, TensorBoard runs)")
    return EXIT_BAD_INPUT if unreadable else EXIT_OK
