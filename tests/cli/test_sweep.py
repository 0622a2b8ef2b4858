"""``lossdoctor triage DIR --recursive`` (a sweep) through the real entry point, on trees built
from the real fixtures: one row per run with the labelled primary symptom, an unreadable run in
its row with exit 2, files that hold no log skipped and counted, CSV and JSON, sorting, the
same rows with one worker or two, Ctrl-C, and the discovery rules."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from assistant import sweep as sweep_module
from assistant.sweep import Run, discover, sort_rows, sweep
from tests.conftest import REPO, lossdoctor_command
from tests.conftest import Run as CliRun

LOGS = REPO / "tests" / "data" / "logs"
FIELDS = {
    "path", "format", "last_step", "step_unit", "train_loss", "val_loss", "primary",
    "confidence", "points", "error",
}  # fmt: skip


def _labels() -> dict[str, str]:
    """Expected primary symptom by row path in the tree :func:`sweep_tree` builds."""
    expected = {}
    for folder, prefix in (("sample", "nested/deeper/sample"), ("generated", "generated")):
        for line in (LOGS / folder / "labels.tsv").read_text().splitlines()[1:]:
            name, _format, symptom = line.split("\t")[:3]
            path = f"{prefix}/{name}"
            if (LOGS / folder / name).is_dir():
                inside = list((LOGS / folder / name).iterdir())
                if [p.name for p in inside] == ["trainer_state.json"]:  # hf-state-*
                    path += "/" + inside[0].name
                else:
                    path += "/"  # a TensorBoard run directory
            expected[path] = symptom
    return expected


LABELS = _labels()
UNREADABLE = "broken/train.log.gz"


@pytest.fixture(scope="module")
def sweep_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every labelled fixture (sample logs two levels down, the generated ones with their
    TensorBoard and Lightning run directories), plus what a real sweep directory holds
    besides runs: a README, a checkpoint, a binary file, a hidden directory, a corrupt gzip
    log, a symbolic-link loop and Hugging Face checkpoint directories."""
    root = tmp_path_factory.mktemp("sweep")
    shutil.copytree(LOGS / "sample", root / "nested" / "deeper" / "sample")
    shutil.copytree(LOGS / "generated", root / "generated")
    for labels in root.rglob("labels.tsv"):
        labels.unlink()
    for readme in root.rglob("README.md"):
        readme.unlink()
    (root / "README.md").write_text("# My sweep\nlr 1e-3 to 1e-1, loss below.\n")
    (root / "notes.txt").write_text("Ask Ana about the cluster quota.\nRerun on Monday.\n")
    (root / "nested" / "model.pt").write_bytes(bytes(range(256)) * 16)
    (root / "nested" / "garbage.out").write_bytes(bytes(range(256)) * 16)
    hidden = root / ".cache"
    hidden.mkdir()
    shutil.copy(LOGS / "sample" / "01-caffe-c3d-stuck87.log", hidden / "train.log")
    broken = root / "broken"
    broken.mkdir()
    (broken / "train.log.gz").write_bytes(gzip.compress(b"loss = 1.0\n" * 500)[:60])
    (root / "generated" / "loop").symlink_to(root)  # a loop back to the top
    hf = root / "hf-run"
    for step in (100, 200):
        (hf / f"checkpoint-{step}").mkdir(parents=True)
        shutil.copy(
            LOGS / "generated" / "hf-state-overfitting" / "trainer_state.json",
            hf / f"checkpoint-{step}" / "trainer_state.json",
        )
    return root


def _json_rows(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_every_run_gets_one_row_with_its_labelled_primary_and_the_bad_one_its_error(
    run: CliRun, sweep_tree: Path
) -> None:
    done = run("triage", str(sweep_tree), "--recursive", "--json")
    assert done.returncode == 2, done.stderr  # one run is unreadable
    rows = {row["path"]: row for row in _json_rows(done.stdout)}
    for row in rows.values():
        assert set(row) == FIELDS
    got = {path: rows[path]["primary"] for path in LABELS if path in rows}
    assert got == LABELS  # every fixture found, and diagnosed as labelled
    expected_paths = set(LABELS) | {UNREADABLE, "hf-run/checkpoint-200/trainer_state.json"}
    assert set(rows) == expected_paths  # nothing else: no hidden dir, no loop, no old checkpoint
    bad = rows[UNREADABLE]
    assert bad["primary"] is None and "gzip" in str(bad["error"])
    assert all(row["error"] is None for path, row in rows.items() if path != UNREADABLE)
    keras_tb = rows["generated/keras-tb-oscillating/"]  # train/ and validation/ are one run
    assert keras_tb["format"] == "tensorboard" and keras_tb["val_loss"] is not None
    assert f"lossdoctor: {UNREADABLE}: corrupt gzip data" in done.stderr
    # README.md is not a log by name; notes.txt and the binary garbage.out are looked at
    assert "skipped 2 files with no training log" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_row_holds_the_last_step_the_final_losses_and_the_confidence(
    run: CliRun, tmp_path: Path
) -> None:
    shutil.copy(LOGS / "sample" / "11-kerascsv-car-cnn.log", tmp_path / "training.log")
    shutil.copy(LOGS / "generated" / "torch-logging-nan-loss.log", tmp_path / "nan.log")
    done = run("triage", str(tmp_path), "-r", "--json")
    assert done.returncode == 0, done.stderr
    nan_row, keras_row = _json_rows(done.stdout)
    assert keras_row == {
        "path": "training.log", "format": "keras-csvlogger", "last_step": 99.0,
        "step_unit": "epoch", "train_loss": pytest.approx(0.30733, abs=1e-5),
        "val_loss": pytest.approx(0.74665, abs=1e-5), "primary": "overfitting",
        "confidence": keras_row["confidence"], "points": 100, "error": None,
    }  # fmt: skip
    assert 0.5 <= float(keras_row["confidence"]) <= 1.0  # type: ignore[arg-type]
    assert nan_row["path"] == "nan.log" and nan_row["train_loss"] == "nan"  # JSON has no NaN
    assert nan_row["primary"] == "nan-loss" and nan_row["val_loss"] is None


def test_the_table_fits_the_width_and_ends_with_a_summary_line(
    run: CliRun, sweep_tree: Path
) -> None:
    done = run("triage", str(sweep_tree), "-r", env={"COLUMNS": "80"})
    assert done.returncode == 2
    lines = done.stdout.rstrip("\n").splitlines()
    assert lines[0].split()[0] == "PATH" and "PRIMARY" in lines[0]
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert any("…" in line for line in lines)  # long paths lose their middle
    bad = next(line for line in lines if line.startswith(UNREADABLE))
    assert "unreadable: corrupt gzip data" in bad
    summary = " ".join(line.strip() for line in lines[lines.index("") + 1 :])
    assert summary.startswith(f"{len(LABELS) + 2} runs: ")
    assert summary.endswith("1 unreadable")
    overfitting = list(LABELS.values()).count("overfitting") + 1  # and the HF checkpoint
    assert f"{overfitting} overfitting, " in summary


def test_csv_parses_with_the_csv_module_and_matches_the_json_rows(
    run: CliRun, sweep_tree: Path
) -> None:
    as_csv = run("triage", str(sweep_tree), "-r", "--csv")
    as_json = run("triage", str(sweep_tree), "-r", "--json")
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert as_csv.returncode == 2 and set(table[0]) == FIELDS
    rows = _json_rows(as_json.stdout)
    assert [r["path"] for r in table] == [r["path"] for r in rows]
    assert [r["primary"] or None for r in table] == [r["primary"] for r in rows]
    bad = next(r for r in table if r["path"] == UNREADABLE)
    assert bad["error"].startswith("corrupt gzip data") and bad["primary"] == ""


def test_sort_orders_rows_by_path_primary_confidence_or_loss(run: CliRun, sweep_tree: Path) -> None:
    def rows(key: str) -> list[dict[str, object]]:
        return _json_rows(run("triage", str(sweep_tree), "-r", "--json", "--sort", key).stdout)

    by_path = [r["path"] for r in rows("path")]
    assert by_path.index("nested/deeper/sample/02-caffe-mtcnn-87-nan.log") < by_path.index(
        "nested/deeper/sample/11-kerascsv-car-cnn.log"
    )
    by_primary = rows("primary")
    primaries = [str(r["primary"]) for r in by_primary if r["primary"]]
    assert primaries == sorted(primaries) and by_primary[-1]["path"] == UNREADABLE
    confidences = [float(r["confidence"]) for r in rows("confidence") if r["confidence"]]  # type: ignore[arg-type]
    assert confidences == sorted(confidences, reverse=True)
    losses = [r["train_loss"] for r in rows("loss")]
    finite = [float(v) for v in losses if isinstance(v, float | int)]
    assert finite == sorted(finite) and finite[0] < 0  # the negative losses first
    assert losses.index("nan") > len(finite) - 1 and losses[-1] is None  # nan, then the error


def test_one_worker_and_two_workers_give_the_same_rows(run: CliRun, sweep_tree: Path) -> None:
    one = run("triage", str(sweep_tree), "-r", "--json", "--jobs", "1")
    two = run("triage", str(sweep_tree), "-r", "--json", "--jobs", "2")
    assert one.returncode == two.returncode == 2
    assert _json_rows(one.stdout) == _json_rows(two.stdout)
    assert len(_json_rows(one.stdout)) == len(LABELS) + 2


def test_files_named_beside_a_directory_are_rows_too(run: CliRun, tmp_path: Path) -> None:
    shutil.copy(LOGS / "sample" / "05-caffe-cifar10-nan.log", tmp_path / "a.log")
    extra = LOGS / "generated" / "keras-v1-overfitting.log"
    done = run("triage", str(tmp_path), str(extra), "-r", "--json")
    assert done.returncode == 0, done.stderr
    rows = _json_rows(done.stdout)
    # rows come sorted by path (where the two live decides which is first)
    assert [(r["path"], r["primary"]) for r in rows] == sorted(
        [(f"{tmp_path}/a.log", "nan-loss"), (str(extra), "overfitting")]
    )


def test_an_unreadable_file_is_an_error_row_when_permissions_block_it(
    run: CliRun, tmp_path: Path
) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not block reading")
    shutil.copy(LOGS / "sample" / "05-caffe-cifar10-nan.log", tmp_path / "ok.log")
    locked = tmp_path / "locked.log"
    shutil.copy(LOGS / "sample" / "01-caffe-c3d-stuck87.log", locked)
    locked.chmod(0)
    try:
        done = run("triage", str(tmp_path), "-r", "--json")
    finally:
        locked.chmod(0o644)
    rows = {r["path"]: r for r in _json_rows(done.stdout)}
    assert done.returncode == 2
    assert "Permission denied" in str(rows["locked.log"]["error"])
    assert rows["ok.log"]["primary"] == "nan-loss"


def test_names_with_escapes_and_markup_are_shown_literally(run: CliRun, tmp_path: Path) -> None:
    odd = tmp_path / "[bold]x\x1b[31m.log"
    shutil.copy(LOGS / "sample" / "01-caffe-c3d-stuck87.log", odd)
    done = run("triage", str(tmp_path), "-r")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "[bold]x\\x1b[31m.log" in done.stdout


def test_a_directory_of_many_runs_without_recursive_says_to_add_it(
    run: CliRun, sweep_tree: Path
) -> None:
    done = run("triage", str(sweep_tree / "nested" / "deeper" / "sample"))
    assert done.returncode == 2
    assert "add --recursive (-r)" in done.stderr and len(done.stderr.splitlines()) == 1
    boards = run("triage", str(sweep_tree / "generated"))
    assert boards.returncode == 2 and "TensorBoard runs" in boards.stderr
    one = run("triage", str(sweep_tree / "generated" / "keras-tb-oscillating"), "--json")
    assert one.returncode == 0 and json.loads(one.stdout)["primary"] == "oscillating"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--csv"], "--csv is for a sweep: add --recursive"),
        (["-r", "--csv", "--json"], "choose one"),
        (["-r", "--jobs", "0"], "at least 1"),
        (["-r", "--sort", "size"], "invalid choice"),
    ],
    ids=["csv-without-r", "csv-and-json", "jobs-0", "bad-sort"],
)
def test_sweep_options_are_checked(
    run: CliRun, sweep_tree: Path, args: list[str], message: str
) -> None:
    done = run("triage", str(sweep_tree / "broken"), *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_tree_with_no_run_is_bad_input(run: CliRun, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to see\n")
    done = run("triage", str(tmp_path), "-r")
    assert done.returncode == 2
    assert "no training runs found" in done.stderr
    assert "skipped 1 file with no training log" in done.stderr


def test_ctrl_c_stops_the_workers_with_exit_130_and_no_traceback(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    logs = sorted((LOGS / "generated").glob("torch-tqdm-*.log"))
    for n in range(1500):  # well over a few seconds of work on two cores
        shutil.copy(logs[n % len(logs)], tmp_path / f"run-{n}.log")
    process = subprocess.Popen(
        [*lossdoctor_command(), "triage", str(tmp_path), "-r", "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, cwd=REPO,
        start_new_session=True,  # a process group of its own, as a terminal's job
    )  # fmt: skip
    time.sleep(2.0)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: to the whole group
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    leftover = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True)
    assert leftover.stdout == b""  # no worker outlives the sweep


# --------------------------------------------------------------------------- the library


def test_discovery_folds_split_directories_skips_hidden_ones_and_survives_a_loop(
    sweep_tree: Path,
) -> None:
    names = [r.name for r in discover(str(sweep_tree))]
    assert len(names) == len(set(names))
    assert "generated/keras-tb-val-below-train/" in names
    assert not any("/train/" in n or "/validation/" in n for n in names)
    assert not any(".cache" in n or n.startswith("generated/loop") for n in names)
    assert "hf-run/checkpoint-200/trainer_state.json" in names
    assert "hf-run/checkpoint-100/trainer_state.json" not in names
    assert "README.md" not in names and "nested/model.pt" not in names
    assert "notes.txt" in names  # looked at, then skipped when it holds no log


def test_a_directory_that_is_one_tensorboard_run_is_one_row_named_by_it(
    run: CliRun, tmp_path: Path
) -> None:
    board = tmp_path / "board"
    shutil.copytree(LOGS / "generated" / "keras-tb-val-below-train", board)
    os.mkfifo(board / "pipe.log")  # a FIFO named like a log: reading it would block
    done = run("triage", str(board), "-r", "--json")
    assert done.returncode == 0, done.stderr
    assert [(r["path"], r["primary"]) for r in _json_rows(done.stdout)] == [
        (f"{board}/", "val-below-train")
    ]


def test_a_run_dir_with_its_own_trainer_state_hides_its_checkpoints(tmp_path: Path) -> None:
    state = LOGS / "generated" / "hf-state-overfitting" / "trainer_state.json"
    (tmp_path / "checkpoint-50").mkdir()
    shutil.copy(state, tmp_path / "checkpoint-50" / "trainer_state.json")
    shutil.copy(state, tmp_path / "trainer_state.json")
    assert [r.name for r in discover(str(tmp_path))] == ["trainer_state.json"]


def _die_on_the_third(run: Run, metric: str | None = None) -> object:
    if run.name == "run-3.log":
        os._exit(9)  # a worker killed mid-run (out of memory, a crash in a library)
    return _real_triage_run(run, metric)


_real_triage_run = sweep_module.triage_run


def test_a_worker_that_dies_costs_only_its_own_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(8):
        shutil.copy(LOGS / "sample" / "05-caffe-cifar10-nan.log", tmp_path / f"run-{n}.log")
    monkeypatch.setattr(sweep_module, "triage_run", _die_on_the_third)  # forked workers see it
    rows = sort_rows(sweep(discover(str(tmp_path)), jobs=2))
    assert [r.path for r in rows] == [f"run-{n}.log" for n in range(8)]
    dead = rows[3]
    assert dead.primary is None and "worker process died" in str(dead.error)
    assert all(r.primary == "nan-loss" for i, r in enumerate(rows) if i != 3)
