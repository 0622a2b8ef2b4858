#!/usr/bin/env python3
"""Regenerate the real-framework fixture logs in ``tests/data/logs/generated/``.

Run by hand, never by the tests or CI. Each fixture trains a tiny model on synthetic
data with one induced pathology, in a child process, and keeps what the framework
itself wrote: the child's stdout+stderr (progress-bar ``\\r`` and ``\\b`` bytes kept) or
the framework's log files (CSV, ``trainer_state.json``, TensorBoard event files).
``labels.tsv`` beside the fixtures lists ``file``, ``format``, ``symptom`` (the primary
symptom id a careful reader would name), ``pathology`` (what was induced) and
``framework`` (with its version).

Set up the venv once (CPU only; the ``torch==2.13.0`` pin resolves to the CPU wheel;
an unpinned ``torch`` would pull a multi-GB CUDA build). Install torch first, then the
rest, so pip sees torch satisfied; check with ``--dry-run`` that nothing pulls another torch::

    python3 -m venv /work/venv-fixtures
    source /work/venv-fixtures/bin/activate
    pip install torch==2.13.0
    pip install --dry-run keras lightning transformers accelerate tensorboard tqdm pandas tensorflow-cpu
    pip install keras lightning transformers accelerate tensorboard tqdm pandas tensorflow-cpu

Keras runs on the torch backend (``KERAS_BACKEND=torch``, set for every child).
``tensorflow-cpu`` is there only because ``keras.callbacks.TensorBoard`` writes through
``tf.summary``; ``accelerate`` because the HF ``Trainer`` requires it.

Versions used for the committed fixtures: torch 2.13.0+cpu, keras 3.15.1 (backend torch),
lightning 2.6.6, transformers 5.24.0 (accelerate 1.15.0), tensorboard 2.21.0,
tensorflow-cpu 2.21.0, tqdm 4.70.1. A full run takes about 7 minutes on 2 cores.

Usage::

    KERAS_BACKEND=torch python scripts/make_fixtures.py            # every fixture
    python scripts/make_fixtures.py --only keras-v1-diverging       # one (repeatable)
    python scripts/make_fixtures.py --list

Numbers are deterministic (fixed seeds, one thread); the bytes of progress bars and
timestamps are not, since they depend on timing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "logs" / "generated"
MAX_BYTES = 100_000


@dataclass(frozen=True)
class Fixture:
    name: str
    """Also the base of the output file name."""
    target: str
    """``module:function`` under ``scripts/fixtures``."""
    format: str
    symptom: str
    pathology: str
    framework: str
    """Key into the versions table: torch, keras, lightning, transformers."""
    capture: str = "pipe"
    """``pipe`` (stdout+stderr to a pipe, as with ``python train.py > log 2>&1``),
    ``pty`` (a terminal, as with ``script``: Keras then draws its bar with ``\\b`` and
    ``\\r``), or ``files`` (keep only the files the framework wrote)."""
    files: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """For ``files``: (path under the child's outdir, destination under generated/)."""

    @property
    def output(self) -> str:
        if self.capture == "files":
            return self.files[0][1]
        return f"{self.name}.log"


def fx(name, target, fmt, symptom, pathology, framework, capture="pipe", files=()):
    return Fixture(name, target, fmt, symptom, pathology, framework, capture, tuple(files))


def lcsv(name):
    return (
        ("lightning_logs/version_0/metrics.csv", f"{name}/lightning_logs/version_0/metrics.csv"),
    )


def hfstate(name):
    return (("trainer_state.json", f"{name}/trainer_state.json"),)


def tbdir(name):
    return (("runs", f"{name}"),)


FIXTURES: list[Fixture] = [
    # ---- plain PyTorch: print()
    fx(
        "torch-print-diverging",
        "torch_plain:print_diverging",
        "plain-print",
        "diverging",
        "linear regression, SGD lr 0.93 = 2.15 / lambda_max: loss grows geometrically, stays finite",
        "torch",
    ),
    fx(
        "torch-print-stuck-87",
        "torch_plain:print_stuck_87",
        "plain-print",
        "stuck-87-3365",
        "Caffe-style -log(max(softmax p, FLT_MIN)) over 1000 classes, inputs x10 unnormalised, SGD lr 5 explodes the logits",
        "torch",
    ),
    fx(
        "torch-print-zero-loss",
        "torch_plain:print_zero_loss",
        "plain-print",
        "zero-loss",
        "one-hot label appended to the input features",
        "torch",
    ),
    fx(
        "torch-print-negative-loss",
        "torch_plain:print_negative_loss",
        "plain-print",
        "negative-loss",
        "segmentation loss written as -dice",
        "torch",
    ),
    fx(
        "torch-print-still-learning",
        "torch_plain:print_still_learning",
        "plain-print",
        "still-learning",
        "healthy MLP stopped after 20 epochs, train and val still falling",
        "torch",
    ),
    fx(
        "torch-print-val-below-train",
        "torch_plain:print_val_below_train",
        "plain-print",
        "val-below-train",
        "dropout 0.7 and input noise in training only",
        "torch",
    ),
    fx(
        "torch-print-stuck-at-chance",
        "torch_plain:print_stuck_at_chance",
        "plain-print",
        "stuck-at-chance",
        "10-class head zero-initialised and frozen: loss ln 10 = 2.3026",
        "torch",
    ),
    fx(
        "torch-print-periodic",
        "torch_plain:print_periodic",
        "plain-print",
        "periodic",
        "data sorted by class, shuffle off: per-batch loss repeats each epoch",
        "torch",
    ),
    fx(
        "torch-print-train-flat-val-falling",
        "torch_plain:print_train_flat_val_falling",
        "plain-print",
        "train-flat-val-falling",
        "90% of training labels random, validation labels clean",
        "torch",
    ),
    # ---- plain PyTorch: logging module
    fx(
        "torch-logging-nan-loss",
        "torch_plain:logging_nan_loss",
        "python-logging",
        "nan-loss",
        "hand-written BCE with log(p) and no epsilon: log(0) * 0 = nan once a sigmoid saturates",
        "torch",
    ),
    fx(
        "torch-logging-plateau",
        "torch_plain:logging_plateau",
        "python-logging",
        "plateau",
        "2-unit bottleneck on a 10-class problem: quick drop, then flat train and val",
        "torch",
    ),
    fx(
        "torch-logging-spikes",
        "torch_plain:logging_spikes",
        "python-logging",
        "spikes",
        "every 25th batch corrupted (inputs x8, labels shuffled)",
        "torch",
    ),
    fx(
        "torch-logging-stuck-constant",
        "torch_plain:logging_stuck_constant",
        "python-logging",
        "stuck-constant",
        "optimizer.step() never called (accumulation condition never true), MSE regression",
        "torch",
    ),
    # ---- plain PyTorch: tqdm
    fx(
        "torch-tqdm-slow-decrease",
        "torch_plain:tqdm_slow_decrease",
        "tqdm",
        "slow-decrease",
        "linear regression, SGD lr 1e-3, far too low",
        "torch",
    ),
    fx(
        "torch-tqdm-stuck-at-clamp",
        "torch_plain:tqdm_stuck_at_clamp",
        "tqdm",
        "stuck-at-clamp",
        "GAN generator vs a frozen saturated discriminator, nn.BCELoss: D(G(z)) = 0, loss 100",
        "torch",
    ),
    fx(
        "torch-tqdm-oscillating",
        "torch_plain:tqdm_oscillating",
        "tqdm",
        "oscillating",
        "linear regression, SGD momentum 0.99: per-batch loss rings up and down",
        "torch",
    ),
    fx(
        "torch-tqdm-spikes",
        "torch_plain:tqdm_spikes",
        "tqdm",
        "spikes",
        "every 20th batch has inputs x10 and shuffled labels",
        "torch",
    ),
    # ---- Keras 3
    fx(
        "keras-v1-diverging",
        "keras_fx:v1_nan_loss",
        "keras-stdout-v1",
        "diverging",
        "linear regression, SGD lr 1.05 * 2 / lambda_max: loss grows by orders of magnitude until "
        "float32 overflows (inf, then nan); labelled as the samples label a divergence into nan (06)",
        "keras",
        capture="pty",
    ),
    fx(
        "keras-v1-stuck-at-chance",
        "keras_fx:v1_stuck_at_chance",
        "keras-stdout-v1",
        "stuck-at-chance",
        "kernel_initializer='zeros' on every Dense layer, 10 classes: loss ln 10 = 2.3026",
        "keras",
        capture="pty",
    ),
    fx(
        "keras-v1-overfitting",
        "keras_fx:v1_overfitting",
        "keras-stdout-v1",
        "overfitting",
        "200 training samples, 512-512 MLP, 40 epochs (stdout to a pipe: one line per epoch)",
        "keras",
    ),
    fx(
        "keras-v2-still-learning",
        "keras_fx:v2_still_learning",
        "keras-stdout-v2",
        "still-learning",
        "healthy MLP stopped after 15 epochs",
        "keras",
    ),
    fx(
        "keras-v2-stuck-at-clamp",
        "keras_fx:v2_stuck_at_clamp",
        "keras-stdout-v2",
        "stuck-at-clamp",
        "GAN generator vs frozen discriminator fed [0, 255] fakes: binary_crossentropy clipped at 1e-7, "
        "loss 16.1181",
        "keras",
    ),
    fx(
        "keras-v2-val-below-train",
        "keras_fx:v2_val_below_train",
        "keras-stdout-v2",
        "val-below-train",
        "GaussianNoise(1.0) and Dropout(0.7), active in training only",
        "keras",
    ),
    fx(
        "keras-csv-diverging",
        "keras_fx:csv_diverging",
        "keras-csvlogger",
        "diverging",
        "full-batch GD on linear regression, lr = 1.1 * 2 / lambda_max",
        "keras",
        capture="files",
        files=(("training.log", "keras-csv-diverging.csv"),),
    ),
    fx(
        "keras-csv-plateau",
        "keras_fx:csv_plateau",
        "keras-csvlogger",
        "plateau",
        "logistic regression, 40% label noise: flat after a few epochs",
        "keras",
        capture="files",
        files=(("training.log", "keras-csv-plateau.csv"),),
    ),
    fx(
        "keras-csv-both-rising",
        "keras_fx:csv_both_rising",
        "keras-csvlogger",
        "both-rising",
        "LearningRateScheduler multiplies lr by 1.6 each epoch",
        "keras",
        capture="files",
        files=(("training.log", "keras-csv-both-rising.csv"),),
    ),
    # ---- PyTorch Lightning
    fx(
        "lightning-csv-still-learning",
        "lightning_fx:csv_still_learning",
        "lightning-csv",
        "still-learning",
        "healthy MLP stopped after 8 epochs",
        "lightning",
        capture="files",
        files=lcsv("lightning-csv-still-learning"),
    ),
    fx(
        "lightning-csv-overfitting",
        "lightning_fx:csv_overfitting",
        "lightning-csv",
        "overfitting",
        "160 training samples, 512-wide MLP, 60 epochs",
        "lightning",
        capture="files",
        files=lcsv("lightning-csv-overfitting"),
    ),
    fx(
        "lightning-csv-slow-decrease",
        "lightning_fx:csv_slow_decrease",
        "lightning-csv",
        "slow-decrease",
        "linear regression, SGD lr 3e-5",
        "lightning",
        capture="files",
        files=lcsv("lightning-csv-slow-decrease"),
    ),
    fx(
        "lightning-csv-train-flat-val-falling",
        "lightning_fx:csv_train_flat_val_falling",
        "lightning-csv",
        "train-flat-val-falling",
        "90% of training labels random, validation labels clean",
        "lightning",
        capture="files",
        files=lcsv("lightning-csv-train-flat-val-falling"),
    ),
    fx(
        "lightning-csv-stuck-constant",
        "lightning_fx:csv_stuck_constant",
        "lightning-csv",
        "stuck-constant",
        "regression with lr int(0.001) = 0",
        "lightning",
        capture="files",
        files=lcsv("lightning-csv-stuck-constant"),
    ),
    fx(
        "lightning-stdout-plateau",
        "lightning_fx:stdout_plateau",
        "lightning-stdout",
        "plateau",
        "logistic regression, 40% label noise: flat after the first epoch",
        "lightning",
    ),
    fx(
        "lightning-stdout-stuck-at-chance",
        "lightning_fx:stdout_stuck_at_chance",
        "lightning-stdout",
        "stuck-at-chance",
        "2-class head zero-initialised and frozen: loss ln 2 = 0.6931",
        "lightning",
    ),
    fx(
        "lightning-stdout-both-rising",
        "lightning_fx:stdout_both_rising",
        "lightning-stdout",
        "both-rising",
        "LambdaLR warm-up that never stops (lr x 1.7 per epoch)",
        "lightning",
    ),
    fx(
        "lightning-rich-still-learning",
        "lightning_fx:rich_still_learning",
        "lightning-stdout",
        "still-learning",
        "healthy MLP stopped after 6 epochs; default RichProgressBar on a terminal (pty: ANSI redraws)",
        "lightning",
        capture="pty",
    ),
    # ---- Hugging Face Trainer
    fx(
        "hf-state-still-learning",
        "hf_fx:state_still_learning",
        "hf-trainer-state",
        "still-learning",
        "tiny BERT (2 layers, hidden 32) stopped after 2 epochs",
        "transformers",
        capture="files",
        files=hfstate("hf-state-still-learning"),
    ),
    fx(
        "hf-state-overfitting",
        "hf_fx:state_overfitting",
        "hf-trainer-state",
        "overfitting",
        "64 examples with 30% label noise, no dropout, 40 epochs",
        "transformers",
        capture="files",
        files=hfstate("hf-state-overfitting"),
    ),
    fx(
        "hf-state-zero-loss",
        "hf_fx:state_zero_loss",
        "hf-trainer-state",
        "zero-loss",
        "label written into the last input token, constant lr 1e-2",
        "transformers",
        capture="files",
        files=hfstate("hf-state-zero-loss"),
    ),
    fx(
        "hf-stdout-nan-loss",
        "hf_fx:stdout_nan_loss",
        "hf-trainer-stdout",
        "nan-loss",
        "regression head, one nan target (sample 517); logging_nan_inf_filter=False",
        "transformers",
    ),
    fx(
        "hf-stdout-stuck-at-chance",
        "hf_fx:stdout_stuck_at_chance",
        "hf-trainer-stdout",
        "stuck-at-chance",
        "learning_rate=0.0 on a 2-class head: loss ln 2 = 0.6931",
        "transformers",
    ),
    fx(
        "hf-stdout-zero-loss",
        "hf_fx:stdout_zero_loss",
        "hf-trainer-stdout",
        "zero-loss",
        "label written into the last input token (tqdm bar kept)",
        "transformers",
    ),
    # ---- TensorBoard event files from torch.utils.tensorboard.SummaryWriter
    fx(
        "tb-diverging",
        "tb_fx:diverging",
        "tensorboard",
        "diverging",
        "linear regression, SGD lr 1.08 * 2 / lambda_max",
        "torch",
        capture="files",
        files=tbdir("tb-diverging"),
    ),
    fx(
        "tb-stuck-87",
        "tb_fx:stuck_87",
        "tensorboard",
        "stuck-87-3365",
        "Caffe-style -log(max(p, FLT_MIN)), 1000 classes, unnormalised inputs, SGD lr 5",
        "torch",
        capture="files",
        files=tbdir("tb-stuck-87"),
    ),
    fx(
        "tb-overfitting",
        "tb_fx:overfitting",
        "tensorboard",
        "overfitting",
        "200 training samples, 512-512 MLP, 50 epochs",
        "torch",
        capture="files",
        files=tbdir("tb-overfitting"),
    ),
    fx(
        "tb-periodic",
        "tb_fx:periodic",
        "tensorboard",
        "periodic",
        "data sorted by class, shuffle off",
        "torch",
        capture="files",
        files=tbdir("tb-periodic"),
    ),
    fx(
        "tb-negative-loss",
        "tb_fx:negative_loss",
        "tensorboard",
        "negative-loss",
        "nn.GaussianNLLLoss(full=True) with a learned variance",
        "torch",
        capture="files",
        files=tbdir("tb-negative-loss"),
    ),
    fx(
        "tb-spikes",
        "tb_fx:spikes",
        "tensorboard",
        "spikes",
        "every 25th batch corrupted (inputs x8, labels shuffled)",
        "torch",
        capture="files",
        files=tbdir("tb-spikes"),
    ),
    fx(
        "tb-oscillating",
        "tb_fx:oscillating",
        "tensorboard",
        "oscillating",
        "linear regression, SGD momentum 0.99: loss rings up and down",
        "torch",
        capture="files",
        files=tbdir("tb-oscillating"),
    ),
    # ---- Keras TensorBoard callback (needs tensorflow-cpu for tf.summary)
    fx(
        "keras-tb-oscillating",
        "keras_fx:tb_oscillating",
        "tensorboard",
        "oscillating",
        "linear regression, SGD momentum 0.99, full-batch steps: epoch_loss rings up and down",
        "keras",
        capture="files",
        files=(("logs", "keras-tb-oscillating"),),
    ),
    fx(
        "keras-tb-val-below-train",
        "keras_fx:tb_val_below_train",
        "tensorboard",
        "val-below-train",
        "GaussianNoise(1.0) and Dropout(0.7), active in training only",
        "keras",
        capture="files",
        files=(("logs", "keras-tb-val-below-train"),),
    ),
    fx(
        "keras-tb-slow-decrease",
        "keras_fx:tb_slow_decrease",
        "tensorboard",
        "slow-decrease",
        "linear regression, SGD lr 2e-4",
        "keras",
        capture="files",
        files=(("logs", "keras-tb-slow-decrease"),),
    ),
]


def versions() -> dict[str, str]:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    out = {}
    for mod in ("torch", "keras", "lightning", "transformers", "tensorboard", "tqdm"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:  # pragma: no cover - reported as unknown
            out[mod] = "unknown"
    return out


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "KERAS_BACKEND": "torch",
            "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "PYTHONPATH": str(ROOT / "scripts"),
            # Keras imports tensorflow when it is installed (for the TensorBoard callback):
            # keep its C++ start-up banner out of the captured logs
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_ENABLE_ONEDNN_OPTS": "0",
            "COLUMNS": "120",
            "LINES": "40",
            "TERM": "xterm",
        }
    )
    env.pop("PYTHONUNBUFFERED", None)
    return env


def run_child(f: Fixture, workdir: Path) -> bytes:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        f.name,
        "--workdir",
        str(workdir),
    ]
    env = child_env()
    if f.capture == "pty":
        master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.ONLCR  # keep "\n" as written, not "\r\n"
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        import fcntl
        import struct

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env, cwd=workdir
        )
        os.close(slave)
        chunks = []
        while True:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        proc.wait()
        os.close(master)
        out = b"".join(chunks)
        rc = proc.returncode
    else:
        res = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
        out, rc = res.stdout, res.returncode
    if rc != 0:
        sys.stderr.write(out.decode("utf-8", "replace")[-4000:])
        raise RuntimeError(f"{f.name}: child exited {rc}")
    return out


def build(f: Fixture) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix=f"fx-{f.name}-") as tmp:
        workdir = Path(tmp)
        out = run_child(f, workdir)
        written: list[Path] = []
        if f.capture == "files":
            for src, dst in f.files:
                s, d = workdir / src, OUT / dst
                if d.exists():
                    shutil.rmtree(d) if d.is_dir() else d.unlink()
                d.parent.mkdir(parents=True, exist_ok=True)
                if s.is_dir():
                    shutil.copytree(s, d)
                    written += [p for p in d.rglob("*") if p.is_file()]
                else:
                    shutil.copyfile(s, d)
                    written.append(d)
        else:
            d = OUT / f.output
            d.write_bytes(out.replace(str(workdir).encode(), b"/tmp/run"))
            written.append(d)
    for p in written:
        size = p.stat().st_size
        if size > MAX_BYTES:
            print(f"WARNING: {p.relative_to(OUT)} is {size} bytes (> {MAX_BYTES})", file=sys.stderr)
    return written


def write_labels(vers: dict[str, str]) -> None:
    lines = ["file\tformat\tsymptom\tpathology\tframework"]
    for f in FIXTURES:
        if not (OUT / f.output).exists():
            continue
        fw = f"{f.framework} {vers.get(f.framework, '')}".strip()
        if f.framework == "torch" and f.format == "tqdm":
            fw += f"; tqdm {vers['tqdm']}"
        if f.format == "tensorboard" and f.framework == "torch":
            fw += f"; tensorboard {vers['tensorboard']}"
        lines.append("\t".join([f.output, f.format, f.symptom, f.pathology, fw]))
    (OUT / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def child(name: str, workdir: Path) -> None:
    f = next(f for f in FIXTURES if f.name == name)
    mod, func = f.target.split(":")
    sys.path.insert(0, str(ROOT / "scripts"))
    os.chdir(workdir)
    fn = getattr(importlib.import_module(f"fixtures.{mod}"), func)
    fn(workdir)
    sys.stdout.flush()
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", help="build only this fixture (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the fixtures and exit")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, Path(args.workdir))
        return 0
    if args.list:
        for f in FIXTURES:
            print(f"{f.name:40} {f.format:20} {f.symptom}")
        return 0
    os.environ.setdefault("KERAS_BACKEND", "torch")
    names = {f.name for f in FIXTURES}
    for n in args.only or ():
        if n not in names:
            ap.error(f"unknown fixture {n!r}")
    todo = [f for f in FIXTURES if not args.only or f.name in args.only]
    OUT.mkdir(parents=True, exist_ok=True)
    t_all = time.monotonic()
    failed = []
    for f in todo:
        t0 = time.monotonic()
        try:
            paths = build(f)
        except Exception as e:  # keep going: report at the end
            failed.append(f.name)
            print(f"FAILED {f.name}: {e}", file=sys.stderr)
            continue
        size = sum(p.stat().st_size for p in paths)
        print(f"{f.name:42} {f.symptom:24} {size:7d} B {time.monotonic() - t0:5.1f} s", flush=True)
    write_labels(versions())
    print(
        f"{len(todo) - len(failed)} built, {len(failed)} failed, {time.monotonic() - t_all:.0f} s total"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
