"""Search quality on realistic phrasings: top-1 and top-3 hit rates, by language.

    python bench/search_quality.py [bench/search_phrasings.tsv] [--misses]

The phrasings file is TSV with columns query, expected, lang. Prints one line per language and
the total; with --misses, every query whose expected entry is not in the top 3.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb.search import search  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "file", nargs="?", default=str(Path(__file__).with_name("search_phrasings.tsv"))
    )
    parser.add_argument(
        "--misses", action="store_true", help="list the queries that miss the top 3"
    )
    args = parser.parse_args()
    with open(args.file, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses = []
    for row in rows:
        ids = [h.id for h in search(row["query"], 3)]
        for key in (row["lang"], "all"):
            totals[key][0] += 1
            totals[key][1] += ids[:1] == [row["expected"]]
            totals[key][2] += row["expected"] in ids
        if row["expected"] not in ids:
            misses.append((row["query"], row["expected"], ids))
    for key, (n, top1, top3) in sorted(totals.items()):
        print(f"{key:>4}: {n:4d} queries  top-1 {top1 / n:6.1%}  top-3 {top3 / n:6.1%}")
    if args.misses:
        for query, expected, ids in misses:
            print(f"MISS {query!r}: expected {expected}, got {ids}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
