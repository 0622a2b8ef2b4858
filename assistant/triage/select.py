"""Choose, from everything a reader extracted, the series the detectors look at.

The training loss is found by name (``loss``, ``train_loss``, ``total_loss``, ``train/loss``,
``loss_epoch``...); when a log only has loss components (YOLO's ``train/box_loss``,
``train/obj_loss``...), their sum is used. The validation loss is found the same way among
the validation series (``val_loss``, ``eval_loss``, ``valid_loss``, ``test loss``,
``val/loss``, Caffe's test ``loss``...). Accuracy series and the learning rate are kept as
evidence; the other losses of a multi-loss log are reported as components.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.triage.model import LogData, Series

_VAL_TOKENS = r"(?:validation|valid|val|eval|evaluation|test|dev)"
_TRAIN_TOKENS = r"(?:training|train)"
_SEP = r"[_/ .\-]"
_VAL_AFFIX_RE = re.compile(rf"^{_VAL_TOKENS}{_SEP}+|{_SEP}+{_VAL_TOKENS}$")
_TRAIN_AFFIX_RE = re.compile(rf"^{_TRAIN_TOKENS}{_SEP}+|{_SEP}+{_TRAIN_TOKENS}$")
_QUALIFIER_RE = re.compile(rf"^(?:epoch|batch|step|iter){_SEP}+|{_SEP}+(?:epoch|batch|step|iter)$")

_TOTAL_BASES = (
    "loss",
    "total_loss",
    "total loss",
    "loss_total",
    "total",
    "overall_loss",
    "full_loss",
    "objective",
    "cost",
    "avg_loss",
    "average loss",
    "avg loss",
    "mean_loss",
    "running_loss",
)
"""Base names (split and epoch/step/batch qualifiers removed) of a total loss, best first."""

_ACC_RE = re.compile(
    r"(^|[/_ .\-])(acc|accuracy|top1|top-1|top_1|acc1|acc@1|prec@1|top1_acc)($|[/_ .\-(])"
)
_LR_RE = re.compile(r"(^|[/_ .\-])(lr|learning[_ ]?rate)($|\d|[/_ .\-(])")
_LOSS_RE = re.compile(r"loss|(^|[/_ ])(cost|objective|nll|xent)($|[/_ ])")
_NOT_LOSS_RE = re.compile(r"ppl|perplexity|scale|bleu|rouge|gnorm|grad|time|runtime|per_second")


@dataclass(frozen=True)
class Selection:
    """The series a diagnosis rests on, picked from a :class:`LogData`."""

    loss: Series | None
    """The training loss (a sum of components when the log has no total), or the validation
    loss when the log has no training loss at all (``loss_is_val``)."""
    val_loss: Series | None
    """The validation loss, or None."""
    components: tuple[Series, ...] = ()
    """The other training losses (components of the total)."""
    val_components: tuple[Series, ...] = ()
    """The other validation losses."""
    accuracy: tuple[Series, ...] = ()
    """Training accuracy series."""
    val_accuracy: tuple[Series, ...] = ()
    """Validation accuracy series."""
    lr: Series | None = None
    """The learning rate, when the log has it."""
    others: tuple[Series, ...] = ()
    """Every other series (model outputs, gradient norms, metrics)."""
    loss_is_val: bool = False
    """True when ``loss`` is a validation series because the log has no training loss."""
    loss_is_sum: bool = False
    """True when ``loss`` was built by summing components."""


def base_name(name: str) -> str:
    """The metric name without split or epoch/step qualifiers: ``val/box_loss`` -> ``box_loss``,
    ``epoch_loss`` -> ``loss``, ``Loss/train`` -> ``loss``."""
    n = name.strip().lower()
    for pattern in (_VAL_AFFIX_RE, _TRAIN_AFFIX_RE, _QUALIFIER_RE):
        stripped = pattern.sub("", n, count=1)
        if stripped and stripped != n:
            n = stripped
    return n


def is_val(series: Series) -> bool:
    """Whether a series measures held-out data: by its split, or by a ``val_``-style name."""
    if series.split in ("val", "test"):
        return True
    return bool(_VAL_AFFIX_RE.search(series.name.strip().lower()))


def is_loss(name: str) -> bool:
    """Whether a metric name is a loss (``loss``, ``box_loss``, ``nll``...), not a perplexity."""
    n = name.strip().lower()
    if _NOT_LOSS_RE.search(n) and "loss" not in n.replace("loss_scale", ""):
        return False
    if "loss_scale" in n:
        return False
    return bool(_LOSS_RE.search(n))


def is_accuracy(name: str) -> bool:
    """Whether a metric name is an accuracy (``acc``, ``val_accuracy``, ``top1``, ``cls_acc``)."""
    n = name.strip().lower()
    return bool(_ACC_RE.search(n)) or n.endswith("acc") or n.endswith("accuracy")


def is_lr(name: str) -> bool:
    """Whether a metric name is a learning rate (``lr``, ``learning_rate``, ``x/lr0``, ``lr/pg0``, darknet ``rate``)."""
    n = name.strip().lower()
    if "loss" in n or "drop" in n:
        return False
    return n == "rate" or bool(_LR_RE.search(n))


def _total_rank(series: Series) -> int | None:
    b = base_name(series.name)
    if b in _TOTAL_BASES:
        return _TOTAL_BASES.index(b)
    return None


def _pick_total(cands: list[Series]) -> Series | None:
    ranked = [
        (r, -s.points, i, s) for i, s in enumerate(cands) if (r := _total_rank(s)) is not None
    ]
    if not ranked:
        return None
    ranked.sort(key=lambda t: t[:3])
    return ranked[0][3]


def sum_series(parts: list[Series], split: str) -> Series:
    """The sum of loss components, on the steps every component has (log order kept)."""
    steps = parts[0].steps
    common = set(np.asarray(steps).tolist())
    for p in parts[1:]:
        common &= set(np.asarray(p.steps).tolist())
    keep = np.array([s in common for s in steps.tolist()], dtype=bool)
    out_steps = steps[keep]
    total = np.zeros(out_steps.shape[0])
    for p in parts:
        lookup: dict[float, float] = {}
        for st, v in zip(p.steps.tolist(), p.values.tolist(), strict=False):
            lookup[st] = v
        total = total + np.array([lookup[s] for s in out_steps.tolist()], dtype=float)
    first = parts[0]
    epochs = (
        first.epochs[keep]
        if first.epochs is not None and first.epochs.shape[0] == steps.shape[0]
        else None
    )
    name = "sum(" + ", ".join(p.name for p in parts) + ")"
    return Series(name, split, out_steps.astype(float), total, first.step_unit, epochs)  # type: ignore[arg-type]


_DISCRIMINATOR = re.compile(
    r"^(?:d_loss|loss_d|disc_loss|discriminator_loss|loss_dis|errd|d_total)$"
)
_GENERATOR = re.compile(r"^(?:g_loss|loss_g|gen_loss|generator_loss|loss_gen|errg|g_total)$")


def _discriminator(train_losses: list[Series]) -> Series | None:
    """The discriminator's loss when the log has both a discriminator and a generator loss."""
    names = {base_name(s.name): s for s in train_losses}
    disc = next((s for n, s in names.items() if _DISCRIMINATOR.match(n)), None)
    if disc is not None and any(_GENERATOR.match(n) for n in names):
        return disc
    return None


def select_series(log: LogData, metric: str | None = None) -> Selection:
    """Pick the training loss, validation loss, components, accuracies and learning rate.

    ``metric`` names the training series exactly and overrides the choice by name.
    """
    usable = [s for s in log.series if s.points > 0]
    losses = [s for s in usable if is_loss(s.name)]
    train_losses = [s for s in losses if not is_val(s)]
    val_losses = [s for s in losses if is_val(s)]

    loss: Series | None = None
    loss_is_sum = False
    if metric is not None:
        wanted = metric.strip().lower()
        named = [s for s in usable if s.name.strip().lower() == wanted]
        named.sort(key=lambda s: (is_val(s), -s.points))
        if named:
            loss = named[0]
    if loss is None and log.format.startswith("darknet"):
        # darknet's headline is the running average; the current loss jumps with every resize
        loss = next(
            (s for s in train_losses if base_name(s.name) in ("avg_loss", "avg loss")), None
        )
    if loss is None:
        loss = _pick_total(train_losses)
    if loss is None:
        # a GAN's two players are not parts of one total: the discriminator's loss is the one
        # whose collapse (to 0) or stall tells what went wrong; the generator's is reported
        loss = _discriminator(train_losses)
    if loss is None and train_losses:
        if len(train_losses) == 1:
            loss = train_losses[0]
        else:
            loss = sum_series(train_losses, "train")
            loss_is_sum = True
    components = tuple(s for s in train_losses if s is not loss)

    val_loss = _pick_total(val_losses)
    if val_loss is None and val_losses:
        val_loss = val_losses[0] if len(val_losses) == 1 else sum_series(val_losses, "val")
    if val_loss is not None and val_loss is loss:
        val_loss = None
    val_components = tuple(s for s in val_losses if s is not val_loss)

    loss_is_val = False
    if loss is None and val_loss is not None:
        loss, val_loss, loss_is_val = val_loss, None, True
        components, val_components = val_components, ()

    acc = tuple(s for s in usable if not is_loss(s.name) and is_accuracy(s.name) and not is_val(s))
    vacc = tuple(s for s in usable if not is_loss(s.name) and is_accuracy(s.name) and is_val(s))
    lrs = [s for s in usable if not is_loss(s.name) and is_lr(s.name) and not is_val(s)]
    lrs.sort(key=lambda s: (base_name(s.name) not in ("lr", "learning_rate"), -s.points))
    lr = lrs[0] if lrs else None
    taken = {id(s) for s in (*losses, *acc, *vacc, *lrs)}
    others = tuple(s for s in usable if id(s) not in taken)
    return Selection(
        loss, val_loss, components, val_components, acc, vacc, lr, others, loss_is_val, loss_is_sum
    )
