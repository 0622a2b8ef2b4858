"""Streaming benchmark of triage's log reading.

Generates (under a temporary directory, never committed) a realistic plain-text Caffe glog
training log of about ``--size-mb`` megabytes: solver display blocks every 20 iterations
(``Iteration N (...), loss = X``, three ``Train net output`` lines, ``Iteration N, lr = X``),
a test phase every 1000 iterations, data-layer noise lines and snapshots. Then runs
``grep -c loss FILE`` and ``read_log(FILE)`` (each in a child process) ``--runs`` times and
prints the medians, their ratio and the reader's peak RSS (its own and its worker
processes'), against the targets: read <= 4x grep wall time, peak RSS <= 300 MB.

    python bench/bench_triage_stream.py --size-mb 1024 --runs 3
    python bench/bench_triage_stream.py --size-mb 50 --runs 1      # quick check
    python bench/bench_triage_stream.py --format print             # plain print lines
    python bench/bench_triage_stream.py --format logging           # Python logging lines
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

TARGET_RATIO = 4.0
TARGET_RSS_MB = 300.0

HEADER = """Log file created at: 2017/05/25 14:53:40
Running on machine: gpu-node-3
Log line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg
I0525 14:53:40.123456 28821 caffe.cpp:217] Using GPUs 0
I0525 14:53:40.987654 28821 solver.cpp:48] Initializing solver from parameters:
I0525 14:53:43.037562 28821 net.cpp:255] Network initialization done.
I0525 14:53:43.038456 28821 caffe.cpp:248] Starting Optimization
I0525 14:53:43.038470 28821 solver.cpp:274] Learning Rate Policy: step
"""

BLOCK = (
    "I0525 {t} 28821 solver.cpp:219] Iteration {i} ({ips} iter/s, {sec}s/20 iters), loss = {loss}\n"
    "I0525 {t} 28821 solver.cpp:238]     Train net output #0: accuracy = {acc}\n"
    "I0525 {t} 28821 solver.cpp:238]     Train net output #1: loss_bbox = {lb} (* 1 = {lb} loss)\n"
    "I0525 {t} 28821 solver.cpp:238]     Train net output #2: loss_cls = {lc} (* 1 = {lc} loss)\n"
    "I0525 {t} 28821 sgd_solver.cpp:105] Iteration {i}, lr = {lr}\n"
)
NOISE = [
    "I0525 {t} 28821 blocking_queue.cpp:49] Waiting for data\n",
    "I0525 {t} 28835 data_layer.cpp:73] Restarting data prefetching from start.\n",
    "W0525 {t} 28821 net.cpp:112] Ignoring source layer drop6\n",
]
TEST = (
    "I0525 {t} 28821 solver.cpp:330] Iteration {i}, Testing net (#0)\n"
    "I0525 {t} 28835 data_layer.cpp:73] Restarting data prefetching from start.\n"
    "I0525 {t} 28821 solver.cpp:397]     Test net output #0: accuracy = {acc}\n"
    "I0525 {t} 28821 solver.cpp:397]     Test net output #1: loss = {loss} (* 1 = {loss} loss)\n"
)


def _write(path: str, size_mb: float, blocks: Iterator[str]) -> int:
    """Write blocks of text to path until it holds about size_mb; returns its size in bytes."""
    target = int(size_mb * 1024 * 1024)
    written = 0
    with open(path, "w", encoding="utf-8") as fh:
        while written < target:
            block = next(blocks)
            fh.write(block)
            written += len(block)
    return os.path.getsize(path)


def generate(path: str, size_mb: float, seed: int = 0) -> int:
    """Write the synthetic log; returns its size in bytes."""
    return _write(path, size_mb, _caffe_blocks(random.Random(seed)))


def _caffe_blocks(rnd: random.Random) -> Iterator[str]:
    """The blocks of text :func:`generate` writes, one after the other, without end."""
    it = 0
    yield HEADER
    while True:
        parts = []
        for _ in range(2000):
            t = f"{14 + it // 360000 % 10:02d}:{it // 6000 % 60:02d}:{it // 100 % 60:02d}.{rnd.randrange(10**6):06d}"
            loss = 2.5 * 0.9999 ** (it / 20) + rnd.random() * 0.1
            if it % 100_000 == 40_000:
                loss = float("nan")
            parts.append(
                BLOCK.format(
                    t=t,
                    i=it,
                    ips=f"{1 + rnd.random():.5g}",
                    sec=f"{10 + rnd.random() * 5:.5g}",
                    loss=f"{loss:.6g}",
                    acc=f"{rnd.random():.6g}",
                    lb=f"{loss * 0.4:.6g}",
                    lc=f"{loss * 0.6:.6g}",
                    lr=f"{0.01 * 0.1 ** (it // 200_000):g}",
                )
            )
            if rnd.random() < 0.3:
                parts.append(rnd.choice(NOISE).format(t=t))
            if it % 1000 == 0:
                parts.append(
                    TEST.format(t=t, i=it, acc=f"{rnd.random():.6g}", loss=f"{loss + 0.2:.6g}")
                )
            it += 20
        yield "".join(parts)


PRINT_LINE = "Epoch {e} | iter {i}/{n} | loss: {loss} | acc: {acc} | lr: {lr}\n"
PRINT_VAL = "Epoch {e} validation | val_loss: {loss} | val_acc: {acc}\n"
PRINT_NOISE = [
    "Saving checkpoint to runs/exp3/ckpt_last.pt\n",
    "data loader: worker 3 restarted\n",
    '  warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`")\n',
]


def generate_print(path: str, size_mb: float, seed: int = 0) -> int:
    """A plain ``print`` training log (the plain-print reader's format) of about size_mb."""
    return _write(path, size_mb, _print_blocks(random.Random(seed)))


def _print_blocks(rnd: random.Random) -> Iterator[str]:
    """The blocks of text :func:`generate_print` writes, one after the other, without end."""
    it = 0
    per_epoch = 5000
    while True:
        parts = []
        for _ in range(5000):
            e = it // per_epoch + 1
            loss = 2.5 * 0.9999 ** (it / 20) + rnd.random() * 0.1
            if it % 100_000 == 40_000:
                loss = float("nan")
            parts.append(
                PRINT_LINE.format(
                    e=e,
                    i=it % per_epoch,
                    n=per_epoch,
                    loss=f"{loss:.4f}",
                    acc=f"{rnd.random():.4f}",
                    lr=f"{0.01 * 0.1 ** (it // 200_000):.6f}",
                )
            )
            if rnd.random() < 0.02:
                parts.append(rnd.choice(PRINT_NOISE))
            it += 10
            if it % per_epoch == 0:
                parts.append(
                    PRINT_VAL.format(e=e, loss=f"{loss + 0.2:.4f}", acc=f"{rnd.random():.4f}")
                )
        yield "".join(parts)


LOG_LINE = "{d} {t},{ms:03d} INFO epoch {e} iter {i} loss {loss} lr {lr}\n"
LOG_VAL = "{d} {t},{ms:03d} INFO epoch {e} val_loss {loss} val_acc {acc}\n"
LOG_NOISE = [
    "{d} {t},{ms:03d} WARNING grad norm {g:.2f} clipped to 1.0\n",
    "{d} {t},{ms:03d} INFO saving checkpoint to runs/exp3/ckpt_{e}.pt\n",
    "{d} {t},{ms:03d} DEBUG data loader worker 3 restarted\n",
]


def generate_logging(path: str, size_mb: float, seed: int = 0) -> int:
    """A Python ``logging`` training log (``2024-05-01 12:00:00,123 INFO epoch 3 iter 100
    loss 0.6931 lr 0.01``, validation lines, warnings and checkpoints) of about size_mb."""
    return _write(path, size_mb, _logging_blocks(random.Random(seed)))


def _logging_blocks(rnd: random.Random) -> Iterator[str]:
    """The blocks of text :func:`generate_logging` writes, one after the other, without end."""
    it = 0
    per_epoch = 5000
    while True:
        parts = []
        for _ in range(5000):
            e = it // per_epoch + 1
            sec = it // 10
            d = f"2024-{5 + sec // 2_592_000 % 7:02d}-{1 + sec // 86400 % 28:02d}"
            t = f"{sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"
            ms = rnd.randrange(1000)
            loss = 2.5 * 0.9999 ** (it / 20) + rnd.random() * 0.1
            if it % 100_000 == 40_000:
                loss = float("nan")
            lr = 0.01 * 0.1 ** (it // 200_000)
            parts.append(
                LOG_LINE.format(d=d, t=t, ms=ms, e=e, i=it, loss=f"{loss:.4f}", lr=f"{lr:g}")
            )
            if rnd.random() < 0.02:
                parts.append(rnd.choice(LOG_NOISE).format(d=d, t=t, ms=ms, e=e, g=rnd.random() * 9))
            it += 10
            if it % per_epoch == 0:
                parts.append(
                    LOG_VAL.format(
                        d=d,
                        t=t,
                        ms=ms,
                        e=e,
                        loss=f"{loss + 0.2:.4f}",
                        acc=f"{rnd.random():.4f}",
                    )
                )
        yield "".join(parts)


GENERATORS = {"caffe": generate, "print": generate_print, "logging": generate_logging}


CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from assistant.triage.read import read_log
t1 = time.perf_counter()
log = read_log(sys.argv[1])
t2 = time.perf_counter()
from assistant.triage.detect import diagnose
result = diagnose(log)
t3 = time.perf_counter()
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"import_s": t1 - t0, "read_s": t2 - t1, "triage_s": t3 - t1,
                  "primary": result.primary, "rss_mb": me, "workers_rss_mb": kids,
                  "format": log.format, "series": len(log.series),
                  "points": sum(s.points for s in log.series)}))
"""


def run_grep(path: str) -> float:
    t = time.perf_counter()
    subprocess.run(
        ["grep", "-c", "loss", path], check=True, capture_output=True
    )  # a pipe: grep stops at the first match when stdout is /dev/null
    return time.perf_counter() - t


def run_read(path: str) -> dict[str, float]:
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, path],
        check=True,
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    wall = time.perf_counter() - t
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall_s"] = wall
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, default=1024.0, help="log size (default 1024)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each (default 3)")
    ap.add_argument("--dir", default=None, help="where to write the log (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated log")
    ap.add_argument(
        "--format",
        choices=sorted(GENERATORS),
        default="caffe",
        help="log format to generate: Caffe glog (default), plain print lines or Python "
        "logging lines",
    )
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="lossdoctor-bench-", dir=args.dir)
    path = os.path.join(tmp, f"{args.format}_train.log")
    try:
        t = time.perf_counter()
        size = GENERATORS[args.format](path, args.size_mb)
        print(f"generated {size / 2**20:.0f} MB in {time.perf_counter() - t:.1f}s: {path}")
        print("load average before the runs: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        run_grep(path)  # warm the page cache
        greps, reads, walls, rss, wrss, triages = [], [], [], [], [], []
        info: dict[str, float] = {}
        for i in range(args.runs):
            g = run_grep(path)
            r = run_read(path)
            greps.append(g)
            reads.append(r["read_s"])
            triages.append(r["triage_s"])
            walls.append(r["wall_s"])
            rss.append(r["rss_mb"])
            wrss.append(r["workers_rss_mb"])
            info = r
            print(
                f"run {i + 1}: grep -c loss {g:.2f}s | read_log {r['read_s']:.2f}s | "
                f"read + diagnose {r['triage_s']:.2f}s (primary {r['primary']}) "
                f"(child wall {r['wall_s']:.2f}s incl. imports {r['import_s']:.2f}s) | "
                f"peak RSS {r['rss_mb']:.0f} MB (workers {r['workers_rss_mb']:.0f} MB)"
            )
        g, rd, w = statistics.median(greps), statistics.median(reads), statistics.median(walls)
        tr = statistics.median(triages)
        peak = max(max(rss), max(wrss))
        print(
            f"format {info.get('format')}, {info.get('series')} series, {info.get('points')} points"
        )
        print(f"median grep -c loss: {g:.2f}s ({size / 2**20 / g:.0f} MB/s)")
        print(
            f"median read_log:     {rd:.2f}s ({size / 2**20 / rd:.0f} MB/s); "
            f"child wall incl. interpreter start {w:.2f}s"
        )
        print(
            f"ratio read_log / grep: {rd / g:.2f}x (target <= {TARGET_RATIO:.0f}x) "
            f"{'OK' if rd / g <= TARGET_RATIO else 'MISSED'}; incl. start-up {w / g:.2f}x"
        )
        print(
            f"median read + diagnose: {tr:.2f}s; ratio / grep: {tr / g:.2f}x "
            f"(target <= {TARGET_RATIO:.0f}x) {'OK' if tr / g <= TARGET_RATIO else 'MISSED'}"
        )
        print("load average after the runs: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print(
            f"peak RSS: {peak:.0f} MB (target <= {TARGET_RSS_MB:.0f} MB) "
            f"{'OK' if peak <= TARGET_RSS_MB else 'MISSED'}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
