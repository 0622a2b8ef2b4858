"""``lossdoctor triage`` through the real entry point: output, JSON, exit codes, bad input."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, Run

SAMPLES = REPO / "tests" / "data" / "logs" / "sample"
STUCK87 = SAMPLES / "01-caffe-c3d-stuck87.log"
OVERFIT = SAMPLES / "11-kerascsv-car-cnn.log"


def test_text_report_names_format_series_findings_diagnosis_and_plots_the_loss(run: Run) -> None:
    done = run("triage", str(STUCK87))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"== {STUCK87} ==" in out
    assert "format: caffe-glog" in out
    assert "<- training loss" in out
    assert "stuck-87-3365 (0." in out and "87.3365" in out
    assert "Diagnosis: Loss constant at 87.3365" in out
    assert "check: " in out and "fix: " in out and "Sources:" in out
    assert "┤" in out  # the plot's axis
    assert all(len(line) <= 100 for line in out.splitlines())


def test_json_is_one_object_per_input_with_the_documented_fields(run: Run) -> None:
    done = run("triage", str(STUCK87), str(OVERFIT), "--json")
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["path"] for o in objects] == [str(STUCK87), str(OVERFIT)]
    for item in objects:
        assert set(item) == {"path", "format", "series", "findings", "primary"}
        for series in item["series"]:
            assert set(series) == {"name", "split", "points", "first_step", "last_step"}
        for finding in item["findings"]:
            assert set(finding) == {"symptom", "confidence", "summary", "start_step", "end_step"}
            assert 0.0 <= finding["confidence"] <= 1.0
    assert [o["primary"] for o in objects] == ["stuck-87-3365", "overfitting"]
    first = objects[0]["findings"][0]
    assert (first["start_step"], first["end_step"]) == (20.0, 40.0)
    splits = {s["name"]: s["split"] for s in objects[1]["series"]}
    assert splits["loss"] == "train" and splits["val_loss"] == "val"


def test_one_unreadable_input_gives_exit_2_and_the_others_are_still_analysed(
    run: Run, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    done = run("triage", str(tmp_path / "missing.log"), str(STUCK87), str(empty), "--json")
    assert done.returncode == 2
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["primary"] for o in objects] == [None, "stuck-87-3365", None]
    assert "error" in objects[0] and "error" in objects[2]
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 2 and "missing.log" in errors[0] and "empty.log" in errors[1]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda d: d / "missing.log", "no such file"),
        (lambda d: _write(d / "empty.log", b""), "empty"),
        (lambda d: _write(d / "binary.bin", bytes(range(256)) * 64), "binary"),
        (lambda d: _mkdir(d / "emptydir"), "directory"),
        (lambda d: _write(d / "truncated.json", b'{"log_history": [{"loss": 0.6'), ""),
        (lambda d: _write(d / "prose.log", b"hello world\nnothing to see here\n" * 20), "loss"),
    ],
    ids=["missing", "empty", "binary", "empty-dir", "truncated-json", "no-loss"],
)
def test_bad_input_gets_one_line_naming_the_file_and_exit_2(
    run: Run, tmp_path: Path, make, problem: str
) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    done = run("triage", str(path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0] and problem in lines[0].lower()
    assert "Traceback" not in done.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_standard_input_and_gzip_are_read(run: Run, tmp_path: Path) -> None:
    packed = tmp_path / "train.log.gz"
    packed.write_bytes(gzip.compress(STUCK87.read_bytes()))
    from_gzip = json.loads(run("triage", str(packed), "--json").stdout)
    from_stdin = json.loads(run("triage", "-", "--json", stdin=STUCK87.read_bytes()).stdout)
    assert from_gzip["primary"] == from_stdin["primary"] == "stuck-87-3365"
    assert from_stdin["path"] == "-"


def test_a_run_directory_with_one_known_log_is_read(run: Run, tmp_path: Path) -> None:
    run_dir = tmp_path / "lightning_logs" / "version_0"
    run_dir.mkdir(parents=True)
    shutil.copy(SAMPLES / "13-lightning-lstm-learning.csv", run_dir / "metrics.csv")
    result = json.loads(run("triage", str(run_dir), "--json").stdout)
    assert result["format"] == "lightning-csv" and result["primary"] == "still-learning"


def test_metric_chooses_another_series_and_an_unknown_one_is_an_error(run: Run) -> None:
    chosen = json.loads(run("triage", str(OVERFIT), "--metric", "val_loss", "--json").stdout)
    assert chosen["primary"] is not None
    done = run("triage", str(OVERFIT), "--metric", "no_such_metric")
    assert done.returncode == 2
    assert "no series named 'no_such_metric'" in done.stderr and "val_loss" in done.stderr


def test_file_names_and_log_text_with_markup_and_escapes_appear_literally(
    run: Run, tmp_path: Path
) -> None:
    odd = tmp_path / "[bold]run[/bold]\x1b[31m.log"  # "/" makes "[bold]run[" a directory
    odd.parent.mkdir()
    odd.write_bytes(STUCK87.read_bytes())
    done = run("triage", str(odd))
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    assert "[bold]run[/bold]\\x1b[31m.log" in done.stdout
