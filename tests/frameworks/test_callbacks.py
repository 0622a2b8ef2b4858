"""The training callbacks (``assistant.callbacks``) inside real, short training loops of Keras 3,
PyTorch Lightning and the Hugging Face Trainer, on CPU with tiny models and synthetic data.

Each framework gets a real pathology (a learning rate far too high, so the loss diverges to
nan; a tiny training set with random labels, so validation rises while training falls; a
classifier that cannot learn, so the loss sits at ln C) and a healthy run. The tests assert
the line logged with its top fix, that ``stop_on`` really ends training early, that
``raise_on`` raises :class:`LossDoctorAlarm` out of ``fit``/``train``, and that a healthy run
logs nothing. A framework that is not installed skips its tests with what to ``pip install``
(see ``conftest.py``).
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from assistant.callbacks import LossDoctorAlarm, Watcher
from assistant.triage.monitor import Monitor, top_fix
from assistant.triage.read import read_log
from kb.index import load_kb
from tests.unit.test_monitor import _replay
from tests.unit.test_triage_fixtures import DATA, _rows

pytestmark = [
    # a DataLoader without workers is the right choice for a model this small
    pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
    # deprecations inside the frameworks themselves, not in lossdoctor
    pytest.mark.filterwarnings("ignore:.*isinstance\\(treespec, LeafSpec\\)"),
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"),
    pytest.mark.filterwarnings("ignore:.*val_dataloader.*Skipping val loop:UserWarning"),
]

FRAMEWORKS = ("keras", "lightning", "pytorch_lightning", "transformers", "torch", "tensorflow")


def lossdoctor_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the callbacks logged."""
    return [r.getMessage() for r in caplog.records if r.name == "lossdoctor"]


def assert_logged_with_top_fix(caplog: pytest.LogCaptureFixture, symptom: str) -> str:
    """The one line logged for ``symptom``, checked to name the knowledge base's top fix."""
    lines = [line for line in lossdoctor_lines(caplog) if f": {symptom} (confidence " in line]
    assert len(lines) == 1, lossdoctor_lines(caplog)
    fix = top_fix(load_kb(), symptom)
    assert fix is not None
    assert f" — top fix: {fix[1]} ({fix[0]}); run 'lossdoctor show {symptom}'" in lines[0]
    return lines[0]


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captures the ``lossdoctor`` logger's warnings."""
    caplog.set_level(logging.WARNING, logger="lossdoctor")
    return caplog


# ------------------------------------------------------------------------ framework-free


def test_importing_the_callbacks_package_imports_no_framework() -> None:
    code = (
        "import assistant.callbacks, assistant.callbacks.core, sys, json\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "assistant.callbacks.core" in modules
    assert not {m.split(".")[0] for m in modules} & set(FRAMEWORKS)


@pytest.mark.parametrize(
    ("module", "blocked", "install"),
    [
        ("keras", ["keras"], "pip install keras"),
        ("lightning", ["lightning", "pytorch_lightning"], "pip install lightning"),
        ("transformers", ["transformers"], "pip install transformers"),
    ],
)
def test_a_callback_module_without_its_framework_says_what_to_install(
    module: str, blocked: list[str], install: str
) -> None:
    # None in sys.modules makes `import x` fail as if x were not installed
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "try:\n"
        f"    import assistant.callbacks.{module}\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().startswith(f"assistant.callbacks.{module} needs ")
    assert done.stdout.strip().endswith(install)


EQUIVALENCE_CASES = [
    rel
    for rel, _ in _rows("sample")
    if rel.split("/")[1][:2] in {"06", "08", "09", "13", "14", "15", "21", "24", "25"}
]
"""Logs of many formats and symptoms that replay in well under a second each."""


@pytest.mark.parametrize("rel", EQUIVALENCE_CASES)
def test_the_watchers_findings_equal_the_monitors_on_the_same_values(rel: str) -> None:
    monitor, watcher = Monitor(), Watcher()
    expected: list[tuple[str, float | None]] = []
    got: list[tuple[str, float | None]] = []
    for step, name, split, value, epoch in _replay(read_log(str(DATA / rel))):
        expected += [(f.symptom, f.start_step) for f in monitor.add(name, value, step, split=split, epoch=epoch)]  # type: ignore[arg-type]  # fmt: skip
        got += [(f.symptom, f.start_step) for f in watcher.add(name, value, step, split, epoch)]  # type: ignore[arg-type]  # fmt: skip
    expected += [(f.symptom, f.start_step) for f in monitor.check()]
    got += [(f.symptom, f.start_step) for f in watcher.check()]
    assert got == expected
    assert [(f.symptom, f.start_step) for f in watcher.findings] == expected


def _diverging(watcher: Watcher) -> None:
    """A loss that rises tenfold every step, then turns nan: diverging, then nan-loss."""
    for step in range(1, 9):
        watcher.add("loss", 2.3 * 10.0 ** (step - 1), step)
    watcher.add("loss", math.nan, 9)


def test_stop_on_asks_to_stop_only_for_its_symptoms(caplog: pytest.LogCaptureFixture) -> None:
    watcher = Watcher(stop_on="nan-loss")
    _diverging(watcher)
    assert [f.symptom for f in watcher.findings] == ["diverging", "nan-loss"]
    assert watcher.should_stop
    assert watcher.stop_finding is not None and watcher.stop_finding.symptom == "nan-loss"
    assert_logged_with_top_fix(caplog, "diverging")
    line = assert_logged_with_top_fix(caplog, "nan-loss")
    assert line.startswith("lossdoctor: step 9: nan-loss (confidence ")

    never = Watcher(stop_on=["zero-loss", "overfitting"])
    _diverging(never)
    assert not never.should_stop


def test_raise_on_raises_the_alarm_with_the_finding_after_logging_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watcher = Watcher(raise_on="all")
    with pytest.raises(LossDoctorAlarm) as alarm:
        _diverging(watcher)
    assert alarm.value.finding.symptom == "diverging"
    assert alarm.value.fix == top_fix(load_kb(), "diverging")
    assert str(alarm.value) == lossdoctor_lines(caplog)[0]


def test_symptoms_and_ignore_choose_the_findings_acted_on() -> None:
    seen: list[str] = []
    only = Watcher(
        symptoms=["nan-loss"], stop_on="all", on_finding=lambda f: seen.append(f.symptom)
    )
    _diverging(only)
    assert seen == ["nan-loss"] and [f.symptom for f in only.findings] == ["nan-loss"]
    assert only.stop_finding is not None and only.stop_finding.symptom == "nan-loss"
    # the monitor still saw everything
    assert [f.symptom for f in only.monitor.reported] == ["diverging", "nan-loss"]

    ignoring = Watcher(ignore="diverging", raise_on="diverging")
    _diverging(ignoring)  # no alarm: an ignored finding is not acted on
    assert [f.symptom for f in ignoring.findings] == ["nan-loss"]


def test_an_unknown_symptom_id_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"stop_on: unknown symptom nan; known: .*nan-loss"):
        Watcher(stop_on="nan")


def test_numpy_and_one_element_values_are_read_and_other_values_skipped() -> None:
    watcher = Watcher()
    watcher.add("loss", np.float32(2.5), 1)
    watcher.add("loss", np.array([2.25]), 2)
    watcher.add("loss", "not a number", 3)
    watcher.add("loss", np.array([1.0, 2.0]), 4)
    watcher.add("loss", None, 5)
    series = watcher.monitor.log_data().series[0]
    assert series.values.tolist() == [2.5, 2.25]


def test_a_metric_name_with_escape_sequences_is_logged_plain(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watcher = Watcher()
    watcher.add("loss\x1b[2J", 2.3, 1)
    watcher.add("loss\x1b[2J", math.nan, 2)
    [line] = lossdoctor_lines(caplog)
    assert "\x1b" not in line and "loss\\x1b[2j was 2.300" in line


# ------------------------------------------------------------------------------- Keras


def _keras_data(n: int, seed: int, random_labels: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Four classes of 8 features, the label a linear function of them (or random)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    w = np.random.default_rng(0).normal(size=(8, 4))
    y = rng.integers(0, 4, n) if random_labels else (x @ w).argmax(1)
    return x, y


def _keras_model(keras: ModuleType, lr: float, width: int = 32) -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(4),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_keras_nan_is_logged_with_its_top_fix_and_stop_on_ends_fit_early(
    keras: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.callbacks.keras import LossDoctorCallback

    doctor = LossDoctorCallback(stop_on="nan-loss")
    x, y = _keras_data(512, 1)
    history = _keras_model(keras, lr=50.0).fit(
        x, y, batch_size=32, epochs=5, verbose=0, callbacks=[doctor]
    )
    assert_logged_with_top_fix(caplog, "nan-loss")
    assert "lossdoctor: stopping model.fit at step" in lossdoctor_lines(caplog)[-1]
    assert doctor.step < 5 * 16  # stopped in the first epoch, not after 80 batches
    assert len(history.history["loss"]) < 5


def test_keras_raise_on_raises_the_alarm_out_of_fit(keras: ModuleType) -> None:
    from assistant.callbacks.keras import LossDoctorCallback

    doctor = LossDoctorCallback(raise_on=["diverging", "nan-loss"])
    x, y = _keras_data(512, 1)
    with pytest.raises(LossDoctorAlarm) as alarm:
        _keras_model(keras, lr=50.0).fit(x, y, batch_size=32, epochs=5, verbose=0, callbacks=[doctor])  # fmt: skip
    assert alarm.value.finding.symptom == "diverging"
    assert doctor.step < 10


def test_keras_overfitting_is_found_from_the_validation_metrics(
    keras: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.callbacks.keras import LossDoctorCallback

    doctor = LossDoctorCallback(stop_on="overfitting")
    x, y = _keras_data(64, 1, random_labels=True)
    val = _keras_data(256, 2, random_labels=True)
    _keras_model(keras, lr=0.1, width=256).fit(
        x, y, batch_size=16, epochs=40, verbose=0, callbacks=[doctor], validation_data=val
    )
    line = assert_logged_with_top_fix(caplog, "overfitting")
    assert "val_loss" in line
    assert doctor.step < 40 * 4


def test_keras_batch_losses_are_each_batchs_own_not_the_epochs_running_mean(
    keras: ModuleType,
) -> None:
    """Keras logs the mean over the epoch so far; with nothing learned (learning rate 0) the
    loss of batch k must equal the model's loss on batch k alone."""
    from assistant.callbacks.keras import LossDoctorCallback

    doctor = LossDoctorCallback()
    x, y = _keras_data(128, 1)
    model = _keras_model(keras, lr=0.0)
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False, callbacks=[doctor])
    fed = doctor.watcher.monitor.log_data().series[0]
    assert fed.name == "loss" and fed.steps.tolist() == list(range(1, 9))
    each = [model.evaluate(x[i : i + 32], y[i : i + 32], verbose=0)[0] for i in range(0, 128, 32)]
    assert fed.values.tolist() == pytest.approx(each * 2, rel=1e-4)


def test_keras_a_healthy_run_logs_nothing(
    keras: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.callbacks.keras import LossDoctorCallback

    doctor = LossDoctorCallback(raise_on="all")
    x, y = _keras_data(1024, 1)
    history = _keras_model(keras, lr=0.1).fit(
        x, y, batch_size=32, epochs=8, verbose=0, callbacks=[doctor],
        validation_data=_keras_data(256, 2),
    )  # fmt: skip
    assert history.history["val_loss"][-1] < 0.5 * history.history["val_loss"][0]
    assert lossdoctor_lines(caplog) == []
    assert doctor.watcher.monitor.result().primary == "still-learning"


# --------------------------------------------------------------------------- Lightning


def _torch_data(n: int, seed: int, random_labels: bool = False) -> Any:
    import torch

    x, y = _keras_data(n, seed, random_labels)
    return torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


def _lightning_module(pl: ModuleType, lr: float, width: int = 32, zero: bool = False) -> Any:
    import torch
    from torch import nn

    class Classifier(pl.LightningModule):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(8, width), nn.ReLU(), nn.Linear(width, 4))
            if zero:  # uniform predictions: the loss is ln 4
                nn.init.zeros_(self.net[2].weight)
                nn.init.zeros_(self.net[2].bias)

        def training_step(self, batch: Any, index: int) -> Any:
            x, y = batch
            return nn.functional.cross_entropy(self.net(x), y)

        def validation_step(self, batch: Any, index: int) -> None:
            x, y = batch
            self.log("val_loss", nn.functional.cross_entropy(self.net(x), y))

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=lr)

    pl.seed_everything(0, verbose=False)
    return Classifier()


def _trainer(pl: ModuleType, tmp_path: Path, callback: Any, **options: Any) -> Any:
    return pl.Trainer(
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
        callbacks=[callback], **options,
    )  # fmt: skip


def _loader(dataset: Any, batch_size: int, shuffle: bool = False) -> Any:
    import torch

    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def test_lightning_nan_is_logged_with_its_top_fix_and_stop_on_ends_fit_early(
    lightning: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.callbacks.lightning import LossDoctorCallback

    doctor = LossDoctorCallback(stop_on="nan-loss")
    trainer = _trainer(lightning, tmp_path, doctor, max_epochs=5)
    trainer.fit(_lightning_module(lightning, lr=50.0), _loader(_torch_data(512, 1), 32))
    assert_logged_with_top_fix(caplog, "nan-loss")
    assert "lossdoctor: stopping trainer.fit at step" in lossdoctor_lines(caplog)[-1]
    assert trainer.global_step < 5 * 16


def test_lightning_raise_on_raises_the_alarm_out_of_fit(
    lightning: ModuleType, tmp_path: Path
) -> None:
    from assistant.callbacks.lightning import LossDoctorCallback

    doctor = LossDoctorCallback(raise_on="nan-loss")
    trainer = _trainer(lightning, tmp_path, doctor, max_epochs=5)
    with pytest.raises(LossDoctorAlarm) as alarm:
        trainer.fit(_lightning_module(lightning, lr=50.0), _loader(_torch_data(512, 1), 32))
    assert alarm.value.finding.symptom == "nan-loss"
    assert trainer.global_step < 5 * 16


def test_lightning_overfitting_is_found_from_the_validation_loss_as_the_monitor_finds_it(
    lightning: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.callbacks.lightning import LossDoctorCallback

    doctor = LossDoctorCallback()
    trainer = _trainer(lightning, tmp_path, doctor, max_epochs=30)
    trainer.fit(
        _lightning_module(lightning, lr=0.1, width=256),
        _loader(_torch_data(64, 1, random_labels=True), 16, shuffle=True),
        _loader(_torch_data(256, 2, random_labels=True), 256),
    )
    line = assert_logged_with_top_fix(caplog, "overfitting")
    assert "val_loss" in line
    names = {(s.name, s.split, s.points) for s in doctor.watcher.monitor.log_data().series}
    assert names == {("loss", "train", 30 * 4), ("val_loss", "val", 30)}

    # a plain Monitor fed the same values, in the same order, finds the same
    monitor = Monitor()
    reported = []
    for step, name, split, value, epoch in _replay(doctor.watcher.monitor.log_data()):
        reported += monitor.add(name, value, step, split=split, epoch=epoch)  # type: ignore[arg-type]
    reported += monitor.check()
    assert [f.symptom for f in reported] == [f.symptom for f in doctor.watcher.findings]


def test_lightning_a_loss_at_ln_c_is_read_at_its_scale_under_gradient_accumulation(
    lightning: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Lightning hands back the loss divided by ``accumulate_grad_batches``; the callback
    must still see ln 4, not ln 4 / 2."""
    from assistant.callbacks.lightning import LossDoctorCallback

    doctor = LossDoctorCallback()
    trainer = _trainer(lightning, tmp_path, doctor, max_epochs=3, accumulate_grad_batches=2)
    trainer.fit(_lightning_module(lightning, lr=0.0, zero=True), _loader(_torch_data(512, 1), 16))
    line = assert_logged_with_top_fix(caplog, "stuck-at-chance")
    assert "ln 4 = 1.3863" in line


def test_lightning_manual_optimization_is_watched_through_the_logged_training_loss(
    lightning: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``training_step`` that steps its own optimizer returns nothing: the callback reads
    the ``train_loss`` it logs."""
    import torch
    from torch import nn

    from assistant.callbacks.lightning import LossDoctorCallback

    class Manual(lightning.LightningModule):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.automatic_optimization = False
            self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))

        def training_step(self, batch: Any, index: int) -> None:
            x, y = batch
            optimizer = self.optimizers()
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(self.net(x), y)
            self.manual_backward(loss)
            optimizer.step()
            self.log("train_loss", loss)

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=50.0)

    lightning.seed_everything(0, verbose=False)
    doctor = LossDoctorCallback(stop_on="nan-loss")
    trainer = _trainer(lightning, tmp_path, doctor, max_epochs=5)
    trainer.fit(Manual(), _loader(_torch_data(512, 1), 32))
    line = assert_logged_with_top_fix(caplog, "nan-loss")
    assert "train_loss" in line
    assert trainer.global_step < 5 * 16


def test_lightning_a_healthy_run_logs_nothing(
    lightning: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.callbacks.lightning import LossDoctorCallback

    doctor = LossDoctorCallback(raise_on="all")
    trainer = _trainer(lightning, tmp_path, doctor, max_epochs=8)
    trainer.fit(
        _lightning_module(lightning, lr=0.1),
        _loader(_torch_data(1024, 1), 32, shuffle=True),
        _loader(_torch_data(256, 2), 256),
    )
    assert trainer.global_step == 8 * 32
    assert lossdoctor_lines(caplog) == []
    assert doctor.watcher.monitor.result().primary == "still-learning"


# ------------------------------------------------------------------------ transformers


def _hf_dataset(n: int, seed: int, random_labels: bool = False) -> list[dict[str, Any]]:
    import torch

    x, y = _keras_data(n, seed, random_labels)
    return [{"x": torch.from_numpy(x[i]), "labels": torch.tensor(y[i])} for i in range(n)]


def _hf_model(width: int = 32, zero: bool = False) -> Any:
    """A small torch module that returns what ``Trainer`` expects: ``loss`` and ``logits``."""
    import torch
    from torch import nn

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(8, width), nn.ReLU(), nn.Linear(width, 4))
            if zero:
                nn.init.zeros_(self.net[2].weight)
                nn.init.zeros_(self.net[2].bias)

        def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
            logits = self.net(x)
            return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}

    torch.manual_seed(0)
    return Classifier()


def _hf_trainer(
    transformers: ModuleType,
    tmp_path: Path,
    callback: Any,
    model: Any,
    train: Any,
    val: Any = None,
    **options: Any,
) -> Any:
    settings: dict[str, Any] = dict(
        output_dir=str(tmp_path), use_cpu=True, report_to=[], disable_tqdm=True,
        logging_steps=1, save_strategy="no", optim="sgd", lr_scheduler_type="constant",
        per_device_train_batch_size=32, per_device_eval_batch_size=256, seed=0,
        eval_strategy="epoch" if val is not None else "no",
    )  # fmt: skip
    settings.update(options)
    return transformers.Trainer(
        model=model, args=transformers.TrainingArguments(**settings), train_dataset=train,
        eval_dataset=val, callbacks=[callback],
    )  # fmt: skip


def test_transformers_nan_is_logged_with_its_top_fix_and_stop_on_ends_training_early(
    transformers: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.callbacks.transformers import LossDoctorCallback

    doctor = LossDoctorCallback(stop_on="nan-loss")
    trainer = _hf_trainer(
        transformers, tmp_path, doctor, _hf_model(), _hf_dataset(512, 1), learning_rate=50.0,
        num_train_epochs=5, max_grad_norm=0.0, logging_nan_inf_filter=False,
    )  # fmt: skip
    trainer.train()
    assert_logged_with_top_fix(caplog, "nan-loss")
    assert "lossdoctor: stopping trainer.train() at step" in lossdoctor_lines(caplog)[-1]
    assert trainer.state.global_step < trainer.state.max_steps == 5 * 16


def test_transformers_raise_on_raises_the_alarm_out_of_train(
    transformers: ModuleType, tmp_path: Path
) -> None:
    from assistant.callbacks.transformers import LossDoctorCallback

    doctor = LossDoctorCallback(raise_on="diverging")
    trainer = _hf_trainer(
        transformers, tmp_path, doctor, _hf_model(), _hf_dataset(512, 1), learning_rate=50.0,
        num_train_epochs=5, max_grad_norm=0.0, logging_nan_inf_filter=False,
    )  # fmt: skip
    with pytest.raises(LossDoctorAlarm) as alarm:
        trainer.train()
    assert alarm.value.finding.symptom == "diverging"
    assert trainer.state.global_step < 10


def test_transformers_overfitting_is_found_from_the_eval_loss(
    transformers: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.callbacks.transformers import LossDoctorCallback

    doctor = LossDoctorCallback(stop_on="overfitting")
    trainer = _hf_trainer(
        transformers, tmp_path, doctor, _hf_model(width=256),
        _hf_dataset(64, 1, random_labels=True), _hf_dataset(256, 2, random_labels=True),
        learning_rate=0.1, num_train_epochs=30, per_device_train_batch_size=16,
        logging_nan_inf_filter=False,
    )  # fmt: skip
    trainer.train()
    line = assert_logged_with_top_fix(caplog, "overfitting")
    assert "eval_loss" in line
    assert trainer.state.global_step < trainer.state.max_steps == 30 * 4


def test_transformers_a_loss_sitting_at_ln_c_is_found_and_the_nan_filter_is_pointed_out(
    transformers: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A classifier that cannot learn (learning rate 0, uniform predictions) sits at ln 4;
    with the Trainer's default ``logging_nan_inf_filter`` the callback says it hides nan."""
    from assistant.callbacks.transformers import LossDoctorCallback

    doctor = LossDoctorCallback()
    trainer = _hf_trainer(
        transformers, tmp_path, doctor, _hf_model(zero=True), _hf_dataset(512, 1),
        learning_rate=0.0, num_train_epochs=3,
    )  # fmt: skip
    trainer.train()
    assert "logging_nan_inf_filter=False" in lossdoctor_lines(caplog)[0]
    line = assert_logged_with_top_fix(caplog, "stuck-at-chance")
    assert "ln 4 = 1.3863" in line


def test_transformers_a_healthy_run_logs_nothing(
    transformers: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.callbacks.transformers import LossDoctorCallback

    doctor = LossDoctorCallback(raise_on="all")
    trainer = _hf_trainer(
        transformers, tmp_path, doctor, _hf_model(), _hf_dataset(1024, 1), _hf_dataset(256, 2),
        learning_rate=0.1, num_train_epochs=8, logging_nan_inf_filter=False,
    )  # fmt: skip
    trainer.train()
    assert trainer.state.global_step == 8 * 32
    assert lossdoctor_lines(caplog) == []
    assert doctor.watcher.monitor.result().primary == "still-learning"
