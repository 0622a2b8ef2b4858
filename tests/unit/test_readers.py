"""Every log format: the real sample logs (tests/data/logs/sample) and inline snippets for
the formats the samples lack. Asserts format, series names, splits, counts, first / last
values and NaN handling."""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.triage.read import read_log
from assistant.triage.readers import READERS, pick
from assistant.triage.readers.base import to_float
from assistant.triage.readers.caffe import ITER_RE, Piece, _exact, _fast, parse_piece

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "logs" / "sample"
LABELS = list(csv.DictReader(open(SAMPLES / "labels.tsv", encoding="utf-8"), delimiter="\t"))
# 24 is an nnU-Net log: the nnunet reader claims it before the generic print reader
FORMAT_ALIASES = {"24-print-nnunet-negative.log": {"plain-print", "nnunet"}}


def series(log, name: str, split: str = "train"):
    for s in log.series:
        if s.name == name and s.split == split:
            return s
    raise AssertionError(f"no series {name}/{split} in {[(s.name, s.split) for s in log.series]}")


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-6)


@pytest.mark.parametrize("row", LABELS, ids=[r["file"] for r in LABELS])
def test_every_sample_is_read_in_its_format(row: dict[str, str]) -> None:
    log = read_log(str(SAMPLES / row["file"]))
    assert log.format in FORMAT_ALIASES.get(row["file"], {row["format"]})
    assert any("loss" in s.name for s in log.series)
    for s in log.series:
        assert s.steps.dtype == np.float64 and s.values.dtype == np.float64
        assert len(s.steps) == len(s.values) > 0
        assert not np.isnan(s.steps).any()
        assert s.name == s.name.lower()


# (file, name, split, points, first step, first value, last step, last value, step unit)
EXPECT = [
    ("01-caffe-c3d-stuck87.log", "loss", "train", 3, 0, 6.07532, 40, 87.3365, "iteration"),
    ("01-caffe-c3d-stuck87.log", "lr", "train", 2, 0, 0.01, 20, 0.01, "iteration"),
    (
        "02-caffe-mtcnn-87-nan.log",
        "loss",
        "train",
        2,
        98000,
        math.nan,
        98500,
        math.nan,
        "iteration",
    ),
    (
        "02-caffe-mtcnn-87-nan.log",
        "cls_loss",
        "train",
        2,
        98000,
        0.693147,
        98500,
        87.3365,
        "iteration",
    ),
    ("02-caffe-mtcnn-87-nan.log", "roi_loss", "train", 2, 98000, math.nan, 98500, 0.0, "iteration"),
    (
        "03-caffe-mobilenetv3-chance.log",
        "output_loss",
        "train",
        5,
        0,
        6.91161,
        80,
        6.90776,
        "iteration",
    ),
    (
        "04-caffe-faceresnet-chance.log",
        "softmax_loss",
        "train",
        2,
        0,
        11.3477,
        20,
        11.2852,
        "iteration",
    ),
    ("05-caffe-cifar10-nan.log", "loss", "train", 4, 0, 2.30264, 600, math.nan, "iteration"),
    ("05-caffe-cifar10-nan.log", "score_1", "val", 1, 0, 2.30258, 0, 2.30258, "iteration"),
    ("06-caffe-ssd-diverging.log", "mbox_loss", "train", 4, 0, 463.676, 30, math.nan, "iteration"),
    ("07-caffe-c3d-spikes.log", "loss", "train", 4, 16200, 0.0536419, 16800, 0.495886, "iteration"),
    ("08-keras-v1-val-rising.log", "val_loss", "val", 5, 1, 5.5295, 5, 6.5152, "epoch"),
    ("09-keras-v1-cifar10.log", "loss", "train", 10, 1, 1.7646, 10, 0.9029, "epoch"),
    ("09-keras-v1-cifar10.log", "val_acc", "val", 10, 1, 0.5161, 10, 0.7464, "epoch"),
    ("10-keras-v2-overfit.log", "loss", "train", 7, 12, 0.1026, 100, 4.8201e-04, "epoch"),
    (
        "11-kerascsv-car-cnn.log",
        "val_loss",
        "val",
        100,
        0,
        1.8974509239196777,
        99,
        0.7466485500335693,
        "epoch",
    ),
    (
        "12-lightning-lstm-chance.csv",
        "train_loss",
        "train",
        80,
        49,
        0.6388602256774902,
        3999,
        0.2501671612262726,
        "step",
    ),
    (
        "13-lightning-lstm-learning.csv",
        "train_loss",
        "train",
        80,
        49,
        0.16592290997505188,
        3999,
        0.002779053756967187,
        "step",
    ),
    (
        "14-lightning-grapevine-valloss.csv",
        "val_loss",
        "val",
        10,
        24,
        7930013286400.0,
        249,
        34560012.0,
        "step",
    ),
    ("15-hf-hatespeech-zero.json", "loss", "train", 150, 10, 0.8496, 1500, 0.0, "step"),
    (
        "15-hf-hatespeech-zero.json",
        "eval_loss",
        "val",
        1,
        1500,
        2.0876665075775236e-05,
        1500,
        2.0876665075775236e-05,
        "step",
    ),
    ("16-hf-falcon-lora.json", "learning_rate", "train", 12, 10, 4.64e-05, 120, 2.4e-06, "step"),
    ("17-yolov5-seatbelt.csv", "val/box_loss", "val", 50, 0, 0.059104, 49, 0.034368, "epoch"),
    ("18-yolov8-cucumber.csv", "train/cls_loss", "train", 10, 1, 2.96842, 10, 1.37381, "epoch"),
    (
        "19-mmdet-plateau.log",
        "loss",
        "train",
        7,
        2 * 12414 + 10800,
        1.8092,
        2 * 12414 + 11100,
        1.8162,
        "iteration",
    ),
    (
        "20-detectron2-maskrcnn.json",
        "total_loss",
        "train",
        16,
        19,
        2.1678951284848154,
        299,
        0.3522665523341857,
        "iteration",
    ),
    (
        "21-darknet-yolov3tiny.log",
        "avg_loss",
        "train",
        17,
        75,
        517.632019,
        91,
        399.3591,
        "iteration",
    ),
    ("22-fairseq-transformer.log", "valid_loss", "val", 1, 600, 8.11425, 600, 8.11425, "update"),
    ("22-fairseq-transformer.log", "loss", "train", 5, 445, 11.521, 645, 10.902, "update"),
    ("23-print-rooftop-seg.log", "loss", "train", 200, 1, 0.6924, 200, 0.5025, "epoch"),
    (
        "24-print-nnunet-negative.log",
        "validation_loss",
        "val",
        3,
        162,
        -0.4029,
        164,
        -0.4186,
        "epoch",
    ),
    (
        "25-print-tf-frcnn-nan.log",
        "total_loss",
        "train",
        4,
        20,
        math.nan,
        80,
        math.nan,
        "iteration",
    ),
    ("25-print-tf-frcnn-nan.log", "loss_cls", "train", 4, 20, 2.149889, 80, 0.085850, "iteration"),
]


@pytest.mark.parametrize("case", EXPECT, ids=[f"{c[0][:2]}-{c[1]}" for c in EXPECT])
def test_sample_series_values(case: tuple) -> None:
    f, name, split, n, s0, v0, s1, v1, unit = case
    s = series(read_log(str(SAMPLES / f)), name, split)
    assert s.points == n
    assert s.steps[0] == s0 and s.steps[-1] == s1
    assert same(float(s.values[0]), v0) and same(float(s.values[-1]), v1)
    assert s.step_unit == unit


def test_yolo_totals_are_sums_of_components() -> None:
    log = read_log(str(SAMPLES / "17-yolov5-seatbelt.csv"))
    total = series(log, "val/loss", "val")
    assert total.values[0] == pytest.approx(0.059104 + 0.017403 + 0)
    assert series(log, "metrics/map_0.5", "val").points == 50
    log8 = read_log(str(SAMPLES / "18-yolov8-cucumber.csv"))
    assert series(log8, "train/loss").values[0] == pytest.approx(1.208 + 2.96842 + 1.65791)


def test_darknet_nan_and_detectron_duplicates_kept() -> None:
    log = read_log(str(SAMPLES / "20-detectron2-maskrcnn.json"))
    assert list(series(log, "total_loss").steps[:2]) == [19, 19]


@pytest.mark.parametrize(
    "text",
    [
        "nan",
        "NaN",
        "-nan",
        "inf",
        "-inf",
        "Infinity",
        "1.#INF",
        "1.#QNAN",
        "-1.#IND",
        "-nan(ind)",
        "-Infinity",
    ],
)
def test_every_nan_inf_spelling(text: str) -> None:
    v = to_float(text)
    assert math.isnan(v) or math.isinf(v)
    if "INF" in text.upper() and "#IND" not in text:
        assert math.isinf(v) and (v < 0) == text.startswith("-")


def _write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_caffe_nan_spellings_and_test_net(tmp_path: Path) -> None:
    text = "".join(
        f"I0101 00:00:00.0 1 solver.cpp:218] Iteration {i} (1 iter/s, 1s/20 iters), loss = {v}\n"
        f"I0101 00:00:00.0 1 solver.cpp:237]     Train net output #0: loss = {v} (* 1 = {v} loss)\n"
        f"I0101 00:00:00.0 1 sgd_solver.cpp:105] Iteration {i}, lr = 0.01\n"
        for i, v in [(0, "2.3"), (20, "1.#QNAN"), (40, "-1.#IND"), (60, "1.#INF"), (80, "-nan")]
    )
    text += (
        "I0101 00:00:00.0 1 solver.cpp:330] Iteration 100, Testing net (#0)\n"
        "I0101 00:00:00.0 1 solver.cpp:397]     Test net output #0: accuracy = 0.1\n"
        "I0101 00:00:00.0 1 solver.cpp:397]     Test net output #1: loss = 2.30258 (* 1 = 2.30258 loss)\n"
    )
    log = read_log(_write(tmp_path, "caffe.log", text))
    loss = series(log, "loss")
    assert loss.points == 5 and math.isinf(loss.values[3]) and math.isnan(loss.values[2])
    assert series(log, "loss", "val").steps[0] == 100
    assert series(log, "accuracy", "val").values[0] == 0.1


def test_caffe_fast_path_matches_exact_path() -> None:
    data = b"".join(
        (SAMPLES / f"0{i}-{n}").read_bytes()
        for i, n in [
            (1, "caffe-c3d-stuck87.log"),
            (2, "caffe-mtcnn-87-nan.log"),
            (4, "caffe-faceresnet-chance.log"),
            (6, "caffe-ssd-diverging.log"),
        ]
    )
    fast = parse_piece(data)
    exact = Piece()
    _exact(data, exact)

    def flat(p: Piece) -> dict:
        return {
            k: (
                np.concatenate([s for s, _ in v]).tolist(),
                np.concatenate([x for _, x in v]).tolist(),
            )
            for k, v in p.cols.items()
        }

    a, b = flat(fast), flat(exact)
    # and the fast path is really taken on a regular log with test phases
    body = b"".join(
        b"I0622 11:17:26.0 4178 solver.cpp:228] Iteration %d (1 iter/s, 1s/20 iters), loss = %g\n"
        b"I0622 11:17:26.0 4178 solver.cpp:244]     Train net output #0: center_loss = %g (* 0.008 = 0.1 loss)\n"
        b"I0622 11:17:26.0 4178 solver.cpp:244]     Train net output #1: softmax_loss = %g (* 1 = 1 loss)\n"
        b"I0622 11:17:26.0 4178 sgd_solver.cpp:106] Iteration %d, lr = 0.1\n"
        % (i, 1.0 / (i + 1), i, i + 0.5, i)
        + (
            b"I0622 11:17:26.0 4178 solver.cpp:330] Iteration %d, Testing net (#0)\n"
            b"I0622 11:17:26.0 4178 solver.cpp:397]     Test net output #0: center_loss = 0.5\n" % i
            if i % 100 == 0
            else b""
        )
        for i in range(0, 400, 20)
    )
    p = Piece()
    assert _fast(body, 0, p)
    ex = Piece()
    _exact(body, ex)
    assert flat(p).keys() == flat(ex).keys()
    for k, (st, v) in flat(p).items():
        assert st == flat(ex)[k][0] and np.array_equal(v, flat(ex)[k][1]), k
    assert len(flat(p)[("softmax_loss", "train")][1]) == 20
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(np.array(a[k]), np.array(b[k]), equal_nan=True), k
    assert ITER_RE.pattern


SNIPPETS: dict[str, tuple[str, str, list[tuple[str, str, int, float, float]]]] = {
    # name: (filename, text, [(series, split, points, first value, last step)])
    "keras-csvlogger": (
        "training.log",
        "epoch,acc,loss,val_acc,val_loss\n0,0.5,0.69,0.5,nan\n1,0.6,0.6,0.55,0.65\n",
        [("loss", "train", 2, 0.69, 1), ("val_loss", "val", 2, math.nan, 1)],
    ),
    "lightning-csv": (
        "metrics.csv",
        "epoch,step,train_loss,val_loss\n0,49,0.7,\n0,49,,0.8\n1,99,0.6,\n1,99,,0.75\n",
        [("train_loss", "train", 2, 0.7, 99), ("val_loss", "val", 2, 0.8, 99)],
    ),
    "csv-table": (
        "log.tsv",
        "iter\ttrain_loss\tval_loss\n100\t0.9\t1.0\n200\t0.8\t0.95\n",
        [("train_loss", "train", 2, 0.9, 200), ("val_loss", "val", 2, 1.0, 200)],
    ),
    "json-lines": (
        "log.jsonl",
        '{"step": 1, "loss": 0.9, "val_loss": 1.1}\n{"step": 2, "loss": NaN}\n{"step": 3, "los',
        [("loss", "train", 2, 0.9, 2), ("val_loss", "val", 1, 1.1, 1)],
    ),
    "mmdet-json": (
        "20230101.log.json",
        '{"env_info": "x"}\n{"mode": "train", "epoch": 1, "iter": 50, "lr": 0.02, "loss_cls": 1.1, "loss": 1.5, "time": 0.3}\n'
        '{"mode": "train", "epoch": 1, "iter": 100, "lr": 0.02, "loss_cls": 1.0, "loss": 1.4}\n'
        '{"mode": "val", "epoch": 1, "iter": 500, "bbox_mAP": 0.1}\n'
        '{"mode": "train", "epoch": 2, "iter": 50, "lr": 0.02, "loss_cls": 0.9, "loss": 1.2}\n',
        [("loss", "train", 3, 1.5, 150), ("bbox_map", "val", 1, 0.1, 100)],
    ),
    "mmdet-text": (
        "train.log",
        "2023/01/01 10:00:00 - mmengine - INFO - Epoch(train)  [1][ 50/100]  lr: 2.0000e-02  eta: 0:10:00  time: 0.5  data_time: 0.01  memory: 3000  loss: 1.5  loss_cls: 1.0  loss_bbox: 0.5\n"
        "2023/01/01 10:00:30 - mmengine - INFO - Epoch(train)  [1][100/100]  lr: 2.0000e-02  eta: 0:09:00  time: 0.5  data_time: 0.01  memory: 3000  loss: nan  loss_cls: nan  loss_bbox: 0.4\n"
        "2023/01/01 10:01:00 - mmengine - INFO - Epoch(val) [1][10/10]    coco/bbox_mAP: 0.0100  data_time: 0.1  time: 0.2\n",
        [("loss", "train", 2, 1.5, 100), ("coco/bbox_map", "val", 1, 0.01, 100)],
    ),
    "tf-object-detection": (
        "train.log",
        "I0101 00:00:00.0 1 model_lib_v2.py:705] Step 100 per-step time 0.512s loss=1.234\n"
        "INFO:tensorflow:{'Loss/classification_loss': 0.5,\n 'Loss/localization_loss': 0.4,\n 'Loss/regularization_loss': 0.3,\n 'Loss/total_loss': 1.234,\n 'learning_rate': 0.01}\n"
        "I0101 00:00:00.0 1 model_lib_v2.py:705] Step 200 per-step time 0.5s loss=nan\n"
        "INFO:tensorflow:{'Loss/classification_loss': nan, 'Loss/total_loss': nan, 'learning_rate': 0.01}\n"
        "INFO:tensorflow:\t+ Loss/total_loss: 1.5\n",
        [
            ("loss/total_loss", "train", 2, 1.234, 200),
            ("loss", "train", 2, 1.234, 200),
            ("loss/total_loss", "val", 1, 1.5, 200),
        ],
    ),
    "mxnet-speedometer": (
        "log.txt",
        "INFO:root:Epoch[0] Batch [100]\tSpeed: 1000.00 samples/sec\taccuracy=0.1\tcross-entropy=2.30\n"
        "INFO:root:Epoch[0] Batch [200]\tSpeed: 1000.00 samples/sec\taccuracy=0.2\tcross-entropy=2.10\n"
        "INFO:root:Epoch[0] Train-accuracy=0.25\nINFO:root:Epoch[0] Time cost=10.0\nINFO:root:Epoch[0] Validation-accuracy=0.3\n"
        "INFO:root:Epoch[1] Batch [100]\tSpeed: 1000.00 samples/sec\taccuracy=0.4\tcross-entropy=1.9\n",
        [
            ("cross-entropy", "train", 3, 2.30, 1 + 100 / 300),
            ("validation-accuracy", "val", 1, 0.3, 1.0),
        ],
    ),
    "espnet": (
        "train.log",
        "[host] 2021-01-01 (trainer:300) INFO: 1epoch results: [train] iter_time=0.1, loss=104.5, acc=0.3, loss_ctc=150.2, train_time=0.5, time=10 minutes, [valid] loss=80.1, acc=0.4, cer=0.5, [att_plot] time=1.0\n"
        "[host] 2021-01-01 (trainer:300) INFO: 2epoch results: [train] iter_time=0.1, loss=90.5, acc=0.35, loss_ctc=120.2, [valid] loss=75.0, acc=0.45\n",
        [("loss", "train", 2, 104.5, 2), ("valid/loss", "val", 2, 80.1, 2)],
    ),
    "espnet1": (
        "log",
        "epoch       iteration   main/loss   main/loss_ctc  validation/main/loss  elapsed_time\n"
        "1           100         150.2       200.1                                 60.1\n"
        "1           200         120.2       180.1          110.5                  121.0\n",
        [("main/loss", "train", 2, 150.2, 200), ("validation/main/loss", "val", 1, 110.5, 200)],
    ),
    "nnunet": (
        "training_log.txt",
        "2023-01-01 10:00:00.000000: \n2023-01-01 10:00:00.000000: Epoch 0\n2023-01-01 10:00:00.000000: Current learning rate: 0.01\n"
        "2023-01-01 10:01:00.000000: train_loss -0.1234\n2023-01-01 10:01:00.000000: val_loss -0.2\n2023-01-01 10:01:00.000000: Pseudo dice [0.5, 0.7]\n"
        "2023-01-01 10:01:00.000000: Epoch 1\n2023-01-01 10:02:00.000000: train_loss nan\n",
        [("train_loss", "train", 2, -0.1234, 1), ("pseudo_dice", "val", 1, 0.6, 0)],
    ),
    "hf-trainer-stdout": (
        "out.txt",
        " 10%|█         | 50/500 [00:10<01:30,  5.00it/s]{'loss': 0.6931, 'grad_norm': 1.5, 'learning_rate': 4.5e-05, 'epoch': 0.1}\n"
        "{'loss': 0.5, 'learning_rate': 4e-05, 'epoch': 0.2}\n{'eval_loss': 0.55, 'eval_runtime': 3.0, 'epoch': 0.2}\n",
        [("loss", "train", 2, 0.6931, 0.2), ("eval_loss", "val", 1, 0.55, 0.2)],
    ),
    "tqdm": (
        "out.log",
        "\rtrain 1:   0%|          | 0/3 [00:00<?, ?it/s, loss=2.5]\rtrain 1:  33%|###       | 1/3 [00:00<00:01, 48.7it/s, loss=2.5]"
        "\rtrain 1:  67%|######    | 2/3 [00:00<00:01, 48.7it/s, loss=nan]\rtrain 1: 100%|##########| 3/3 [00:00<00:00, 48.7it/s, loss=2.1]\n"
        "\rtrain 2:  33%|###       | 1/3 [00:00<00:01, 48.7it/s, loss=1.9]\n",
        [("loss", "train", 5, 2.5, 4)],
    ),
    "lightning-stdout": (
        "out.log",
        "Epoch 0: 100%|██████████| 50/50 [00:01<00:00, 30.00it/s, loss=0.693, v_num=0]\r"
        "Epoch 1:  50%|█████     | 25/50 [00:00<00:00, 30.00it/s, loss=0.6, v_num=0]\r"
        "Epoch 1: 100%|██████████| 50/50 [00:01<00:00, 30.00it/s, loss=0.5, v_num=0, val_loss=0.55]\n",
        [("loss", "train", 3, 0.693, 100), ("val_loss", "val", 1, 0.55, 100)],
    ),
    "darknet": (
        "train.txt",
        "Region Avg IOU: 0.1\n 1: 1.#INF, 1.#INF avg loss, 0.001000 rate, 3.2 seconds, 64 images, 10.5 hours left\n 2: 560.1, 560.1 avg loss, 0.001000 rate, 3.1 seconds, 128 images\n",
        [("loss", "train", 2, math.inf, 2), ("rate", "train", 2, 0.001, 2)],
    ),
    "plain-print": (
        "train.log",
        "epoch 1 iter 100 loss 0.69 acc 0.5\nepoch 1 iter 200 loss 0.65\n[1/20] train_loss=0.6 val_loss=0.7\n",
        [("loss", "train", 2, 0.69, 200), ("val_loss", "val", 1, 0.7, 200)],
    ),
    "plain-print-kv": (
        "train.log",
        "loss: 0.69 - val_loss: 0.70\nloss: 0.60 - val_loss: 0.72\n",
        [("loss", "train", 2, 0.69, 2), ("val_loss", "val", 2, 0.70, 2)],
    ),
    "plain-print-epoch": (
        "train.log",
        "Epoch: 1 Loss: 0.6924\nEpoch: 2 Loss: -1.#IND\n",
        [("loss", "train", 2, 0.6924, 2)],
    ),
    "plain-print-table": (
        "train.log",
        "| epoch | loss | val_loss |\n|---|---|---|\n| 1 | 0.69 | 0.71 |\n| 2 | 0.60 | inf |\n",
        [("loss", "train", 2, 0.69, 2), ("val_loss", "val", 2, 0.71, 2)],
    ),
    "keras-stdout-v2": (
        "out.log",
        "Epoch 1/3\n1875/1875 - 3s - loss: 0.2931 - accuracy: 0.9150 - val_loss: 0.1500 - val_accuracy: 0.95 - 3s/epoch - 2ms/step\n"
        "Epoch 2/3\n1875/1875 - 3s - loss: nan - accuracy: 0.1 - val_loss: nan - val_accuracy: 0.1 - 3s/epoch - 2ms/step\n",
        [("loss", "train", 2, 0.2931, 2), ("val_accuracy", "val", 2, 0.95, 2)],
    ),
    "keras-stdout-v1": (
        "out.log",
        "Epoch 1/2\n\r  32/1000 [..............................] - ETA: 10s - loss: 2.3000 - acc: 0.1000"
        "\x08"
        * 70
        + "\r1000/1000 [==============================] - 2s 2ms/step - loss: 1.5000 - acc: 0.4000 - val_loss: 1.4000 - val_acc: 0.4500\n"
        "Epoch 2/2\n\r1000/1000 [==============================] - 2s 2ms/step - loss: 1.2000 - acc: 0.5000 - val_loss: 1.3000 - val_acc: 0.5000\n",
        [("loss", "train", 2, 1.5, 2), ("val_loss", "val", 2, 1.4, 2)],
    ),
}


@pytest.mark.parametrize("key", list(SNIPPETS), ids=list(SNIPPETS))
def test_snippet_formats(tmp_path: Path, key: str) -> None:
    filename, text, expect = SNIPPETS[key]
    log = read_log(_write(tmp_path, filename, text))
    fmt = {
        "espnet1": "espnet",
        "plain-print-kv": "plain-print",
        "plain-print-epoch": "plain-print",
        "plain-print-table": "plain-print",
    }.get(key, key)
    assert log.format == fmt
    for name, split, n, v0, last_step in expect:
        s = series(log, name, split)
        assert s.points == n, (name, s.values)
        assert same(float(s.values[0]), v0), (name, s.values)
        assert float(s.steps[-1]) == pytest.approx(last_step), (name, s.steps)


def test_tensorboard_run_directory(tmp_path: Path) -> None:
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    for sub, off in (("train", 0.0), ("validation", 0.1)):
        (tmp_path / "run" / sub).mkdir(parents=True)
        w = EventFileWriter(str(tmp_path / "run" / sub))
        for step in range(4):
            value = summary_pb2.Summary.Value(tag="epoch_loss", simple_value=1.0 / (step + 1) + off)
            w.add_event(
                event_pb2.Event(
                    wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value])
                )
            )
        w.close()
    log = read_log(str(tmp_path / "run"))
    assert log.format == "tensorboard"
    tr, va = series(log, "epoch_loss"), series(log, "epoch_loss", "val")
    assert tr.points == va.points == 4
    assert tr.values[0] == pytest.approx(1.0) and va.values[-1] == pytest.approx(0.35)


def test_every_reader_has_name_and_sniffs_strings() -> None:
    names = [r.name for r in READERS]
    assert len(names) == len(set(names))
    for r in READERS:
        assert 0.0 <= r().sniff("", "") <= 1.0
    assert pick("random text", "x.txt").name == "plain-print"


def test_generic_fast_path_matches_line_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.triage.readers.generic import GenericReader

    lines = []
    for i in range(600):
        lines.append(
            f"2024-01-01 10:00:{i % 60:02d},123 - train - INFO - epoch {i // 100} iter {i} "
            f"loss: {1 / (i + 1):.5f} lr: 0.001 acc: {float('nan') if i == 300 else i / 600:.3f}"
        )
        if i % 7 == 0:
            lines.append("2024-01-01 10:00:00,123 - train - DEBUG - worker ready")
        if i % 100 == 99:
            lines.append(
                f"2024-01-01 10:00:00,123 - train - INFO - epoch {i // 100} val_loss: {i / 1000:.3f}"
            )
    text = ("\n".join(lines) + "\n").encode()
    half = text.rfind(b"\n", 0, len(text) // 2) + 1
    monkeypatch.setattr(GenericReader, "BULK_MIN_BYTES", 1)
    fast = {
        (b.name, b.split): b
        for b in GenericReader().parse([text[:2000], text[2000:half], text[half:]])
    }
    slow = {(b.name, b.split): b for b in GenericReader().parse_lines(text.decode().split("\n"))}
    assert (
        fast.keys()
        == slow.keys()
        == {("loss", "train"), ("lr", "train"), ("acc", "train"), ("val_loss", "val")}
    )
    for k in slow:
        assert np.array_equal(fast[k].steps, slow[k].steps), k
        assert np.array_equal(fast[k].values, slow[k].values, equal_nan=True), k
    # without the val_loss lines every chunk takes the fast path, with the same result
    text = b"\n".join(ln for ln in text.split(b"\n") if b"val_loss" not in ln)
    fast = {(b.name, b.split): b for b in GenericReader().parse([text[:2000], text[2000:]])}
    slow = {(b.name, b.split): b for b in GenericReader().parse_lines(text.decode().split("\n"))}
    for k in slow:
        assert np.array_equal(fast[k].steps, slow[k].steps), k
        assert np.array_equal(fast[k].values, slow[k].values, equal_nan=True), k
        assert np.array_equal(fast[k].epochs, slow[k].epochs), k


def test_caffe_parallel_pieces_match_sequential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.triage import read

    lines = []
    for i in range(0, 4000, 20):
        lines.append(
            f"I0101 00:00:00.0 1 solver.cpp:218] Iteration {i} (1 iter/s, 1s/20 iters), loss = {1 / (i + 1):g}"
        )
        lines.append(
            f"I0101 00:00:00.0 1 solver.cpp:237]     Train net output #0: acc = {i / 4000:g}"
        )
        lines.append(
            f"I0101 00:00:00.0 1 solver.cpp:237]     Train net output #1: loss = {2 / (i + 1):g} (* 1 = 1 loss)"
        )
        lines.append(f"I0101 00:00:00.0 1 sgd_solver.cpp:105] Iteration {i}, lr = 0.01")
        if i % 1000 == 0:
            lines.append(f"I0101 00:00:00.0 1 solver.cpp:330] Iteration {i}, Testing net (#0)")
            lines.append(
                "I0101 00:00:00.0 1 solver.cpp:397]     Test net output #0: loss = 0.5 (* 1 = 0.5 loss)"
            )
    p = tmp_path / "caffe.log"
    p.write_text("\n".join(lines) + "\n")
    seq = read_log(str(p))
    monkeypatch.setattr(read, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(read, "PIECE_BYTES", 3000)  # many pieces, cut inside blocks
    calls: list[int] = []
    par = read_log(str(p), progress=lambda d, t: calls.append(d))
    assert len(calls) > 10 and calls[-1] == p.stat().st_size
    assert [(s.name, s.split) for s in seq.series] == [(s.name, s.split) for s in par.series]
    for a, b in zip(seq.series, par.series, strict=True):
        assert np.array_equal(a.steps, b.steps) and np.array_equal(a.values, b.values), a.name
    assert series(par, "output_loss").points == 200 and series(par, "loss", "val").points == 4
