"""Property tests: every reader, fed arbitrary text or bytes or mutated real logs, never
raises anything but TriageInputError, and ``read_log`` on such input either returns series
or raises TriageInputError."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.triage.inputs import normalise
from assistant.triage.model import TriageInputError
from assistant.triage.read import read_log
from assistant.triage.readers import READERS
from assistant.triage.readers.base import Batch, to_float

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "logs" / "sample"
SAMPLE_BYTES = [p.read_bytes() for p in sorted(SAMPLES.glob("[0-9]*"))]
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# text made of log-ish pieces so the readers' regexes actually fire
TOKENS = st.sampled_from(
    [
        "Iteration ",
        " loss = ",
        "Train net output #0: ",
        "Test net output #1: ",
        ", lr = ",
        "Testing net (#0)",
        "Epoch ",
        "Epoch(train) ",
        "[3][10/100]",
        "/",
        " - loss: ",
        " - val_loss: ",
        "nan",
        "-nan",
        "1.#INF",
        "-1.#IND",
        "inf",
        "Infinity",
        "0.5",
        "12",
        "-3e-4",
        "|",
        ",",
        "=",
        ": ",
        "\n",
        "\r",
        "\b",
        "\t",
        " avg loss, ",
        " rate",
        "{'loss': ",
        "}",
        "{",
        '"loss": ',
        '"iteration": ',
        "epoch,step,train_loss\n",
        "100%|",
        "| 5/50 [00:01<00:02, loss=",
        "]",
        "| epoch 001 | valid on 'valid' subset | valid_loss ",
        "num_updates=",
        "train loss : ",
        "validation loss: ",
        "Batch [",
        "Speed: 1.0 samples/sec\taccuracy=",
        "epoch results: [train] ",
        "Step 5 per-step time 0.1s loss=",
        "'Loss/total_loss': ",
        "train/box_loss,",
        "\x00",
        "é",
        "中",
    ]
)
LOGGY = st.lists(st.one_of(TOKENS, st.text(max_size=8)), max_size=60).map("".join)


def _run_reader(cls: type, data: bytes) -> None:
    reader = cls()
    text = data.decode("utf-8", "replace")
    score = reader.sniff(text, "x.log")
    assert 0.0 <= score <= 1.0
    try:
        for item in reader.parse([normalise(data)]):
            if isinstance(item, Batch):
                assert len(item.steps) == len(item.values)
            else:
                assert isinstance(item.value, float) and isinstance(item.step, float)
    except TriageInputError:
        pass


@FAST
@given(LOGGY)
def test_readers_on_loggy_text(text: str) -> None:
    data = text.encode("utf-8")
    for cls in READERS:
        if cls.name != "tensorboard":
            _run_reader(cls, data)


@FAST
@given(st.binary(max_size=2000))
def test_readers_on_arbitrary_bytes(data: bytes) -> None:
    for cls in READERS:
        if cls.name != "tensorboard":
            _run_reader(cls, data)


@FAST
@given(
    st.sampled_from(range(len(SAMPLE_BYTES))),
    st.lists(
        st.tuples(
            st.sampled_from(["cut", "dup", "insert", "truncate", "flip"]),
            st.integers(0, 10**6),
            st.integers(0, 400),
            st.binary(max_size=20),
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_readers_on_mutated_real_logs(idx: int, edits: list) -> None:
    data = bytearray(SAMPLE_BYTES[idx])
    for op, pos, n, blob in edits:
        pos = pos % (len(data) + 1)
        if op == "cut":
            del data[pos : pos + n]
        elif op == "dup":
            data[pos:pos] = data[pos : pos + n]
        elif op == "insert":
            data[pos:pos] = blob
        elif op == "truncate":
            del data[pos:]
        elif op == "flip" and pos < len(data):
            data[pos] ^= 0xFF
    for cls in READERS:
        if cls.name != "tensorboard":
            _run_reader(cls, bytes(data))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.binary(max_size=3000), LOGGY.map(lambda t: t.encode("utf-8"))))
def test_read_log_returns_series_or_input_error(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "fuzz.log"
    p.write_bytes(data)
    try:
        log = read_log(str(p))
    except TriageInputError as e:
        assert "\n" not in str(e)
        return
    for s in log.series:
        assert s.steps.dtype == np.float64 and len(s.steps) == len(s.values)


@FAST
@given(st.text(max_size=30))
def test_to_float_never_raises(text: str) -> None:
    v = to_float(text)
    assert isinstance(v, float) and (math.isnan(v) or isinstance(v, float))
