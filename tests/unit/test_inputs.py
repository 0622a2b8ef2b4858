"""Opening inputs: encodings (BOM, UTF-16, GBK), CRLF, a 5 MB line, gzip by magic bytes,
standard input, run directories, and every unusable input -> a one-line TriageInputError
naming the input."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from assistant.triage.inputs import normalise
from assistant.triage.model import TriageInputError
from assistant.triage.read import read_log

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "logs" / "sample"
KERAS = (SAMPLES / "08-keras-v1-val-rising.log").read_text(encoding="utf-8")
CAFFE = (SAMPLES / "05-caffe-cifar10-nan.log").read_bytes()


def loss_of(log, name: str = "loss", split: str = "train"):
    return next(s for s in log.series if s.name == name and s.split == split)


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gbk", "gb18030"]
)
def test_encodings(tmp_path: Path, encoding: str) -> None:
    text = "训练开始 (中文注释)\n" + KERAS + "训练结束，损失下降\n"
    p = tmp_path / "train.log"
    p.write_bytes(text.encode(encoding))
    log = read_log(str(p))
    assert log.format == "keras-stdout-v1"
    assert loss_of(log, "val_loss", "val").values[-1] == 6.5152


def test_crlf_and_cr_progress_refreshes(tmp_path: Path) -> None:
    p = tmp_path / "train.log"
    p.write_bytes(KERAS.replace("\n", "\r\n").encode())
    assert loss_of(read_log(str(p))).points == 5


def test_backspaces_are_applied() -> None:
    assert normalise(b"loss: 0.5\x087 ok\n") == b"loss: 0.7 ok\n"
    assert normalise(b"abc\x08\x08\x08\x08xy\n") == b"xy\n"
    assert normalise(b"a\r\nb\rc\n") == b"a\nb\nc\n"


def test_a_line_of_5_mb(tmp_path: Path) -> None:
    p = tmp_path / "train.log"
    p.write_bytes(b"x" * (5 * 1024 * 1024) + b"\n" + CAFFE + b"noise " * 1_000_000 + b"\n")
    log = read_log(str(p))
    assert log.format == "caffe-glog" and loss_of(log).points == 4


def test_gzip_by_magic_not_extension(tmp_path: Path) -> None:
    p = tmp_path / "train.txt"
    p.write_bytes(gzip.compress(CAFFE))
    log = read_log(str(p))
    assert log.format == "caffe-glog" and loss_of(log).points == 4


def test_stdin() -> None:
    log = read_log("-", stdin=io.BytesIO(CAFFE))
    assert log.path == "-" and loss_of(log).points == 4
    log = read_log("-", stdin=io.BytesIO(gzip.compress(CAFFE)))
    assert loss_of(log).points == 4


def test_progress_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "train.log"
    p.write_bytes(CAFFE * 20)
    calls: list[tuple[int, int]] = []
    read_log(str(p), progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1] == (p.stat().st_size, p.stat().st_size)


def test_run_directory_with_known_log(tmp_path: Path) -> None:
    d = tmp_path / "lightning_logs" / "version_0"
    d.mkdir(parents=True)
    (d / "hparams.yaml").write_text("lr: 0.1\n")
    (d / "metrics.csv").write_bytes((SAMPLES / "13-lightning-lstm-learning.csv").read_bytes())
    log = read_log(str(tmp_path))
    assert log.format == "lightning-csv" and loss_of(log, "train_loss").points == 80


def test_truncated_json_keeps_complete_entries(tmp_path: Path) -> None:
    text = (SAMPLES / "16-hf-falcon-lora.json").read_text()
    p = tmp_path / "trainer_state.json"
    p.write_text(text[: len(text) // 2])
    log = read_log(str(p))
    assert 0 < loss_of(log).points < 12


def _err(tmp_path: Path, path: str) -> TriageInputError:
    with pytest.raises(TriageInputError) as ei:
        read_log(path)
    e = ei.value
    assert "\n" not in str(e) and e.path == path and str(e).startswith(path)
    return e


def test_bad_inputs(tmp_path: Path) -> None:
    assert "no such" in _err(tmp_path, str(tmp_path / "missing.log")).problem
    (tmp_path / "empty.log").write_bytes(b"")
    assert "empty" in _err(tmp_path, str(tmp_path / "empty.log")).problem
    (tmp_path / "blank.log").write_bytes(b"\n\n   \n")
    _err(tmp_path, str(tmp_path / "blank.log"))
    (tmp_path / "model.bin").write_bytes(bytes(range(256)) * 100)
    assert "binary" in _err(tmp_path, str(tmp_path / "model.bin")).problem
    (tmp_path / "emptydir").mkdir()
    assert "empty directory" in _err(tmp_path, str(tmp_path / "emptydir")).problem
    (tmp_path / "otherdir").mkdir()
    (tmp_path / "otherdir" / "README.md").write_text("hello\n")
    assert "no known" in _err(tmp_path, str(tmp_path / "otherdir")).problem
    (tmp_path / "trainer_state.json").write_text('{"log_history": [{"lo')
    _err(tmp_path, str(tmp_path / "trainer_state.json"))
    (tmp_path / "metrics.csv").write_text("epoch,step,train_l")
    _err(tmp_path, str(tmp_path / "metrics.csv"))
    (tmp_path / "notes.txt").write_text(
        "We trained a model yesterday.\nIt went fine: accuracy 0.9\n"
    )
    assert "loss" in _err(tmp_path, str(tmp_path / "notes.txt")).problem
    (tmp_path / "bad.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    _err(tmp_path, str(tmp_path / "bad.gz"))


def test_empty_stdin() -> None:
    with pytest.raises(TriageInputError) as ei:
        read_log("-", stdin=io.BytesIO(b""))
    assert ei.value.path == "-"
