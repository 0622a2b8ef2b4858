"""Benchmark of ``lossdoctor watch``: how soon a finding is printed after the line that shows
it is written, and whether the work per new line grows with the length of the log.

Latency: the real command follows a file that this script writes (in a temporary directory);
for each case the trigger line is written after a quiet gap, and the time from its write to
the finding's line on the command's standard output is measured (``--runs`` times, median and
worst). Cases: a nan in plain print lines, a Caffe loss entering 87.3365, and Keras verbose-2
epochs whose validation loss turns up (the finding needs the curve, not one line).

Cost per line: a plain-print log of N lines already on disk is caught up with, then 2,000
lines are appended at once, then 200 more one per poll (a slow job), and the CPU time to
read and analyse them is measured, for N = 10k, 100k and 1M; the cost per appended line
should stay flat as N grows.

    python bench/bench_watch.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 1.0


def _command() -> list[str]:
    script = Path(sys.executable).with_name("lossdoctor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant"]


def _print_lines(n: int, start: int = 0) -> list[str]:
    return [
        f"epoch 1 iter {i} loss: {2.3 / (1 + i / 200):.4f} lr: 0.01\n"
        for i in range(start, start + n)
    ]


def _caffe_lines(n: int) -> list[str]:
    out = []
    for i in range(0, n * 20, 20):
        out.append(
            f"I0525 14:53:43.{i:06d} 28821 solver.cpp:228] Iteration {i}, loss = {2.3 / (1 + i / 400):.5f}\n"
        )
        out.append(
            f"I0525 14:53:43.{i:06d} 28821 solver.cpp:244]     Train net output #0: loss = {2.3 / (1 + i / 400):.5f} (* 1 = {2.3 / (1 + i / 400):.5f} loss)\n"
        )
    return out


def _keras_epoch(e: int, total: int, loss: float, val: float) -> list[str]:
    return [
        f"Epoch {e}/{total}\n",
        f"94/94 - 1s - 8ms/step - loss: {loss:.4f} - val_loss: {val:.4f}\n",
    ]


def _latency_case(name: str, warmup: list[str], triggers: list[list[str]], gap: float) -> float:
    """Seconds from writing the trigger that leads to the first finding to seeing it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.log"
        proc = subprocess.Popen(
            [*_command(), "watch", str(path), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        arrivals: queue.SimpleQueue[tuple[float, str]] = queue.SimpleQueue()

        def pump() -> None:
            assert proc.stdout is not None
            for raw in iter(proc.stdout.readline, b""):
                arrivals.put((time.monotonic(), raw.decode()))

        threading.Thread(target=pump, daemon=True).start()
        try:
            time.sleep(1.5)  # the command is up and waiting for the file
            with path.open("a", encoding="utf-8") as fh:
                fh.writelines(warmup)
                fh.flush()
                time.sleep(gap)
                for block in triggers:
                    fh.writelines(block)
                    fh.flush()
                    written = time.monotonic()
                    try:
                        seen, line = arrivals.get(timeout=gap)
                    except queue.Empty:
                        continue
                    event = json.loads(line)
                    assert event["event"] == "finding", event
                    return seen - written
            raise RuntimeError(f"{name}: no finding")
        finally:
            proc.terminate()
            proc.wait()


def latency(runs: int) -> None:
    gap = 2.5
    cases = {
        "nan in print lines": (_print_lines(200), [["epoch 1 iter 200 loss: nan lr: 0.01\n"]]),
        "caffe loss enters 87.3365": (
            _caffe_lines(100),
            [["I0525 14:53:44.000000 28821 solver.cpp:228] Iteration 2000, loss = 87.3365\n"]],
        ),
        "keras val loss turns up": (
            [line for e in range(1, 9) for line in _keras_epoch(e, 30, 1.0 / e, 1.2 / e + 0.3)],
            [_keras_epoch(e, 30, 1.0 / e, 0.45 + 0.08 * (e - 8)) for e in range(9, 30)],
        ),
    }
    print(
        f"latency from the trigger line's write to the finding (target <= {TARGET_SECONDS:.1f} s), {runs} runs"
    )
    for name, (warmup, triggers) in cases.items():
        values = [_latency_case(name, warmup, triggers, gap) for _ in range(runs)]
        print(
            f"  {name:28s} median {statistics.median(values) * 1000:6.0f} ms   worst {max(values) * 1000:6.0f} ms"
        )


def per_line_cost(sizes: list[int], append: int) -> None:
    """CPU per appended line once a log of N lines has been caught up with: the watch loop's
    work (poll the file, parse the new lines in their window, feed the monitor, one idle
    check of the detectors at the end)."""
    from assistant.triage.monitor import Monitor
    from assistant.watch import Feed

    print(f"work per appended line, {append:,} lines appended to a log of N lines (plain print)")
    base: tuple[float, float] | None = None
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "train.log"
            with path.open("w", encoding="utf-8") as fh:
                for start in range(0, n, 100_000):
                    fh.writelines(_print_lines(min(100_000, n - start), start))
            feed, monitor = Feed(str(path)), Monitor()
            while feed.format is None or feed._follower.position < path.stat().st_size:
                monitor.feed(feed.poll())
            monitor.check()
            with path.open("a", encoding="utf-8") as fh:
                fh.writelines(_print_lines(append, n))
            size = path.stat().st_size
            cpu0 = time.process_time()
            while feed._follower.position < size:
                monitor.feed(feed.poll())
            monitor.check()
            cpu = time.process_time() - cpu0
            # a slow job: one line per poll
            single = 200
            cpu1 = time.process_time()
            with path.open("a", encoding="utf-8") as fh:
                for line in _print_lines(single, n + append):
                    fh.write(line)
                    fh.flush()
                    monitor.feed(feed.poll())
            monitor.check()
            cpu_single = time.process_time() - cpu1
            assert monitor.readings == 2 * (n + append + single), monitor.readings  # loss, lr
            feed.close()
        per, per_single = cpu / append * 1e6, cpu_single / single * 1e6
        base = base or (per, per_single)
        print(
            f"  N = {n:>9,}: {per:7.1f} us per line in a burst (x{per / base[0]:.2f}), "
            f"{per_single / 1000:6.2f} ms per line one at a time (x{per_single / base[1]:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--append", type=int, default=2000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    latency(args.runs)
    per_line_cost([int(s) for s in args.sizes.split(",")], args.append)


if __name__ == "__main__":
    main()
