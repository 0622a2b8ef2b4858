"""The Python API (``assistant.api``): a path, lists, dicts, numpy arrays and pandas frames
give the same result objects, and the same diagnoses, as the command line."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest

from assistant import api
from assistant.triage.detect import diagnose
from assistant.triage.read import read_log
from tests.unit.test_triage_fixtures import DATA


def test_the_docstring_examples_run() -> None:
    failures, tried = doctest.testmod(api)
    assert tried > 0 and failures == 0


def test_a_path_gives_what_the_cli_gives() -> None:
    path = DATA / "sample" / "01-caffe-c3d-stuck87.log"
    result = api.triage(path)
    assert result.primary == "stuck-87-3365"
    assert api.to_json(result) == api.to_json(diagnose(read_log(str(path))))
    assert "stuck-87-3365" in api.to_text(result)


@pytest.mark.parametrize(
    "rel",
    [
        "sample/12-lightning-lstm-chance.csv",
        "sample/13-lightning-lstm-learning.csv",
        "sample/14-lightning-grapevine-valloss.csv",
        "sample/11-kerascsv-car-cnn.log",
    ],
)
def test_a_dataframe_of_a_csv_log_is_diagnosed_like_the_file(rel: str) -> None:
    """A frame read by pandas (sparse Lightning columns included) is the same run."""
    frame = pd.read_csv(DATA / rel)
    assert api.triage(frame).primary == diagnose(read_log(str(DATA / rel))).primary


def test_lists_arrays_and_series_are_the_same_run() -> None:
    values = [2.3026 + 0.001 * ((-1) ** i) for i in range(30)]
    for source in (values, tuple(values), np.array(values), pd.Series(values)):
        assert api.triage(source).primary == "stuck-at-chance"


def test_a_dict_with_steps_pairs_and_mappings() -> None:
    train = [1.0 / (1 + i / 10) for i in range(60)]
    val = {
        i: 0.9 - 0.02 * (i // 6) if i < 30 else 0.5 + 0.03 * (i - 30) / 6 for i in range(5, 60, 6)
    }
    result = api.triage({"loss": train, "val_loss": val})
    assert result.primary == "overfitting"
    assert {(s.name, s.split) for s in result.log.series} == {
        ("loss", "train"),
        ("val_loss", "val"),
    }
    pairs = api.triage({"loss": list(enumerate(train)), "val_loss": sorted(val.items())})
    assert api.to_json(pairs)["findings"] == api.to_json(result)["findings"]


def test_nan_in_a_dense_column_is_a_nan_loss_and_in_a_sparse_one_is_a_gap() -> None:
    loss = [1.0, 0.9, 0.85, 0.8, math.nan, math.nan, math.nan]
    frame = pd.DataFrame({"step": range(7), "loss": loss})
    assert api.triage(frame).primary == "nan-loss"
    sparse = pd.DataFrame(
        {
            "step": range(40),
            "train_loss": [1.0 / (1 + i / 5) if i % 4 else math.nan for i in range(40)],
            "val_loss": [math.nan if i % 4 else 1.0 / (1 + i / 5) + 0.05 for i in range(40)],
        }
    )
    result = api.triage(sparse)
    assert result.val_loss is not None and result.val_loss.points == 10
    assert result.loss is not None and result.loss.points == 30
    assert np.isfinite(result.loss.values).all()


def test_metric_chooses_the_series() -> None:
    result = api.triage(
        {"loss": [1.0, 0.5, 0.3, 0.2, 0.1], "aux_loss": [87.3365] * 5}, metric="aux_loss"
    )
    assert result.loss is not None and result.loss.name == "aux_loss"
    with pytest.raises(api.TriageInputError, match="no series named 'nope'"):
        api.triage([1.0, 0.5], metric="nope")


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ([], ValueError),
        ({"loss": "abc"}, TypeError),
        ({"loss": [1.0, "x"]}, ValueError),
        (b"loss 0.5", TypeError),
        (42, TypeError),
        ({"loss": [[1.0, 2.0, 3.0]]}, ValueError),
    ],
    ids=["empty", "string-values", "not-numbers", "bytes", "int", "bad-shape"],
)
def test_unusable_values_raise_a_clear_error(source: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        api.triage(source)


def test_a_missing_path_raises_the_cli_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(api.TriageInputError) as info:
        api.triage(tmp_path / "missing.log")
    assert "missing.log" in str(info.value)
