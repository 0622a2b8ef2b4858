"""Text logs of training frameworks, one small line-regex class each: MMDetection /
MMEngine text logger, fairseq, TensorFlow Object Detection API, MXNet Speedometer, ESPnet
(ESPnet1 report table and ESPnet2 epoch results), nnU-Net (v1 and v2) and the dicts the
Hugging Face Trainer prints (``{'loss': 0.69, 'learning_rate': ..., 'epoch': 0.5}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ..model import Reading, Split
from .base import NOT_METRICS, NUM, Batch, LineReader, kv_pairs, norm_name, split_of, to_float

# --------------------------------------------------------------------------- MMDetection
MM_EPOCH_RE = re.compile(
    r"Epoch(?:\((train|val|test)\))?\s*\[(\d+)\]\s*\[\s*(\d+)\s*(?:/\s*(\d+))?\]"
)
MM_ITER_RE = re.compile(r"Iter(?:\((train|val|test)\))?\s*\[\s*(\d+)\s*(?:/\s*(\d+))?\]")
MM_KV_RE = re.compile(r"(?<![\w/])([A-Za-z][\w/.\-]*(?:\(\w+\))?):\s*(" + NUM + r")(?![\w.:#])")


class MMDetTextReader(LineReader):
    """MMDetection 2.x (``Epoch [3][10800/12414]\\tlr: ..., loss: 1.8``) and MMEngine
    (``Epoch(train)  [1][ 50/625]  lr: ...  loss: ...``, ``Iter(train) [ 50/80000] ...``)
    text logs. Steps are global iterations: (epoch - 1) * iterations per epoch + iteration."""

    name = "mmdet-text"
    step_unit = "iteration"

    def sniff(self, head: str, filename: str) -> float:
        n = len(MM_EPOCH_RE.findall(head)) + len(MM_ITER_RE.findall(head))
        if n and re.search(r"\blr: ", head) and "loss" in head:
            return 0.93
        return 0.5 if n >= 2 else 0.0

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        per_epoch = 0.0
        last_step = 0.0
        for line in lines:
            m = MM_EPOCH_RE.search(line)
            mode: str | None
            ep: float | None
            if m:
                mode, ep, it = m.group(1), float(m.group(2)), float(m.group(3))
                if m.group(4) and mode not in ("val", "test"):
                    per_epoch = float(m.group(4))
                rest = line[m.end() :]
                if mode in ("val", "test"):
                    step = ep * per_epoch if per_epoch else last_step
                else:
                    step = (ep - 1) * per_epoch + it if per_epoch else it
            else:
                m2 = MM_ITER_RE.search(line)
                if not m2:
                    continue
                mode, ep, rest = m2.group(1), None, line[m2.end() :]
                step = float(m2.group(2)) if mode not in ("val", "test") else last_step
            if mode not in ("val", "test"):
                last_step = step
            for k, v in MM_KV_RE.findall(rest):
                name = norm_name(k)
                if name in NOT_METRICS or name == "grad_norm" and False:
                    continue
                split = "val" if mode == "val" else "test" if mode == "test" else split_of(name)
                if "/" in name and name.split("/")[0] in ("coco", "pascal_voc") or "map" in name:
                    split = "val" if mode != "test" else "test"
                yield Reading(name, split, step, to_float(v), ep)


# --------------------------------------------------------------------------- fairseq
FS_INNER_RE = re.compile(r"epoch (\d+):\s+\d+\s*/\s*\d+\s+(.*)")
FS_PIPE_RE = re.compile(r"\|\s*epoch (\d+)\s*\|(.*)")
FS_PAIR_RE = re.compile(r"(?:^|[|,]\s*)([A-Za-z_][\w]*)(?:=| )(" + NUM + r"%?)(?=\s*(?:[|,]|$))")


class FairseqReader(LineReader):
    """fairseq training logs: ``| epoch 001:  450 / 1891 loss=11.521, ..., num_updates=445``
    (train_inner), ``| epoch 001 | valid on 'valid' subset | valid_loss 8.11 | ... |
    num_updates 600`` and the end-of-epoch summaries. Steps are updates."""

    name = "fairseq-text"
    step_unit = "update"

    def sniff(self, head: str, filename: str) -> float:
        if re.search(r"epoch \d+:\s+\d+\s*/\s*\d+\s+loss=", head) or re.search(
            r"\| epoch \d+ \| (?:valid on|loss )", head
        ):
            return 0.93
        return 0.0

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        last_update = 0.0
        for line in lines:
            if "epoch" not in line:
                continue
            m = FS_INNER_RE.search(line)
            valid = False
            if m:
                ep, body = float(m.group(1)), m.group(2)
            else:
                m = FS_PIPE_RE.search(line)
                if not m:
                    continue
                ep, body = float(m.group(1)), m.group(2)
                valid = (
                    "valid on" in body or "| valid |" in line or " valid " in line.split("epoch")[0]
                )
            pairs = [(norm_name(k), v) for k, v in FS_PAIR_RE.findall(body)]
            upd = next((to_float(v) for k, v in pairs if k == "num_updates"), None)
            step = upd if upd is not None else last_update
            last_update = step
            for k, v in pairs:
                if k in NOT_METRICS or v.endswith("%"):
                    continue
                name = k
                if valid and not name.startswith(("valid_", "best_")):
                    name = "valid_" + name
                split = "val" if valid else split_of(name)
                yield Reading(name, split, step, to_float(v), ep)


# --------------------------------------------------------------------------- TF OD API
TF_STEP_RE = re.compile(
    r"(?:Step (\d+) per-step time [\d.]+s(?: loss=(" + NUM + r"))?"
    r"|global step (\d+): loss = (" + NUM + r"))"
)
TF_DICT_RE = re.compile(r"'([\w/.\-]+)':\s*(?:<tf\.Tensor: [^>]*numpy=)?(" + NUM + r")")
TF_EVAL_RE = re.compile(r"\+ ([\w/.\-@ ]+): (" + NUM + r")")


class TFObjectDetectionReader(LineReader):
    """TensorFlow Object Detection API: TF2 ``Step 100 per-step time 0.5s loss=1.2`` followed
    by ``{'Loss/classification_loss': ..., 'Loss/total_loss': ..., 'learning_rate': ...}``,
    TF1 ``global step 100: loss = 1.2 (0.5 sec/step)`` and eval lines ``+ Loss/total_loss: x``
    (validation). Steps are global steps."""

    name = "tf-object-detection"
    step_unit = "step"

    def sniff(self, head: str, filename: str) -> float:
        if TF_STEP_RE.search(head) or "'Loss/total_loss'" in head:
            return 0.93
        if "Loss/total_loss" in head:
            return 0.7
        return 0.0

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        step = 0.0
        for line in lines:
            m = TF_STEP_RE.search(line)
            if m:
                if m.group(1):
                    step = float(m.group(1))
                    if m.group(2):
                        yield Reading("loss", "train", step, to_float(m.group(2)))
                else:
                    step = float(m.group(3))
                    yield Reading("loss", "train", step, to_float(m.group(4)))
                rest = line[m.end() :]
            else:
                rest = line
            if "'" in rest:
                for k, v in TF_DICT_RE.findall(rest):
                    name = norm_name(k)
                    yield Reading(name, split_of(name), step, to_float(v))
            if "+ " in rest:
                for k, v in TF_EVAL_RE.findall(rest):
                    yield Reading(norm_name(k), "val", step, to_float(v))


# --------------------------------------------------------------------------- MXNet
MX_BATCH_RE = re.compile(
    r"Epoch\[(\d+)\] Batch \[(\d+)(?:-(\d+))?\]\s+Speed: [\d.]+ samples/sec(.*)"
)
MX_EPOCH_RE = re.compile(r"Epoch\[(\d+)\] ((?:Train|Validation|Test)-[\w\-]+)=(" + NUM + r")")
MX_PAIR_RE = re.compile(r"([A-Za-z][\w\-]*)=(" + NUM + r")")


class MXNetSpeedometerReader(LineReader):
    """MXNet ``Speedometer`` output: ``Epoch[3] Batch [100]\\tSpeed: ... samples/sec\\t
    accuracy=0.5\\tcross-entropy=0.69`` and ``Epoch[3] Train-accuracy=0.5`` /
    ``Validation-accuracy``. The step axis is the fractional epoch (epoch + batch / batches
    per epoch, batches per epoch estimated from the largest batch index seen)."""

    name = "mxnet-speedometer"
    step_unit = "epoch"

    def sniff(self, head: str, filename: str) -> float:
        if MX_BATCH_RE.search(head) or MX_EPOCH_RE.search(head):
            return 0.93
        return 0.0

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        raw: list[tuple[str, str, float, float | None, float]] = []
        max_batch = 0.0
        interval = 0.0
        last_b: float | None = None
        for line in lines:
            m = MX_BATCH_RE.search(line)
            if m:
                ep, b = float(m.group(1)), float(m.group(3) or m.group(2))
                if last_b is not None and b > last_b:
                    interval = interval or b - last_b
                last_b = b
                max_batch = max(max_batch, b)
                for k, v in MX_PAIR_RE.findall(m.group(4)):
                    name = norm_name(k)
                    raw.append((name, "train", ep, b, to_float(v)))
                continue
            m = MX_EPOCH_RE.search(line)
            if m:
                name = norm_name(m.group(2))
                split = (
                    "val"
                    if name.startswith("validation-")
                    else ("test" if name.startswith("test-") else "train")
                )
                raw.append((name, split, float(m.group(1)), None, to_float(m.group(3))))
                last_b = None
        per = max_batch + (interval or 1.0)
        for name, split, ep, batch, v in raw:
            step = ep + (batch / per if batch is not None else 1.0)
            yield Reading(name, split, step, v, ep)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ESPnet
ESP2_RE = re.compile(r"(\d+)epoch results: (.*)")
ESP2_SECTION_RE = re.compile(r"\[(\w+)\] ([^\[]*)")
ESP1_HEADER_RE = re.compile(r"^\s*epoch\s+iteration\s+.*main/loss")


class ESPnetReader(LineReader):
    """ESPnet2 ``Nepoch results: [train] loss=..., acc=... [valid] loss=...`` and the ESPnet1
    report table (``epoch  iteration  main/loss ... validation/main/loss``). ESPnet2 steps
    are epochs; ESPnet1 steps are iterations."""

    name = "espnet"
    step_unit = "epoch"

    def sniff(self, head: str, filename: str) -> float:
        if ESP2_RE.search(head) or re.search(r"(?m)^\s*epoch\s+iteration\s+.*main/loss", head):
            return 0.93
        if "espnet" in head.lower() and "loss" in head:
            return 0.4
        return 0.0

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        cols: list[str] | None = None
        starts: list[int] = []
        for line in lines:
            m = ESP2_RE.search(line)
            if m:
                self.step_unit = "epoch"
                ep = float(m.group(1))
                for sec, body in ESP2_SECTION_RE.findall(m.group(2)):
                    split = {
                        "train": "train",
                        "valid": "val",
                        "validation": "val",
                        "test": "test",
                    }.get(sec.lower())
                    if split is None:
                        continue
                    for k, v in kv_pairs(body):
                        if k in NOT_METRICS or k.endswith("_time"):
                            continue
                        name = (
                            k
                            if split == "train"
                            else f"{'valid' if split == 'val' else 'test'}/{k}"
                        )
                        yield Reading(name, split, ep, v, ep)  # type: ignore[arg-type]
                continue
            if ESP1_HEADER_RE.match(line):
                heads = list(re.finditer(r"\S+(?: \S+)*", line))
                cols = [norm_name(h.group(0)) for h in heads]
                starts = [h.start() for h in heads]
                self.step_unit = "iteration"
                continue
            if cols:
                cells = list(re.finditer(r"\S+", line))
                if len(cells) < 2 or not cells[0].group(0).isdigit():
                    continue
                row: dict[str, str] = {}
                for c in cells:
                    column = max(
                        (i for i, st in enumerate(starts) if st <= c.start() + 1), default=0
                    )
                    row.setdefault(cols[column], c.group(0))
                ep = to_float(row.get(cols[0], "nan"))
                it = to_float(row.get(cols[1], "nan")) if len(cols) > 1 else ep
                for name in cols[2:]:
                    if name == "elapsed_time" or name not in row:
                        continue
                    yield Reading(name, split_of(name), it, to_float(row[name]), ep)


# --------------------------------------------------------------------------- nnU-Net
NN_EPOCH_RE = re.compile(r"(?:^|: )(?:epoch:\s+|Epoch )(\d+)\s*$")
NN_METRIC_RE = re.compile(
    r"(train loss|validation loss|train_loss|val_loss|Average global foreground Dice|"
    r"Pseudo dice|Current learning rate|lr)\s*:?\s*(\[[^\]]*\]|" + NUM + r")"
)


class NnUNetReader(LineReader):
    """nnU-Net epoch logs: v1 ``epoch:  162`` / ``train loss : -0.39`` / ``validation loss:
    -0.40`` / ``Average global foreground Dice: [..]`` / ``lr: 0.0085`` and v2 ``Epoch 163``
    / ``train_loss -0.39`` / ``val_loss -0.40`` / ``Pseudo dice [..]`` / ``Current learning
    rate: ...``. Steps are epochs; dice lists become their mean."""

    name = "nnunet"
    step_unit = "epoch"

    def sniff(self, head: str, filename: str) -> float:
        if re.search(
            r"train loss : |validation loss: |Average global foreground Dice|Pseudo dice", head
        ) and re.search(r"(?m)(epoch:\s+\d+|Epoch \d+)\s*$", head):
            return 0.93
        return 0.0

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        ep: float | None = None
        for line in lines:
            m = NN_EPOCH_RE.search(line.rstrip())
            if m:
                ep = float(m.group(1))
                continue
            if ep is None:
                continue
            m2 = NN_METRIC_RE.search(line)
            if not m2:
                continue
            key, raw = m2.group(1).lower(), m2.group(2)
            if raw.startswith("["):
                nums = [to_float(x) for x in re.findall(NUM, raw)]
                if not nums:
                    continue
                value = sum(nums) / len(nums)
            else:
                value = to_float(raw)
            name = {"current learning rate": "lr"}.get(key, norm_name(key))
            split = (
                "val"
                if key.startswith(("validation", "val", "average global", "pseudo"))
                else "train"
            )
            yield Reading(name, split, ep, value, ep)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- HF printed dicts
HF_DICT_RE = re.compile(
    r"\{'(?:loss|eval_loss|train_loss|learning_rate|epoch|grad_norm|eval_)[^{}]*\}"
)
HF_PAIR_RE = re.compile(r"'([\w/.\-]+)':\s*'?(?:np\.float\d*\(|tensor\()?(" + NUM + r")")


class HFPrintedReader(LineReader):
    """The dicts the Hugging Face Trainer prints: ``{'loss': 0.69, 'learning_rate': 5e-05,
    'epoch': 0.5}``, ``{'eval_loss': ..., 'epoch': 1.0}``. There is no step in them: the step
    axis is the (fractional) epoch, or the record number when the epoch is missing."""

    name = "hf-trainer-stdout"
    step_unit = "epoch"

    def sniff(self, head: str, filename: str) -> float:
        n = len(HF_DICT_RE.findall(head))
        return 0.9 if n >= 1 and "'epoch'" in head else (0.6 if n else 0.0)

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        n = 0
        for line in lines:
            if "{'" not in line:
                continue
            for d in HF_DICT_RE.findall(line):
                pairs = [(norm_name(k), to_float(v)) for k, v in HF_PAIR_RE.findall(d)]
                if not pairs:
                    continue
                n += 1
                ep = next((v for k, v in pairs if k == "epoch"), None)
                step = next((v for k, v in pairs if k in ("step", "global_step")), None)
                if step is None:
                    step = ep if ep is not None else float(n)
                for k, v in pairs:
                    if k in NOT_METRICS:
                        continue
                    yield Reading(k, split_of(k), step, v, ep)


# ---------------------------------------------------------------------------------------------
# The PyTorch examples' MNIST-style output, copied into countless scripts:
#   Train Epoch: 1 [640/60000 (1%)]	Loss: 2.235000
#   Test set: Average loss: 0.2012, Accuracy: 9411/10000 (94%)
# ---------------------------------------------------------------------------------------------

TORCH_TRAIN_RE = re.compile(
    r"Train Epoch:\s*(\d+)\s*\[(\d+)/(\d+)[^\]]*\]\s*Loss:\s*(" + NUM + r")"
)
TORCH_TEST_RE = re.compile(
    r"(Test|Validation|Val) set:\s*Average loss:\s*(" + NUM + r")(?:,\s*Accuracy:\s*(\d+)/(\d+))?"
)


class TorchExamplesReader(LineReader):
    """``Train Epoch: E [n/N (p%)]  Loss: x`` and ``Test set: Average loss: y`` lines (the
    PyTorch examples' MNIST script and its many copies). Steps are fractional epochs."""

    name = "pytorch-examples"
    step_unit = "epoch"

    def sniff(self, head: str, filename: str) -> float:
        return 0.9 if TORCH_TRAIN_RE.search(head) else 0.0

    def parse_lines(self, lines: Iterable[str]) -> Iterator[Reading | Batch]:
        epoch = 0.0
        for line in lines:
            m = TORCH_TRAIN_RE.search(line)
            if m:
                epoch = float(m.group(1))
                seen, total = float(m.group(2)), float(m.group(3)) or 1.0
                step = epoch - 1 + seen / total
                yield Reading("loss", "train", step, to_float(m.group(4)), epoch)
                continue
            m = TORCH_TEST_RE.search(line)
            if m:
                split: Split = "test" if m.group(1) == "Test" else "val"
                yield Reading(f"{split}_loss", split, epoch, to_float(m.group(2)), epoch)
                if m.group(3):
                    accuracy = float(m.group(3)) / (float(m.group(4)) or 1.0)
                    yield Reading(f"{split}_accuracy", split, epoch, accuracy, epoch)
