"""Sweeps: every training run under a directory, triaged in parallel, one row per run.

:func:`discover` walks a directory and lists its runs: each TensorBoard run directory once
(a directory holding ``events.out.tfevents.*``, with the ``train`` / ``validation`` subdirectories
Keras writes folded into their parent) and each file whose name says it may hold a log
(``*.log``, ``*.csv``, ``trainer_state.json``, ``slurm-1.out``, ``*.jsonl.gz``, ...). Hidden
directories, ``__pycache__`` and ``node_modules`` are not entered, symbolic links are followed
once (a loop is walked once), and of Hugging Face ``checkpoint-N`` directories only the newest
is read, and only when the run has no ``trainer_state.json`` of its own.

:func:`triage_run` reads and diagnoses one run and returns a :class:`RunRow`, never raising: an
unreadable run becomes a row with its ``error``, and a file that turns out to hold no training
log (a README, a data table, a binary file) a row with ``skipped`` set, which front ends count
but do not list. :func:`sweep` runs many in a process pool (chunks of runs per task, workers
forked once with the readers already imported); :func:`sweep_dask` sends the same tasks to a
Dask cluster. Pure logic: nothing here prints.
"""

from __future__ import annotations

import math
import os
import re
import signal
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Literal

Progress = Callable[[int, int], None]
"""``progress(runs_done, runs_total)``, called in the calling process as rows arrive."""

SortKey = Literal["path", "primary", "confidence", "loss"]
SORT_KEYS: tuple[str, ...] = ("path", "primary", "confidence", "loss")

LOG_EXTENSIONS: tuple[str, ...] = (
    ".log", ".txt", ".out", ".err", ".csv", ".tsv", ".json", ".jsonl", ".ndjson",
)  # fmt: skip
"""File extensions that may hold a training log (each also as ``.gz``)."""

LOG_NAMES = frozenset({"log", "stdout", "stderr", "output", "nohup.out"})
"""Base names without a log extension that are logs all the same."""

NAMED_LOG_RE = re.compile(
    r"(?:trainer_state\.json|metrics\.csv|results\.csv|metrics\.json|scalars\.json"
    r"|.+\.log\.json|training\.log|train\.log|log\.txt|progress\.csv|history\.csv|log\.csv)"
    r"(?:\.gz)?\Z",
    re.IGNORECASE,
)
"""Names that frameworks give their training logs: such a file is always a run, and one that
cannot be read is an error row, never skipped."""

NOT_LOG_NAMES = frozenset(
    {
        "config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json", "vocab.txt",
        "merges.txt", "special_tokens_map.json", "generation_config.json", "added_tokens.json",
        "adapter_config.json", "preprocessor_config.json", "model.safetensors.index.json",
        "pytorch_model.bin.index.json", "requirements.txt", "package.json",
        "package-lock.json", "license.txt", "cmakelists.txt", "robots.txt",
    }
)  # fmt: skip
"""Files next to runs that are never logs (model configs, tokenizers, requirements)."""

SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})
"""Directories never entered (hidden ones, starting with ``.``, are not entered either)."""

_CHECKPOINT_RE = re.compile(r"checkpoint[-_](\d+)\Z", re.IGNORECASE)
_SPLIT_DIRS = frozenset({"train", "training", "validation", "val", "valid", "eval", "test"})
"""Subdirectories that hold one split of a TensorBoard run (Keras, TF Estimator)."""

PRECHECK_BYTES = 4 * 1024 * 1024
"""A file of unknown name larger than this is sniffed before it is read whole."""

_NO_LOG_PROBLEMS = (
    "binary file",
    "empty file",
    "empty input",
    "input holds only whitespace",
    "no training metrics found",
    "no recognisable loss",
)
"""Reading problems that, in a file with no sign of training, mean it holds no log at all."""

_GENERIC_FORMATS = frozenset({"plain-print", "python-logging", "csv-table", "json-lines"})


@dataclass(frozen=True, slots=True)
class Run:
    """One run found under a sweep directory."""

    path: str
    """What to read: a log file or a TensorBoard run directory (absolute for a sweep)."""
    name: str
    """The run as shown: its path relative to the sweep directory (a directory ends in ``/``)."""
    kind: Literal["file", "tensorboard", "unreadable"] = "file"
    """A log file, a TensorBoard run directory, or a directory that could not be listed."""
    named: bool = True
    """True when the name says it is a log: it is then never skipped as holding none."""
    problem: str | None = None
    """Why an ``unreadable`` run could not be listed."""


@dataclass(frozen=True, slots=True)
class RunRow:
    """What a sweep says about one run: one line of the table, one CSV row, one JSON object."""

    path: str
    """The run as shown (see :attr:`Run.name`)."""
    format: str | None = None
    """The log format found, e.g. ``caffe-glog`` or ``tensorboard``."""
    last_step: float | None = None
    """The step of the training loss's last reading."""
    step_unit: str | None = None
    """What the steps count: ``iteration``, ``step``, ``epoch`` or ``update``."""
    train_loss: float | None = None
    """The training loss's last reading (nan and inf kept)."""
    val_loss: float | None = None
    """The validation loss's last reading, when the log has one."""
    primary: str | None = None
    """The primary symptom's id, None when nothing could be said."""
    confidence: float | None = None
    """The primary finding's confidence, 0 to 1."""
    points: int | None = None
    """How many readings of the training loss the log holds."""
    error: str | None = None
    """Why the run could not be analysed; None for an analysed run."""
    skipped: str | None = None
    """Set when the file turned out to hold no training log: not a run, not listed."""


# --------------------------------------------------------------------------- discovery


def is_log_name(name: str) -> bool:
    """Whether a file's name says it may hold a training log."""
    low = name.lower()
    if low in NOT_LOG_NAMES or "tfevents" in low:
        return False
    if low.endswith(".gz"):
        low = low[:-3]
    return low in LOG_NAMES or low.endswith(LOG_EXTENSIONS) or NAMED_LOG_RE.match(name) is not None


def _natural(text: str) -> tuple[Any, ...]:
    """A sort key that puts ``run2`` before ``run10``."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text))


def discover(root: str) -> list[Run]:
    """Every run under ``root``, sorted by path (a file given as ``root`` is one run).

    Raises ``OSError`` when ``root`` itself cannot be read.
    """
    st = os.stat(root)
    if not os.path.isdir(root):
        name = os.path.basename(root)
        kind: Literal["file", "tensorboard"] = "tensorboard" if "tfevents" in name else "file"
        return [Run(os.path.abspath(root), name, kind, named=True)]
    top = os.path.abspath(root)
    visited: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
    seen_files: set[tuple[int, int]] = set()
    found: list[Run] = []
    event_dirs: list[str] = []
    linked_files: list[str] = []
    stack: list[str] = [top]
    linked_dirs: list[str] = []  # walked after every real directory, so real paths win

    def rel(path: str) -> str:
        return os.path.relpath(path, top).replace(os.sep, "/")

    while stack or linked_dirs:
        if stack:
            here = stack.pop()
        else:
            here = linked_dirs.pop(0)
            try:
                lst = os.stat(here)
            except OSError:
                continue
            if (lst.st_dev, lst.st_ino) in visited:
                continue
            visited.add((lst.st_dev, lst.st_ino))
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda e: e.name)
            here_dev = os.stat(here).st_dev
        except OSError as error:
            if here == top:
                raise
            found.append(
                Run(here, rel(here) + "/", "unreadable", problem=_os_problem("cannot list", error))
            )
            continue
        subdirs: list[os.DirEntry[str]] = []
        has_events = False
        has_trainer_state = False
        for entry in entries:
            name = entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if name.startswith(".") or name in SKIP_DIRS:
                    continue
                if is_link:
                    linked_dirs.append(entry.path)
                else:
                    subdirs.append(entry)
                continue
            if "tfevents" in name:
                has_events = True
                continue
            if name.lower() == "trainer_state.json":
                has_trainer_state = True
            if name.startswith(".") or not is_log_name(name):
                continue
            if is_link:
                linked_files.append(entry.path)
                continue
            if not entry.is_file(follow_symlinks=False):
                continue  # a FIFO or a device: reading it could block forever
            seen_files.add((here_dev, entry.inode()))
            found.append(Run(entry.path, rel(entry.path), "file", _is_named(name)))
        if has_events:
            event_dirs.append(here)
        for entry in reversed(_without_old_checkpoints(subdirs, has_trainer_state)):
            try:
                dst = entry.stat()
            except OSError:
                continue
            if (dst.st_dev, dst.st_ino) in visited:
                continue
            visited.add((dst.st_dev, dst.st_ino))
            stack.append(entry.path)
    for path in linked_files:
        try:
            fst = os.stat(path)
        except OSError:  # a dangling link named like a log: its row says so
            found.append(Run(path, rel(path), "file", True))
            continue
        if stat.S_ISREG(fst.st_mode) and (fst.st_dev, fst.st_ino) not in seen_files:
            seen_files.add((fst.st_dev, fst.st_ino))
            found.append(Run(path, rel(path), "file", _is_named(os.path.basename(path))))
    for run_dir in _tensorboard_roots(event_dirs, top):
        found.append(Run(run_dir, rel(run_dir) + "/", "tensorboard"))  # the top itself: ./
    found.sort(key=lambda r: _natural(r.name))
    return found


def _is_named(name: str) -> bool:
    return NAMED_LOG_RE.match(name) is not None


def _without_old_checkpoints(
    subdirs: list[os.DirEntry[str]], has_trainer_state: bool
) -> list[os.DirEntry[str]]:
    """The subdirectories to walk: of ``checkpoint-N`` ones (snapshots of one run) only the
    newest, and none when the run keeps its own ``trainer_state.json``."""
    numbered = [(int(m.group(1)), e) for e in subdirs if (m := _CHECKPOINT_RE.match(e.name))]
    if not numbered:
        return subdirs
    keep = set() if has_trainer_state else {id(max(numbered, key=lambda t: t[0])[1])}
    return [e for e in subdirs if not _CHECKPOINT_RE.match(e.name) or id(e) in keep]


def _tensorboard_roots(event_dirs: Iterable[str], top: str) -> list[str]:
    """The run directories of the directories holding event files: a split subdirectory
    (``train``, ``validation``) belongs to its parent, and a directory inside a run belongs
    to that run."""
    roots = set()
    for d in event_dirs:
        if d != top and os.path.basename(d).lower() in _SPLIT_DIRS:
            d = os.path.dirname(d)
        roots.add(d)
    kept = []
    for d in sorted(roots):
        parent = d
        inside = False
        while parent != top and parent != os.path.dirname(parent):
            parent = os.path.dirname(parent)
            if parent in roots:
                inside = True
                break
        if not inside:
            kept.append(d)
    return kept


def _os_problem(what: str, error: OSError) -> str:
    return f"{what} ({error.strerror or error})"


# --------------------------------------------------------------------------- one run


def triage_run(run: Run, metric: str | None = None) -> RunRow:
    """Read and diagnose one run; never raises (an unreadable run is a row with its error)."""
    try:
        return _triage(run, metric)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - one bad run must not stop a sweep
        text = f"internal error: {type(error).__name__}: {error}".splitlines()[0][:200]
        return RunRow(run.name, error=text)


def _triage(run: Run, metric: str | None) -> RunRow:
    from assistant.triage.detect import diagnose
    from assistant.triage.model import TriageInputError
    from assistant.triage.read import read_log

    if run.kind == "unreadable":
        return RunRow(run.name, error=run.problem or "cannot be read")
    if run.kind == "file" and not run.named:
        try:
            large = os.path.getsize(run.path) > PRECHECK_BYTES
        except OSError:
            large = False
        if large and not _has_training_signs(run.path):
            return RunRow(run.name, skipped="no training log")
    try:
        log = read_log(run.path)
        if metric and metric.lower() not in {s.name for s in log.series}:
            names = ", ".join(sorted({s.name for s in log.series})[:12])
            raise TriageInputError(run.path, f"no series named {metric!r} (found: {names})")
    except TriageInputError as error:
        if (
            run.kind == "file"
            and not run.named
            and error.problem.startswith(_NO_LOG_PROBLEMS)
            and not _has_training_signs(run.path)
        ):
            return RunRow(run.name, skipped=error.problem)
        return RunRow(run.name, error=error.problem)
    result = diagnose(log, metric.lower() if metric else None)
    loss, val = result.loss, result.val_loss
    primary = next((f for f in result.findings if f.symptom == result.primary), None)
    return RunRow(
        path=run.name,
        format=log.format,
        last_step=loss.last_step if loss is not None else None,
        step_unit=loss.step_unit if loss is not None else None,
        train_loss=float(loss.values[-1]) if loss is not None and loss.points else None,
        val_loss=float(val.values[-1]) if val is not None and val.points else None,
        primary=result.primary,
        confidence=round(float(primary.confidence), 3) if primary is not None else None,
        points=loss.total if loss is not None else None,
    )


_LOSS_READING = re.compile(
    r"(?i)(?:loss|cross[-_ ]?entropy|nll|perplexity|ppl|objective)[\w/.\-\]\[]*['\"]?"
    r"\s*(?:[:=|]\s*)?(?:tensor\()?[-+]?(?:\d|\.\d|nan\b|inf\b)"
)
_STEP_READING = re.compile(r"(?i)\b(?:epoch|iter|iteration|step|batch)\b\s*[:=#\[]?\s*\d")
_TABLE_HEADER = re.compile(r"(?i)(?:loss|\bepoch\b|\bstep\b|\biter)")


def _has_training_signs(path: str) -> bool:
    """A cheap look at the head of a file: does it show training at all? Yes when a
    format-specific reader recognises it, when a loss is written with a number (``loss: 0.69``,
    ``"loss": 0.6``), when two lines give an epoch or step with a metric, or when a table's
    header names a loss, epoch or step column with numbers under it."""
    from assistant.triage.inputs import head_text, open_input
    from assistant.triage.model import TriageInputError
    from assistant.triage.readers import sniff_all
    from assistant.triage.readers.base import kv_pairs

    try:
        opened = open_input(path)
    except (TriageInputError, OSError):
        return False
    try:
        head = head_text(opened)
    finally:
        if opened.stream is not None:
            opened.stream.close()
    filename = opened.filename
    if any(s >= 0.5 and n not in _GENERIC_FORMATS for s, n in sniff_all(head, filename)):
        return True
    lines = head.split("\n", 5000)[:5000]
    step_lines = 0
    for line in lines:
        if _LOSS_READING.search(line):
            return True
        if _STEP_READING.search(line) and kv_pairs(line):
            step_lines += 1
            if step_lines >= 2:
                return True
    header = next((ln for ln in lines if ln.strip()), "")
    return bool(_TABLE_HEADER.search(header)) and any(
        re.match(r"\s*[-+]?\.?\d", ln) for ln in lines[1:50]
    )


def triage_chunk(runs: Sequence[Run], metric: str | None = None) -> list[RunRow]:
    """:func:`triage_run` over a chunk of runs: the unit of work sent to a worker."""
    return [triage_run(run, metric) for run in runs]


# --------------------------------------------------------------------------- local pool


def default_jobs() -> int:
    """The CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def chunk_size(runs: int, workers: int, most: int = 32) -> int:
    """Runs per task: about eight tasks per worker for balance, at most ``most`` runs each so
    the progress moves and a slow run holds back few others."""
    return max(1, min(most, math.ceil(runs / (workers * 8))))


def warm_up(tensorboard: bool = False) -> None:
    """Import what reading and diagnosing a run needs, once: called before the workers are
    forked (they inherit it) and in each worker of another start method."""
    import pandas  # noqa: F401 - the detectors' rolling medians

    import assistant.triage.detect  # noqa: F401
    import assistant.triage.read  # noqa: F401

    if tensorboard:
        import tbparse  # noqa: F401


def _worker_init(tensorboard: bool) -> None:
    """A pool worker: Ctrl-C is the parent's to handle (it stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up(tensorboard)


def _mp_context() -> Any:
    import multiprocessing as mp

    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()


def sweep(
    runs: Sequence[Run],
    jobs: int | None = None,
    progress: Progress | None = None,
    metric: str | None = None,
) -> Iterator[RunRow]:
    """Triage every run with ``jobs`` worker processes (default: one per core; 1 runs them
    in this process); yields the rows as they complete, in no particular order.

    A worker that dies (killed, out of memory) costs no rows: the runs it had not returned are
    triaged again each in a process of its own, and the one that kills that process too gets
    an error row. Stopping the iteration (or Ctrl-C) stops the workers.
    """
    total = len(runs)
    jobs = default_jobs() if jobs is None else jobs
    done = 0
    if jobs <= 1 or total <= 1:
        for run in runs:
            row = triage_run(run, metric)
            done += 1
            if progress is not None:
                progress(done, total)
            yield row
        return
    tensorboard = any(r.kind == "tensorboard" for r in runs)
    warm_up(tensorboard)
    size = chunk_size(total, jobs)
    chunks = [list(runs[i : i + size]) for i in range(0, total, size)]
    executor = ProcessPoolExecutor(
        max_workers=min(jobs, len(chunks)),
        mp_context=_mp_context(),
        initializer=_worker_init,
        initargs=(tensorboard,),
    )
    leftover: list[Run] = []
    finished = False
    try:
        pending: dict[Future[list[RunRow]], list[Run]] = {
            executor.submit(triage_chunk, chunk, metric): chunk for chunk in chunks
        }
        while pending:
            ready, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in ready:
                chunk = pending.pop(future)
                try:
                    rows = future.result()
                except BrokenProcessPool:
                    leftover.extend(chunk)
                    continue
                except Exception as error:  # noqa: BLE001 - e.g. a row that cannot be sent
                    rows = [RunRow(r.name, error=f"internal error: {error}"[:200]) for r in chunk]
                for row in rows:
                    done += 1
                    if progress is not None:
                        progress(done, total)
                    yield row
        finished = True
    finally:
        _stop(executor, kill=not finished)
    for row in _one_process_each(sorted(leftover, key=lambda r: _natural(r.name)), jobs, metric):
        done += 1
        if progress is not None:
            progress(done, total)
        yield row


def _stop(executor: ProcessPoolExecutor, *, kill: bool) -> None:
    """Shut the pool down; ``kill`` also ends the workers at once (interrupted, or broken)."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=not kill, cancel_futures=True)
    if kill:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(5)


def _isolated_worker(conn: Any, run: Run, metric: str | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(triage_run(run, metric))
    conn.close()


def _one_process_each(runs: list[Run], jobs: int, metric: str | None) -> Iterator[RunRow]:
    """Triage each run in a fresh process, ``jobs`` at a time: a run whose process dies gets
    an error row and takes nothing else with it."""
    if not runs:
        return
    from multiprocessing.connection import wait as wait_for

    ctx = _mp_context()
    queue = list(reversed(runs))
    running: dict[Any, tuple[Any, Any, Run]] = {}
    try:
        while queue or running:
            while queue and len(running) < max(1, jobs):
                run = queue.pop()
                receive, send = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_isolated_worker, args=(send, run, metric))
                process.start()
                send.close()
                running[receive] = (process, receive, run)
            for conn in wait_for(list(running)):
                process, receive, run = running.pop(conn)
                try:
                    row = receive.recv()
                except (EOFError, OSError):
                    row = None
                receive.close()
                process.join()
                if row is None:
                    code = process.exitcode
                    how = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
                    row = RunRow(run.name, error=f"the worker process died reading it ({how})")
                yield row
    finally:
        for process, receive, _run in running.values():
            if process.is_alive():
                process.terminate()
            process.join(5)
            receive.close()


# --------------------------------------------------------------------------- Dask


class DaskMissing(Exception):
    """``--scheduler`` was given but the dask extra is not installed."""


class SchedulerError(Exception):
    """The Dask scheduler could not be reached or used; ``str()`` says why in one line."""


def sweep_dask(
    runs: Sequence[Run],
    address: str,
    progress: Progress | None = None,
    metric: str | None = None,
) -> Iterator[RunRow]:
    """Triage every run on the Dask cluster at ``address`` (``tcp://host:8786``): chunks of
    runs are mapped onto the workers and the rows yielded as the chunks complete. The workers
    need lossdoctor installed and the runs' paths visible (shared storage). A chunk whose task
    fails (its worker died) gets an error row per run."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError as error:
        raise DaskMissing(str(error)) from None
    try:
        client = Client(address, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise SchedulerError(f"cannot reach the Dask scheduler at {address} ({error})") from None
    futures: list[Any] = []
    try:
        workers = max(1, sum(client.nthreads().values()))
        size = chunk_size(len(runs), workers, most=128)  # a task costs the scheduler ~1 ms
        chunks = [list(runs[i : i + size]) for i in range(0, len(runs), size)]
        futures = client.map(triage_chunk, chunks, metric=metric, pure=False)
        by_key = {f.key: chunk for f, chunk in zip(futures, chunks, strict=True)}
        done = 0
        for future in as_completed(futures, loop=client.loop):
            try:
                rows = future.result()
            except Exception as error:  # noqa: BLE001 - a lost worker, a task error
                text = f"the Dask task failed ({type(error).__name__}: {error})".splitlines()[0]
                rows = [RunRow(r.name, error=text[:200]) for r in by_key[future.key]]
            for row in rows:
                done += 1
                if progress is not None:
                    progress(done, len(runs))
                yield row
    finally:
        if futures:
            client.cancel(futures)
        client.close()


# --------------------------------------------------------------------------- order


def sort_rows(rows: Iterable[RunRow], key: str = "path") -> list[RunRow]:
    """Rows in the order asked for: ``path`` (natural order), ``primary`` (symptom id, then
    path), ``confidence`` (highest first) or ``loss`` (final training loss, lowest first).
    Unreadable runs, and runs without the value sorted on, come last (by path)."""
    rows = sorted(rows, key=lambda r: _natural(r.path))
    if key == "path":
        return rows
    if key == "primary":
        return sorted(rows, key=lambda r: (r.error is not None, r.primary is None, r.primary or ""))
    if key == "confidence":
        return sorted(
            rows, key=lambda r: (r.confidence is None, -(r.confidence or 0.0), r.error is not None)
        )
    if key == "loss":

        def loss_key(r: RunRow) -> tuple[int, float]:
            v = r.train_loss
            if v is None:
                return (2, 0.0)
            return (1, 0.0) if math.isnan(v) else (0, v)

        return sorted(rows, key=loss_key)
    raise ValueError(f"unknown sort key {key!r}")
