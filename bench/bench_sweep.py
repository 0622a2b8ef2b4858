"""Sweep benchmark: ``lossdoctor triage DIR --recursive`` over 1,000 small runs.

Generates (under a temporary directory, deleted afterwards) a sweep tree of ``--count`` runs
made from the real fixtures in ``tests/data/logs/sample`` and ``tests/data/logs/generated``
(Caffe, Keras, Lightning, Hugging Face, YOLO, MMDetection, Detectron2, darknet, fairseq,
tqdm, print and logging logs, CSV and JSON files and TensorBoard run directories), each run
varied (text logs cut to a share of their lines, losses of printed logs rescaled) and placed
in nested ``sweep-K/lr-X/run-N/`` directories, with a few files that hold no log (READMEs,
configs, a checkpoint) beside them. Then times the real CLI,
``lossdoctor triage DIR -r --json > /dev/null``, with ``--jobs 1``, ``--jobs 2`` and
``--jobs`` = the CPU count, ``--runs`` times each (interleaved), and prints the medians of
the wall time and of the CPU time (the CLI and its workers: the cost of parallel work, which
other load on the machine does not change), the runs per second and the speed-up over one
worker. The target: well under a minute for 1,000 runs on
2 cores.

    python bench/bench_sweep.py                     # 1,000 runs, 3 timings per setting
    python bench/bench_sweep.py --count 200 --runs 1
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "logs"
TARGET_SECONDS = 60.0

_NUMBER = re.compile(r"(?<=loss[:=] )(\d+\.\d+)|(?<=loss = )(\d+\.\d+)")


def _fixtures() -> list[Path]:
    found: list[Path] = []
    for folder in ("sample", "generated"):
        for line in (DATA / folder / "labels.tsv").read_text().splitlines()[1:]:
            found.append(DATA / folder / line.split("\t")[0])
    return found


def _vary_text(text: str, n: int) -> str:
    """A variation of a text log: the first 70-100% of its lines, printed losses x 0.9-1.1."""
    lines = text.splitlines(keepends=True)
    keep = max(8, int(len(lines) * (0.7 + 0.3 * ((n * 37) % 100) / 100)))
    scale = 0.9 + 0.2 * ((n * 53) % 100) / 100
    body = "".join(lines[:keep])

    def rescale(match: re.Match[str]) -> str:
        return f"{float(match.group(0)) * scale:.4f}"

    return _NUMBER.sub(rescale, body) if n % 2 else body


def generate(root: Path, count: int) -> int:
    """Write ``count`` runs (and some files that are not logs) under ``root``; returns the
    number of runs."""
    fixtures = _fixtures()
    for n in range(count):
        source = fixtures[n % len(fixtures)]
        run_dir = root / f"sweep-{n % 4}" / f"lr-{(n // 4) % 10}e-4" / f"run-{n}"
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, run_dir)
        else:
            run_dir.mkdir()
            name = source.name if source.parent.name != "version_0" else "metrics.csv"
            if source.suffix in (".log", ".csv") and source.name != "metrics.csv":
                text = source.read_text(encoding="utf-8", errors="replace")
                (run_dir / name).write_text(_vary_text(text, n), encoding="utf-8")
            else:
                shutil.copy(source, run_dir / name)
        if n % 10 == 0:
            (run_dir / "README.txt").write_text("Run notes: baseline with a smaller batch.\n")
            (run_dir / "config.json").write_text('{"lr": 0.001, "batch_size": 32}\n')
            (run_dir / "model.pt").write_bytes(os.urandom(2048))
    return count


def _time_cli(root: Path, jobs: int) -> tuple[float, float, int, int]:
    """Wall seconds and CPU seconds (the CLI and its workers) of one sweep with ``--jobs``,
    the rows printed and the exit code."""
    command = [sys.executable, "-m", "assistant", "triage", str(root), "-r", "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--jobs", str(jobs)], capture_output=True, text=True, cwd=REPO, check=False
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 2):
        raise SystemExit(f"lossdoctor failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, cpu, done.stdout.count("\n"), done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="runs to generate (1000)")
    parser.add_argument("--runs", type=int, default=3, help="timings per setting (3)")
    args = parser.parse_args()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    settings = sorted({1, 2, cpus or 1})
    with tempfile.TemporaryDirectory(prefix="lossdoctor-sweep-bench-") as tmp:
        root = Path(tmp)
        made = generate(root, args.count)
        files = sum(len(f) for _d, _s, f in os.walk(root))
        print(f"{made} runs ({files} files) under a temporary directory; {cpus} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        times: dict[int, list[float]] = {jobs: [] for jobs in settings}
        cpus_used: dict[int, list[float]] = {jobs: [] for jobs in settings}
        loads = []
        rows = code = 0
        for _ in range(args.runs):  # settings interleaved: a change of load hits them all
            for jobs in settings:
                loads.append(os.getloadavg()[0])
                seconds, cpu, rows, code = _time_cli(root, jobs)
                times[jobs].append(seconds)
                cpus_used[jobs].append(cpu)
        medians = {jobs: statistics.median(t) for jobs, t in times.items()}
        for jobs in settings:
            print(
                f"--jobs {jobs}: median {medians[jobs]:6.2f} s of {args.runs} "
                f"({', '.join(f'{t:.2f}' for t in times[jobs])}); "
                f"CPU {statistics.median(cpus_used[jobs]):6.2f} s; {rows} rows, exit {code}; "
                f"{made / medians[jobs]:6.1f} runs/s"
            )
        print(f"load average (1 min) before the timings: {min(loads):.2f} .. {max(loads):.2f}")
    base = medians[1]
    for jobs in settings[1:]:
        print(f"speed-up with --jobs {jobs}: {base / medians[jobs]:.2f}x over --jobs 1")
    best = min(medians.values())
    verdict = "met" if best < TARGET_SECONDS else "NOT met"
    print(f"target: {made} runs in under {TARGET_SECONDS:.0f} s on 2 cores: {verdict} "
          f"({best:.2f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
