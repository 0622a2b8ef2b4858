"""The primary symptom of every labelled fixture log: the 25 real logs of
``tests/data/logs/sample`` and the generated framework logs of ``tests/data/logs/generated``.

Logs are read with the project's reader (``assistant.triage.read.read_log``): a log it cannot
read is a failure here, as is a labelled file that is missing.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from assistant.triage.detect import SYMPTOMS, diagnose
from assistant.triage.read import read_log

DATA = Path(__file__).resolve().parents[1] / "data" / "logs"


def _rows(folder: str) -> list[tuple[str, str]]:
    labels = DATA / folder / "labels.tsv"
    if not labels.exists():
        return []
    with labels.open(encoding="utf-8", newline="") as handle:
        return [
            (f"{folder}/{row['file']}", row["symptom"])
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def _params(folder: str) -> list[object]:
    out: list[object] = []
    for rel, symptom in _rows(folder):
        out.append(pytest.param(rel, symptom, id=rel))
    return out


def _check(rel: str, symptom: str) -> None:
    assert symptom in SYMPTOMS
    assert (DATA / rel).exists(), f"{rel} is labelled but missing"
    result = diagnose(read_log(str(DATA / rel)))
    found = [(f.symptom, f.confidence, f.summary) for f in result.findings]
    assert result.primary == symptom, found


@pytest.mark.parametrize(("rel", "symptom"), _params("sample"))
def test_sample_primary(rel: str, symptom: str) -> None:
    _check(rel, symptom)


@pytest.mark.parametrize(("rel", "symptom"), _params("generated"))
def test_generated_primary(rel: str, symptom: str) -> None:
    _check(rel, symptom)
