"""Detectors on synthetic loss curves: one named case per symptom, short and long, noisy and
clean, and the cases where one noisy reading must not decide the verdict."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pytest

from assistant.triage.detect import SYMPTOMS, _known_constant, diagnose
from assistant.triage.model import LogData, Series
from assistant.triage.select import select_series
from assistant.triage.stats import fmt_step, fmt_value, mann_kendall_z, theil_sen

RNG_SEED = 1234


def ser(
    name: str, values, steps=None, split: str = "train", unit: str = "step", epochs=None
) -> Series:
    v = np.asarray(values, dtype=float)
    s = (
        np.arange(1, v.shape[0] + 1, dtype=float)
        if steps is None
        else np.asarray(steps, dtype=float)
    )
    e = None if epochs is None else np.asarray(epochs, dtype=float)
    return Series(name, split, s, v, unit, e)  # type: ignore[arg-type]


def log(*series: Series) -> LogData:
    return LogData("synthetic", "test", tuple(series))


def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


def decay(
    n: int, start: float = 2.3, end: float = 0.2, rate: float = 4.0, noise: float = 0.0
) -> np.ndarray:
    t = np.linspace(0, 1, n)
    y = end + (start - end) * np.exp(-rate * t)
    if noise:
        y = y * (1 + noise * rng().standard_normal(n))
    return y


# ---------------------------------------------------------------------------------------------
# Cases: name -> (builder, expected primary)
# ---------------------------------------------------------------------------------------------


def _stuck87_short() -> LogData:
    return log(
        ser("loss", [6.07532, 87.3365, 87.3365], steps=[0, 20, 40], unit="iteration"),
        ser("lr", [0.01, 0.01, 0.01], steps=[0, 20, 40], unit="iteration"),
    )


def _stuck87_long() -> LogData:
    y = decay(5000, noise=0.05)
    y[3000:] = 87.3365
    return log(ser("loss", y))


def _stuck87_half_batch() -> LogData:
    return log(ser("loss", [2.1, 1.9, 43.6683, 43.6683, 43.6683]))


def _stuck87_component_total_nan() -> LogData:
    steps = [98000, 98500]
    return log(
        ser("loss", [math.nan, math.nan], steps),
        ser("cls_loss", [0.693147, 87.3365], steps),
        ser("roi_loss", [math.nan, 0.0], steps),
        ser("pts_loss", [0.0, 0.0], steps),
    )


def _clamp_bce_100() -> LogData:
    return log(ser("loss", [100.0] * 40))


def _clamp_keras_eps() -> LogData:
    return log(ser("loss", [3.2, 9.1, 16.1181, 16.1181, 16.1181, 16.1181], unit="epoch"))


def _chance_ln10_with_acc() -> LogData:
    return log(
        ser("loss", [2.3026] * 15, unit="epoch"),
        ser("val_loss", [2.3026] * 15, split="val", unit="epoch"),
        ser("acc", [0.1] * 15, unit="epoch"),
    )


def _chance_ln1000_smoothed() -> LogData:
    return log(
        ser("loss", [6.91161, 6.90501, 6.90635, 6.90681, 6.90704], steps=[0, 20, 40, 60, 80])
    )


def _chance_mse_half() -> LogData:
    n = 80
    t = np.arange(n)
    y = 0.25 + 0.39 * np.exp(-t / 12.0)
    out = 0.5 - 0.3 * np.exp(-t / 12.0)
    return log(
        ser("train_loss", y), ser("out_tensor([0.])", out), ser("out_tensor([1.])", out + 1e-4)
    )


def _stuck_constant_exact() -> LogData:
    return log(ser("loss", [1.2345] * 30), ser("acc", [0.37] * 30))


def _stuck_constant_lr_zero() -> LogData:
    y = np.array([625.2, 623.5, 623.5, 621.6, 622.8, 286.2, 287.9, 285.4, 285.2, 555.0])
    return log(ser("loss", y, unit="iteration"), ser("lr", np.zeros(10), unit="iteration"))


def _stuck_constant_no_updates() -> LogData:
    y = 21.9 + 1.6 * rng().standard_normal(80)
    return log(ser("loss", y))


def _zero_loss() -> LogData:
    y = np.concatenate([decay(20, 0.85, 1e-4, rate=8), np.zeros(30)])
    return log(ser("loss", np.round(y, 4)))


def _zero_loss_practically() -> LogData:
    y = np.concatenate([[0.7138, 0.69, 0.6], decay(40, 0.5, 3e-5, rate=12)])
    return log(ser("loss", y), ser("eval_loss", [0.3, 2e-5], [10, 40], split="val"))


def _negative_loss() -> LogData:
    return log(
        ser("train loss", [-0.3924, -0.3893, -0.3841], steps=[162, 163, 164], unit="epoch"),
        ser(
            "validation loss",
            [-0.4029, -0.4142, -0.4186],
            steps=[162, 163, 164],
            split="val",
            unit="epoch",
        ),
    )


def _nan_sudden() -> LogData:
    return log(
        ser(
            "loss",
            [2.30264, math.nan, math.nan, math.nan],
            steps=[0, 200, 400, 600],
            unit="iteration",
        )
    )


def _nan_long() -> LogData:
    y = decay(2000, noise=0.05)
    y[1500:] = math.nan
    return log(ser("loss", y))


def _nan_total_components_finite() -> LogData:
    st = [20, 40, 60, 80]
    return log(
        ser("total loss", [math.nan] * 4, st),
        ser("rpn_loss_cls", [0.648, 0.575, 0.481, 0.407], st),
        ser("loss_cls", [2.15, 0.00001, 0.667, 0.086], st),
    )


def _diverging_explodes_into_nan() -> LogData:
    return log(
        ser(
            "loss",
            [393.183, 1.70709e06, math.nan, math.nan],
            steps=[0, 10, 20, 30],
            unit="iteration",
        )
    )


def _diverging_geometric() -> LogData:
    t = np.arange(32)
    y = 10 * 1.15**t * (1 + 0.2 * rng().standard_normal(32))
    return log(ser("loss", np.abs(y)))


def _oscillating_val_only() -> LogData:
    v = [7.93e12, 6.39e8, 7.05e7, 5.99e7, 5.53e7, 7.24e7, 2.66e7, 6.88e7, 2.07e7, 3.46e7]
    return log(ser("val_loss", v, steps=np.arange(24, 250, 25), split="val"))


def _oscillating_momentum() -> LogData:
    # a damped, re-excited wave (heavy-ball momentum on an ill-conditioned problem): no fixed period
    r = rng()
    y = np.empty(60)
    y[:2] = [0.0, 0.05]
    for i in range(2, 60):
        y[i] = 1.6 * y[i - 1] - 0.85 * y[i - 2] + 0.03 * r.standard_normal()
    y = 0.12 + y
    y = np.clip(y, 0.02, None)
    y[:3] = [0.9, 0.5, 0.25]
    return log(ser("loss", y, unit="epoch"))


def _spikes_short() -> LogData:
    return log(
        ser(
            "loss",
            [0.0294, 0.0536, 1.25873, 1.23278, 0.495886],
            steps=[16000, 16200, 16400, 16600, 16800],
        )
    )


def _spikes_long() -> LogData:
    y = decay(600, 2.3, 0.5, noise=0.03)
    for i in (120, 300, 450):
        y[i] *= 12
    return log(ser("loss", y))


def _plateau_short() -> LogData:
    return log(
        ser(
            "loss",
            [1.8092, 1.8134, 1.8302, 1.8199, 1.8253, 1.8222, 1.8162],
            steps=np.arange(10800, 11101, 50),
        )
    )


def _plateau_after_drop() -> LogData:
    r = rng()
    t = np.concatenate([[1.98], 1.86 + 0.004 * r.standard_normal(29)])
    v = 1.83 + 0.005 * r.standard_normal(30)
    return log(ser("train_loss", t, unit="epoch"), ser("val_loss", v, split="val", unit="epoch"))


def _slow_decrease() -> LogData:
    t = np.arange(200)
    y = 0.6 - 0.0005 * t + 0.01 * rng().standard_normal(200)
    y[0] = 0.69
    return log(ser("loss", y, unit="epoch"))


def _slow_decrease_one_epoch() -> LogData:
    y = [
        3.2596,
        3.1724,
        3.1904,
        3.1122,
        3.1904,
        3.0823,
        3.0725,
        3.0187,
        3.0207,
        2.9203,
        2.9479,
        3.0246,
    ]
    return log(ser("loss", y, steps=np.arange(10, 121, 10)))


def _overfitting_turn() -> LogData:
    n = 100
    t = np.arange(n)
    train = decay(n, 1.8, 0.25, rate=3)
    val = 0.72 + 0.5 * np.exp(-t / 8.0) + np.where(t > 40, 0.004 * (t - 40), 0.0)
    val = val + 0.01 * rng().standard_normal(n)
    return log(
        ser("loss", train, t, unit="epoch"), ser("val_loss", val, t, split="val", unit="epoch")
    )


def _overfitting_short() -> LogData:
    return log(
        ser("loss", [4.7502, 4.1619, 3.8825, 3.6600, 3.4832], unit="epoch"),
        ser("val_loss", [5.5295, 5.8611, 6.2142, 6.3189, 6.5152], split="val", unit="epoch"),
    )


def _train_flat_val_falling() -> LogData:
    t = np.arange(20)
    return log(ser("train_loss", 2.312 - 0.003 * t), ser("val_loss", 2.29 - 0.015 * t, split="val"))


def _both_rising() -> LogData:
    t = np.arange(30)
    return log(
        ser("loss", 1.0 + 0.05 * t + 0.01 * np.sin(t)), ser("val_loss", 1.1 + 0.06 * t, split="val")
    )


def _val_below_train() -> LogData:
    t = decay(20, 2.3, 1.2)
    return log(
        ser("train_loss", t, unit="epoch"), ser("val_loss", t * 0.6, split="val", unit="epoch")
    )


def _val_below_train_single_eval() -> LogData:
    st = [445, 495, 545, 595, 645]
    return log(
        ser("loss", [11.521, 11.346, 11.186, 11.039, 10.902], st, unit="update"),
        ser("valid_loss", [8.11425], [600], split="val", unit="update"),
    )


def _periodic() -> LogData:
    r = rng()
    pattern = r.uniform(0.05, 1.5, 20)
    y = np.tile(pattern, 8) * np.repeat(np.linspace(1.0, 0.8, 8), 20) + 0.02 * r.standard_normal(
        160
    )
    return log(ser("loss", np.abs(y), epochs=np.arange(160) / 20.0))


def _still_learning_noisy() -> LogData:
    return log(ser("loss", decay(400, 2.3, 0.1, rate=3, noise=0.08)))


def _still_learning_short() -> LogData:
    return log(
        ser(
            "total_loss",
            [2.168, 1.2, 0.9, 0.603, 0.5, 0.45, 0.323],
            steps=[19, 59, 99, 139, 199, 259, 299],
        )
    )


CASES: dict[str, tuple[Callable[[], LogData], str]] = {
    "87-short-caffe": (_stuck87_short, "stuck-87-3365"),
    "87-long-after-learning": (_stuck87_long, "stuck-87-3365"),
    "87-half-of-the-batch": (_stuck87_half_batch, "stuck-87-3365"),
    "87-component-while-total-nan": (_stuck87_component_total_nan, "stuck-87-3365"),
    "clamp-bce-100": (_clamp_bce_100, "stuck-at-clamp"),
    "clamp-keras-epsilon": (_clamp_keras_eps, "stuck-at-clamp"),
    "chance-ln10-acc-0.1": (_chance_ln10_with_acc, "stuck-at-chance"),
    "chance-ln1000-smoothed": (_chance_ln1000_smoothed, "stuck-at-chance"),
    "chance-mse-0.25-outputs-0.5": (_chance_mse_half, "stuck-at-chance"),
    "constant-exact": (_stuck_constant_exact, "stuck-constant"),
    "constant-lr-zero": (_stuck_constant_lr_zero, "stuck-constant"),
    "constant-no-updates-noisy": (_stuck_constant_no_updates, "stuck-constant"),
    "zero-loss": (_zero_loss, "zero-loss"),
    "zero-loss-practically": (_zero_loss_practically, "zero-loss"),
    "negative-loss": (_negative_loss, "negative-loss"),
    "nan-sudden": (_nan_sudden, "nan-loss"),
    "nan-long": (_nan_long, "nan-loss"),
    "nan-total-components-finite": (_nan_total_components_finite, "nan-loss"),
    "diverging-explodes-into-nan": (_diverging_explodes_into_nan, "diverging"),
    "diverging-geometric": (_diverging_geometric, "diverging"),
    "oscillating-val-only": (_oscillating_val_only, "oscillating"),
    "oscillating-momentum": (_oscillating_momentum, "oscillating"),
    "spikes-short": (_spikes_short, "spikes"),
    "spikes-long-noisy": (_spikes_long, "spikes"),
    "plateau-short": (_plateau_short, "plateau"),
    "plateau-after-drop": (_plateau_after_drop, "plateau"),
    "slow-decrease-200-epochs": (_slow_decrease, "slow-decrease"),
    "slow-decrease-one-epoch": (_slow_decrease_one_epoch, "slow-decrease"),
    "overfitting-val-turns": (_overfitting_turn, "overfitting"),
    "overfitting-5-epochs": (_overfitting_short, "overfitting"),
    "train-flat-val-falling": (_train_flat_val_falling, "train-flat-val-falling"),
    "both-rising": (_both_rising, "both-rising"),
    "val-below-train": (_val_below_train, "val-below-train"),
    "val-below-train-one-eval": (_val_below_train_single_eval, "val-below-train"),
    "periodic-epoch": (_periodic, "periodic"),
    "still-learning-noisy": (_still_learning_noisy, "still-learning"),
    "still-learning-short": (_still_learning_short, "still-learning"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_primary(name: str) -> None:
    build, want = CASES[name]
    result = diagnose(build())
    assert result.primary == want, [(f.symptom, f.confidence, f.summary) for f in result.findings]
    assert result.findings and result.findings[0].symptom == want
    for f in result.findings:
        assert f.symptom in SYMPTOMS
        assert 0.0 <= f.confidence <= 1.0
        assert f.summary and "\n" not in f.summary


def test_every_symptom_has_a_case() -> None:
    assert {want for _, want in CASES.values()} == set(SYMPTOMS)


# ---------------------------------------------------------------------------------------------
# One noisy reading decides nothing
# ---------------------------------------------------------------------------------------------


def _with_last(y: np.ndarray, value: float) -> np.ndarray:
    y = y.copy()
    y[-1] = value
    return y


NOT_FROM_ONE_POINT: dict[str, tuple[Callable[[], LogData], set[str]]] = {
    "last-reading-up": (
        lambda: log(ser("loss", _with_last(decay(300, noise=0.05), 0.6))),
        {"diverging", "spikes", "overfitting", "both-rising"},
    ),
    "last-val-reading-up": (
        lambda: log(
            ser("loss", decay(30, 2.0, 0.4), unit="epoch"),
            ser("val_loss", _with_last(decay(30, 2.1, 0.5), 0.6), split="val", unit="epoch"),
        ),
        {"overfitting", "both-rising", "diverging"},
    ),
    "one-100-reading": (
        lambda: log(ser("loss", [2.3, 2.0, 100.0, 1.7, 1.5, 1.4])),
        {"stuck-at-clamp"},
    ),
    "one-zero-reading": (
        lambda: log(ser("loss", [0.9, 0.5, 0.2, 0.0, 0.1, 0.05, 0.04])),
        {"zero-loss"},
    ),
    "one-negative-reading": (
        lambda: log(ser("loss", [0.9, 0.5, 0.2, -0.01, 0.1, 0.05, 0.04])),
        {"negative-loss"},
    ),
    "chance-only-at-init": (
        lambda: log(ser("loss", [2.3026, 1.9, 1.5, 1.2, 1.0, 0.9])),
        {"stuck-at-chance"},
    ),
    "passing-through-0.25": (
        lambda: log(ser("loss", decay(60, 0.7, 0.01, rate=3))),
        {"stuck-at-chance"},
    ),
    "linear-fall-ending-on-1.0": (
        lambda: log(ser("loss", np.linspace(2, 1, 10))),
        {"stuck-at-chance"},
    ),
    "passing-0.0000-twice": (
        lambda: log(
            ser("loss", np.round(np.tile([1.5, 0.57, 0.00002, 0.00001, 0.95, 1.57, 0.35], 10), 4))
        ),
        {"zero-loss"},
    ),
}


@pytest.mark.parametrize("name", sorted(NOT_FROM_ONE_POINT))
def test_no_verdict_on_one_point(name: str) -> None:
    build, forbidden = NOT_FROM_ONE_POINT[name]
    result = diagnose(build())
    assert result.primary not in forbidden, [
        (f.symptom, f.confidence, f.summary) for f in result.findings
    ]


# ---------------------------------------------------------------------------------------------
# Selection, summaries, edge cases, speed
# ---------------------------------------------------------------------------------------------


def test_no_loss_series_gives_no_primary() -> None:
    result = diagnose(log(ser("lr", [0.1, 0.1]), ser("acc", [0.5, 0.6])))
    assert result.primary is None and result.findings == () and result.loss is None


def test_empty_log() -> None:
    assert diagnose(log()).primary is None


def test_single_reading_is_harmless() -> None:
    result = diagnose(log(ser("loss", [0.7])))
    assert result.loss is not None


def test_yolo_components_are_summed_and_reported() -> None:
    box = decay(50, 0.10, 0.03)
    obj = decay(50, 0.03, 0.016)
    sel = select_series(
        log(
            ser("train/box_loss", box, unit="epoch"),
            ser("train/obj_loss", obj, unit="epoch"),
            ser("val/box_loss", box * 0.6, split="val", unit="epoch"),
            ser("x/lr0", np.linspace(0.07, 0.0005, 50)),
        )
    )
    assert sel.loss is not None and sel.loss_is_sum
    np.testing.assert_allclose(sel.loss.values, box + obj)
    assert sel.val_loss is not None and sel.val_loss.name == "val/box_loss"
    assert sel.lr is not None and sel.lr.name == "x/lr0"
    result = diagnose(log(ser("train/box_loss", box), ser("train/obj_loss", obj)))
    assert result.extra["loss_is_sum"] is True


@pytest.mark.parametrize(
    "train,val",
    [
        ("loss", "val_loss"),
        ("train_loss", "eval_loss"),
        ("total_loss", "valid_loss"),
        ("train/loss", "val/loss"),
        ("loss_epoch", "test loss"),
        ("train loss", "validation loss"),
        ("epoch_loss", "epoch_loss"),
        ("Loss/train", "Loss/test"),
    ],
)
def test_loss_names(train: str, val: str) -> None:
    sel = select_series(
        log(ser(train, [1.0, 0.9]), ser(val, [1.1, 1.0], split="val"), ser("acc", [0.5, 0.6]))
    )
    assert sel.loss is not None and sel.loss.name == train
    assert sel.val_loss is not None and sel.val_loss.name == val


def test_validation_by_name_when_the_split_is_not_set() -> None:
    sel = select_series(log(ser("loss/train", [1.0, 0.9]), ser("loss/validation", [1.1, 1.0])))
    assert sel.loss is not None and sel.loss.name == "loss/train"
    assert sel.val_loss is not None and sel.val_loss.name == "loss/validation"


def test_caffe_test_loss_by_split() -> None:
    sel = select_series(
        log(
            ser("loss", [2.3, 2.2]),
            ser("loss", [2.30258], [0], split="test"),
            ser("accuracy", [0.1], [0], split="test"),
        )
    )
    assert sel.loss is not None and sel.loss.split == "train"
    assert sel.val_loss is not None and sel.val_loss.split == "test"
    assert sel.val_accuracy and sel.val_accuracy[0].name == "accuracy"


def test_total_preferred_and_components_in_extra() -> None:
    result = diagnose(
        log(
            ser("loss_cls", [1.16, 1.165, 1.164]),
            ser("loss_bbox", [0.646, 0.649, 0.666]),
            ser("loss", [1.809, 1.813, 1.830]),
        )
    )
    assert result.loss is not None and result.loss.name == "loss"
    assert set(result.extra["components"]) == {"loss_cls", "loss_bbox"}  # type: ignore[arg-type]


def test_metric_override() -> None:
    data = log(ser("loss", decay(50)), ser("running_loss", [1.2345] * 50))
    assert diagnose(data).primary == "still-learning"
    result = diagnose(data, metric="running_loss")
    assert (
        result.primary == "stuck-constant"
        and result.loss is not None
        and result.loss.name == "running_loss"
    )


def test_summary_numbers_and_separators() -> None:
    result = diagnose(_stuck87_short())
    assert result.findings[0].summary.startswith(
        "loss constant at 87.3365 from iteration 20 to 40 (2 readings)"
    )
    y = decay(3000, noise=0.02)
    y[1200:] = math.nan
    nan = diagnose(log(ser("loss", y, unit="iteration")))
    assert nan.primary == "nan-loss"
    assert "1,201" in nan.findings[0].summary


def test_overfitting_summary_names_the_turn() -> None:
    result = diagnose(_overfitting_turn())
    f = result.findings[0]
    assert f.symptom == "overfitting" and "epoch" in f.summary and f.start_step is not None


def test_known_constant_table() -> None:
    assert _known_constant(87.3365) is not None and _known_constant(87.3365)[0] == "stuck-87-3365"  # type: ignore[index]
    assert _known_constant(87.34) is not None  # printed with two decimals
    assert _known_constant(43.6683)[0] == "stuck-87-3365"  # type: ignore[index]
    assert _known_constant(100.0)[0] == "stuck-at-clamp"  # type: ignore[index]
    assert _known_constant(16.1181)[0] == "stuck-at-clamp"  # type: ignore[index]
    assert _known_constant(87.3) is not None
    assert _known_constant(87.0) is None
    assert _known_constant(2.3026) is None
    assert _known_constant(1.2345) is None


def test_stats_helpers() -> None:
    assert fmt_step(1200) == "1,200" and fmt_step(2.5) == "2.5"
    assert fmt_value(1.9e4) == "19,000" or fmt_value(1.9e4).startswith("1.9e4")
    assert fmt_value(87.3365447, 6) == "87.3365"
    x = np.arange(100.0)
    slope, _ = theil_sen(x, 3 * x + 1)
    assert slope == pytest.approx(3.0)
    assert mann_kendall_z(x) > 5 and mann_kendall_z(-x) < -5


@pytest.mark.parametrize("n", [1_000_000])
def test_a_million_points_is_fast(n: int) -> None:
    r = np.random.default_rng(0)
    y = 0.2 + 2.0 * np.exp(-np.linspace(0, 5, n)) + 0.05 * r.standard_normal(n)
    v = 0.25 + 2.0 * np.exp(-np.linspace(0, 5, 100))
    data = log(
        ser("loss", np.abs(y)),
        ser("val_loss", v, np.linspace(1, n, 100), split="val"),
        ser("lr", np.full(n, 0.01)),
    )
    diagnose(data)  # warm-up (imports)
    t0 = time.perf_counter()
    result = diagnose(data)
    assert time.perf_counter() - t0 < 1.5  # about 0.3 s on an idle machine
    assert result.primary is not None


# ---------------------------------------------------------------------------------------------
# Whatever the readings, diagnose answers
# ---------------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=-5, max_value=100),
    st.sampled_from([0.0, 87.3365, 100.0, 2.3026, 0.6931, 0.25, 16.1181, math.nan]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    train=st.lists(_values, min_size=0, max_size=40),
    val=st.lists(_values, min_size=0, max_size=15),
    steps_shuffled=st.booleans(),
    with_lr=st.booleans(),
)
def test_diagnose_never_fails(
    train: list[float], val: list[float], steps_shuffled: bool, with_lr: bool
) -> None:
    steps = np.arange(len(train), dtype=float)
    if steps_shuffled:
        steps = steps[::-1].copy()
    series = [ser("loss", train, steps)]
    if val:
        series.append(
            ser("val_loss", val, np.linspace(0, max(len(train), 1), len(val)), split="val")
        )
    if with_lr and train:
        series.append(ser("lr", np.zeros(len(train)), steps))
    result = diagnose(log(*series))
    assert result.primary is None or result.primary in SYMPTOMS
    assert len({f.symptom for f in result.findings}) == len(result.findings)
    for f in result.findings:
        assert 0.0 <= f.confidence <= 1.0 and f.summary


# ---------------------------------------------------------------------------------------------
# Healthy curves with ordinary per-batch noise get healthy verdicts
# ---------------------------------------------------------------------------------------------

HEALTHY = {"still-learning", "plateau", "slow-decrease"}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [15, 120, 3000])
@pytest.mark.parametrize("noise", [0.02, 0.25])
def test_noisy_healthy_curves(seed: int, n: int, noise: float) -> None:
    r = np.random.default_rng(seed)
    start = r.uniform(0.5, 8.0)
    end = start * r.uniform(0.02, 0.5)
    t = np.linspace(0, 1, n)
    y = end + (start - end) * np.exp(-r.uniform(1, 8) * t)
    y = np.round(y * np.exp(noise * r.standard_normal(n)), 4)
    result = diagnose(log(ser("loss", y, np.arange(n) * 10.0)))
    assert result.primary in HEALTHY, [
        (f.symptom, f.confidence, f.summary) for f in result.findings
    ]


def test_converging_onto_a_value_near_ln9_is_not_chance() -> None:
    y = np.round(2.1928 + 0.6 * np.exp(-np.arange(15) / 2.0), 4)
    assert diagnose(log(ser("loss", y))).primary != "stuck-at-chance"


def test_noisy_chance_level_binary() -> None:
    r = np.random.default_rng(3)
    y = np.round(0.6931 + 0.002 * r.standard_normal(40), 4)
    result = diagnose(
        log(ser("loss", y), ser("val_loss", np.full(10, 0.6931), np.arange(4, 41, 4), split="val"))
    )
    assert result.primary == "stuck-at-chance"
    assert "ln 2" in result.findings[0].summary


def test_epsilon_fractions_that_are_chance_levels_stay_chance() -> None:
    # -ln(1e-12) / 4 = ln 1000: a softmax over 1000 classes at chance, not a clamp
    result = diagnose(
        log(
            ser("loss", [6.91161, 6.90501, 6.90635]),
            ser("output_loss", [6.91161, 6.90776, 6.90776]),
        )
    )
    assert result.primary == "stuck-at-chance"


def test_darknet_uses_the_running_average() -> None:
    data = LogData(
        "x.log",
        "darknet",
        (
            ser("loss", [625.2, 286.2, 555.0, 287.9]),
            ser("avg_loss", [517.6, 533.3, 508.8, 486.4]),
            ser("rate", [0.001] * 4),
        ),
    )
    sel = select_series(data)
    assert sel.loss is not None and sel.loss.name == "avg_loss"
    assert sel.lr is not None and sel.lr.name == "rate"
