"""The pieces of ``lossdoctor watch`` below the command: the follower (``tail -F``), and the
window parser that reads new lines with the lines before them as context. Fed a real log a
line at a time, or in uneven chunks, it gives the readings the format's reader gives for the
whole file and the same diagnosis, with a context that stays bounded."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from assistant.triage.inputs import head_text, open_input, raw_chunks
from assistant.triage.monitor import Monitor
from assistant.triage.readers import by_name, pick
from assistant.triage.readers.base import Batch
from assistant.triage.select import is_loss
from assistant.watch import Follower, _WindowParser
from tests.unit.test_triage_fixtures import DATA, _rows


def _text_fixtures() -> list[object]:
    out: list[object] = []
    for rel, symptom in _rows("sample") + _rows("generated"):
        op = open_input(str(DATA / rel))
        if op.kind != "text":
            continue
        reader = pick(head_text(op), op.filename)
        if not reader.whole:
            out.append(pytest.param(rel, symptom, reader.name, id=rel))
    return out


def _counts(items: list[object]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for it in items:
        for r in it.readings() if isinstance(it, Batch) else [it]:  # type: ignore[attr-defined]
            counts[(r.name, r.split)] = counts.get((r.name, r.split), 0) + 1
    return counts


@pytest.mark.parametrize("mode", ["lines", "chunks"])
@pytest.mark.parametrize(("rel", "symptom", "fmt"), _text_fixtures())
def test_streamed_lines_give_the_whole_file_readings(
    rel: str, symptom: str, fmt: str, mode: str
) -> None:
    data = b"".join(raw_chunks(open_input(str(DATA / rel))))
    whole = _counts(list(by_name(fmt).parse([data])))
    lines = data.splitlines(keepends=True)
    rng = random.Random(rel)
    parser = _WindowParser(fmt)
    monitor = Monitor()
    got: list[object] = []
    i = 0
    while i < len(lines):
        k = 1 if mode == "lines" else rng.randint(1, 40)
        new = parser.feed(b"".join(lines[i : i + k]))
        got += new
        monitor.feed(new)
        i += k
        assert len(parser._window) <= parser.keep_lines
    streamed = _counts(got)
    for key, n in whole.items():
        if is_loss(key[0]):
            assert streamed.get(key) == n, key
    assert monitor.result().primary == symptom


def test_follower_sees_growth_truncation_rotation_and_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    follower = Follower(str(path))
    assert follower.poll() == b"" and follower.events == []  # not there yet
    path.write_bytes(b"a 1\n")
    assert follower.poll() == b"a 1\n" and follower.events == ["appeared"]
    follower.events.clear()
    with path.open("ab") as fh:
        fh.write(b"b 2\n")
    assert follower.poll() == b"b 2\n"
    path.write_bytes(b"c\n")  # truncated and rewritten shorter
    assert follower.poll() == b"c\n" and follower.events == ["truncated"]
    follower.events.clear()
    with path.open("ab") as fh:
        fh.write(b"tail of the old file\n")
    os.rename(path, tmp_path / "train.log.1")
    path.write_bytes(b"new 1\n")
    assert follower.poll() == b"tail of the old file\n"  # the old file is read to its end
    assert follower.poll() == b"new 1\n" and follower.events == ["rotated"]
    follower.events.clear()
    with path.open("r+b") as fh:  # rewritten in place, longer: the first bytes changed
        fh.write(b"NEW 1\nmore 2\n")
    assert follower.poll() == b"NEW 1\nmore 2\n" and follower.events == ["rewritten"]
    follower.close()
