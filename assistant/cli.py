"""The ``lossdoctor`` command: argv in, pure calls, rendered text or JSON out.

Each subcommand parses its arguments, calls the library (``kb`` for knowledge and search,
``assistant.triage`` for logs) and hands the result to :mod:`assistant.render`. Heavy imports
(the TUI, scikit-learn, pandas) happen only inside the subcommand that needs them, so
``lossdoctor search`` and ``--help`` start fast.

Exit codes: 0 success, 1 ``kb check`` found problems, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from assistant.safe import plain

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT = 0, 1, 2
MAX_QUERY_BYTES = 10_000


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (and exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _fail(message: str) -> int:
    print(f"lossdoctor: {plain(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


# --------------------------------------------------------------------------- search / show


def _check_query(query: str) -> str:
    if "\x00" in query or any(0xDC80 <= ord(c) <= 0xDCFF for c in query):
        raise UsageError("the query holds binary data, not text")
    size = len(query.encode("utf-8", "surrogateescape"))
    if size > MAX_QUERY_BYTES:
        raise UsageError(
            f"the query is {size:,} bytes; the limit is {MAX_QUERY_BYTES:,} "
            "(to analyse a log, use 'lossdoctor triage FILE')"
        )
    if not query.strip():
        raise UsageError(
            'the query is empty: describe the problem, e.g. lossdoctor search "loss stuck at 87.33"'
        )
    return query


def cmd_search(args: argparse.Namespace) -> int:
    from kb.search import QueryError, search

    if args.query == ["-"]:
        raw = sys.stdin.buffer.read(MAX_QUERY_BYTES + 1)
        if len(raw) > MAX_QUERY_BYTES:
            raise UsageError(
                f"the query on standard input is over {MAX_QUERY_BYTES:,} bytes (to analyse a log, use 'lossdoctor triage -')"
            )
        text = raw.decode("utf-8", "surrogateescape")
    else:
        text = " ".join(args.query)
    query = _check_query(text)
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    try:
        hits = search(query, args.k)
    except QueryError as error:
        raise UsageError(str(error)) from None
    from assistant import render

    if args.json:
        print(json.dumps(render.search_json(query, hits), ensure_ascii=False))
    else:
        print(render.search_text(query, hits))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from kb.index import load_kb

    kb = load_kb()
    if args.id not in kb:
        from rapidfuzz import process

        close = [
            match
            for match, score, _ in process.extract(args.id, list(kb.entries), limit=3)
            if score > 60
        ]
        hint = (
            f"; did you mean {', '.join(close)}?"
            if close
            else "; 'lossdoctor search TEXT' finds entries"
        )
        raise UsageError(f"no entry with id {args.id!r}{hint}")
    from assistant import render

    if args.json:
        print(json.dumps(render.entry_json(kb, args.id), ensure_ascii=False, indent=2))
    else:
        render.print_entry(kb, args.id, chinese=args.zh)
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from kb.numbers import explain, parse_quoted

    text = args.value.strip()
    try:
        parse_quoted(text)
    except ValueError:
        raise UsageError(
            f"{args.value!r} is not a number: give the loss value, e.g. lossdoctor explain 87.33"
        ) from None
    explanations = explain(text)
    from kb.search import search

    hits = search(f"loss stuck at {text}", 3)
    from assistant import render

    if args.json:
        print(json.dumps(render.explain_json(text, explanations, hits), ensure_ascii=False))
    else:
        print(render.explain_text(text, explanations, hits))
    return EXIT_OK


# --------------------------------------------------------------------------- triage

_PROGRESS_MIN_BYTES = 50 * 1024 * 1024


def _progress_printer(path: str) -> Callable[[int, int], None] | None:
    """A progress callback writing to stderr, for a terminal only."""
    if not sys.stderr.isatty():
        return None
    shown = plain(path)
    last = [-1]  # the percentage last printed

    def show(done: int, total: int) -> None:
        percent = min(100, int(100 * done / total)) if total else 100
        if total < _PROGRESS_MIN_BYTES or percent == last[0]:
            return
        last[0] = percent
        end = "\n" if percent == 100 else ""
        sys.stderr.write(
            f"\rreading {shown}: {percent:3d}% ({done / 1e6:,.0f} of {total / 1e6:,.0f} MB){end}"
        )
        sys.stderr.flush()

    return show


def cmd_triage(args: argparse.Namespace) -> int:
    import os

    from assistant import sweep_cli
    from assistant.triage.detect import diagnose
    from assistant.triage.model import TriageInputError
    from assistant.triage.read import read_log

    if args.recursive:
        return sweep_cli.run_sweep(args)
    sweep_cli.check_not_sweep_options(args)
    if args.paths.count("-") > 1:
        raise UsageError("standard input (-) can be named only once")
    kb = None
    status = EXIT_OK
    for path in args.paths:
        try:
            if path != "-" and os.path.isdir(path):
                many = sweep_cli.many_runs_problem(path)
                if many:
                    raise TriageInputError(path, many)
            log = read_log(path, progress=_progress_printer(path))
            if args.metric and args.metric.lower() not in {s.name for s in log.series}:
                names = ", ".join(sorted({s.name for s in log.series})[:12])
                raise TriageInputError(path, f"no series named {args.metric!r} (found: {names})")
            result = diagnose(log, args.metric.lower() if args.metric else None)
        except TriageInputError as error:
            status = EXIT_BAD_INPUT
            print(f"lossdoctor: {plain(str(error))}", file=sys.stderr)
            if args.json:
                from assistant import render

                print(json.dumps(render.triage_error_json(path, error.problem), ensure_ascii=False))
            continue
        from assistant import render

        if args.json:
            print(json.dumps(render.triage_json(result), ensure_ascii=False), flush=True)
        else:
            if kb is None:
                from kb.index import load_kb

                kb = load_kb()
            print(render.triage_text(result, kb, plot=not args.no_plot), flush=True)
            print()
    return status


# --------------------------------------------------------------------------- report

_REPORT_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


def _report_format(output: str, chosen: str | None) -> str:
    """The report's format: ``--format``, else the output file's extension."""
    from pathlib import Path

    if chosen:
        return str(chosen)
    if output == "-":
        raise UsageError("-o -: say which format to print with --format html or --format md")
    found = _REPORT_FORMATS.get(Path(output).suffix.lower())
    if found is None:
        raise UsageError(
            f"{output}: cannot tell the format from the name; end it in .html or .md, "
            "or give --format html|md"
        )
    return found


def _write_new_file(path: str, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, so a reader
    never sees half a file; an existing file is replaced only when ``replace`` is true."""
    import os
    import tempfile
    from pathlib import Path

    target = Path(path)
    handle, temporary = tempfile.mkstemp(
        prefix=".lossdoctor-", suffix=".tmp", dir=target.parent or Path(".")
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # mkstemp makes 0600; a report is an ordinary file
        if replace:
            os.replace(temporary, target)
            return
        try:
            os.link(temporary, target)  # atomic, and refuses to replace an existing file
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if target.exists():
                raise FileExistsError(path) from None
            os.replace(temporary, target)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    to_stdout = args.output == "-"
    if not to_stdout:
        target = Path(args.output)
        if target.is_dir():
            raise UsageError(
                f"{args.output}: is a directory; name the report file, e.g. report.html"
            )
        if not target.parent.is_dir():
            raise UsageError(f"{args.output}: cannot write (no directory {str(target.parent)!r})")
        if target.exists() and not target.is_file():
            raise UsageError(f"{args.output}: is not a regular file; name another file")
        if target.exists():
            if args.path != "-" and Path(args.path).exists() and target.samefile(args.path):
                raise UsageError(f"{args.output}: is the input log; name another file")
            if not args.force:
                raise UsageError(f"{args.output}: already exists; use --force to replace it")
    output_format = _report_format(args.output, args.format)

    from assistant.triage.detect import diagnose
    from assistant.triage.model import TriageInputError
    from assistant.triage.read import read_log

    try:
        log = read_log(args.path, progress=_progress_printer(args.path))
        if args.metric and args.metric.lower() not in {s.name for s in log.series}:
            names = ", ".join(sorted({s.name for s in log.series})[:12])
            raise TriageInputError(args.path, f"no series named {args.metric!r} (found: {names})")
        result = diagnose(log, args.metric.lower() if args.metric else None)
    except TriageInputError as error:
        return _fail(str(error))

    from assistant.report import build_report, to_html, to_markdown
    from kb.index import load_kb

    report = build_report(result, load_kb())
    text = to_html(report) if output_format == "html" else to_markdown(report)
    diagnosis = report.diagnosis
    said = f"{diagnosis.title} ({diagnosis.symptom})" if diagnosis else "no diagnosis"
    if to_stdout:
        sys.stdout.write(text)
        sys.stdout.flush()
        print(f"wrote {output_format} to standard output: {said}", file=sys.stderr)
        return EXIT_OK
    data = text.encode("utf-8")
    try:
        _write_new_file(args.output, data, replace=args.force)
    except FileExistsError:
        return _fail(f"{args.output}: already exists; use --force to replace it")
    except OSError as error:
        return _fail(f"{args.output}: cannot write ({error.strerror or error})")
    print(f"wrote {plain(args.output)} ({max(1, round(len(data) / 1024))} KB): {said}")
    return EXIT_OK


# --------------------------------------------------------------------------- interview


def _log_start(path: str) -> tuple[str | None, str]:
    """The primary symptom of a log and the summary of its finding, for the interview."""
    from assistant.triage.detect import diagnose
    from assistant.triage.model import TriageInputError
    from assistant.triage.read import read_log

    try:
        result = diagnose(read_log(path))
    except TriageInputError as error:
        raise UsageError(str(error)) from None
    finding = next((f for f in result.findings if f.symptom == result.primary), None)
    note = f"From {path}: {finding.summary}" if finding else f"From {path}"
    return result.primary, note


def cmd_chat(args: argparse.Namespace) -> int:
    if args.log == "-":
        raise UsageError(
            "--log -: standard input carries the answers; give the log as a file (or use 'lossdoctor triage -')"
        )
    from assistant.chat import run_chat
    from assistant.interview import default_interview

    interview = default_interview()
    symptom, note = _log_start(args.log) if args.log else (None, "")
    run_chat(interview, interview.start(symptom, note), sys.stdin, sys.stdout)
    return EXIT_OK


def cmd_interview(args: argparse.Namespace) -> int:
    if args.log is not None:
        from pathlib import Path

        if args.log == "-":
            raise UsageError(
                "--log -: in the terminal UI standard input is the keyboard; give the log as a file"
            )
        if not Path(args.log).exists():
            raise UsageError(f"{args.log}: no such file or directory")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the interview needs a terminal; 'lossdoctor chat' runs it in plain lines")
    try:
        from assistant.tui.app import run
    except ImportError as error:
        raise UsageError(
            f"the terminal UI is not available ({error}); 'lossdoctor chat' runs the same interview in plain lines"
        ) from None
    return int(run(log=args.log, resume=args.resume))


# --------------------------------------------------------------------------- kb


def cmd_kb_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kb.validate import validate

    root = Path(args.content) if args.content else None
    kb, problems = validate(root)
    for problem in problems:
        print(plain(str(problem)))
    counts = {kind: len(kb.of_kind(kind)) for kind in ("symptom", "cause", "check", "fix")}
    summary = ", ".join(
        f"{n} {kind}s" if kind != "fix" else f"{n} fixes" for kind, n in counts.items()
    )
    status = "ok" if not problems else f"{len(problems)} problem(s)"
    print(f"{len(kb)} entries ({summary}): {status}", file=sys.stderr if problems else sys.stdout)
    return EXIT_PROBLEMS if problems else EXIT_OK


def cmd_kb_build(args: argparse.Namespace) -> int:
    from kb.index import load_index
    from kb.paths import cache_dir

    index = load_index(rebuild=True, announce=False)
    grams = len(index.names) + len(index.bodies)
    phrases = sum(len(p) for p in index.phrases_by_doc)
    print(
        f"built the search index: {len(index.ids)} entries, {phrases} phrases, {grams:,} n-grams ({cache_dir()})"
    )
    return EXIT_OK


# --------------------------------------------------------------------------- parser

_EPILOG = """\
examples:
  lossdoctor                                     the guided interview (terminal UI)
  lossdoctor search "loss stuck at 87.33"        what does this symptom mean?
  lossdoctor search "验证集loss上升" --json        Chinese works too; JSON for scripts
  lossdoctor triage train.log                    what is wrong with this run?
  lossdoctor triage runs/ --recursive            one row per run of a sweep
  lossdoctor watch train.log                     report symptoms while the job runs
  lossdoctor report train.log -o report.html     a file to attach to an issue
  lossdoctor explain 2.3026                      what a constant loss value means
  lossdoctor show stuck-87-3365                  one entry with its causes, checks and fixes
  lossdoctor kb check                            validate the knowledge base
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (tests use it to check every --help)."""
    parser = _Parser(
        prog="lossdoctor",
        description="Diagnose a neural-network training run whose loss will not go down.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from assistant import __version__

    parser.add_argument("--version", action="version", version=f"lossdoctor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(
        name: str, func: Callable[[argparse.Namespace], int], help_text: str, description: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(func=func)
        return sub

    search = add(
        "search", cmd_search, "rank knowledge-base entries for a description of the problem",
        "Rank knowledge-base entries for a free-text description, in English or Chinese.\n\n"
        "Numbers are understood (87.33 is the float32 clamp, 4.6 is ln 100, an accuracy of 10%\n"
        "is chance for 10 classes), and so is the shape of a sentence ('val loss going up while\n"
        "train loss goes down'). Typos are tolerated.\n\n"
        "examples:\n  lossdoctor search loss stuck at 87.33\n  lossdoctor search \"訓練loss不下降\" -k 3\n"
        "  lossdoctor search \"my loss is nan after 3 epochs\" --json",
    )  # fmt: skip
    search.add_argument(
        "query",
        nargs="+",
        help="the problem in your own words (quotes optional); - reads it from standard input",
    )
    search.add_argument(
        "-k", type=int, default=5, metavar="N", help="how many entries to list (default 5)"
    )
    search.add_argument(
        "--json",
        action="store_true",
        help='print {"query", "hits": [{"id", "kind", "title", "score"}]}',
    )

    show = add(
        "show", cmd_show, "print one entry with its linked causes, checks and fixes",
        "Print one knowledge-base entry: its text, sources and what it links to (a symptom's\n"
        "causes, a cause's checks and fixes).\n\nexample:\n  lossdoctor show stuck-87-3365",
    )  # fmt: skip
    show.add_argument("id", help="the entry id, as search prints it")
    show.add_argument("--zh", action="store_true", help="show the Chinese text too")
    show.add_argument("--json", action="store_true", help="print the entry as JSON")

    explain = add(
        "explain", cmd_explain, "say what a loss constant at VALUE means",
        "Say what a loss that stays at VALUE means: the -ln(FLT_MIN) family (87.3365), ln C\n"
        "with the class count C inferred (2.3026 = ln 10), a simple fraction of a clamp\n"
        "(43.67 = 1/2 x 87.3365), or no known meaning; then the closest entries.\n\n"
        "examples:\n  lossdoctor explain 87.33\n  lossdoctor explain 0.693\n  lossdoctor explain 11.09",
    )  # fmt: skip
    explain.add_argument("value", help="the loss value as you see it, e.g. 87.33")
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")

    triage = add(
        "triage", cmd_triage, "read training logs and name what is wrong",
        "Read one or more training logs in the format their framework wrote, name the symptom\n"
        "with its evidence (steps and values), and list the knowledge base's causes, checks and\n"
        "fixes for it, with a plot of the loss.\n\n"
        "PATH is a file (plain or gzip-compressed), a directory (a TensorBoard run, or a run\n"
        "directory holding one known log file), or - for standard input. Formats are detected:\n"
        "Caffe, Keras (stdout and CSVLogger), PyTorch Lightning metrics.csv, Hugging Face\n"
        "trainer_state.json and printed dicts, TensorBoard events, YOLOv5/v8 results.csv,\n"
        "MMDetection, Detectron2 metrics.json, fairseq, darknet, TF Object Detection, tqdm and\n"
        "Lightning progress bars, MXNet, ESPnet, nnU-Net, and generic print / CSV / JSON lines.\n\n"
        "With --recursive (-r), PATH is a directory of many runs (a sweep): every log file and\n"
        "TensorBoard run directory under it is triaged, in parallel across the CPU cores, and\n"
        "printed as one row: path (relative to PATH), format, last step, final train and\n"
        "validation loss, primary symptom and its confidence, then a summary line. Files that\n"
        "hold no training log (READMEs, data tables, binaries) are skipped and counted on\n"
        "stderr; hidden directories, __pycache__ and node_modules are not entered; of Hugging\n"
        "Face checkpoint-N directories only the newest is read. --scheduler runs the same sweep\n"
        "on a Dask cluster (pip install 'lossdoctor[dask]'; the workers need lossdoctor and the\n"
        "same paths).\n\n"
        "Exit code 0 when every input was analysed, 2 when one could not be read (the others\n"
        "are still analysed and printed, an unreadable run in its row).\n\n"
        "examples:\n  lossdoctor triage train.log\n  lossdoctor triage runs/exp1/ lightning_logs/version_0/metrics.csv\n"
        "  zcat train.log.gz | lossdoctor triage - --json\n"
        "  lossdoctor triage sweeps/lr-search/ -r                   one row per run, a summary\n"
        "  lossdoctor triage sweeps/ -r --sort confidence --jobs 4\n"
        "  lossdoctor triage sweeps/ -r --csv > runs.csv\n"
        "  lossdoctor triage sweeps/ -r --json | jq -r 'select(.primary == \"overfitting\") | .path'\n"
        "  lossdoctor triage /shared/runs/ -r --scheduler tcp://scheduler-host:8786",
    )  # fmt: skip
    triage.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="log files, run directories, or - for standard input (with -r: directories of runs)",
    )
    triage.add_argument(
        "--json",
        action="store_true",
        help='one object per input per line: {"path", "format", "series", "findings", "primary"};'
        ' with -r one per run: {"path", "format", "last_step", "step_unit", "train_loss",'
        ' "val_loss", "primary", "confidence", "points", "error"} (nan / inf losses as strings)',
    )
    triage.add_argument(
        "-r", "--recursive", action="store_true",
        help="a sweep: triage every run under each directory, one row per run",
    )  # fmt: skip
    triage.add_argument(
        "--csv", action="store_true", help="with -r: the rows as CSV (the --json keys as columns)"
    )
    triage.add_argument(
        "--sort", choices=("path", "primary", "confidence", "loss"),
        help="with -r: order of the rows (default path; confidence highest first, loss lowest)",
    )  # fmt: skip
    triage.add_argument(
        "--jobs", type=int, metavar="N",
        help="with -r: worker processes (default: one per CPU core; 1 runs in this process)",
    )  # fmt: skip
    triage.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="with -r: run the sweep on the Dask cluster at ADDRESS (tcp://host:8786)",
    )  # fmt: skip
    triage.add_argument(
        "--metric",
        metavar="NAME",
        help="diagnose this series instead of the training loss chosen by name",
    )
    triage.add_argument("--no-plot", action="store_true", help="leave out the loss plot")

    report = add(
        "report", cmd_report, "write the triage of a log as one HTML or Markdown file",
        "Analyse one training log as 'triage' does and write everything into one file to attach\n"
        "to an issue: the loss curves as an image with each finding's step range marked, the\n"
        "diagnosis (the symptom's title and id) with its evidence, all findings ranked, the\n"
        "knowledge base's causes (most likely first) with their checks and fixes in full, and\n"
        "the sources. The HTML file is self-contained (inline style, the image embedded, no\n"
        "script) and loads nothing from the network; it reads in light and dark mode and prints.\n"
        "The Markdown file holds the same, the image as a data URI and the curves as text.\n\n"
        "PATH is what 'triage' takes: a file (plain or gzip), a run directory, or - for standard\n"
        "input. An existing FILE is kept unless --force is given; the file appears whole or not\n"
        "at all. Exit code 0 when the report was written, 2 for input that cannot be read or a\n"
        "file that cannot be written.\n\n"
        "examples:\n  lossdoctor report train.log -o report.html\n"
        "  lossdoctor report runs/exp1/ -o exp1.md\n"
        "  lossdoctor report train.log --metric loss_cls -o cls.html --force\n"
        "  zcat train.log.gz | lossdoctor report - -o - --format md > report.md",
    )  # fmt: skip
    report.add_argument(
        "path", metavar="PATH", help="the log file, run directory, or - for standard input"
    )
    report.add_argument(
        "-o", "--output", required=True, metavar="FILE",
        help="the file to write: .html / .htm or .md / .markdown (- prints it, with --format)",
    )  # fmt: skip
    report.add_argument(
        "--format", choices=("html", "md"), help="html or md, whatever the file name says"
    )
    report.add_argument(
        "--metric", metavar="NAME", help="diagnose this series instead of the training loss"
    )
    report.add_argument("--force", action="store_true", help="replace FILE if it exists")

    chat = add(
        "chat", cmd_chat, "the interview in plain lines (works through a pipe)",
        "Run the interview with questions on standard output and answers read from standard\n"
        "input, one per line: a number picks an option, a loss value answers 'what value is it\n"
        "stuck at?', free text is matched through the search, and 'back', 'restart' and\n"
        "'I don't know' work at every question. At the end of input the diagnosis is printed;\n"
        "its first line names the symptom and its id.\n\n"
        "examples:\n  printf '1\\n1\\n87.33\\n' | lossdoctor chat\n  lossdoctor chat --log train.log",
    )  # fmt: skip
    chat.add_argument(
        "--log", metavar="PATH", help="start from the primary finding of this training log"
    )

    interview = add(
        "interview", cmd_interview, "the interview in the terminal UI (the default command)",
        "Open the terminal UI: a conversation that asks about your training run, accepts free\n"
        "text, takes your log and ends with the causes, checks and fixes. Press F1 in the app\n"
        "for its keys. 'lossdoctor' with no command does the same.\n\n"
        "examples:\n  lossdoctor\n  lossdoctor interview --log runs/exp1/train.log\n  lossdoctor interview --resume",
    )  # fmt: skip
    interview.add_argument(
        "--log", metavar="PATH", help="attach this training log and start from its finding"
    )
    interview.add_argument(
        "--resume", action="store_true", help="continue the last interview where it stopped"
    )

    from assistant import watch_cli

    watch = add(
        "watch",
        watch_cli.cmd_watch,
        "follow a growing log and report each symptom as soon as it shows",
        watch_cli.DESCRIPTION,
    )
    watch_cli.configure(watch)

    kb = add(
        "kb",
        _kb_help,
        "validate or rebuild the knowledge base",
        "Maintain the knowledge base in content/.",
    )
    kb_commands = kb.add_subparsers(dest="kb_command", metavar="ACTION", parser_class=_Parser)
    check = kb_commands.add_parser(
        "check", help="validate every entry and link (exit 1 on any problem)",
        description="Validate content/: fields, unique ids, links that resolve, causes for every\n"
        "symptom, a check and a fix for every cause, no orphans, the magic-number table.\n"
        "Each problem is printed as FILE:LINE: message. Exit 1 when there is any.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    check.add_argument("--content", metavar="DIR", help="check another content directory")
    check.set_defaults(func=cmd_kb_check)
    build = kb_commands.add_parser(
        "build", help="rebuild the search index now",
        description="Rebuild the search index. It is rebuilt automatically when content/ changes;\n"
        "this forces it (e.g. after changing the index code).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    build.set_defaults(func=cmd_kb_build)
    return parser


def _kb_help(args: argparse.Namespace) -> int:
    raise UsageError("kb needs an action: check or build (see 'lossdoctor kb --help')")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                parser.print_help()  # no terminal to draw the interview on
                return EXIT_OK
            return cmd_interview(argparse.Namespace(log=None, resume=False))
        return int(args.func(args))
    except UsageError as error:
        return _fail(str(error).removeprefix("lossdoctor: "))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the last line of defence against a traceback
        import os

        from kb.load import ContentError

        if os.environ.get("LOSSDOCTOR_DEBUG"):
            raise

        if isinstance(error, ContentError):
            return _fail(f"the knowledge base has problems ({error}); run 'lossdoctor kb check'")
        return _fail(f"internal error: {type(error).__name__}: {error}")
