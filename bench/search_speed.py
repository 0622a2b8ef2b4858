"""Search speed: a cold ``lossdoctor search`` process and a warm in-process query.

    python bench/search_speed.py [--runs 15]

Cold: the whole process (interpreter start, imports, index load from the cache, one query),
median of several runs, against a baseline of a bare ``python -c pass`` measured in the same
run. Warm: one query in a process that has already searched, median over many queries.
Targets: cold <= 0.3 s, warm <= 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUERIES = [
    "loss stuck at 87.33", "87.3356", "loss一直是0.693", "val loss going up while train loss goes down",
    "訓練loss不下降", "my loss is nan after 3 epochs", "accuracy is always 0.5", "acc stays at 10%",
    "stuck at 4.6", "about 11.09", "dice loss negative", "loss fluctuates a lot",
]  # fmt: skip


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=15, help="process runs for the cold measurement"
    )
    args = parser.parse_args()
    script = Path(sys.executable).with_name("lossdoctor")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "assistant"]
    _wall([*command, "search", "warm the index cache"])  # builds the index if the content changed
    cold = [_wall([*command, "search", QUERIES[i % len(QUERIES)]]) for i in range(args.runs)]
    bare = [_wall([sys.executable, "-c", "pass"]) for _ in range(args.runs)]

    from kb.search import search

    search("warm up")
    warm = []
    for _ in range(20):
        for query in QUERIES:
            start = time.perf_counter()
            search(query, 5)
            warm.append(time.perf_counter() - start)
    cold_median, bare_median = statistics.median(cold), statistics.median(bare)
    print(
        f"cold 'lossdoctor search': median {cold_median * 1000:.0f} ms over {args.runs} runs "
        f"(bare python start {bare_median * 1000:.0f} ms, ratio {cold_median / bare_median:.1f}x); target <= 300 ms"
    )
    print(
        f"warm query: median {statistics.median(warm) * 1000:.2f} ms, p90 "
        f"{sorted(warm)[int(len(warm) * 0.9)] * 1000:.2f} ms over {len(warm)} queries; target <= 5 ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
